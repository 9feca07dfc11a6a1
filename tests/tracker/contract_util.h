// Helpers shared by the tracker contract tests: a tracker of a given kind
// pointed at a ReplayServer through the real libcurl transport (one attempt,
// no sleeps), and JSON comparison of request bodies.
// Thread safety: test-only helpers.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/time.h"
#include "remedy/issue_ref.h"
#include "remedy/tracker/tracker.h"
#include "replay_server.h"

namespace stopgap::testing {

inline std::unique_ptr<remedy::tracker::IssueTracker> MakeTracker(const std::string& kind,
                                                                  const std::string& url,
                                                                  const std::string& token,
                                                                  const Clock& clock,
                                                                  const std::string& project = "") {
  remedy::TrackerConfig cfg;
  cfg.kind = kind;
  cfg.url = url;
  cfg.project = project;
  net::HttpClientOptions o;
  o.max_attempts = 1;
  o.connect_timeout = Duration(2000);
  o.timeout = Duration(5000);
  o.sleep = [](Duration) {};
  auto t = remedy::tracker::NewIssueTrackerWithToken(cfg, token, clock,
                                                     remedy::tracker::NewCurlTrackerHttp(o));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : nullptr;
}

inline remedy::IssueRef Ref(const std::string& text) {
  auto r = remedy::ParseIssueRef(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : remedy::IssueRef{};
}

inline nlohmann::json Json(const std::string& s) {
  return nlohmann::json::parse(s, nullptr, false);
}

inline ReplayResponse Reply(int status, const std::string& fixture,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
  return ReplayResponse{status, std::move(headers), fixture.empty() ? "" : Fixture(fixture)};
}

// 2026-11-25T12:00:00Z
inline WallTime TestEpoch() { return WallTime(std::chrono::seconds(1795608000)); }

}  // namespace stopgap::testing

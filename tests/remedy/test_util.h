// Helpers for remedy tests: temp directories and small catalogs built in code.
// Thread safety: test-only, single-threaded setup.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "remedy/catalog.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/stopgap-remedy-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A matched execution of workaround "w" (issue "#1") for the alert "fp" of
// the firing window that started at `instance_start`, created at `at`: the
// unit the shared ledger claims.
inline NewExecution AlertExecution(WallTime instance_start, WallTime at) {
  NewExecution e;
  e.workaround_id = "w";
  e.issue = "#1";
  e.source = "alertmanager";
  e.fingerprint = "fp";
  e.instance_start = instance_start;
  e.at = at;
  return e;
}

inline Step RunOf(std::vector<std::string> argv, Duration timeout = std::chrono::seconds(10)) {
  Step s;
  s.body = RunStep{std::move(argv)};
  s.timeout = timeout;
  return s;
}

// A valid, active workaround with one diagnostics and one action step.
inline Workaround MakeWorkaround(std::string id, std::string issue = "acme/infra#1") {
  Workaround w;
  w.id = std::move(id);
  Result<IssueRef> ref = ParseIssueRef(issue);
  EXPECT_TRUE(ref.ok());
  if (ref.ok()) w.issue = *ref;
  w.cause = Cause::kInHouse;
  w.expires = CivilDay{2027, 1, 1};
  w.diagnostics = {RunOf({"true"})};
  w.action = {RunOf({"true"})};
  return w;
}

inline std::shared_ptr<const Catalog> MakeCatalog(std::vector<Workaround> ws,
                                                  const std::string& bundles) {
  auto c = std::make_shared<Catalog>();
  c->bundles = bundles;
  c->workarounds = std::move(ws);
  return c;
}

}  // namespace stopgap::remedy::testing

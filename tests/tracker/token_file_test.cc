// The tracker's API token file is a secret: refused when group or others can
// read it (as the server's token file is), accepted at 0600.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/time.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker {
namespace {

TEST(TrackerTokenFile, GroupOrOtherReadableIsRefused) {
  char tmpl[] = "/tmp/tracker-token-test-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/token";
  std::ofstream(path) << "0123456789abcdef0123\n";
  TrackerConfig cfg;
  cfg.kind = "github";
  cfg.url = "https://api.github.com";
  cfg.project = "acme/infra";
  cfg.token_file = path;
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto t = NewIssueTracker(cfg, SystemClock::Instance(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(t.status().message().find("chmod 600"), std::string::npos) << t.status().message();
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(NewIssueTracker(cfg, SystemClock::Instance(), nullptr).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto ok = NewIssueTracker(cfg, SystemClock::Instance(), nullptr);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stopgap::remedy::tracker

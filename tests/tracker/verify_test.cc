// VerifyIssues, as `stopgap check` runs it: unknown issues and other trackers'
// references are errors naming file, line and workaround; closed issues are
// warnings; an unreachable tracker is an error status that suggests --offline.
#include "remedy/tracker/verify.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace stopgap::testing {
namespace {

Workaround At(const std::string& id, const std::string& issue, int line) {
  Workaround w;
  w.id = id;
  w.issue = *ParseIssueRef(issue);
  w.line = line;
  return w;
}

class VerifyTest : public ::testing::Test {
 protected:
  VerifyTest() {
    tracker_.issues["acme/infra#1"] = {};
    tracker_.issues["acme/infra#2"] = {};
    tracker_.issues["acme/infra#2"].closed = true;
    catalog_.path = "stopgap.yaml";
    catalog_.workarounds = {At("ok", "acme/infra#1", 10), At("closed", "acme/infra#2", 20),
                            At("ghost", "acme/infra#404", 30), At("ghost2", "acme/infra#404", 40),
                            At("jira", "OPS-1", 50)};
  }
  FakeTracker tracker_;
  Catalog catalog_;
};

TEST_F(VerifyTest, UnknownWrongAndClosed) {
  std::vector<Violation> v;
  Status st = remedy::tracker::VerifyIssues(catalog_, tracker_, &v);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(v.size(), 4u);
  std::map<std::string, Violation> by_id;
  for (const auto& x : v) by_id[x.workaround_id] = x;
  EXPECT_EQ(by_id["ghost"].rule, "unknown-issue");
  EXPECT_EQ(by_id["ghost"].line, 30);
  EXPECT_EQ(by_id["ghost2"].line, 40);
  EXPECT_EQ(by_id["ghost"].severity, Severity::kError);
  EXPECT_EQ(by_id["jira"].rule, "wrong-tracker");
  EXPECT_EQ(by_id["closed"].rule, "issue-closed");
  EXPECT_EQ(by_id["closed"].severity, Severity::kWarning);
  EXPECT_EQ(by_id["ghost"].file, "stopgap.yaml");
  EXPECT_EQ(by_id["ghost"].field, "issue");
  EXPECT_EQ(tracker_.gets, 3) << "each distinct issue is looked up once";
}

TEST_F(VerifyTest, UnreachableTrackerFailsAndSuggestsOffline) {
  tracker_.down = true;
  std::vector<Violation> v;
  Status st = remedy::tracker::VerifyIssues(catalog_, tracker_, &v);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("--offline"), std::string::npos);
}

TEST_F(VerifyTest, NoTrackerSectionNothingToVerify) {
  std::vector<Violation> v;
  EXPECT_TRUE(remedy::tracker::VerifyCatalogIssues(catalog_, SystemClock::Instance(), &v).ok());
  EXPECT_TRUE(v.empty());
}

}  // namespace
}  // namespace stopgap::testing

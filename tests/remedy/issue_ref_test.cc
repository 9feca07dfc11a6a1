// Issue references: every accepted form, and refusals for everything else.
#include "remedy/issue_ref.h"

#include "gtest/gtest.h"

namespace stopgap::remedy {
namespace {

TEST(IssueRefTest, GitHubStyle) {
  Result<IssueRef> r = ParseIssueRef("acme/infra#123");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, IssueRefKind::kRepo);
  EXPECT_EQ(r->project, "acme/infra");
  EXPECT_EQ(r->number, 123u);
  EXPECT_EQ(r->Slug(), "acme-infra-123");
}

TEST(IssueRefTest, GitLabNestedGroups) {
  Result<IssueRef> r = ParseIssueRef("grp/sub/repo#7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->project, "grp/sub/repo");
  EXPECT_EQ(r->number, 7u);
}

TEST(IssueRefTest, Jira) {
  Result<IssueRef> r = ParseIssueRef("OPS-42");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, IssueRefKind::kJira);
  EXPECT_EQ(r->project, "OPS");
  EXPECT_EQ(r->number, 42u);
  EXPECT_EQ(r->Slug(), "OPS-42");
}

TEST(IssueRefTest, Redmine) {
  Result<IssueRef> r = ParseIssueRef("#9");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, IssueRefKind::kRedmine);
  EXPECT_EQ(r->Slug(), "redmine-9");
}

TEST(IssueRefTest, Urls) {
  Result<IssueRef> r = ParseIssueRef("https://redmine.example.org:3000/issues/77");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, IssueRefKind::kUrl);
  EXPECT_EQ(r->url_host, "redmine.example.org");
  EXPECT_EQ(r->number, 77u);
  EXPECT_EQ(r->Slug(), "redmine-example-org-77");
  r = ParseIssueRef("https://jira.example.com/browse/OPS-5?focus=1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->project, "OPS");
  EXPECT_EQ(r->number, 5u);
}

TEST(IssueRefTest, Refused) {
  for (const char* bad :
       {"", "fix it", "#", "#0", "#abc", "acme#1", "/repo#1", "acme//x#1", "ops-1", "OPS-", "OPS-x",
        "a/b#", "a/b#-1", "http://", "https:// x", "acme/infra #1", "#99999999999999999999"}) {
    Result<IssueRef> r = ParseIssueRef(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' was accepted";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(IssueRefTest, SlugIsSafeForFileNames) {
  Result<IssueRef> r = ParseIssueRef("my.org/re_po#3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Slug(), "my-org-re_po-3");
}

}  // namespace
}  // namespace stopgap::remedy

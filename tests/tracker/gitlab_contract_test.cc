// Contract test of the GitLab adapter against a local server replaying
// responses written from GitLab's REST API v4 documentation: PRIVATE-TOKEN,
// URL-encoded project paths (nested groups), opened/closed, 404, notes with
// system notes skipped, X-Next-Page pagination, labels, 429 + Retry-After.
#include <gtest/gtest.h>

#include "contract_util.h"

namespace stopgap::testing {
namespace {

using remedy::tracker::IssueTracker;
const std::string kIssue = "/api/v4/projects/my-group%2Fmy-project/issues/14";
const std::string kNotes = kIssue + "/notes?sort=asc&order_by=created_at&per_page=100&page=";

class GitlabContract : public ::testing::Test {
 protected:
  GitlabContract() : clock_(TestEpoch()) {
    t_ = MakeTracker("gitlab", srv_.base(), "glpat-tok", clock_);
  }
  ReplayServer srv_;
  ManualClock clock_;
  std::unique_ptr<IssueTracker> t_;
};

TEST_F(GitlabContract, GetOpenIssueWithPrivateToken) {
  srv_.Expect("GET", kIssue, Reply(200, "gitlab/issue_open.json"));
  auto info = t_->GetIssue(Ref("my-group/my-project#14"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->exists);
  EXPECT_FALSE(info->closed);
  EXPECT_EQ(info->state, "opened");
  EXPECT_EQ(info->url, "http://gitlab.example.com/my-group/my-project/-/issues/14");
  EXPECT_EQ(info->labels, (std::vector<std::string>{"bug", "critical"}));
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Line(), "GET " + kIssue);
  EXPECT_EQ(reqs[0].Header("PRIVATE-TOKEN"), "glpat-tok");
  EXPECT_EQ(reqs[0].Header("Authorization"), "");
}

TEST_F(GitlabContract, ClosedAndMissing) {
  srv_.Expect("GET", kIssue, Reply(200, "gitlab/issue_closed.json"));
  srv_.Expect("GET", "/api/v4/projects/my-group%2Fmy-project/issues/15",
              Reply(404, "gitlab/not_found.json"));
  auto closed = t_->GetIssue(Ref("my-group/my-project#14"));
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->closed);
  auto missing = t_->GetIssue(Ref("my-group/my-project#15"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->exists);
}

TEST_F(GitlabContract, NestedGroupsAndIssueUrlsOnTheSameHost) {
  srv_.Expect("GET", "/api/v4/projects/grp%2Fsub%2Frepo/issues/3",
              Reply(200, "gitlab/issue_open.json"));
  ASSERT_TRUE(t_->GetIssue(Ref("grp/sub/repo#3")).ok());
  auto by_url = t_->GetIssue(Ref(srv_.base() + "/grp/sub/repo/-/issues/3"));
  ASSERT_TRUE(by_url.ok()) << by_url.status().ToString();
  EXPECT_EQ(srv_.lines(),
            (std::vector<std::string>(2, "GET /api/v4/projects/grp%2Fsub%2Frepo/issues/3")));
  EXPECT_FALSE(t_->Accepts(Ref("https://gitlab.com/grp/repo/-/issues/3")).ok());
  EXPECT_FALSE(t_->Accepts(Ref("OPS-3")).ok());
}

TEST_F(GitlabContract, UpsertPagesWithXNextPageSkipsSystemNotesAndEdits) {
  srv_.Expect("GET", kNotes + "1",
              Reply(200, "gitlab/notes_page1.json",
                    {{"x-next-page", "2"},
                     {"x-page", "1"},
                     {"x-per-page", "100"},
                     {"x-prev-page", ""},
                     {"x-total", "3"},
                     {"x-total-pages", "2"}}));
  srv_.Expect("GET", kNotes + "2",
              Reply(200, "gitlab/notes_page2.json",
                    {{"x-next-page", ""},
                     {"x-page", "2"},
                     {"x-per-page", "100"},
                     {"x-prev-page", "1"},
                     {"x-total", "3"},
                     {"x-total-pages", "2"}}));
  srv_.Expect("PUT", kIssue + "/notes/1007", Reply(200, "gitlab/note_created.json"));
  auto comments = t_->ListComments(Ref("my-group/my-project#14"));
  ASSERT_TRUE(comments.ok()) << comments.status().ToString();
  ASSERT_EQ(comments->size(), 2u);  // the system note is not a comment
  EXPECT_EQ((*comments)[0].id, "305");
  srv_.ClearRequests();

  auto id = t_->UpsertStopgapComment(Ref("my-group/my-project#14"), "", "runs: 5");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1007");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].Line(), "GET " + kNotes + "1");
  EXPECT_EQ(reqs[1].Line(), "GET " + kNotes + "2");
  EXPECT_EQ(reqs[2].Line(), "PUT " + kIssue + "/notes/1007");
  EXPECT_EQ(reqs[2].Header("PRIVATE-TOKEN"), "glpat-tok");
  EXPECT_EQ(Json(reqs[2].body),
            (nlohmann::json{{"body", "runs: 5\n\n<!-- stopgap:workaround-summary -->"}}));
}

TEST_F(GitlabContract, UpsertCreatesANote) {
  srv_.Expect("GET", kNotes + "1", Reply(200, "gitlab/notes_page1.json"));
  srv_.Expect("POST", kIssue + "/notes", Reply(201, "gitlab/note_created.json"));
  auto id = t_->UpsertStopgapComment(Ref("my-group/my-project#14"), "", "runs: 1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1008");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Line(), "POST " + kIssue + "/notes");
  EXPECT_EQ(Json(reqs[1].body)["body"], "runs: 1\n\n<!-- stopgap:workaround-summary -->");
}

TEST_F(GitlabContract, LabelsInOneEdit) {
  srv_.Expect("PUT", kIssue, Reply(200, "gitlab/issue_open.json"));
  Status st = t_->SetLabels(Ref("my-group/my-project#14"),
                            {"stopgap:workaround", "stopgap:undiagnosed"}, {"stopgap:expired"});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Line(), "PUT " + kIssue);
  EXPECT_EQ(Json(reqs[0].body),
            (nlohmann::json{{"add_labels", "stopgap:workaround,stopgap:undiagnosed"},
                            {"remove_labels", "stopgap:expired"}}));
}

TEST_F(GitlabContract, TooManyRequestsHonoursRetryAfter) {
  srv_.Expect("GET", kIssue,
              Reply(429, "gitlab/rate_limited.json",
                    {{"Retry-After", "30"},
                     {"RateLimit-Limit", "600"},
                     {"RateLimit-Observed", "600"},
                     {"RateLimit-Remaining", "0"},
                     {"RateLimit-Reset", "1795608030"},
                     {"RateLimit-ResetTime", "Wed, 25 Nov 2026 12:00:30 GMT"}}));
  auto r = t_->GetIssue(Ref("my-group/my-project#14"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*t_->RateLimitedUntil(), clock_.Now() + Duration(30'000));
}

TEST_F(GitlabContract, ApiBaseMayBeGivenWithApiV4) {
  auto t = MakeTracker("gitlab", srv_.base() + "/api/v4/", "glpat-tok", clock_);
  srv_.Expect("GET", kIssue, Reply(200, "gitlab/issue_open.json"));
  ASSERT_TRUE(t->GetIssue(Ref("my-group/my-project#14")).ok());
  EXPECT_EQ(srv_.lines(), std::vector<std::string>{"GET " + kIssue});
}

}  // namespace
}  // namespace stopgap::testing

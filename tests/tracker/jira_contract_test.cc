// Contract test of the Jira adapter (REST v2, Cloud and Server) against a local
// server replaying responses written from Atlassian's documentation: basic
// auth (Cloud email:token) vs bearer (Server PAT), statusCategory "done",
// 404 errorMessages, startAt/maxResults/total paging, comment add/edit,
// labels via "update", 429 + Retry-After.
#include <gtest/gtest.h>

#include "contract_util.h"

namespace stopgap::testing {
namespace {

using remedy::tracker::IssueTracker;
const std::string kIssue = "/rest/api/2/issue/OPS-123";

class JiraContract : public ::testing::Test {
 protected:
  JiraContract() : clock_(TestEpoch()) {
    cloud_ = MakeTracker("jira", srv_.base(), "me@example.com:api-token-1", clock_);
    server_ = MakeTracker("jira", srv_.base(), "pat-token-2", clock_);
  }
  ReplayServer srv_;
  ManualClock clock_;
  std::unique_ptr<IssueTracker> cloud_;
  std::unique_ptr<IssueTracker> server_;
};

TEST_F(JiraContract, CloudUsesBasicAuthServerUsesBearer) {
  srv_.Expect("GET", kIssue + "?fields=summary,status,labels", Reply(200, "jira/issue_open.json"));
  auto a = cloud_->GetIssue(Ref("OPS-123"));
  auto b = server_->GetIssue(Ref("OPS-123"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(a->exists);
  EXPECT_FALSE(a->closed);
  EXPECT_EQ(a->state, "To Do");
  EXPECT_EQ(a->title, "nova-compute RPC timeouts");
  EXPECT_EQ(a->url, srv_.base() + "/browse/OPS-123");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Line(), "GET " + kIssue + "?fields=summary,status,labels");
  // base64("me@example.com:api-token-1")
  EXPECT_EQ(reqs[0].Header("Authorization"), "Basic bWVAZXhhbXBsZS5jb206YXBpLXRva2VuLTE=");
  EXPECT_EQ(reqs[1].Header("Authorization"), "Bearer pat-token-2");
  EXPECT_EQ(reqs[0].Header("Accept"), "application/json");
}

TEST_F(JiraContract, DoneCategoryIsClosedOtherCategoriesAreOpen) {
  srv_.Expect("GET", kIssue + "?fields=summary,status,labels", Reply(200, "jira/issue_done.json"));
  srv_.Expect("GET", "/rest/api/2/issue/OPS-124?fields=summary,status,labels",
              Reply(200, "jira/issue_in_review.json"));
  auto done = cloud_->GetIssue(Ref("OPS-123"));
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->closed);
  EXPECT_EQ(done->state, "Done");
  auto review = cloud_->GetIssue(Ref("OPS-124"));
  ASSERT_TRUE(review.ok());
  EXPECT_FALSE(review->closed);
}

TEST_F(JiraContract, MissingIssue) {
  srv_.Expect("GET", "/rest/api/2/issue/OPS-9?fields=summary,status,labels",
              Reply(404, "jira/not_found.json"));
  auto r = cloud_->GetIssue(Ref("OPS-9"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->exists);
}

TEST_F(JiraContract, BrowseUrlOnTheSameHostOnly) {
  srv_.Expect("GET", kIssue + "?fields=summary,status,labels", Reply(200, "jira/issue_open.json"));
  ASSERT_TRUE(cloud_->GetIssue(Ref(srv_.base() + "/browse/OPS-123")).ok());
  EXPECT_FALSE(cloud_->Accepts(Ref("https://other.atlassian.net/browse/OPS-123")).ok());
  EXPECT_FALSE(cloud_->Accepts(Ref("#12")).ok());
  EXPECT_EQ(srv_.requests().size(), 1u);
}

TEST_F(JiraContract, UpsertPagesByStartAtAndEditsTheMarkedComment) {
  srv_.Expect("GET", kIssue + "/comment?startAt=0&maxResults=100",
              Reply(200, "jira/comments_page1.json"));
  srv_.Expect("GET", kIssue + "/comment?startAt=1&maxResults=100",
              Reply(200, "jira/comments_page2.json"));
  srv_.Expect("PUT", kIssue + "/comment/10001", Reply(200, "jira/comment_created.json"));
  auto id = cloud_->UpsertStopgapComment(Ref("OPS-123"), "", "runs: 7");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "10001");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].Line(), "PUT " + kIssue + "/comment/10001");
  std::string body = Json(reqs[2].body)["body"];
  EXPECT_EQ(body.rfind("runs: 7\n\n", 0), 0u);
  EXPECT_NE(body.find("stopgap:workaround-summary"), std::string::npos);
}

TEST_F(JiraContract, AddCommentReturnsTheStringId) {
  srv_.Expect("POST", kIssue + "/comment", Reply(201, "jira/comment_created.json"));
  auto id = server_->AddComment(Ref("OPS-123"), "workaround x stopped");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "10002");
  EXPECT_EQ(Json(srv_.requests()[0].body), (nlohmann::json{{"body", "workaround x stopped"}}));
}

TEST_F(JiraContract, LabelsViaUpdateOperations) {
  srv_.Expect("PUT", kIssue, ReplayResponse{204, {}, ""});
  Status st = cloud_->SetLabels(Ref("OPS-123"), {"stopgap:workaround"}, {"stopgap:undiagnosed"});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Line(), "PUT " + kIssue);
  EXPECT_EQ(Json(reqs[0].body), Json(R"({"update":{"labels":[{"add":"stopgap:workaround"},)"
                                     R"({"remove":"stopgap:undiagnosed"}]}})"));
}

TEST_F(JiraContract, RateLimitedWithRetryAfter) {
  srv_.Expect("GET", kIssue + "?fields=summary,status,labels",
              Reply(429, "jira/rate_limited.json",
                    {{"Retry-After", "5"},
                     {"X-RateLimit-Limit", "100"},
                     {"X-RateLimit-Remaining", "0"},
                     {"X-RateLimit-Reset", "2026-11-25T12:00:05Z"}}));
  auto r = cloud_->GetIssue(Ref("OPS-123"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*cloud_->RateLimitedUntil(), clock_.Now() + Duration(5'000));
  // The other tracker instance has its own budget.
  EXPECT_FALSE(server_->RateLimitedUntil().has_value());
}

}  // namespace
}  // namespace stopgap::testing

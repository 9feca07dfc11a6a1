// Contract test of the GitHub adapter against a local server replaying
// responses written from GitHub's REST API documentation: exact requests
// (method, path, auth headers, body), 404/410/301, pagination by Link header,
// labels, and primary/secondary rate limits.
#include <gtest/gtest.h>

#include "contract_util.h"

namespace stopgap::testing {
namespace {

using remedy::tracker::IssueTracker;
const std::string kIssue = "/repos/octocat/Hello-World/issues/1347";

class GithubContract : public ::testing::Test {
 protected:
  GithubContract() : clock_(TestEpoch()) {
    t_ = MakeTracker("github", srv_.base(), "ghp_tok", clock_);
  }
  ReplayServer srv_;
  ManualClock clock_;
  std::unique_ptr<IssueTracker> t_;
};

TEST_F(GithubContract, GetOpenIssueSendsDocumentedHeaders) {
  srv_.Expect("GET", kIssue, Reply(200, "github/issue_open.json"));
  auto info = t_->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->exists);
  EXPECT_FALSE(info->closed);
  EXPECT_EQ(info->title, "Found a bug");
  EXPECT_EQ(info->url, "https://github.com/octocat/Hello-World/issues/1347");
  EXPECT_EQ(info->labels, std::vector<std::string>{"bug"});
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Line(), "GET " + kIssue);
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer ghp_tok");
  EXPECT_EQ(reqs[0].Header("Accept"), "application/vnd.github+json");
  EXPECT_EQ(reqs[0].Header("X-GitHub-Api-Version"), "2022-11-28");
}

TEST_F(GithubContract, ClosedIssue) {
  srv_.Expect("GET", kIssue, Reply(200, "github/issue_closed.json"));
  auto info = t_->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->exists);
  EXPECT_TRUE(info->closed);
  EXPECT_EQ(info->state, "closed");
}

TEST_F(GithubContract, NotFoundAndGoneMeanNoSuchIssue) {
  srv_.Expect("GET", "/repos/octocat/Hello-World/issues/1", Reply(404, "github/not_found.json"));
  srv_.Expect("GET", "/repos/octocat/Hello-World/issues/2", Reply(410, "github/gone.json"));
  for (const char* ref : {"octocat/Hello-World#1", "octocat/Hello-World#2"}) {
    auto info = t_->GetIssue(Ref(ref));
    ASSERT_TRUE(info.ok()) << ref << ": " << info.status().ToString();
    EXPECT_FALSE(info->exists) << ref;
  }
}

TEST_F(GithubContract, TransferredIssueFollowsTheRedirect) {
  srv_.Expect(
      "GET", kIssue,
      Reply(301, "github/moved.json", {{"Location", "{{BASE}}/repositories/42/issues/1347"}}));
  srv_.Expect("GET", "/repositories/42/issues/1347", Reply(200, "github/issue_open.json"));
  auto info = t_->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->exists);
  EXPECT_EQ(srv_.lines(),
            (std::vector<std::string>{"GET " + kIssue, "GET /repositories/42/issues/1347"}));
}

TEST_F(GithubContract, BadCredentialsAreNotAMissingIssue) {
  srv_.Expect("GET", kIssue, Reply(401, "github/bad_credentials.json"));
  auto info = t_->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(info.status().message().find("ghp_tok"), std::string::npos);
}

TEST_F(GithubContract, ServerErrorAndNoServerAreUnreachable) {
  srv_.Expect("GET", kIssue, ReplayResponse{503, {}, "{\"message\":\"unavailable\"}"});
  auto info = t_->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);

  auto dead = MakeTracker("github", "http://127.0.0.1:1", "ghp_tok", clock_);
  auto r = dead->GetIssue(Ref("octocat/Hello-World#1347"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(GithubContract, UpsertFindsTheMarkedCommentOnPageTwoAndEditsIt) {
  srv_.Expect("GET", kIssue + "/comments?per_page=100",
              Reply(200, "github/comments_page1.json",
                    {{"Link",
                      "<{{BASE}}/repositories/1300192/issues/1347/comments?per_page=100&page=2>; "
                      "rel=\"next\", <{{BASE}}/repositories/1300192/issues/1347/comments?per_page="
                      "100&page=2>; rel=\"last\""}}));
  srv_.Expect("GET", "/repositories/1300192/issues/1347/comments?per_page=100&page=2",
              Reply(200, "github/comments_page2.json"));
  srv_.Expect("PATCH", "/repos/octocat/Hello-World/issues/comments/1081119451",
              Reply(200, "github/comment_created.json"));
  auto id = t_->UpsertStopgapComment(Ref("octocat/Hello-World#1347"), "", "runs: 3");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1081119451");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].Line(), "GET /repositories/1300192/issues/1347/comments?per_page=100&page=2");
  EXPECT_EQ(reqs[1].Header("Authorization"), "Bearer ghp_tok");
  EXPECT_EQ(reqs[2].Line(), "PATCH /repos/octocat/Hello-World/issues/comments/1081119451");
  EXPECT_EQ(reqs[2].Header("Content-Type"), "application/json");
  EXPECT_EQ(Json(reqs[2].body),
            (nlohmann::json{{"body", "runs: 3\n\n<!-- stopgap:workaround-summary -->"}}));
}

TEST_F(GithubContract, UpsertCreatesWhenNoMarkedCommentExists) {
  srv_.Expect("GET", kIssue + "/comments?per_page=100", Reply(200, "github/comments_page1.json"));
  srv_.Expect("POST", kIssue + "/comments", Reply(201, "github/comment_created.json"));
  auto id = t_->UpsertStopgapComment(Ref("octocat/Hello-World#1347"), "", "runs: 1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1081119452");
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Line(), "POST " + kIssue + "/comments");
  EXPECT_EQ(Json(reqs[1].body)["body"], "runs: 1\n\n<!-- stopgap:workaround-summary -->");
}

TEST_F(GithubContract, UpsertWithKnownIdEditsWithoutSearching) {
  srv_.Expect("PATCH", "/repos/octocat/Hello-World/issues/comments/77",
              Reply(200, "github/comment_created.json"));
  auto id = t_->UpsertStopgapComment(Ref("octocat/Hello-World#1347"), "77", "runs: 2");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "77");
  EXPECT_EQ(srv_.lines(),
            std::vector<std::string>{"PATCH /repos/octocat/Hello-World/issues/comments/77"});
}

TEST_F(GithubContract, UpsertWithDeletedIdSearchesThenCreates) {
  srv_.Expect("PATCH", "/repos/octocat/Hello-World/issues/comments/77",
              Reply(404, "github/not_found.json"));
  srv_.Expect("GET", kIssue + "/comments?per_page=100", Reply(200, "github/comments_page1.json"));
  srv_.Expect("POST", kIssue + "/comments", Reply(201, "github/comment_created.json"));
  auto id = t_->UpsertStopgapComment(Ref("octocat/Hello-World#1347"), "77", "runs: 2");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1081119452");
  EXPECT_EQ(srv_.lines().size(), 3u);
}

TEST_F(GithubContract, AddCommentPostsTheBodyAsIs) {
  srv_.Expect("POST", kIssue + "/comments", Reply(201, "github/comment_created.json"));
  auto id = t_->AddComment(Ref("octocat/Hello-World#1347"), "workaround x stopped");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Json(srv_.requests()[0].body), (nlohmann::json{{"body", "workaround x stopped"}}));
}

TEST_F(GithubContract, LabelsAddedInOneCallAndRemovedOneByOne) {
  srv_.Expect("POST", kIssue + "/labels", Reply(200, "github/labels.json"));
  srv_.Expect("DELETE", kIssue + "/labels/stopgap%3Aundiagnosed", Reply(200, "github/labels.json"));
  srv_.Expect("DELETE", kIssue + "/labels/stopgap%3Aexpired",
              Reply(404, "github/label_missing.json"));
  ASSERT_TRUE(t_->SupportsLabels());
  Status st = t_->SetLabels(Ref("octocat/Hello-World#1347"), {"stopgap:workaround"},
                            {"stopgap:undiagnosed", "stopgap:expired"});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto reqs = srv_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].Line(), "POST " + kIssue + "/labels");
  EXPECT_EQ(Json(reqs[0].body), (nlohmann::json{{"labels", {"stopgap:workaround"}}}));
  EXPECT_EQ(reqs[1].Line(), "DELETE " + kIssue + "/labels/stopgap%3Aundiagnosed");
  EXPECT_EQ(reqs[2].Line(), "DELETE " + kIssue + "/labels/stopgap%3Aexpired");
}

TEST_F(GithubContract, PrimaryRateLimitWaitsForResetWithoutSending) {
  const int64_t reset = 1795608000 + 1800;  // TestEpoch + 30 min
  srv_.Expect("GET", kIssue,
              Reply(403, "github/rate_limited.json",
                    {{"x-ratelimit-limit", "5000"},
                     {"x-ratelimit-remaining", "0"},
                     {"x-ratelimit-used", "5000"},
                     {"x-ratelimit-reset", std::to_string(reset)},
                     {"x-ratelimit-resource", "core"}}));
  srv_.Expect("GET", kIssue, Reply(200, "github/issue_open.json"));
  auto ref = Ref("octocat/Hello-World#1347");
  auto r = t_->GetIssue(ref);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(t_->RateLimitedUntil().has_value());
  EXPECT_EQ(*t_->RateLimitedUntil(), WallTime(std::chrono::seconds(reset)));
  // Until reset nothing is sent.
  clock_.Advance(Duration(29 * 60'000));
  EXPECT_EQ(t_->GetIssue(ref).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(srv_.requests().size(), 1u);
  clock_.Advance(Duration(61'000));
  auto ok = t_->GetIssue(ref);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(srv_.requests().size(), 2u);
}

TEST_F(GithubContract, SecondaryRateLimitHonoursRetryAfter) {
  srv_.Expect("POST", kIssue + "/comments",
              Reply(403, "github/secondary_limit.json",
                    {{"retry-after", "60"}, {"x-ratelimit-remaining", "4987"}}));
  auto r = t_->AddComment(Ref("octocat/Hello-World#1347"), "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(t_->RateLimitedUntil().has_value());
  EXPECT_EQ(*t_->RateLimitedUntil(), clock_.Now() + Duration(60'000));
}

TEST_F(GithubContract, TooManyRequestsWithoutHintsBacksOffAMinuteThenDoubles) {
  srv_.Expect("GET", kIssue, ReplayResponse{429, {}, "{\"message\":\"slow down\"}"});
  auto ref = Ref("octocat/Hello-World#1347");
  EXPECT_EQ(t_->GetIssue(ref).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*t_->RateLimitedUntil(), clock_.Now() + Duration(60'000));
  clock_.Advance(Duration(60'000));
  EXPECT_EQ(t_->GetIssue(ref).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*t_->RateLimitedUntil(), clock_.Now() + Duration(120'000));
}

TEST_F(GithubContract, PaginationLinkToAnotherHostIsNotFollowed) {
  srv_.Expect("GET", kIssue + "/comments?per_page=100",
              Reply(200, "github/comments_page1.json",
                    {{"Link", "<http://evil.example/steal?page=2>; rel=\"next\""}}));
  auto r = t_->ListComments(Ref("octocat/Hello-World#1347"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(srv_.requests().size(), 1u);
}

TEST_F(GithubContract, RefusesOtherTrackersReferences) {
  EXPECT_FALSE(t_->Accepts(Ref("OPS-12")).ok());
  EXPECT_FALSE(t_->Accepts(Ref("grp/sub/repo#1")).ok());
  EXPECT_FALSE(t_->Accepts(Ref("https://gitlab.com/a/b/-/issues/3")).ok());
  EXPECT_FALSE(t_->GetIssue(Ref("OPS-12")).ok());
  EXPECT_TRUE(srv_.requests().empty());
}

}  // namespace
}  // namespace stopgap::testing

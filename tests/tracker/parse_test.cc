// Unit tests of the pure pieces of the tracker library: response parsers,
// header parsers (Link, Retry-After), reference → API path mapping, base64.
#include <gtest/gtest.h>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/parse.h"
#include "remedy/tracker/internal/refs.h"

namespace stopgap::remedy::tracker::internal {
namespace {

IssueRef R(const std::string& s) {
  auto r = ParseIssueRef(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : IssueRef{};
}

TrackerConfig Cfg(const std::string& kind, const std::string& url,
                  const std::string& project = "") {
  TrackerConfig c;
  c.kind = kind;
  c.url = url;
  c.project = project;
  return c;
}

TEST(ParseLinkNext, FindsNextAmongRels) {
  EXPECT_EQ(ParseLinkNext("<https://api.github.com/r/1/c?page=2>; rel=\"next\", "
                          "<https://api.github.com/r/1/c?page=5>; rel=\"last\""),
            "https://api.github.com/r/1/c?page=2");
  EXPECT_EQ(ParseLinkNext("<https://x/?page=1>; rel=\"prev\", <https://x/?page=3>; rel=\"next\""),
            "https://x/?page=3");
  EXPECT_EQ(ParseLinkNext("<https://x/?page=1>; rel=\"first\""), "");
  EXPECT_EQ(ParseLinkNext(""), "");
  EXPECT_EQ(ParseLinkNext("<unterminated; rel=\"next\""), "");
}

TEST(ParseRetryAfter, SecondsAndHttpDate) {
  WallTime now(std::chrono::seconds(1'000'000));
  EXPECT_EQ(ParseRetryAfter("120", now), now + std::chrono::seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 5 ", now), now + std::chrono::seconds(5));
  EXPECT_EQ(ParseRetryAfter("999999999", now), now + std::chrono::seconds(86400));  // capped
  // RFC 9110 example.
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now),
            WallTime(std::chrono::seconds(1445412480)));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-1", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Foo 2015 07:28:00 GMT", now).has_value());
  // Found by fuzzing: a far-future date must not overflow the clock.
  EXPECT_FALSE(ParseRetryAfter("Wed, 21*Oct 2666 07:28:00 GMT", now).has_value());
  EXPECT_FALSE(ParseEpochSeconds("999999999999999999").has_value());
}

TEST(ParseEpochSeconds, GithubResetHeader) {
  EXPECT_EQ(ParseEpochSeconds("1372700873"), WallTime(std::chrono::seconds(1372700873)));
  EXPECT_FALSE(ParseEpochSeconds("2026-11-25T12:00:05Z").has_value());  // Jira's form
}

TEST(ParseRedmineIssue, StatusIsClosedFlag) {
  // As Redmine 5.0.4 answers GET /issues/1.json (recorded from the real server).
  auto info = ParseRedmineIssue(
      R"({"issue":{"id":1,"project":{"id":1,"name":"ops"},"status":{"id":5,"name":"Closed",)"
      R"("is_closed":true},"subject":"rpc timeout","closed_on":"2026-11-25T14:39:32Z"}})");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->closed);
  EXPECT_EQ(info->state, "Closed");
  EXPECT_EQ(info->title, "rpc timeout");
  // Older Redmine without is_closed: closed_on decides.
  auto old = ParseRedmineIssue(R"({"issue":{"status":{"id":1,"name":"New"},"closed_on":null}})");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->closed);
}

TEST(ParseRedmineJournals, SkipsJournalsWithoutNotes) {
  auto page = ParseRedmineJournals(
      R"({"issue":{"id":1,"journals":[{"id":1,"notes":"hello","details":[]},)"
      R"({"id":2,"notes":"","details":[{"property":"attr","name":"status_id"}]},)"
      R"({"id":3,"notes":"again"}]}})");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->comments.size(), 2u);
  EXPECT_EQ(page->comments[1].id, "3");
}

TEST(Parsers, RejectHostileInputWithoutThrowing) {
  for (const char* body : {"", "{", "[]", "null", "{\"issue\":7}", "{\"issue\":{\"status\":1}}",
                           "{\"state\":\"weird\"}", "{\"fields\":[]}", "\xff\xfe"}) {
    EXPECT_FALSE(ParseRedmineIssue(body).ok()) << body;
    EXPECT_FALSE(ParseGithubIssue(body).ok()) << body;
    EXPECT_FALSE(ParseGitlabIssue(body).ok()) << body;
    EXPECT_FALSE(ParseJiraIssue(body).ok()) << body;
  }
  EXPECT_FALSE(ParseGithubComments("{}").ok());
  EXPECT_FALSE(ParseJiraComments("[]").ok());
  EXPECT_FALSE(ParseCreatedId("{\"id\":null}").ok());
  EXPECT_EQ(*ParseCreatedId("{\"id\":42}"), "42");
  EXPECT_EQ(*ParseCreatedId("{\"id\":\"10002\"}"), "10002");
}

TEST(IssueApiPath, PerTracker) {
  EXPECT_EQ(*IssueApiPath(Cfg("redmine", "https://rm.example.org"), R("#7")), "/issues/7.json");
  EXPECT_EQ(*IssueApiPath(Cfg("redmine", "https://rm.example.org/redmine"),
                          R("https://rm.example.org/redmine/issues/7")),
            "/issues/7.json");
  EXPECT_EQ(*IssueApiPath(Cfg("github", "https://api.github.com"), R("acme/infra#123")),
            "/repos/acme/infra/issues/123");
  EXPECT_EQ(*IssueApiPath(Cfg("github", "https://api.github.com"),
                          R("https://github.com/acme/infra/issues/123")),
            "/repos/acme/infra/issues/123");
  EXPECT_EQ(*IssueApiPath(Cfg("github", "https://ghe.example.com/api/v3"),
                          R("https://ghe.example.com/acme/infra/issues/9")),
            "/repos/acme/infra/issues/9");
  EXPECT_EQ(*IssueApiPath(Cfg("github", "https://api.github.com", "acme/infra"), R("#5")),
            "/repos/acme/infra/issues/5");
  EXPECT_EQ(*IssueApiPath(Cfg("gitlab", "https://gitlab.example.com"), R("grp/sub/repo#4")),
            "/projects/grp%2Fsub%2Frepo/issues/4");
  EXPECT_EQ(*IssueApiPath(Cfg("gitlab", "https://gitlab.example.com"),
                          R("https://gitlab.example.com/grp/repo/issues/4")),
            "/projects/grp%2Frepo/issues/4");
  EXPECT_EQ(*IssueApiPath(Cfg("jira", "https://acme.atlassian.net"), R("OPS-123")),
            "/rest/api/2/issue/OPS-123");
  EXPECT_EQ(
      *IssueApiPath(Cfg("jira", "https://jira.acme.org"), R("https://jira.acme.org/browse/OPS-9")),
      "/rest/api/2/issue/OPS-9");
}

TEST(IssueApiPath, AnotherTrackersReferenceIsAnError) {
  auto gh = Cfg("github", "https://api.github.com");
  auto r = IssueApiPath(gh, R("https://gitlab.com/acme/infra/-/issues/1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("gitlab.com"), std::string::npos);
  EXPECT_FALSE(IssueApiPath(gh, R("OPS-1")).ok());
  EXPECT_FALSE(IssueApiPath(gh, R("#1")).ok());  // no default project configured
  EXPECT_FALSE(IssueApiPath(gh, R("a/b/c#1")).ok());
  EXPECT_FALSE(IssueApiPath(Cfg("redmine", "https://rm.example.org"), R("acme/x#1")).ok());
  EXPECT_FALSE(
      IssueApiPath(Cfg("redmine", "https://rm.example.org"), R("https://rm.other.org/issues/1"))
          .ok());
  EXPECT_FALSE(IssueApiPath(Cfg("jira", "https://acme.atlassian.net"), R("#3")).ok());
  EXPECT_FALSE(IssueApiPath(Cfg("bugzilla", "https://b.example.org"), R("#3")).ok());
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace stopgap::remedy::tracker::internal

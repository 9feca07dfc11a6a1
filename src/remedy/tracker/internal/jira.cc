// Jira adapter (REST API v2, same on Cloud and Server/Data Center). Auth: a
// token file holding "email:api-token" (Cloud) or "user:password" is sent as
// HTTP basic; a bare token (Server/DC personal access token) as Bearer.
// Comments page with startAt/maxResults/total; labels change via "update".
#include <nlohmann/json.hpp>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/http_tracker.h"
#include "remedy/tracker/internal/parse.h"
#include "remedy/tracker/internal/refs.h"

namespace stopgap::remedy::tracker::internal {
namespace {

constexpr int kPageSize = 100;

class JiraTracker final : public HttpTracker {
 public:
  JiraTracker(TrackerConfig config, std::string token, const Clock& clock,
              std::unique_ptr<TrackerHttp> http)
      : HttpTracker("jira", std::move(config), std::move(token), clock, std::move(http)) {
    web_base_ = api_base();
  }

  Status Accepts(const IssueRef& ref) const override { return JiraIssueOf(config(), ref).status(); }

  Result<IssueInfo> GetIssue(const IssueRef& ref) override {
    auto key = JiraIssueOf(config(), ref);
    if (!key.ok()) return key.status();
    auto resp = Call("GET", "/rest/api/2/issue/" + *key + "?fields=summary,status,labels");
    if (!resp.ok()) {
      if (resp.status().code() == StatusCode::kNotFound) return IssueInfo{};
      return resp.status();
    }
    auto info = ParseJiraIssue(resp->body);
    if (!info.ok()) return info.status();
    info->url = web_base_ + "/browse/" + *key;
    return info;
  }

  Result<std::vector<TrackerComment>> ListComments(const IssueRef& ref) override {
    auto key = JiraIssueOf(config(), ref);
    if (!key.ok()) return key.status();
    std::vector<TrackerComment> all;
    int64_t start = 0;
    for (int n = 0;; ++n) {
      if (n == kMaxPages) return ResourceExhausted("jira: more than 100 pages of comments");
      auto resp =
          Call("GET", "/rest/api/2/issue/" + *key + "/comment?startAt=" + std::to_string(start) +
                          "&maxResults=" + std::to_string(kPageSize));
      if (!resp.ok()) return resp.status();
      auto page = ParseJiraComments(resp->body);
      if (!page.ok()) return page.status();
      const int64_t got = static_cast<int64_t>(page->comments.size());
      for (auto& c : page->comments) all.push_back(std::move(c));
      start = page->start_at + got;
      if (got == 0 || start >= page->total) break;
    }
    return all;
  }

  bool SupportsLabels() const override { return true; }
  Status SetLabels(const IssueRef& ref, const std::vector<std::string>& add,
                   const std::vector<std::string>& remove) override {
    auto key = JiraIssueOf(config(), ref);
    if (!key.ok()) return key.status();
    if (add.empty() && remove.empty()) return Status::Ok();
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& l : add) ops.push_back({{"add", l}});
    for (const auto& l : remove) ops.push_back({{"remove", l}});
    nlohmann::json j;
    j["update"]["labels"] = ops;
    return Call("PUT", "/rest/api/2/issue/" + *key, JsonBody(j)).status();
  }

 protected:
  Result<std::string> CreateComment(const IssueRef& ref, std::string_view body) override {
    auto key = JiraIssueOf(config(), ref);
    if (!key.ok()) return key.status();
    return PostComment("/rest/api/2/issue/" + *key + "/comment", body);
  }

  Status EditComment(const IssueRef& ref, std::string_view id, std::string_view body) override {
    STOPGAP_RETURN_IF_ERROR(CheckCommentId(id));
    auto key = JiraIssueOf(config(), ref);
    if (!key.ok()) return key.status();
    return CallWithBody("PUT", "/rest/api/2/issue/" + *key + "/comment/" + std::string(id), body)
        .status();
  }

  std::string MarkerLine() const override {
    return "{color:#999999}" + std::string(kSummaryMarker) +
           " (stopgap keeps this comment up to date){color}";
  }

  net::HttpHeaders AuthHeaders() const override {
    if (token().find(':') != std::string::npos) {
      return {{"Authorization", "Basic " + Base64(token())}};
    }
    return {{"Authorization", "Bearer " + token()}};
  }

 private:
  std::string web_base_;
};

}  // namespace

std::unique_ptr<IssueTracker> NewJiraTracker(TrackerConfig config, std::string token,
                                             const Clock& clock,
                                             std::unique_ptr<TrackerHttp> http) {
  return std::make_unique<JiraTracker>(std::move(config), std::move(token), clock, std::move(http));
}

}  // namespace stopgap::remedy::tracker::internal

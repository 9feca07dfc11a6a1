// GitHub adapter (REST API 2022-11-28, Bearer token). Comments are issue
// comments found by a hidden HTML-comment marker; pagination follows the Link
// header; labels are added with POST .../labels and removed one by one.
#include <nlohmann/json.hpp>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/http_tracker.h"
#include "remedy/tracker/internal/parse.h"
#include "remedy/tracker/internal/refs.h"

namespace stopgap::remedy::tracker::internal {
namespace {

class GithubTracker final : public HttpTracker {
 public:
  GithubTracker(TrackerConfig config, std::string token, const Clock& clock,
                std::unique_ptr<TrackerHttp> http)
      : HttpTracker("github", std::move(config), std::move(token), clock, std::move(http)) {}

  Status Accepts(const IssueRef& ref) const override {
    return GithubIssueOf(config(), ref).status();
  }

  Result<IssueInfo> GetIssue(const IssueRef& ref) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    auto resp = Call("GET", *path);
    if (!resp.ok()) {
      if (resp.status().code() == StatusCode::kNotFound) return IssueInfo{};  // 404, 410
      return resp.status();
    }
    return ParseGithubIssue(resp->body);
  }

  Result<std::vector<TrackerComment>> ListComments(const IssueRef& ref) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    std::vector<TrackerComment> all;
    std::string next = *path + "/comments?per_page=100";
    for (int page = 0; !next.empty(); ++page) {
      if (page == kMaxPages) return ResourceExhausted("github: more than 100 pages of comments");
      auto resp = Call("GET", next);
      if (!resp.ok()) return resp.status();
      auto parsed = ParseGithubComments(resp->body);
      if (!parsed.ok()) return parsed.status();
      for (auto& c : parsed->comments) all.push_back(std::move(c));
      next = ParseLinkNext(resp->Header("link"));
    }
    return all;
  }

  bool SupportsLabels() const override { return true; }
  Status SetLabels(const IssueRef& ref, const std::vector<std::string>& add,
                   const std::vector<std::string>& remove) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    if (!add.empty()) {
      nlohmann::json j;
      j["labels"] = add;
      auto resp = Call("POST", *path + "/labels", JsonBody(j));
      if (!resp.ok()) return resp.status();
    }
    for (const std::string& name : remove) {
      auto resp = Call("DELETE", *path + "/labels/" + net::UrlEncode(name));
      // 404: the label was not on the issue; that is the state we want.
      if (!resp.ok() && resp.status().code() != StatusCode::kNotFound) return resp.status();
    }
    return Status::Ok();
  }

 protected:
  Result<std::string> CreateComment(const IssueRef& ref, std::string_view body) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    return PostComment(*path + "/comments", body);
  }

  Status EditComment(const IssueRef& ref, std::string_view id, std::string_view body) override {
    STOPGAP_RETURN_IF_ERROR(CheckCommentId(id));
    auto r = GithubIssueOf(config(), ref);
    if (!r.ok()) return r.status();
    return CallWithBody("PATCH", "/repos/" + r->project + "/issues/comments/" + std::string(id),
                        body)
        .status();
  }

  std::string MarkerLine() const override { return "<!-- " + std::string(kSummaryMarker) + " -->"; }

  net::HttpHeaders AuthHeaders() const override {
    return {{"Authorization", "Bearer " + token()}, {"X-GitHub-Api-Version", "2022-11-28"}};
  }

 private:
  Result<std::string> IssuePath(const IssueRef& ref) const {
    auto r = GithubIssueOf(config(), ref);
    if (!r.ok()) return r.status();
    return "/repos/" + r->project + "/issues/" + std::to_string(r->number);
  }
};

}  // namespace

std::unique_ptr<IssueTracker> NewGithubTracker(TrackerConfig config, std::string token,
                                               const Clock& clock,
                                               std::unique_ptr<TrackerHttp> http) {
  return std::make_unique<GithubTracker>(std::move(config), std::move(token), clock,
                                         std::move(http));
}

}  // namespace stopgap::remedy::tracker::internal

// GitLab adapter (REST API v4, PRIVATE-TOKEN). Comments are issue notes
// (system notes skipped) found by a hidden HTML-comment marker; pagination
// follows X-Next-Page; labels change with add_labels/remove_labels.
#include <nlohmann/json.hpp>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/http_tracker.h"
#include "remedy/tracker/internal/parse.h"
#include "remedy/tracker/internal/refs.h"

namespace stopgap::remedy::tracker::internal {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(',');
    out += s;
  }
  return out;
}

class GitlabTracker final : public HttpTracker {
 public:
  GitlabTracker(TrackerConfig config, std::string token, const Clock& clock,
                std::unique_ptr<TrackerHttp> http)
      : HttpTracker("gitlab", std::move(config), std::move(token), clock, std::move(http)) {
    // Accept both "https://gitlab.example.com" and ".../api/v4".
    if (!api_base().ends_with("/api/v4")) set_api_base(api_base() + "/api/v4");
  }

  Status Accepts(const IssueRef& ref) const override {
    return GitlabIssueOf(config(), ref).status();
  }

  Result<IssueInfo> GetIssue(const IssueRef& ref) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    auto resp = Call("GET", *path);
    if (!resp.ok()) {
      if (resp.status().code() == StatusCode::kNotFound) return IssueInfo{};
      return resp.status();
    }
    return ParseGitlabIssue(resp->body);
  }

  Result<std::vector<TrackerComment>> ListComments(const IssueRef& ref) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    std::vector<TrackerComment> all;
    std::string page = "1";
    for (int n = 0; !page.empty(); ++n) {
      if (n == kMaxPages) return ResourceExhausted("gitlab: more than 100 pages of notes");
      auto resp =
          Call("GET", *path + "/notes?sort=asc&order_by=created_at&per_page=100&page=" + page);
      if (!resp.ok()) return resp.status();
      auto parsed = ParseGitlabNotes(resp->body);
      if (!parsed.ok()) return parsed.status();
      for (auto& c : parsed->comments) all.push_back(std::move(c));
      std::string next = resp->Header("x-next-page");
      if (!next.empty() && !ParseCount(next)) {
        return InvalidArgument("gitlab: bad X-Next-Page '" + next.substr(0, 32) + "'");
      }
      page = next;
    }
    return all;
  }

  bool SupportsLabels() const override { return true; }
  Status SetLabels(const IssueRef& ref, const std::vector<std::string>& add,
                   const std::vector<std::string>& remove) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    if (add.empty() && remove.empty()) return Status::Ok();
    nlohmann::json j = nlohmann::json::object();
    if (!add.empty()) j["add_labels"] = Join(add);
    if (!remove.empty()) j["remove_labels"] = Join(remove);
    return Call("PUT", *path, JsonBody(j)).status();
  }

 protected:
  Result<std::string> CreateComment(const IssueRef& ref, std::string_view body) override {
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    return PostComment(*path + "/notes", body);
  }

  Status EditComment(const IssueRef& ref, std::string_view id, std::string_view body) override {
    STOPGAP_RETURN_IF_ERROR(CheckCommentId(id));
    auto path = IssuePath(ref);
    if (!path.ok()) return path.status();
    return CallWithBody("PUT", *path + "/notes/" + std::string(id), body).status();
  }

  std::string MarkerLine() const override { return "<!-- " + std::string(kSummaryMarker) + " -->"; }

  net::HttpHeaders AuthHeaders() const override { return {{"PRIVATE-TOKEN", token()}}; }

 private:
  Result<std::string> IssuePath(const IssueRef& ref) const {
    auto r = GitlabIssueOf(config(), ref);
    if (!r.ok()) return r.status();
    return "/projects/" + net::UrlEncode(r->project) + "/issues/" + std::to_string(r->number);
  }
};

}  // namespace

std::unique_ptr<IssueTracker> NewGitlabTracker(TrackerConfig config, std::string token,
                                               const Clock& clock,
                                               std::unique_ptr<TrackerHttp> http) {
  return std::make_unique<GitlabTracker>(std::move(config), std::move(token), clock,
                                         std::move(http));
}

}  // namespace stopgap::remedy::tracker::internal

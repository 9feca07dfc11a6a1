// Redmine adapter (REST API, X-Redmine-API-Key). The stopgap comment is an
// issue journal (a note); Redmine >= 5.0 lets its author edit it in place with
// PUT /journals/ID.json. Redmine has no labels.
#include <nlohmann/json.hpp>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/http_tracker.h"
#include "remedy/tracker/internal/parse.h"
#include "remedy/tracker/internal/refs.h"

namespace stopgap::remedy::tracker::internal {
namespace {

class RedmineTracker final : public HttpTracker {
 public:
  RedmineTracker(TrackerConfig config, std::string token, const Clock& clock,
                 std::unique_ptr<TrackerHttp> http)
      : HttpTracker("redmine", std::move(config), std::move(token), clock, std::move(http)) {}

  Status Accepts(const IssueRef& ref) const override {
    return RedmineIssueOf(config(), ref).status();
  }

  Result<IssueInfo> GetIssue(const IssueRef& ref) override {
    auto n = RedmineIssueOf(config(), ref);
    if (!n.ok()) return n.status();
    auto resp = Call("GET", "/issues/" + std::to_string(*n) + ".json");
    if (!resp.ok()) {
      if (resp.status().code() == StatusCode::kNotFound) return IssueInfo{};
      return resp.status();
    }
    auto info = ParseRedmineIssue(resp->body);
    if (!info.ok()) return info.status();
    info->url = api_base() + "/issues/" + std::to_string(*n);
    return info;
  }

  Result<std::vector<TrackerComment>> ListComments(const IssueRef& ref) override {
    auto n = RedmineIssueOf(config(), ref);
    if (!n.ok()) return n.status();
    // Redmine returns every journal at once (no pagination for includes).
    auto resp = Call("GET", "/issues/" + std::to_string(*n) + ".json?include=journals");
    if (!resp.ok()) return resp.status();
    auto page = ParseRedmineJournals(resp->body);
    if (!page.ok()) return page.status();
    return std::move(page->comments);
  }

  bool SupportsLabels() const override { return false; }
  Status SetLabels(const IssueRef& ref, const std::vector<std::string>&,
                   const std::vector<std::string>&) override {
    return Accepts(ref);  // Redmine has no labels: nothing to do
  }

 protected:
  Result<std::string> CreateComment(const IssueRef& ref, std::string_view body) override {
    auto n = RedmineIssueOf(config(), ref);
    if (!n.ok()) return n.status();
    nlohmann::json j;
    j["issue"]["notes"] = std::string(body);
    auto resp = Call("PUT", "/issues/" + std::to_string(*n) + ".json", JsonBody(j));
    if (!resp.ok()) return resp.status();
    // PUT answers 204 without the journal: read it back (the newest with our text).
    auto comments = ListComments(ref);
    if (!comments.ok()) return comments.status();
    for (auto it = comments->rbegin(); it != comments->rend(); ++it) {
      if (it->body == body) return it->id;
    }
    return Internal("redmine accepted the note on issue #" + std::to_string(*n) +
                    " but it is not among its journals");
  }

  Status EditComment(const IssueRef& ref, std::string_view id, std::string_view body) override {
    STOPGAP_RETURN_IF_ERROR(CheckCommentId(id));
    nlohmann::json j;
    j["journal"]["notes"] = std::string(body);
    auto resp = Call("PUT", "/journals/" + std::string(id) + ".json", JsonBody(j));
    return resp.status();
  }

  std::string MarkerLine() const override {
    return std::string(kSummaryMarker) +
           " (stopgap keeps this note up to date; edits to it are overwritten)";
  }

  net::HttpHeaders AuthHeaders() const override { return {{"X-Redmine-API-Key", token()}}; }

  bool CommentIdsMayBeReused() const override { return true; }
};

}  // namespace

std::unique_ptr<IssueTracker> NewRedmineTracker(TrackerConfig config, std::string token,
                                                const Clock& clock,
                                                std::unique_ptr<TrackerHttp> http) {
  return std::make_unique<RedmineTracker>(std::move(config), std::move(token), clock,
                                          std::move(http));
}

}  // namespace stopgap::remedy::tracker::internal

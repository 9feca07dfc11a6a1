// HttpTracker: what the four adapters share — one authenticated call that
// classifies answers into stopgap Status codes, honours rate limits
// (Retry-After, X-RateLimit-*/RateLimit-* headers, 429, GitHub's 403), follows a
// same-host redirect once (GitHub answers 301 for transferred issues), and the
// generic comment upsert built on each adapter's list/create/edit.
//
// Thread safety: not thread-safe (one tracker per thread).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker::internal {

class HttpTracker : public IssueTracker {
 public:
  HttpTracker(std::string kind, TrackerConfig config, std::string token, const Clock& clock,
              std::unique_ptr<TrackerHttp> http);

  std::string_view kind() const override { return kind_; }
  std::optional<WallTime> RateLimitedUntil() const override;
  Result<std::string> UpsertStopgapComment(const IssueRef& ref, std::string_view comment_id,
                                           std::string_view body) override;
  Result<std::string> AddComment(const IssueRef& ref, std::string_view body) override {
    return CreateComment(ref, body);
  }

 protected:
  // Adapters implement these three; UpsertStopgapComment composes them.
  virtual Result<std::string> CreateComment(const IssueRef& ref, std::string_view body) = 0;
  // NotFound when the comment is gone (deleted by a human).
  virtual Status EditComment(const IssueRef& ref, std::string_view comment_id,
                             std::string_view body) = 0;
  // The summary marker as this tracker shows it (hidden HTML comment or a line).
  virtual std::string MarkerLine() const = 0;

  virtual net::HttpHeaders AuthHeaders() const = 0;
  // True when the tracker may give a deleted comment's id to a new comment
  // (Redmine on SQLite reuses journal ids): a remembered id is then checked
  // against the issue's own marked comments before it is edited.
  virtual bool CommentIdsMayBeReused() const { return false; }

  // Sends `method` to `path` (relative to the API base, e.g. "/issues/1.json")
  // or to an absolute URL on the same host (pagination links). Returns the
  // response for 2xx and 3xx-not-followed answers; otherwise NotFound (404,
  // 410), PermissionDenied (401, 403), ResourceExhausted (rate limited),
  // Unavailable (transport, 5xx), InvalidArgument (other 4xx).
  Result<net::HttpResponse> Call(std::string_view method, std::string_view path_or_url,
                                 std::string body = "");

  // Sends `{"body": body}` with `method` to `path` (the comment create and
  // edit calls of GitHub, GitLab and Jira).
  Result<net::HttpResponse> CallWithBody(std::string_view method, std::string_view path,
                                         std::string_view body);
  // POSTs `{"body": body}` to `path` and returns the new comment's id.
  Result<std::string> PostComment(std::string_view path, std::string_view body);

  // "https://host[:port]" of `url` ("" when it has no scheme).
  static std::string Origin(std::string_view url);
  // Host of a URL without port.
  static std::string HostOf(std::string_view url);

  const TrackerConfig& config() const { return config_; }
  const std::string& token() const { return token_; }
  const std::string& api_base() const { return api_base_; }
  const Clock& clock() const { return clock_; }
  void set_api_base(std::string base) { api_base_ = std::move(base); }

 private:
  Result<net::HttpResponse> SendOnce(std::string_view method, const std::string& url,
                                     const std::string& body);
  // Records a rate limit from `resp` (any status); true when `resp` is a
  // rate-limit refusal.
  bool NoteRateLimit(const net::HttpResponse& resp);

  std::string kind_;
  TrackerConfig config_;
  std::string token_;
  const Clock& clock_;
  std::unique_ptr<TrackerHttp> http_;
  std::string api_base_;
  std::optional<WallTime> limited_until_;
  int consecutive_limits_ = 0;
};

// Adds `marker_line` to `body` when the body does not carry kSummaryMarker.
std::string WithMarker(std::string_view body, std::string_view marker_line);

}  // namespace stopgap::remedy::tracker::internal

namespace stopgap::remedy::tracker::internal {
// Serializes a JSON object for a request body (invalid UTF-8 replaced, never throws).
std::string JsonBody(const nlohmann::json& j);
// At most this many pages are read when listing comments (100 per page).
inline constexpr int kMaxPages = 100;
}  // namespace stopgap::remedy::tracker::internal

namespace stopgap::remedy::tracker::internal {
// A comment id we may put into a path: [A-Za-z0-9_-], 1..64 chars.
Status CheckCommentId(std::string_view id);
}  // namespace stopgap::remedy::tracker::internal

// HttpTracker: authenticated calls, status classification, rate limits, and
// the find-or-create-then-edit comment upsert shared by every adapter.
#include "remedy/tracker/internal/http_tracker.h"

#include <algorithm>
#include <cctype>

#include "core/log.h"
#include "remedy/tracker/internal/parse.h"

namespace stopgap::remedy::tracker::internal {

HttpTracker::HttpTracker(std::string kind, TrackerConfig config, std::string token,
                         const Clock& clock, std::unique_ptr<TrackerHttp> http)
    : kind_(std::move(kind)),
      config_(std::move(config)),
      token_(std::move(token)),
      clock_(clock),
      http_(std::move(http)) {
  api_base_ = config_.url;
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

std::optional<WallTime> HttpTracker::RateLimitedUntil() const {
  if (limited_until_ && *limited_until_ > clock_.Now()) return limited_until_;
  return std::nullopt;
}

Result<net::HttpResponse> HttpTracker::CallWithBody(std::string_view method, std::string_view path,
                                                    std::string_view body) {
  nlohmann::json j;
  j["body"] = std::string(body);
  return Call(method, path, JsonBody(j));
}

Result<std::string> HttpTracker::PostComment(std::string_view path, std::string_view body) {
  auto resp = CallWithBody("POST", path, body);
  if (!resp.ok()) return resp.status();
  return ParseCreatedId(resp->body);
}

std::string HttpTracker::Origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  size_t slash = url.find('/', scheme + 3);
  return std::string(url.substr(0, slash));
}

std::string HttpTracker::HostOf(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(rest.substr(0, rest.find(':')));
}

bool HttpTracker::NoteRateLimit(const net::HttpResponse& resp) {
  const WallTime now = clock_.Now();
  std::string remaining = resp.Header("x-ratelimit-remaining");
  std::string reset = resp.Header("x-ratelimit-reset");
  if (remaining.empty()) remaining = resp.Header("ratelimit-remaining");  // GitLab
  if (reset.empty()) reset = resp.Header("ratelimit-reset");
  const bool exhausted = remaining == "0";
  std::string retry_after = resp.Header("retry-after");

  bool limited = resp.status == 429;
  if (resp.status == 403 &&
      (exhausted || !retry_after.empty() || resp.body.find("rate limit") != std::string::npos)) {
    limited = true;  // GitHub primary and secondary limits answer 403
  }
  std::optional<WallTime> until;
  if (!retry_after.empty()) until = ParseRetryAfter(retry_after, now);
  if (!until && exhausted) until = ParseEpochSeconds(reset);
  if (limited) {
    ++consecutive_limits_;
    if (!until || *until <= now) {
      // No usable hint: a minute, doubling while the limit persists (at most 1 h).
      int shift = std::min(consecutive_limits_ - 1, 6);
      until = now + std::min<Duration>(Duration(60'000) * (1 << shift), Duration(3'600'000));
    }
  } else if (resp.ok()) {
    consecutive_limits_ = 0;
  }
  // A successful answer that used the last request also pauses us until reset.
  if (until && *until > now && (limited || exhausted)) {
    if (!limited_until_ || *limited_until_ < *until) limited_until_ = until;
  }
  return limited;
}

Result<net::HttpResponse> HttpTracker::SendOnce(std::string_view method, const std::string& url,
                                                const std::string& body) {
  net::HttpRequest req;
  req.method = std::string(method);
  req.url = url;
  req.headers = AuthHeaders();
  req.headers.emplace_back("Accept",
                           kind_ == "github" ? "application/vnd.github+json" : "application/json");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.headers.emplace_back("Content-Type", "application/json");
  }
  req.body = body;
  req.retry = method == "GET" || method == "PUT" || method == "DELETE";
  auto resp = http_->Send(req);
  if (!resp.ok()) {
    return Unavailable(kind_ + " " + std::string(method) + " " + url +
                       " unreachable: " + resp.status().message());
  }
  return resp;
}

Result<net::HttpResponse> HttpTracker::Call(std::string_view method, std::string_view path_or_url,
                                            std::string body) {
  if (auto until = RateLimitedUntil()) {
    return ResourceExhausted(kind_ + " rate limit: no requests until " + FormatRfc3339(*until));
  }
  std::string url = path_or_url.starts_with("http://") || path_or_url.starts_with("https://")
                        ? std::string(path_or_url)
                        : api_base_ + std::string(path_or_url);
  if (Origin(url) != Origin(api_base_)) {
    // Never send the token to another host (a crafted pagination link).
    return InvalidArgument(kind_ + ": refusing to follow " + url + " off " + Origin(api_base_));
  }
  auto resp = SendOnce(method, url, body);
  if (!resp.ok()) return resp.status();
  // One same-origin redirect (GitHub: 301 for a transferred issue).
  if ((resp->status == 301 || resp->status == 302 || resp->status == 307 || resp->status == 308) &&
      method == "GET") {
    std::string loc = resp->Header("location");
    if (loc.starts_with("/")) loc = Origin(api_base_) + loc;
    if (!loc.empty() && Origin(loc) == Origin(api_base_)) {
      resp = SendOnce(method, loc, body);
      if (!resp.ok()) return resp.status();
      url = loc;
    }
  }
  const bool limited = NoteRateLimit(*resp);
  const int code = resp->status;
  if (code >= 200 && code < 300) return resp;
  std::string what =
      kind_ + " " + std::string(method) + " " + url + " answered " + std::to_string(code);
  std::string detail = resp->body.substr(0, 200);
  if (!detail.empty()) what += ": " + detail;
  if (limited) {
    auto until = RateLimitedUntil();
    return ResourceExhausted(kind_ + " rate limited" +
                             (until ? " until " + FormatRfc3339(*until) : std::string()) + " (" +
                             what + ")");
  }
  if (code == 404 || code == 410) return NotFound(what);
  if (code == 401 || code == 403) return PermissionDenied(what);
  if (code >= 500) return Unavailable(what);
  if (code >= 300 && code < 400) return Unavailable(what + " (redirect not followed)");
  return InvalidArgument(what);
}

std::string WithMarker(std::string_view body, std::string_view marker_line) {
  std::string out(body);
  if (out.find(kSummaryMarker) != std::string::npos) return out;
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out += "\n";
  out += marker_line;
  return out;
}

Result<std::string> HttpTracker::UpsertStopgapComment(const IssueRef& ref,
                                                      std::string_view comment_id,
                                                      std::string_view body) {
  STOPGAP_RETURN_IF_ERROR(Accepts(ref));
  const std::string full = WithMarker(body, MarkerLine());
  std::optional<std::vector<TrackerComment>> listed;
  if (!comment_id.empty() && CommentIdsMayBeReused()) {
    auto comments = ListComments(ref);
    if (!comments.ok()) return comments.status();
    bool ours = false;
    for (const TrackerComment& c : *comments) {
      if (c.id == comment_id && c.body.find(kSummaryMarker) != std::string::npos) ours = true;
    }
    if (!ours) comment_id = {};  // gone, or its id now names someone else's comment
    listed = std::move(*comments);
  }
  if (!comment_id.empty()) {
    Status st = EditComment(ref, comment_id, full);
    if (st.ok()) return std::string(comment_id);
    if (st.code() != StatusCode::kNotFound) return st;
    Log(LogLevel::kInfo, "tracker.comment_gone",
        {{"tracker", kind_}, {"issue", ref.text}, {"comment", std::string(comment_id)}});
  }
  if (!listed) {
    auto comments = ListComments(ref);
    if (!comments.ok()) return comments.status();
    listed = std::move(*comments);
  }
  for (const TrackerComment& c : *listed) {
    if (c.body.find(kSummaryMarker) == std::string::npos || c.id.empty()) continue;
    if (c.body == full) return c.id;  // already up to date
    STOPGAP_RETURN_IF_ERROR(EditComment(ref, c.id, full));
    return c.id;
  }
  return CreateComment(ref, full);
}

}  // namespace stopgap::remedy::tracker::internal

namespace stopgap::remedy::tracker::internal {
std::string JsonBody(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace stopgap::remedy::tracker::internal

namespace stopgap::remedy::tracker::internal {
Status CheckCommentId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') ok = false;
  }
  if (!ok) return InvalidArgument("bad comment id '" + std::string(id.substr(0, 64)) + "'");
  return Status::Ok();
}
}  // namespace stopgap::remedy::tracker::internal

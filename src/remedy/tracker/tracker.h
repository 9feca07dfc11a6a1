// IssueTracker: the one interface stopgap uses to talk to an issue tracker
// (Redmine, GitHub, GitLab, Jira Cloud/Server), and the factory that picks the
// adapter from the catalog's `tracker:` section.
//
//   Result<std::unique_ptr<IssueTracker>> t = NewIssueTracker(config, clock);
//   Result<IssueInfo> info = (*t)->GetIssue(ref);     // exists? closed?
//   Result<std::string> id = (*t)->UpsertStopgapComment(ref, known_id, body);
//
// Errors: a missing issue is NOT an error of GetIssue (IssueInfo::exists is
// false: HTTP 404 or 410); Unavailable means the tracker could not be reached
// or answered 5xx (keep the last known state); ResourceExhausted means the
// tracker rate-limited us (see RateLimitedUntil()); PermissionDenied is a bad
// or under-privileged token; InvalidArgument is a reference this tracker can't
// serve (another tracker's URL, a Jira key on GitHub, ...).
//
// Thread safety: an IssueTracker is NOT thread-safe; use each from one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/issue_ref.h"
#include "remedy/tracker/transport.h"

namespace stopgap::remedy::tracker {

// The hidden (GitHub, GitLab) or visible (Redmine, Jira) text that marks the
// one summary comment stopgap keeps per issue, so it can be found again.
inline constexpr std::string_view kSummaryMarker = "stopgap:workaround-summary";

// The catalog's `tracker:` section (kind redmine|github|gitlab|jira, url,
// token_file, project, refresh, update_interval): remedy::TrackerConfig.
// `url` is the API base: https://api.github.com, https://gitlab.example.com
// (or .../api/v4), https://acme.atlassian.net, https://redmine.example.org.
// `project` is optional: the default repo for "#N" references on GitHub/GitLab.
using ::stopgap::remedy::TrackerConfig;

struct IssueInfo {
  bool exists = false;  // false: the tracker answered 404 or 410
  bool closed = false;
  std::string state;  // as the tracker names it: "open", "closed", "opened", "Done", "New"
  std::string title;
  std::string url;  // web page of the issue
  std::vector<std::string> labels;
};

struct TrackerComment {
  std::string id;
  std::string body;
};

class IssueTracker {
 public:
  virtual ~IssueTracker() = default;

  virtual std::string_view kind() const = 0;
  // OK when this tracker can serve `ref`; InvalidArgument naming the reason
  // otherwise (e.g. a GitLab URL on a GitHub tracker). Pure: no network.
  virtual Status Accepts(const IssueRef& ref) const = 0;

  virtual Result<IssueInfo> GetIssue(const IssueRef& ref) = 0;

  // Keeps one stopgap comment on the issue: edits `comment_id` when given and
  // still there, else the comment carrying kSummaryMarker (searching every
  // page), else creates one. The marker is added to `body` when missing.
  // Returns the comment's id (remember it: next time no search is needed).
  virtual Result<std::string> UpsertStopgapComment(const IssueRef& ref, std::string_view comment_id,
                                                   std::string_view body) = 0;

  // A new one-shot comment (retirement, escalation). Returns its id.
  virtual Result<std::string> AddComment(const IssueRef& ref, std::string_view body) = 0;

  // Adds and removes labels (GitHub, GitLab, Jira). Redmine has no labels:
  // SupportsLabels() is false and SetLabels() does nothing.
  virtual bool SupportsLabels() const = 0;
  virtual Status SetLabels(const IssueRef& ref, const std::vector<std::string>& add,
                           const std::vector<std::string>& remove) = 0;

  // Comments we read back: every comment of the issue (all pages).
  virtual Result<std::vector<TrackerComment>> ListComments(const IssueRef& ref) = 0;

  // When the tracker told us to slow down: calls before this time fail fast
  // with ResourceExhausted without touching the network.
  virtual std::optional<WallTime> RateLimitedUntil() const = 0;
};

// Builds the adapter for config.kind, reading the token from config.token_file
// (trailing newline trimmed). `http` is the transport (nullptr: libcurl via
// net::HttpClient). `clock` must outlive the tracker.
Result<std::unique_ptr<IssueTracker>> NewIssueTracker(const TrackerConfig& config,
                                                      const Clock& clock,
                                                      std::unique_ptr<TrackerHttp> http = nullptr);

// Same, with the token given directly (tests, and callers that already read it).
Result<std::unique_ptr<IssueTracker>> NewIssueTrackerWithToken(
    const TrackerConfig& config, std::string token, const Clock& clock,
    std::unique_ptr<TrackerHttp> http = nullptr);

}  // namespace stopgap::remedy::tracker

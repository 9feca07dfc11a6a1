// Pure parsers of tracker API responses (JSON bodies and the headers that
// drive pagination and rate limits). Each takes outside input as a string and
// returns a value or InvalidArgument; none throws. Fuzzed by fuzz/tracker.cmake.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker::internal {

// One page of comments and where the next one is (when the API says).
struct CommentPage {
  std::vector<TrackerComment> comments;
  // Jira: startAt/maxResults/total of this page.
  int64_t start_at = 0;
  int64_t max_results = 0;
  int64_t total = 0;
};

// Redmine: GET /issues/N.json[?include=journals]. Journals without notes
// (status changes only) are skipped.
Result<IssueInfo> ParseRedmineIssue(std::string_view body);
Result<CommentPage> ParseRedmineJournals(std::string_view body);

// GitHub: GET /repos/O/R/issues/N, GET .../comments (an array), POST → {id}.
Result<IssueInfo> ParseGithubIssue(std::string_view body);
Result<CommentPage> ParseGithubComments(std::string_view body);

// GitLab: GET /projects/P/issues/N, GET .../notes (system notes skipped).
Result<IssueInfo> ParseGitlabIssue(std::string_view body);
Result<CommentPage> ParseGitlabNotes(std::string_view body);

// Jira (REST v2, Cloud and Server): GET /rest/api/2/issue/K, GET .../comment.
// Closed means statusCategory.key == "done".
Result<IssueInfo> ParseJiraIssue(std::string_view body);
Result<CommentPage> ParseJiraComments(std::string_view body);

// The "id" of a created object, number or string ({"id": 42} → "42").
Result<std::string> ParseCreatedId(std::string_view body);

// RFC 8288 Link header: the URL with rel="next", or "".
std::string ParseLinkNext(std::string_view link_header);

// Retry-After: delay-seconds or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT").
std::optional<WallTime> ParseRetryAfter(std::string_view value, WallTime now);
// X-RateLimit-Reset / RateLimit-Reset: epoch seconds.
std::optional<WallTime> ParseEpochSeconds(std::string_view value);
// A non-negative decimal integer, or nullopt.
std::optional<int64_t> ParseCount(std::string_view value);

}  // namespace stopgap::remedy::tracker::internal

// Which issue a reference names on the configured tracker (pure). An URL must
// be on the tracker's own host (github.com for api.github.com); a reference in
// another tracker's syntax is InvalidArgument naming both.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker::internal {

struct RepoIssue {
  std::string project;  // "owner/repo", "group/sub/repo"
  uint64_t number = 0;
};

Result<uint64_t> RedmineIssueOf(const TrackerConfig& config, const IssueRef& ref);
Result<RepoIssue> GithubIssueOf(const TrackerConfig& config, const IssueRef& ref);
Result<RepoIssue> GitlabIssueOf(const TrackerConfig& config, const IssueRef& ref);
Result<std::string> JiraIssueOf(const TrackerConfig& config, const IssueRef& ref);  // "OPS-1"

// The path part of an URL, without query and fragment ("/a/b").
std::string UrlPath(std::string_view url);
// Host of an URL, lower-cased, without port and credentials.
std::string UrlHost(std::string_view url);

}  // namespace stopgap::remedy::tracker::internal

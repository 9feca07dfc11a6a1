// Constructors of the four adapters (used by NewIssueTracker) and their pure
// reference → API path mappings (unit-tested without a network).
//
// Thread safety: constructors and pure functions only.
#pragma once

#include <memory>
#include <string>

#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker::internal {

std::unique_ptr<IssueTracker> NewRedmineTracker(TrackerConfig config, std::string token,
                                                const Clock& clock,
                                                std::unique_ptr<TrackerHttp> http);
std::unique_ptr<IssueTracker> NewGithubTracker(TrackerConfig config, std::string token,
                                               const Clock& clock,
                                               std::unique_ptr<TrackerHttp> http);
std::unique_ptr<IssueTracker> NewGitlabTracker(TrackerConfig config, std::string token,
                                               const Clock& clock,
                                               std::unique_ptr<TrackerHttp> http);
std::unique_ptr<IssueTracker> NewJiraTracker(TrackerConfig config, std::string token,
                                             const Clock& clock, std::unique_ptr<TrackerHttp> http);

// The API path of an issue ("/issues/7.json", "/repos/acme/infra/issues/1",
// "/projects/grp%2Frepo/issues/1", "/rest/api/2/issue/OPS-1"), relative to the
// tracker's API base; InvalidArgument when `ref` names another tracker.
Result<std::string> IssueApiPath(const TrackerConfig& config, const IssueRef& ref);

// Standard base64 (for Jira's basic auth).
std::string Base64(std::string_view in);

}  // namespace stopgap::remedy::tracker::internal

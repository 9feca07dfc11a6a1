// NewIssueTracker: reads the token and picks the adapter for tracker.kind.
#include "remedy/tracker/tracker.h"

#include "core/file.h"
#include "remedy/tracker/internal/adapters.h"

namespace stopgap::remedy::tracker {

Result<std::unique_ptr<IssueTracker>> NewIssueTrackerWithToken(const TrackerConfig& config,
                                                               std::string token,
                                                               const Clock& clock,
                                                               std::unique_ptr<TrackerHttp> http) {
  if (!config.url.starts_with("http://") && !config.url.starts_with("https://")) {
    return InvalidArgument("tracker.url '" + config.url + "' must be an http(s) URL");
  }
  if (http == nullptr) http = NewCurlTrackerHttp();
  std::unique_ptr<IssueTracker> t;
  if (config.kind == "redmine") {
    t = internal::NewRedmineTracker(config, std::move(token), clock, std::move(http));
  } else if (config.kind == "github") {
    t = internal::NewGithubTracker(config, std::move(token), clock, std::move(http));
  } else if (config.kind == "gitlab") {
    t = internal::NewGitlabTracker(config, std::move(token), clock, std::move(http));
  } else if (config.kind == "jira") {
    t = internal::NewJiraTracker(config, std::move(token), clock, std::move(http));
  } else {
    return InvalidArgument("tracker.kind '" + config.kind +
                           "' is not one of redmine, github, gitlab, jira");
  }
  return t;
}

Result<std::unique_ptr<IssueTracker>> NewIssueTracker(const TrackerConfig& config,
                                                      const Clock& clock,
                                                      std::unique_ptr<TrackerHttp> http) {
  if (config.token_file.empty()) {
    return InvalidArgument("tracker.token_file is required for a " + config.kind + " tracker");
  }
  auto raw = ReadSecretFile(config.token_file);
  if (!raw.ok()) return raw.status().WithContext("tracker.token_file");
  std::string token = std::move(*raw);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgument("tracker.token_file " + config.token_file +
                           " must hold one line: the token");
  }
  return NewIssueTrackerWithToken(config, std::move(token), clock, std::move(http));
}

}  // namespace stopgap::remedy::tracker

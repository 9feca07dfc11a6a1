// libFuzzer target for every parser of tracker answers: the first byte picks
// the parser (issue and comment JSON of Redmine, GitHub, GitLab, Jira; created
// ids; Link, Retry-After and rate-limit headers; issue references and their
// API paths), the rest is the input. Parsers must return errors, never crash.
// Thread safety: single-threaded fuzzer entry point.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "remedy/tracker/internal/adapters.h"
#include "remedy/tracker/internal/parse.h"

using namespace stopgap;
using namespace stopgap::remedy::tracker::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0] % 14;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const WallTime now(std::chrono::seconds(1795608000));
  switch (which) {
    case 0:
      (void)ParseRedmineIssue(in);
      break;
    case 1:
      (void)ParseRedmineJournals(in);
      break;
    case 2:
      (void)ParseGithubIssue(in);
      break;
    case 3:
      (void)ParseGithubComments(in);
      break;
    case 4:
      (void)ParseGitlabIssue(in);
      break;
    case 5:
      (void)ParseGitlabNotes(in);
      break;
    case 6:
      (void)ParseJiraIssue(in);
      break;
    case 7:
      (void)ParseJiraComments(in);
      break;
    case 8:
      (void)ParseCreatedId(in);
      break;
    case 9:
      (void)ParseLinkNext(in);
      break;
    case 10:
      (void)ParseRetryAfter(in, now);
      break;
    case 11:
      (void)ParseEpochSeconds(in);
      (void)ParseCount(in);
      break;
    default: {
      auto ref = remedy::ParseIssueRef(in);
      if (!ref.ok()) break;
      remedy::TrackerConfig c;
      c.url = which == 12 ? "https://api.github.com" : "https://gitlab.example.com";
      c.project = "acme/infra";
      for (const char* kind : {"redmine", "github", "gitlab", "jira"}) {
        c.kind = kind;
        (void)IssueApiPath(c, *ref);
      }
    }
  }
  return 0;
}

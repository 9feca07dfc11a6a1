// Issue references as written in a workaround's `issue:` field. Every
// workaround names one; a string that is none of these forms is refused:
//   GitHub/GitLab  "owner/repo#123" (GitLab groups may nest: "grp/sub/repo#1")
//   Jira           "OPS-123"
//   Redmine        "#123"
//   any tracker    "https://host/…" (http or https URL); the kind is guessed
//                  from the path (/issues/N on GitHub/Redmine, /-/issues/N on
//                  GitLab, /browse/KEY-N on Jira) and is kUrl when unknown.
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap::remedy {

enum class IssueRefKind { kRepo, kJira, kRedmine, kUrl };

struct IssueRef {
  IssueRefKind kind = IssueRefKind::kRedmine;
  std::string text;      // as written in the catalog
  std::string project;   // "owner/repo" (kRepo), "OPS" (kJira); empty otherwise
  uint64_t number = 0;   // 123 (kRepo, kRedmine, kJira); from the URL when it has one
  std::string url;       // kUrl only: the URL as written
  std::string url_host;  // kUrl only: "github.com", "redmine.example.org"

  // A name safe for metrics and file names: "acme-infra-123", "OPS-123",
  // "redmine-123", or "<host>-<number>" for URLs.
  std::string Slug() const;
  bool operator==(const IssueRef& o) const { return text == o.text; }
};

// Parses one reference; InvalidArgument with a message that shows the
// accepted forms otherwise.
Result<IssueRef> ParseIssueRef(std::string_view text);

}  // namespace stopgap::remedy

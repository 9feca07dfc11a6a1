// Issue verification for `stopgap check`: every workaround's issue must exist
// in the configured tracker. Unknown issues and references for another
// tracker are errors (rule "unknown-issue", "wrong-tracker"); a closed issue is
// a warning (rule "issue-closed": the workaround is retired and won't run).
//
//   std::vector<Violation> v;
//   Status st = VerifyCatalogIssues(catalog, SystemClock::Instance(), &v);  // unless --offline
//   if (!st.ok()) { print st; exit 1 }  // tracker unreachable: try --offline
//
// Thread safety: uses the tracker from the calling thread only.
#pragma once

#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker {

inline constexpr std::string_view kRuleUnknownIssue = "unknown-issue";
inline constexpr std::string_view kRuleWrongTracker = "wrong-tracker";
inline constexpr std::string_view kRuleIssueClosed = "issue-closed";

// Looks up each distinct issue once and appends a Violation (file, line,
// workaround, field "issue") per affected workaround. Returns Unavailable /
// ResourceExhausted / PermissionDenied when the tracker could not answer
// (nothing was verified for that issue; the message suggests --offline).
Status VerifyIssues(const Catalog& catalog, IssueTracker& tracker,
                    std::vector<Violation>* violations);

// Builds the tracker from catalog.tracker and runs VerifyIssues. A catalog
// without a `tracker:` section has nothing to verify (OK).
Status VerifyCatalogIssues(const Catalog& catalog, const Clock& clock,
                           std::vector<Violation>* violations);

}  // namespace stopgap::remedy::tracker

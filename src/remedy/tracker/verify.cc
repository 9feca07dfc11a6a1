// VerifyIssues: `stopgap check`'s look-up of every workaround's issue.
#include "remedy/tracker/verify.h"

#include <map>

namespace stopgap::remedy::tracker {

Status VerifyIssues(const Catalog& catalog, IssueTracker& tracker,
                    std::vector<Violation>* violations) {
  std::map<std::string, std::vector<const Workaround*>> by_issue;
  for (const auto& w : catalog.workarounds) by_issue[w.issue.text].push_back(&w);
  Status unreachable;
  for (const auto& [issue, ws] : by_issue) {
    std::string rule, message;
    Severity severity = Severity::kError;
    auto info = tracker.GetIssue(ws.front()->issue);
    if (!info.ok()) {
      if (info.status().code() != StatusCode::kInvalidArgument) {
        if (unreachable.ok()) {
          unreachable =
              Status(info.status().code(),
                     "could not verify issue " + issue + " in the " + std::string(tracker.kind()) +
                         " tracker (" + info.status().message() +
                         "); run `stopgap check --offline` to skip issue checks");
        }
        continue;
      }
      rule = kRuleWrongTracker;
      message = info.status().message();
    } else if (!info->exists) {
      rule = kRuleUnknownIssue;
      message = "issue " + issue + " does not exist in the " + std::string(tracker.kind()) +
                " tracker (" + catalog.tracker.value_or(TrackerConfig{}).url +
                "): no issue, no workaround";
    } else if (info->closed) {
      rule = kRuleIssueClosed;
      severity = Severity::kWarning;
      message = "issue " + issue + " is closed (" + info->state +
                "): the workaround is retired and will not run";
    } else {
      continue;
    }
    if (violations == nullptr) continue;
    for (const Workaround* w : ws) {
      Violation v;
      v.file = catalog.path;
      v.line = w->line;
      v.workaround_id = w->id;
      v.field = "issue";
      v.rule = rule;
      v.message = message;
      v.severity = severity;
      violations->push_back(std::move(v));
    }
  }
  return unreachable;
}

Status VerifyCatalogIssues(const Catalog& catalog, const Clock& clock,
                           std::vector<Violation>* violations) {
  if (!catalog.tracker) return Status::Ok();
  auto t = NewIssueTracker(*catalog.tracker, clock);
  if (!t.ok()) return t.status();
  return VerifyIssues(catalog, **t, violations);
}

}  // namespace stopgap::remedy::tracker

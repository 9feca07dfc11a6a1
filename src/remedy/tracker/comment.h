// What stopgap writes on an issue: the one summary comment per issue (edited
// in place), one-shot event comments (retirement, TTL and budget escalation)
// and the labels it wants. Pure functions of the counts; the text uses only
// plain lines, "* " bullets and bare URLs, which render the same in Markdown
// (GitHub, GitLab), Textile (Redmine) and Jira wiki markup.
//
//   IssueSummary s{.issue = "acme/infra#123", .workarounds = {...}};
//   std::string body = SummaryBody(s);
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace stopgap::remedy::tracker {

inline constexpr std::string_view kLabelWorkaround = "stopgap:workaround";
inline constexpr std::string_view kLabelUndiagnosed = "stopgap:undiagnosed";
inline constexpr std::string_view kLabelExpired = "stopgap:expired";

struct WorkaroundSummary {
  std::string id;
  std::string cause;  // "in-house", "vendor", "hardware"
  bool diagnosed = false;
  std::optional<CivilDay> expires;   // absent: no TTL (hardware)
  std::optional<int64_t> days_left;  // 0 on the expiry day, negative after
  std::string state;                 // "active", "expiring", "expired", "retired"
  int64_t runs_24h = 0;
  int64_t runs_7d = 0;
  int64_t runs_total = 0;
  int64_t failures_7d = 0;
  std::map<std::string, int64_t> refusals_7d;  // reason -> count
  std::optional<WallTime> last_run_at;
  std::string last_result;                // "succeeded", "failed", "refused", ...
  std::vector<std::string> bundle_links;  // newest first
  // The budget, for escalation text ("5 per 24h"); empty when none.
  std::string budget;
};

struct IssueSummary {
  std::string issue;  // IssueRef::text
  std::vector<WorkaroundSummary> workarounds;
  Duration update_interval{15 * 60 * 1000};
};

// The summary comment (without the tracker's marker line, which the adapter adds).
std::string SummaryBody(const IssueSummary& s);

// The line that makes a one-shot comment findable again: "stopgap:event:<key>".
std::string EventMarker(std::string_view key);
// Event keys: "retired:<id>", "expired:<id>:<YYYY-MM-DD>", "budget:<id>:<YYYY-MM-DD>",
// "still-firing:<id>:<execution>".
std::string RetiredEventKey(std::string_view workaround_id);
std::string ExpiredEventKey(std::string_view workaround_id, CivilDay expires);
std::string BudgetEventKey(std::string_view workaround_id, CivilDay day);
std::string StillFiringEventKey(std::string_view workaround_id, int64_t execution);
// "breaker:<id>:<trip time, ms since the epoch>".
std::string BreakerEventKey(std::string_view workaround_id, int64_t tripped_at_ms);

// "workaround X stopped: the issue is closed; it ran N times" (+ event marker).
std::string RetirementBody(const WorkaroundSummary& w, std::string_view issue);
// TTL reached: the workaround no longer runs (+ event marker).
std::string ExpiredBody(const WorkaroundSummary& w, std::string_view issue);
// max_runs budget hit on `day` (+ event marker).
std::string BudgetBody(const WorkaroundSummary& w, std::string_view issue, CivilDay day);
// The workaround's run `execution` failed and its alert still fires; it is
// not retried (no `repeat:`), so a person must look (+ event marker).
std::string StillFiringBody(const WorkaroundSummary& w, std::string_view issue, int64_t execution);
// The storm breaker latched on a refusal of `w` (`reason`): nothing runs
// until a person resets it (+ event marker).
std::string BreakerBody(const WorkaroundSummary& w, std::string_view issue, std::string_view reason,
                        int64_t tripped_at_ms);

struct LabelChange {
  std::vector<std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && remove.empty(); }
};
// The labels an issue should carry for its workarounds: stopgap:workaround
// (never removed), stopgap:undiagnosed while any non-retired workaround is
// undiagnosed, stopgap:expired while any is expired.
LabelChange WantedLabels(const IssueSummary& s);
// Only the part of `wanted` that changes `current` (the issue's labels).
LabelChange LabelDelta(const LabelChange& wanted, const std::vector<std::string>& current);

}  // namespace stopgap::remedy::tracker

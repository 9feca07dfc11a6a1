// JSON shapes of stopgap serve's HTTP API (see docs/serve.md): executions
// with steps and transitions, workarounds with state, per-issue counts, and
// the intake acknowledgement. One JSON library (nlohmann::json).
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>

#include "remedy/catalog.h"
#include "remedy/ledger.h"
#include "server/intake.h"

namespace stopgap::server {

nlohmann::json ExecutionJson(const remedy::ExecutionRecord& e, bool with_steps);
nlohmann::json StepJson(const remedy::StepRecord& s);
// `counts` may be null (never ran); a workaround whose issue is in
// `closed_issues` (the tracker sync's view) is "retired".
nlohmann::json WorkaroundJson(const remedy::Workaround& w, CivilDay today,
                              const remedy::WorkaroundCounts* counts,
                              const std::set<std::string>& closed_issues);
nlohmann::json IssueCountsJson(const remedy::IssueCounts& c);
// {"tripped", "reason", "tripped_at": time|null, "last_reset": null|{"by","comment","at"}}
nlohmann::json BreakerJson(const remedy::BreakerState& b);
nlohmann::json AlertJson(const remedy::AlertRecord& a);
// {"executions":[every id, matched or refused], "execution_details":[…], "refused":[…],
// "duplicates":[…], "resolved":[…],
//  "unmatched":[…], "rejected":[…], "alerts":N, "alert_ids":[ledger ids], "warnings":[…]}
nlohmann::json IntakeJson(const IntakeResult& r);
// {"error": message} + "\n"
std::string ErrorBody(std::string_view message);

}  // namespace stopgap::server

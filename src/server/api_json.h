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
#include "remedy/cost.h"
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
// `exec`: the execution the alert is recorded against (null: none or not
// found); it decides the disposition's kind for a matched alert.
nlohmann::json AlertJson(const remedy::AlertRecord& a, const remedy::ExecutionRecord* exec);
// Why an alert did or did not run: {"kind": "unmatched" | "duplicate" |
// "refused" | "awaiting-approval" | "ran" | "resolved" | "rejected" |
// "received", "execution_id", "duplicate_of", "reason", "group", "state"}.
nlohmann::json DispositionJson(const remedy::AlertRecord& a, const remedy::ExecutionRecord* exec);
// GET /api/v1/cost and `report --format json`: {"workarounds", "issues", "invest"}.
nlohmann::json CostJson(const remedy::CostReport& c);
// {"tripped", "reason", "tripped_at": time|null, "last_reset": null|{"by","comment","at"}}
nlohmann::json BreakerJson(const remedy::BreakerState& b);
// {"executions":[every id, matched or refused], "execution_details":[…], "refused":[…],
// "duplicates":[…], "resolved":[…],
//  "unmatched":[…], "rejected":[…], "alerts":N, "alert_ids":[ledger ids], "warnings":[…]}
nlohmann::json IntakeJson(const IntakeResult& r);
// {"error": message} + "\n"
std::string ErrorBody(std::string_view message);

}  // namespace stopgap::server

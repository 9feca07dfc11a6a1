// Ledger enums and the factory; the SQLite implementation is in sqlite_ledger.cc.
#include "remedy/ledger.h"

#include <algorithm>

namespace stopgap::remedy {
namespace {
constexpr std::string_view kStateNames[] = {
    "matched",   "refused",           "diagnosing", "acting",
    "verifying", "succeeded",         "failed",     "interrupted",
    "observed",  "awaiting-approval", "denied",     "approval-expired"};
constexpr std::string_view kOutcomeNames[] = {"ok",      "failed",      "timeout",   "error",
                                              "stopped", "unsupported", "would-run", "fenced"};
constexpr std::string_view kDecisionNames[] = {"approved", "denied", "expired"};
}  // namespace

std::string_view StepOutcomeName(StepOutcome o) { return kOutcomeNames[static_cast<int>(o)]; }

Result<StepOutcome> ParseStepOutcome(std::string_view s) {
  for (size_t i = 0; i < std::size(kOutcomeNames); ++i)
    if (kOutcomeNames[i] == s) return static_cast<StepOutcome>(i);
  return InvalidArgument("unknown step outcome '" + std::string(s) + "'");
}

std::string_view ExecutionStateName(ExecutionState s) { return kStateNames[static_cast<int>(s)]; }

Result<ExecutionState> ParseExecutionState(std::string_view s) {
  for (size_t i = 0; i < std::size(kStateNames); ++i)
    if (kStateNames[i] == s) return static_cast<ExecutionState>(i);
  return InvalidArgument("unknown execution state '" + std::string(s) + "'");
}

std::optional<Duration> ExecutionRecord::Degraded() const {
  if (!instance_start || !degraded_end) return std::nullopt;
  return std::max(Duration{0},
                  std::chrono::duration_cast<Duration>(*degraded_end - *instance_start));
}

GroupLimitsLedger* GroupLimitsOf(ExecutionLedger& ledger) {
  return dynamic_cast<GroupLimitsLedger*>(&ledger);
}
GroupLimitsLedger* GroupLimitsOf(LimitQueries& ledger) {
  return dynamic_cast<GroupLimitsLedger*>(&ledger);
}
GroupLimitsLedger* GroupLimitsOf(AlertLog& ledger) {
  return dynamic_cast<GroupLimitsLedger*>(&ledger);
}

bool IsTerminal(ExecutionState s) {
  return s == ExecutionState::kRefused || s == ExecutionState::kSucceeded ||
         s == ExecutionState::kFailed || s == ExecutionState::kInterrupted ||
         s == ExecutionState::kObserved || s == ExecutionState::kDenied ||
         s == ExecutionState::kApprovalExpired;
}

std::string_view ApprovalDecisionName(ApprovalDecision d) {
  return kDecisionNames[static_cast<int>(d)];
}

ApprovalLedger* AsApprovalLedger(ExecutionLedger& ledger) {
  return dynamic_cast<ApprovalLedger*>(&ledger);
}

BreakerLedger* AsBreakerLedger(ExecutionLedger& ledger) {
  return dynamic_cast<BreakerLedger*>(&ledger);
}

AdmissionLedger* AsAdmissionLedger(ExecutionLedger& ledger) {
  return dynamic_cast<AdmissionLedger*>(&ledger);
}

RerunLedger* AsRerunLedger(ExecutionLedger& ledger) { return dynamic_cast<RerunLedger*>(&ledger); }

ClusterLedger* AsClusterLedger(ExecutionLedger& ledger) {
  return dynamic_cast<ClusterLedger*>(&ledger);
}

std::string SqlStateList(StateSet set) {
  std::string out = "(";
  for (size_t i = 0; i < std::size(kStateNames); ++i) {
    const auto s = static_cast<ExecutionState>(i);
    const bool in = set == StateSet::kFinished ? IsTerminal(s)
                    : set == StateSet::kOpen
                        ? !IsTerminal(s)
                        : !IsTerminal(s) && s != ExecutionState::kAwaitingApproval;
    if (!in) continue;
    if (out.size() > 1) out += ',';
    out += '\'' + std::string(kStateNames[i]) + '\'';
  }
  return out + ")";
}

std::string_view StepPhaseName(StepPhase p) {
  switch (p) {
    case StepPhase::kDiagnostics:
      return "diagnostics";
    case StepPhase::kAction:
      return "action";
    case StepPhase::kVerify:
      return "verify";
  }
  return "?";
}

std::string_view AlertDispositionName(AlertDisposition d) {
  switch (d) {
    case AlertDisposition::kReceived:
      return "received";
    case AlertDisposition::kMatched:
      return "matched";
    case AlertDisposition::kUnmatched:
      return "unmatched";
    case AlertDisposition::kDuplicate:
      return "duplicate";
    case AlertDisposition::kResolved:
      return "resolved";
    case AlertDisposition::kRejected:
      return "rejected";
  }
  return "?";
}

Result<std::unique_ptr<ExecutionLedger>> OpenLedger(const LedgerConfig& config,
                                                    const Clock& clock) {
  if (config.kind == LedgerConfig::Kind::kPostgres) {
    return OpenPostgresLedger(config.url, clock, config.redact);
  }
  return OpenSqliteLedger(config.path, clock, config.redact);
}

Result<std::unique_ptr<ExecutionLedger>> OpenLedgerForReading(const LedgerConfig& config,
                                                              const Clock& clock) {
  if (config.kind == LedgerConfig::Kind::kPostgres) {
    return OpenPostgresLedger(config.url, clock, config.redact, {.for_reading = true});
  }
  return OpenSqliteLedgerForReading(config.path, clock);
}

}  // namespace stopgap::remedy

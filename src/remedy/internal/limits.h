// The admission checks, in order: expired, retired, unknown-issue,
// unsafe-label, circuit-breaker (the storm breaker's latch is tripped),
// concurrency, cooldown, budget (max_runs), circuit-breaker
// (policy.max_runs_per_hour across all workarounds). With limits.group_by,
// concurrency, cooldown and budget count the executions of the alert's group
// only (GroupLimitsLedger); the circuit breaker stays global. The first that fails is
// the refusal. Counts come from the ledger; the caller (the engine) holds its
// admission lock so the check and the insert that follows are atomic (with a
// shared ledger, the ledger's AdmissionLedger transaction and its lock).
//
// Thread safety: stateless; the ledger is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::internal {

struct LimitInputs {
  WallTime now{};
  CivilDay today{};
  const std::set<std::string>* closed = nullptr;   // closed issues (retired)
  const std::set<std::string>* unknown = nullptr;  // issues the tracker does not know
  Status label_status;                             // the result of substituting the alert's labels
  // Busy concurrency slots are not a refusal: the execution waits for one
  // (the engine's queue_when_busy with on_busy: queue).
  bool wait_when_busy = false;
  // Time since a ledger time (the engine's Elapsed: monotonic when it wrote
  // that time); unset: now - then on the wall clock.
  std::function<Duration(WallTime)> elapsed;
  // GroupOf(w.limits, alert labels): the group the limits count in.
  std::map<std::string, std::string> group;
  const BreakerState* breaker = nullptr;  // the latch; null: none
  // A rerun (resume: rerun) of an interrupted execution: the cooldown does
  // not refuse it (the last run is the very one it finishes); every other
  // check holds.
  bool rerun = false;
};

// nullopt: admitted. An error only when the ledger could not be read.
Result<std::optional<Refusal>> CheckLimits(const Catalog& catalog, const Workaround& w,
                                           const LimitInputs& in, LimitQueries& ledger);

// Human lines for a plan: "cooldown 10m (last run 3m ago)", ...
// `group`: as LimitInputs::group.
Result<std::vector<std::string>> DescribeLimits(const Catalog& catalog, const Workaround& w,
                                                const std::map<std::string, std::string>& group,
                                                WallTime now, LimitQueries& ledger);

// "host=db1,dc=x" (empty for no group): how refusals and plans name a group.
std::string GroupText(const std::map<std::string, std::string>& group);

}  // namespace stopgap::remedy::internal

// The admission checks, in order: expired, retired, unknown-issue,
// unsafe-label, concurrency, cooldown, budget (max_runs), circuit-breaker
// (policy.max_runs_per_hour across all workarounds). The first that fails is
// the refusal. Counts come from the ledger; the caller (the engine) holds its
// admission lock so the check and the insert that follows are atomic.
//
// Thread safety: stateless; the ledger is thread-safe.
#pragma once

#include <functional>
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
};

// nullopt: admitted. An error only when the ledger could not be read.
Result<std::optional<Refusal>> CheckLimits(const Catalog& catalog, const Workaround& w,
                                           const LimitInputs& in, LimitQueries& ledger);

// Human lines for a plan: "cooldown 10m (last run 3m ago)", ...
Result<std::vector<std::string>> DescribeLimits(const Catalog& catalog, const Workaround& w,
                                                WallTime now, LimitQueries& ledger);

}  // namespace stopgap::remedy::internal

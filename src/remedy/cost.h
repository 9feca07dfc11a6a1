// The cost of each bandaid, from the ledger's runs: per workaround and per
// issue the runs, the time spent acting, the total time degraded, the median
// time to resolve per firing instance and the same week by week (ISO weeks);
// "where to invest" ranks the undiagnosed workarounds by that cost.
// `stopgap report` and GET /api/v1/cost render the same CostReport.
//
//   Result<CostReport> c = LoadCost(*ledger, catalog, clock.Now());
//
// Time degraded: per firing instance (workaround, fingerprint, startsAt), from
// the alert's startsAt to the first of its runs' success or its resolve
// (ExecutionRecord::degraded_end); counted once however many attempts it took,
// in the week of its first run. Instances still open, and runs without an
// alert start (by hand), add runs and acting time but no degraded time.
//
// Thread safety: pure functions, except LoadCost (reads the ledger).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/ledger.h"

namespace stopgap::remedy {

struct WeekCost {
  std::string week;  // "2026-W49"
  int64_t runs = 0;
  double degraded_seconds = 0;
};

struct CostFigures {
  int64_t runs = 0;
  double acting_seconds = 0;
  double degraded_seconds = 0;
  std::optional<double> median_resolve_seconds;  // none: no closed instance
  std::vector<WeekCost> weekly;                  // oldest first, ending with now's week
};

struct WorkaroundCost {
  std::string id;
  std::string issue;
  bool diagnosed = false;
  std::string mode = "auto";
  CostFigures figures;
};

struct IssueCost {
  std::string issue;
  CostFigures figures;
};

struct CostReport {
  std::vector<WorkaroundCost> workarounds;  // catalog order
  std::vector<IssueCost> issues;            // by issue text
  // Undiagnosed workarounds by degraded time, then acting time, then runs
  // (descending), then id.
  std::vector<WorkaroundCost> invest;
};

inline constexpr int kCostWeeks = 8;

// ISO 8601 week of a UTC time: "2026-W49" (weeks start on Monday; week 1
// holds the year's first Thursday).
std::string IsoWeek(WallTime t);

// The median (mean of the middle two for an even count); none when empty.
std::optional<double> Median(std::vector<double> values);

// `runs`: ExecutionRecords of runs (refusals are ignored) with degraded_end
// and acting filled (GroupLimitsLedger::ListRunsSince). Workarounds are the
// catalog's; runs of workarounds no longer in it count for their issue only.
CostReport ComputeCost(const Catalog& catalog, const std::vector<ExecutionRecord>& runs,
                       WallTime now, int weeks = kCostWeeks);

// ComputeCost over every run the ledger keeps (its retention window); empty
// figures when the ledger has no GroupLimitsLedger role.
Result<CostReport> LoadCost(ExecutionLedger& ledger, const Catalog& catalog, WallTime now);

}  // namespace stopgap::remedy

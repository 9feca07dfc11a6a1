// Cost figures from the ledger's runs; see cost.h.
//
// Thread safety: pure functions, except LoadCost (the ledger is thread-safe).
#include "remedy/cost.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

namespace stopgap::remedy {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t DaysOf(WallTime t) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return s >= 0 ? s / kSecondsPerDay : -((-s + kSecondsPerDay - 1) / kSecondsPerDay);
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Accumulates one CostFigures.
struct Acc {
  int64_t runs = 0;
  double acting = 0;
  double degraded = 0;
  std::vector<double> resolves;
  std::map<std::string, WeekCost> weeks;  // by week text
};

void AddRun(Acc& a, const std::string& week, Duration acting) {
  ++a.runs;
  a.acting += Seconds(acting);
  auto it = a.weeks.find(week);
  if (it != a.weeks.end()) ++it->second.runs;
}

void AddInstance(Acc& a, const std::string& week, double degraded) {
  a.degraded += degraded;
  a.resolves.push_back(degraded);
  auto it = a.weeks.find(week);
  if (it != a.weeks.end()) it->second.degraded_seconds += degraded;
}

Acc NewAcc(const std::vector<std::string>& weeks) {
  Acc a;
  for (const std::string& w : weeks) a.weeks[w] = WeekCost{w, 0, 0};
  return a;
}

CostFigures Figures(const Acc& a, const std::vector<std::string>& weeks) {
  CostFigures f;
  f.runs = a.runs;
  f.acting_seconds = a.acting;
  f.degraded_seconds = a.degraded;
  f.median_resolve_seconds = Median(a.resolves);
  for (const std::string& w : weeks) f.weekly.push_back(a.weeks.at(w));
  return f;
}

}  // namespace

std::string IsoWeek(WallTime t) {
  const int64_t days = DaysOf(t);
  const int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday 0; 1970-01-01 was a Thursday
  const int64_t thursday = days - weekday + 3;
  const CivilDay th = CivilDayFromDays(thursday);
  const int64_t week = (thursday - DaysSinceEpoch({th.year, 1, 1})) / 7 + 1;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", th.year, static_cast<int>(week));
  return buf;
}

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

CostReport ComputeCost(const Catalog& catalog, const std::vector<ExecutionRecord>& runs,
                       WallTime now, int weeks) {
  std::vector<std::string> week_names;
  for (int i = std::max(1, weeks) - 1; i >= 0; --i) {
    week_names.push_back(IsoWeek(now - std::chrono::hours(24 * 7 * i)));
  }
  std::map<std::string, Acc> by_workaround;
  std::map<std::string, Acc> by_issue;
  auto wacc = [&](const std::string& id) -> Acc* {
    if (!catalog.Find(id)) return nullptr;
    auto it = by_workaround.find(id);
    if (it == by_workaround.end()) it = by_workaround.emplace(id, NewAcc(week_names)).first;
    return &it->second;
  };
  auto iacc = [&](const std::string& issue) -> Acc& {
    auto it = by_issue.find(issue);
    if (it == by_issue.end()) it = by_issue.emplace(issue, NewAcc(week_names)).first;
    return it->second;
  };

  // Firing instances: the first run's week, and the earliest end of any run.
  struct Instance {
    const ExecutionRecord* first = nullptr;
    std::optional<WallTime> end;
  };
  std::map<std::tuple<std::string, std::string, WallTime>, Instance> instances;
  for (const ExecutionRecord& r : runs) {
    if (r.state == ExecutionState::kRefused) continue;
    const std::string week = IsoWeek(r.created_at);
    if (Acc* a = wacc(r.workaround_id)) AddRun(*a, week, r.acting);
    AddRun(iacc(r.issue), week, r.acting);
    if (!r.instance_start) continue;
    Instance& in = instances[{r.workaround_id, r.fingerprint, *r.instance_start}];
    if (!in.first || r.id < in.first->id) in.first = &r;
    if (r.degraded_end && (!in.end || *r.degraded_end < *in.end)) in.end = r.degraded_end;
  }
  for (const auto& [key, in] : instances) {
    if (!in.end) continue;  // still degraded: not counted until it ends
    const double degraded =
        std::max(0.0, Seconds(std::chrono::duration_cast<Duration>(*in.end - std::get<2>(key))));
    const std::string week = IsoWeek(in.first->created_at);
    if (Acc* a = wacc(in.first->workaround_id)) AddInstance(*a, week, degraded);
    AddInstance(iacc(in.first->issue), week, degraded);
  }

  CostReport out;
  for (const Workaround& w : catalog.workarounds) {
    WorkaroundCost c;
    c.id = w.id;
    c.issue = w.issue.text;
    c.diagnosed = w.diagnosed;
    Acc* a = wacc(w.id);
    c.figures = Figures(*a, week_names);
    iacc(w.issue.text);  // every catalog issue is listed, ran or not
    out.workarounds.push_back(std::move(c));
  }
  for (const auto& [issue, a] : by_issue) out.issues.push_back({issue, Figures(a, week_names)});
  for (const WorkaroundCost& c : out.workarounds) {
    if (!c.diagnosed) out.invest.push_back(c);
  }
  std::stable_sort(out.invest.begin(), out.invest.end(),
                   [](const WorkaroundCost& a, const WorkaroundCost& b) {
                     const CostFigures& x = a.figures;
                     const CostFigures& y = b.figures;
                     return std::tie(y.degraded_seconds, y.acting_seconds, y.runs, a.id) <
                            std::tie(x.degraded_seconds, x.acting_seconds, x.runs, b.id);
                   });
  return out;
}

Result<CostReport> LoadCost(ExecutionLedger& ledger, const Catalog& catalog, WallTime now) {
  std::vector<ExecutionRecord> runs;
  if (GroupLimitsLedger* role = GroupLimitsOf(ledger)) {
    Result<std::vector<ExecutionRecord>> r = role->ListRunsSince(WallTime{}, 100000);
    if (!r.ok()) return r.status();
    runs = std::move(*r);
  }
  return ComputeCost(catalog, runs, now);
}

}  // namespace stopgap::remedy

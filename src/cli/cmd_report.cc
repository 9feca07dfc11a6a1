// `stopgap report -c FILE [--format table|json]`: per issue the runs in 24 h,
// 7 d and in total and the workarounds behind it; per workaround its state,
// days left, diagnosed or not, runs, refusals and last result; and the
// cost of each bandaid (remedy/cost.h: runs, time acting, time degraded,
// median time to resolve, week by week) and "where to invest": the
// undiagnosed workarounds ranked by that cost.
// Per workaround in (or once in) `mode: approve`: its approvals, denials,
// expiries and the success rate of its approved runs, the evidence for
// promoting it to auto.
// Opening the ledger marks executions whose process died as interrupted.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/catalog_arg.h"
#include "cli/command.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/cost.h"
#include "remedy/ledger.h"
#include "remedy/tracker/sync.h"
#include "server/api_json.h"

namespace stopgap::cli {
namespace {

using json = nlohmann::ordered_json;

struct ReportOpts {
  std::string catalog;
  std::string format = "table";
  std::string today;
};

struct IssueRow {
  std::string issue;
  int64_t runs_24h = 0, runs_7d = 0, runs_total = 0;
  std::set<std::string> workarounds;
};

struct WorkaroundRow {
  std::string id, issue, state;
  std::optional<int64_t> days_left;
  bool diagnosed = false;
  int64_t runs_total = 0, refusals_total = 0, runs_7d = 0;
  std::string last_result;  // empty: never ran
  std::string last_refusal_reason;
  std::string mode;
  std::optional<remedy::ApprovalCounts> approvals;
};

// "3h12m5s", whole seconds.
std::string SecondsText(double seconds) {
  return FormatDuration(std::chrono::seconds(static_cast<int64_t>(seconds + 0.5)));
}

void PrintCost(const std::string& name, const remedy::CostFigures& f) {
  std::string weeks;
  for (const remedy::WeekCost& w : f.weekly) {
    weeks +=
        (weeks.empty() ? "" : " ") + std::to_string(w.runs) + "/" + SecondsText(w.degraded_seconds);
  }
  std::printf("%-32s %6lld %10s %12s %12s  %s\n", name.c_str(), static_cast<long long>(f.runs),
              SecondsText(f.acting_seconds).c_str(), SecondsText(f.degraded_seconds).c_str(),
              f.median_resolve_seconds ? SecondsText(*f.median_resolve_seconds).c_str() : "-",
              weeks.c_str());
}

// Succeeded / (succeeded + failed) of approved runs that ended; null when none.
json SuccessRate(const remedy::ApprovalCounts& a) {
  const int64_t ended = a.succeeded + a.failed;
  if (ended == 0) return nullptr;
  return static_cast<double>(a.succeeded) / static_cast<double>(ended);
}

int ReportMain(const ReportOpts& o) {
  const Clock& clock = SystemClock::Instance();
  const WallTime now = clock.Now();
  CivilDay today = CivilDayOf(now);
  if (!o.today.empty()) {
    Result<CivilDay> d = ParseCivilDay(o.today);
    if (!d.ok()) {
      std::fprintf(stderr, "stopgap report: --today: %s\n", d.status().message().c_str());
      return kExitUsage;
    }
    today = *d;
  }
  if (o.format != "table" && o.format != "json") {
    std::fprintf(stderr, "stopgap report: --format must be table or json\n");
    return kExitUsage;
  }
  std::optional<remedy::Catalog> catalog = LoadCatalogOrExplain("report", o.catalog, today);
  if (!catalog) return kExitUsage;
  // An existing ledger is opened read-write (unfinished executions of dead
  // processes become interrupted); a missing one is not created.
  bool exists = catalog->ledger.kind == remedy::LedgerConfig::Kind::kSqlite &&
                ::access(catalog->ledger.path.c_str(), F_OK) == 0;
  Result<std::unique_ptr<remedy::ExecutionLedger>> ledger =
      exists ? remedy::OpenLedger(catalog->ledger, clock)
             : remedy::OpenLedgerForReading(catalog->ledger, clock);
  if (!ledger.ok()) {
    std::fprintf(stderr, "stopgap report: %s\n", ledger.status().ToString().c_str());
    return kExitFailed;
  }
  Result<std::vector<remedy::IssueCounts>> issue_counts = (*ledger)->CountByIssue(now);
  Result<std::vector<remedy::WorkaroundCounts>> wa_counts = (*ledger)->CountByWorkaround(now);
  if (!issue_counts.ok() || !wa_counts.ok()) {
    std::fprintf(
        stderr, "stopgap report: %s\n",
        (!issue_counts.ok() ? issue_counts.status() : wa_counts.status()).ToString().c_str());
    return kExitFailed;
  }

  // Issues: every issue in the catalog, plus any the ledger remembers.
  std::map<std::string, IssueRow> issues;
  for (const remedy::Workaround& w : catalog->workarounds) {
    IssueRow& r = issues[w.issue.text];
    r.issue = w.issue.text;
    r.workarounds.insert(w.id);
  }
  for (const remedy::IssueCounts& c : *issue_counts) {
    IssueRow& r = issues[c.issue];
    r.issue = c.issue;
    r.runs_24h = c.runs_24h;
    r.runs_7d = c.runs_7d;
    r.runs_total = c.runs_total;
    r.workarounds.insert(c.workarounds.begin(), c.workarounds.end());
  }
  std::map<std::string, remedy::ApprovalCounts> approvals;
  if (remedy::ApprovalLedger* al = remedy::AsApprovalLedger(**ledger)) {
    Result<std::vector<remedy::ApprovalCounts>> a = al->CountApprovals();
    if (!a.ok()) {
      std::fprintf(stderr, "stopgap report: %s\n", a.status().ToString().c_str());
      return kExitFailed;
    }
    for (remedy::ApprovalCounts& c : *a) approvals[c.workaround_id] = std::move(c);
  }
  std::map<std::string, const remedy::WorkaroundCounts*> by_id;
  for (const remedy::WorkaroundCounts& c : *wa_counts) by_id[c.workaround_id] = &c;
  // Issues the daemon's tracker sync last saw closed: their workarounds are
  // retired. No state file (no tracker, or serve never ran): none.
  std::set<std::string> closed;
  if (catalog->tracker) {
    auto known = remedy::tracker::ReadTrackerState(remedy::tracker::DefaultStateFile(*catalog));
    if (known.ok()) closed = known->Closed();
  }
  std::vector<WorkaroundRow> rows;
  for (const remedy::Workaround& w : catalog->workarounds) {
    WorkaroundRow r;
    r.id = w.id;
    r.issue = w.issue.text;
    r.state = std::string(remedy::WorkaroundStateName(remedy::StateOf(w, today, closed)));
    r.days_left = remedy::DaysLeft(w, today);
    r.diagnosed = w.diagnosed;
    r.mode = std::string(remedy::ModeName(w.mode));
    if (auto it = approvals.find(w.id); it != approvals.end()) r.approvals = it->second;
    if (!r.approvals && w.mode == remedy::Mode::kApprove) {
      r.approvals = remedy::ApprovalCounts{.workaround_id = w.id};
    }
    if (auto it = by_id.find(w.id); it != by_id.end()) {
      r.runs_total = it->second->runs_total;
      r.refusals_total = it->second->refusals_total;
      r.runs_7d = it->second->runs_7d;
      r.last_result = it->second->last_result;
      r.last_refusal_reason = it->second->last_refusal_reason;
    }
    rows.push_back(std::move(r));
  }
  // Where to invest: the undiagnosed workarounds by what they cost (time
  // degraded, then time acting; remedy/cost.h), not only by how often they ran.
  Result<remedy::CostReport> cost = remedy::LoadCost(**ledger, *catalog, now);
  if (!cost.ok()) {
    std::fprintf(stderr, "stopgap report: %s\n", cost.status().ToString().c_str());
    return kExitFailed;
  }
  std::map<std::string, const WorkaroundRow*> row_of;
  for (const WorkaroundRow& r : rows) row_of[r.id] = &r;
  std::vector<const WorkaroundRow*> ranking;
  for (const remedy::WorkaroundCost& c : cost->invest) ranking.push_back(row_of.at(c.id));

  if (o.format == "json") {
    json out;
    out["issues"] = json::array();
    for (const auto& [key, r] : issues) {
      out["issues"].push_back(
          {{"issue", r.issue},
           {"runs_24h", r.runs_24h},
           {"runs_7d", r.runs_7d},
           {"runs_total", r.runs_total},
           {"workarounds", std::vector<std::string>(r.workarounds.begin(), r.workarounds.end())}});
    }
    out["workarounds"] = json::array();
    for (const WorkaroundRow& r : rows) {
      out["workarounds"].push_back(
          {{"id", r.id},
           {"issue", r.issue},
           {"state", r.state},
           {"days_left", r.days_left ? json(*r.days_left) : json(nullptr)},
           {"diagnosed", r.diagnosed},
           {"runs_total", r.runs_total},
           {"refusals_total", r.refusals_total},
           {"last_result", r.last_result.empty() ? json(nullptr) : json(r.last_result)},
           {"mode", r.mode}});
      json& row = out["workarounds"].back();
      row["approvals"] = nullptr;
      if (r.approvals) {
        const remedy::ApprovalCounts& a = *r.approvals;
        row["approvals"] = {{"approved", a.approved},        {"denied", a.denied},
                            {"expired", a.expired},          {"pending", a.pending},
                            {"succeeded", a.succeeded},      {"failed", a.failed},
                            {"success_rate", SuccessRate(a)}};
      }
    }
    out["undiagnosed_ranking"] = json::array();
    for (const WorkaroundRow* r : ranking) {
      out["undiagnosed_ranking"].push_back(
          {{"id", r->id}, {"issue", r->issue}, {"runs_7d", r->runs_7d}});
    }
    out["cost"] = json(server::CostJson(*cost));
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }

  std::printf("ISSUES\n%-40s %8s %8s %8s  %s\n", "issue", "24h", "7d", "total", "workarounds");
  for (const auto& [key, r] : issues) {
    std::string ids;
    for (const std::string& id : r.workarounds) ids += (ids.empty() ? "" : ", ") + id;
    std::printf("%-40s %8lld %8lld %8lld  %s\n", r.issue.c_str(),
                static_cast<long long>(r.runs_24h), static_cast<long long>(r.runs_7d),
                static_cast<long long>(r.runs_total), ids.c_str());
  }
  std::printf("\nWORKAROUNDS\n%-32s %-22s %-9s %9s %-10s %6s %8s  %s\n", "id", "issue", "state",
              "days_left", "diagnosed", "runs", "refusals", "last_result");
  for (const WorkaroundRow& r : rows) {
    std::string last = r.last_result.empty() ? "-" : r.last_result;
    if (!r.last_refusal_reason.empty() && r.last_result == "refused") {
      last += " (" + r.last_refusal_reason + ")";
    }
    std::string days = r.days_left ? std::to_string(*r.days_left) : "-";
    std::printf("%-32s %-22s %-9s %9s %-10s %6lld %8lld  %s\n", r.id.c_str(), r.issue.c_str(),
                r.state.c_str(), days.c_str(), r.diagnosed ? "yes" : "no",
                static_cast<long long>(r.runs_total), static_cast<long long>(r.refusals_total),
                last.c_str());
  }
  std::printf(
      "\nCOST (the runs the ledger keeps; degraded: alert start to verify or resolve)\n"
      "%-32s %6s %10s %12s %12s  %s\n",
      "workaround", "runs", "acting", "degraded", "median", "runs/degraded per week");
  for (const remedy::WorkaroundCost& c : cost->workarounds) PrintCost(c.id, c.figures);
  for (const remedy::IssueCost& c : cost->issues) PrintCost("issue " + c.issue, c.figures);
  std::printf(
      "\nWHERE TO INVEST: undiagnosed, by time degraded, then time acting (root-cause work "
      "pays most first)\n");
  int rank = 0;
  for (const remedy::WorkaroundCost& c : cost->invest) {
    std::printf("%3d. %-32s %-22s degraded %-10s acting %-8s %lld run(s), %lld in 7 days\n", ++rank,
                c.id.c_str(), c.issue.c_str(), SecondsText(c.figures.degraded_seconds).c_str(),
                SecondsText(c.figures.acting_seconds).c_str(),
                static_cast<long long>(c.figures.runs),
                static_cast<long long>(row_of.at(c.id)->runs_7d));
  }
  if (ranking.empty()) std::printf("  (none: every workaround is diagnosed)\n");
  std::printf(
      "\nAPPROVE MODE (approved runs' success rate: the evidence to promote to auto)\n"
      "%-32s %-8s %8s %6s %7s %7s %12s\n",
      "id", "mode", "approved", "denied", "expired", "pending", "success_rate");
  bool any = false;
  for (const WorkaroundRow& r : rows) {
    if (!r.approvals) continue;
    any = true;
    const remedy::ApprovalCounts& a = *r.approvals;
    json rate = SuccessRate(a);
    std::string rate_text = rate.is_null()
                                ? "-"
                                : std::to_string(static_cast<int>(rate.get<double>() * 100 + 0.5)) +
                                      "% (" + std::to_string(a.succeeded) + "/" +
                                      std::to_string(a.succeeded + a.failed) + ")";
    std::printf("%-32s %-8s %8lld %6lld %7lld %7lld %12s\n", r.id.c_str(), r.mode.c_str(),
                static_cast<long long>(a.approved), static_cast<long long>(a.denied),
                static_cast<long long>(a.expired), static_cast<long long>(a.pending),
                rate_text.c_str());
  }
  if (!any) std::printf("  (none: no workaround asks for approval)\n");
  return kExitOk;
}

}  // namespace

CommandMain SetupReport(CLI::App& sub) {
  auto o = std::make_shared<ReportOpts>();
  sub.add_option("-c,--catalog", o->catalog, "Catalog file (YAML)")->required();
  sub.add_option("--format", o->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub.add_option("--today", o->today, "Compute TTL states as of this day (YYYY-MM-DD, UTC)");
  return [o] { return ReportMain(*o); };
}

}  // namespace stopgap::cli

// limits.group_by (cooldown, max_runs and concurrency per group of label
// values, the circuit breaker global) with the real SQLite ledger, the time
// degraded it records (success or resolve, whichever first) and the cost
// math: median, ISO weeks, one firing instance counted once, the ranking.
#include <sqlite3.h>

#include <map>

#include "gtest/gtest.h"
#include "remedy/catalog.h"
#include "remedy/cost.h"
#include "remedy/engine.h"
#include "remedy/internal/ledger_schema.h"
#include "remedy/ledger.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::MakeWorkaround;
using testing::TempDir;

const WallTime kNow = WallTime(std::chrono::hours(24 * 20600));  // Wed 2026-05-27, ISO week 22

class OkRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec&) override {
    ProcessResult r;
    r.exit_code = 0;
    return r;
  }
};

Alert DiskFull(const std::string& host, WallTime starts_at = {}) {
  Alert a;
  a.name = "DiskFull";
  a.labels = {{"alertname", "DiskFull"}, {"host", host}};
  a.fingerprint = ComputeFingerprint(a.labels);
  a.starts_at = starts_at;
  return a;
}

class GroupLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db", clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
  }
  std::unique_ptr<RemediationEngine> Engine(Workaround w, int max_runs_per_hour = 60) {
    auto c = std::make_shared<Catalog>();
    c->bundles = dir_.path() + "/bundles";
    c->workarounds = {std::move(w)};
    c->policy.max_runs_per_hour = max_runs_per_hour;
    return std::make_unique<RemediationEngine>(c, *ledger_, runner_, clock_);
  }
  std::string Run(RemediationEngine& e, const Alert& a) {
    Result<ExecutionOutcome> o = e.Execute("disk", a, "alertmanager");
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    if (!o.ok()) return "error";
    last_ = o->id;
    if (o->refusal) return "refused:" + std::string(RefusalReasonName(o->refusal->reason));
    return std::string(ExecutionStateName(o->state));
  }

  TempDir dir_;
  ManualClock clock_{kNow};
  OkRunner runner_;
  std::unique_ptr<ExecutionLedger> ledger_;
  ExecutionId last_ = 0;
};

TEST_F(GroupLimitsTest, WithoutGroupByOneHostsRunHoldsBackAnother) {
  Workaround w = MakeWorkaround("disk");
  w.limits.cooldown = 1min;
  auto engine = Engine(w);
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "succeeded");
  EXPECT_EQ(Run(*engine, DiskFull("db2")), "refused:cooldown");
}

TEST_F(GroupLimitsTest, CooldownCountsPerGroup) {
  Workaround w = MakeWorkaround("disk");
  w.limits.cooldown = 1min;
  w.limits.group_by = {"host"};
  auto engine = Engine(w);
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "succeeded");
  EXPECT_EQ(Run(*engine, DiskFull("db2")), "succeeded");
  clock_.Advance(10s);
  EXPECT_EQ(Run(*engine, DiskFull("db2")), "refused:cooldown");
  Result<ExecutionRecord> refused = ledger_->GetExecution(last_);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->group, (std::map<std::string, std::string>{{"host", "db2"}}));
  EXPECT_NE(refused->detail.find("for host=db2"), std::string::npos) << refused->detail;
  clock_.Advance(1min);
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "succeeded");
}

TEST_F(GroupLimitsTest, DryRunPlanCountsInTheAlertsGroup) {
  Workaround w = MakeWorkaround("disk");
  w.limits.cooldown = 1min;
  w.limits.group_by = {"host"};
  auto engine = Engine(w);
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "succeeded");
  Result<Plan> p = engine->PlanFor("disk", DiskFull("db2"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->refusal);
  EXPECT_EQ(p->limits[1], "cooldown 1m (last run: never)");
  EXPECT_EQ(p->limits.back(),
            "concurrency, cooldown and max_runs count per group of host (this alert: host=db2)");
  p = engine->PlanFor("disk", DiskFull("db1"));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->refusal);
  EXPECT_EQ(p->refusal->reason, RefusalReason::kCooldown);
}

TEST_F(GroupLimitsTest, MaxRunsCountsPerGroupButTheBreakerStaysGlobal) {
  Workaround w = MakeWorkaround("disk");
  w.limits.max_runs = Limits::MaxRuns{1, 1h};
  w.limits.group_by = {"host"};
  auto engine = Engine(w, /*max_runs_per_hour=*/3);
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "succeeded");
  EXPECT_EQ(Run(*engine, DiskFull("db1")), "refused:budget");
  EXPECT_EQ(Run(*engine, DiskFull("db2")), "succeeded");
  EXPECT_EQ(Run(*engine, DiskFull("db3")), "succeeded");
  EXPECT_EQ(Run(*engine, DiskFull("db4")), "refused:circuit-breaker");
}

TEST_F(GroupLimitsTest, ConcurrencyCountsPerGroup) {
  Workaround w = MakeWorkaround("disk");
  w.limits.concurrency = 1;
  w.limits.group_by = {"host"};
  auto engine = Engine(w);
  // Admitted, not run: in flight.
  Result<Admission> a = engine->Begin("disk", DiskFull("db1"), "alertmanager");
  ASSERT_TRUE(a.ok() && !a->refusal);
  Result<Admission> b = engine->Begin("disk", DiskFull("db2"), "alertmanager");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->refusal) << b->refusal->detail;
  Result<Admission> c = engine->Begin("disk", DiskFull("db1"), "alertmanager");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->refusal);
  EXPECT_EQ(c->refusal->reason, RefusalReason::kConcurrency);
}

TEST_F(GroupLimitsTest, DegradedEndsAtSuccessOrResolveWhicheverFirst) {
  Workaround w = MakeWorkaround("disk");
  w.limits.group_by = {"host"};
  auto engine = Engine(w);
  // Succeeds 90 s after the alert started: degraded 90 s; a later resolve
  // does not move it.
  EXPECT_EQ(Run(*engine, DiskFull("db1", kNow - 90s)), "succeeded");
  const ExecutionId first = last_;
  GroupLimitsLedger* role = GroupLimitsOf(*ledger_);
  ASSERT_NE(role, nullptr);
  ASSERT_TRUE(role->RecordResolve(DiskFull("db1").fingerprint, kNow + 5min).ok());
  Result<ExecutionRecord> e = ledger_->GetExecution(first);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Degraded());
  EXPECT_EQ(*e->Degraded(), Duration(90s));
  // Admitted but still open: no degraded time until its alert resolves.
  Result<Admission> open = engine->Begin("disk", DiskFull("db2", kNow - 60s), "alertmanager");
  ASSERT_TRUE(open.ok() && !open->refusal);
  e = ledger_->GetExecution(open->id);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->Degraded());
  Result<int64_t> n = role->RecordResolve(DiskFull("db2").fingerprint, kNow + 30s);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  e = ledger_->GetExecution(open->id);
  ASSERT_TRUE(e.ok() && e->Degraded());
  EXPECT_EQ(*e->Degraded(), Duration(90s));
}

// A ledger written by the previous version (schema 4) migrates: its rows
// read group {} and an execution that had succeeded ends its degraded time at
// its finish.
TEST(GroupLimitsMigration, Version4LedgerGainsGroupsAndDegradedEnd) {
  TempDir dir;
  const std::string path = dir.path() + "/ledger.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [db](const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql.substr(0, 80);
    sqlite3_free(err);
  };
  exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  for (int v = 1; v <= 4; ++v) {
    exec(internal::kLedgerMigrations[v - 1]);
    exec("INSERT INTO schema_version VALUES (" + std::to_string(v) + ", 0)");
  }
  const int64_t start = 1'000'000, end = 1'090'000;
  exec(
      "INSERT INTO executions(workaround_id, issue, source, state, created_at, updated_at, "
      "finished_at, instance_start) VALUES ('disk', '#1', 'alertmanager', 'succeeded', " +
      std::to_string(start + 1000) + ", " + std::to_string(end) + ", " + std::to_string(end) +
      ", " + std::to_string(start) + ")");
  sqlite3_close(db);

  ManualClock clock{kNow};
  auto ledger = OpenSqliteLedger(path, clock);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  Result<ExecutionRecord> e = (*ledger)->GetExecution(1);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->group.empty());
  ASSERT_TRUE(e->Degraded());
  EXPECT_EQ(*e->Degraded(), Duration(90s));
}

TEST(CostMath, MedianOfOddEvenAndNone) {
  EXPECT_FALSE(Median({}));
  EXPECT_EQ(*Median({5, 1, 3}), 3);
  EXPECT_EQ(*Median({4, 1, 3, 2}), 2.5);
}

TEST(CostMath, IsoWeeks) {
  auto at = [](int y, int m, int d) {
    return WallTime(std::chrono::hours(24 * DaysSinceEpoch({y, m, d})) + 12h);
  };
  EXPECT_EQ(IsoWeek(at(2026, 12, 7)), "2026-W50");   // a Monday
  EXPECT_EQ(IsoWeek(at(2026, 12, 6)), "2026-W49");   // the Sunday before
  EXPECT_EQ(IsoWeek(at(2021, 1, 3)), "2020-W53");    // belongs to the year before
  EXPECT_EQ(IsoWeek(at(2024, 12, 30)), "2025-W01");  // belongs to the year after
  EXPECT_EQ(IsoWeek(at(1970, 1, 1)), "1970-W01");
}

ExecutionRecord RunRecord(ExecutionId id, const std::string& workaround, const std::string& issue,
                          WallTime created, std::optional<WallTime> start,
                          std::optional<WallTime> end, Duration acting,
                          const std::string& fingerprint = "f") {
  ExecutionRecord r;
  r.id = id;
  r.workaround_id = workaround;
  r.issue = issue;
  r.state = ExecutionState::kSucceeded;
  r.created_at = created;
  r.instance_start = start;
  r.degraded_end = end;
  r.acting = acting;
  r.fingerprint = fingerprint;
  return r;
}

TEST(CostMath, FiguresPerWorkaroundIssueAndWeekWithTheInvestRanking) {
  Catalog c;
  c.workarounds = {MakeWorkaround("often-cheap", "acme/infra#1"),
                   MakeWorkaround("rare-costly", "acme/infra#2"),
                   MakeWorkaround("diagnosed", "acme/infra#2")};
  c.workarounds[2].diagnosed = true;
  const WallTime now = kNow + 24h;            // Thursday of week 22
  const WallTime last_week = kNow - 3 * 24h;  // Sunday of week 21
  std::vector<ExecutionRecord> runs = {
      // three quick runs: 60 s degraded each
      RunRecord(1, "often-cheap", "acme/infra#1", last_week, last_week - 60s, last_week, 2s, "a"),
      RunRecord(2, "often-cheap", "acme/infra#1", kNow, kNow - 60s, kNow, 2s, "b"),
      RunRecord(3, "often-cheap", "acme/infra#1", kNow + 1h, kNow + 1h - 60s, kNow + 1h, 2s, "c"),
      // one instance, two attempts: counted once, to the first end (1 h)
      RunRecord(4, "rare-costly", "acme/infra#2", kNow, kNow - 1h, kNow + 2h, 5s, "d"),
      RunRecord(5, "rare-costly", "acme/infra#2", kNow, kNow - 1h, kNow, 5s, "d"),
      // still open: a run, no degraded time
      RunRecord(6, "rare-costly", "acme/infra#2", kNow, kNow, std::nullopt, 5s, "e"),
      // by hand: no alert start
      RunRecord(7, "diagnosed", "acme/infra#2", kNow, std::nullopt, kNow, 1s, ""),
  };
  runs[4].attempt = 2;
  CostReport r = ComputeCost(c, runs, now, 2);
  ASSERT_EQ(r.workarounds.size(), 3u);
  const CostFigures& cheap = r.workarounds[0].figures;
  EXPECT_EQ(cheap.runs, 3);
  EXPECT_DOUBLE_EQ(cheap.acting_seconds, 6);
  EXPECT_DOUBLE_EQ(cheap.degraded_seconds, 180);
  EXPECT_EQ(*cheap.median_resolve_seconds, 60);
  ASSERT_EQ(cheap.weekly.size(), 2u);
  EXPECT_EQ(cheap.weekly[0].week, "2026-W21");
  EXPECT_EQ(cheap.weekly[0].runs, 1);
  EXPECT_DOUBLE_EQ(cheap.weekly[0].degraded_seconds, 60);
  EXPECT_EQ(cheap.weekly[1].week, "2026-W22");
  EXPECT_EQ(cheap.weekly[1].runs, 2);
  const CostFigures& costly = r.workarounds[1].figures;
  EXPECT_EQ(costly.runs, 3);
  EXPECT_DOUBLE_EQ(costly.acting_seconds, 15);
  EXPECT_DOUBLE_EQ(costly.degraded_seconds, 3600);
  EXPECT_EQ(*costly.median_resolve_seconds, 3600);
  EXPECT_FALSE(r.workarounds[2].figures.median_resolve_seconds);
  // Issues: #2 has both rare-costly and diagnosed.
  ASSERT_EQ(r.issues.size(), 2u);
  EXPECT_EQ(r.issues[1].issue, "acme/infra#2");
  EXPECT_EQ(r.issues[1].figures.runs, 4);
  EXPECT_DOUBLE_EQ(r.issues[1].figures.degraded_seconds, 3600);
  // Where to invest: by degraded time, not by runs; diagnosed ones left out.
  ASSERT_EQ(r.invest.size(), 2u);
  EXPECT_EQ(r.invest[0].id, "rare-costly");
  EXPECT_EQ(r.invest[1].id, "often-cheap");
}

}  // namespace
}  // namespace stopgap::remedy

// The ledger's role interfaces for operators in the loop, on both backends
// (a real SQLite file, a real PostgreSQL: pg_server.h): the approval
// decisions (one per execution, with who and why, durable across a reopen),
// the storm breaker's latch (trips once, survives a reopen, only a reset
// clears it), limits per group; SQLite's migrations 5 and 6 from a version-4
// ledger (old rows read mode auto); and on PostgreSQL, the same held by
// several nodes at once: one decision, one trip, admission within the limit.
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <iostream>
#include <thread>

#include "gtest/gtest.h"
#include "pg_server.h"
#include "remedy/internal/ledger_schema.h"
#include "remedy/ledger.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::AlertExecution;
using testing::TempDir;

const WallTime kT0 = WallTime(std::chrono::hours(24 * 20600));  // 2026-05-25

enum class Backend { kSqlite, kPostgres };

class ApprovalLedgerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/ledger.db";
    if (pg()) {
      url_ = testing::PgServer::Get().NewDatabase();
      ASSERT_FALSE(url_.empty()) << testing::PgServer::Get().error();
    }
  }
  bool pg() const { return GetParam() == Backend::kPostgres; }
  // Another node (PostgreSQL) or process (SQLite) on the same ledger.
  Result<std::unique_ptr<ExecutionLedger>> OpenAnother() {
    return pg() ? OpenPostgresLedger(url_, clock_) : OpenSqliteLedger(path_, clock_);
  }
  void Open() {
    ledger_.reset();
    Result<std::unique_ptr<ExecutionLedger>> l = OpenAnother();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    approvals_ = AsApprovalLedger(*ledger_);
    breaker_ = AsBreakerLedger(*ledger_);
    ASSERT_NE(approvals_, nullptr);
    ASSERT_NE(breaker_, nullptr);
  }
  // An execution of approve mode, diagnosed and waiting until kT0 + 15m.
  ExecutionId Awaiting(const std::string& w) {
    NewExecution e;
    e.workaround_id = w;
    e.issue = "acme/infra#1";
    e.source = "alertmanager";
    e.mode = "approve";
    e.at = clock_.Now();
    Result<ExecutionId> id = ledger_->CreateExecution(e);
    EXPECT_TRUE(id.ok());
    ExecutionUpdate u;
    u.state = ExecutionState::kAwaitingApproval;
    u.approval_deadline = clock_.Now() + 15min;
    u.at = clock_.Now();
    EXPECT_TRUE(ledger_->Update(*id, u).ok());
    return *id;
  }

  TempDir dir_;
  std::string path_;
  std::string url_;  // kPostgres: this test's database
  ManualClock clock_{kT0};
  std::unique_ptr<ExecutionLedger> ledger_;
  ApprovalLedger* approvals_ = nullptr;
  BreakerLedger* breaker_ = nullptr;
};

TEST_P(ApprovalLedgerTest, MigratesAVersion4Ledger) {
  if (pg()) GTEST_SKIP() << "PostgreSQL ledgers start at migration 3's schema";
  // A ledger as the previous release left it: migrations 1-4 and one run.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at "
                         "INTEGER NOT NULL)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  for (int v = 1; v <= 4; ++v) {
    ASSERT_EQ(sqlite3_exec(db, internal::kLedgerMigrations[v - 1], nullptr, nullptr, nullptr),
              SQLITE_OK)
        << v;
    std::string ins = "INSERT INTO schema_version VALUES (" + std::to_string(v) + ", 0)";
    ASSERT_EQ(sqlite3_exec(db, ins.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO executions(workaround_id, issue, source, state, created_at, "
                         "updated_at, finished_at) VALUES ('old', '#1', 'manual', 'succeeded', 1, "
                         "1, 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Open();
  Result<ExecutionRecord> old = ledger_->GetExecution(1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->mode, "auto");
  EXPECT_FALSE(old->approval);
  EXPECT_FALSE(old->approval_deadline);
  Result<BreakerState> b = breaker_->GetBreaker();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->tripped);
  EXPECT_FALSE(b->last_reset);

  ledger_.reset();
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), kLedgerSchemaVersion);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_P(ApprovalLedgerTest, DecisionsAreRecordedOnceWithWhoAndWhy) {
  Open();
  ExecutionId a = Awaiting("w");
  clock_.Advance(1min);
  ExecutionId b = Awaiting("w");
  // Pending, oldest first; a re-send of the same fingerprint finds it in flight.
  Result<std::vector<ExecutionRecord>> pending = approvals_->ListAwaitingApproval(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, a);
  EXPECT_EQ((*pending)[0].approval_deadline, kT0 + 15min);
  EXPECT_EQ((*pending)[0].mode, "approve");

  clock_.Advance(1min);
  Result<ExecutionRecord> r =
      approvals_->Decide(a, {ApprovalDecision::kApproved, "oncall", "looked at it", clock_.Now()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, ExecutionState::kActing);
  ASSERT_TRUE(r->approval);
  EXPECT_EQ(r->approval->by, "oncall");
  EXPECT_EQ(r->approval->comment, "looked at it");
  EXPECT_EQ(r->approval->at, clock_.Now());
  // Once only: a second decision is refused, whatever it is.
  EXPECT_EQ(
      approvals_->Decide(a, {ApprovalDecision::kDenied, "x", "", clock_.Now()}).status().code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      approvals_->Decide(999, {ApprovalDecision::kDenied, "x", "", clock_.Now()}).status().code(),
      StatusCode::kNotFound);

  r = approvals_->Decide(b, {ApprovalDecision::kDenied, "lead", "not now", clock_.Now()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kDenied);
  EXPECT_TRUE(r->finished_at);
  EXPECT_EQ(r->transitions.back().state, ExecutionState::kDenied);
  EXPECT_EQ(r->transitions.back().detail, "denied by lead: not now");

  // Survives a reopen; the approved one, owned by this live process, is not
  // marked interrupted.
  Open();
  Result<ExecutionRecord> again = ledger_->GetExecution(a);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ExecutionState::kActing);
  EXPECT_EQ(again->approval->decision, ApprovalDecision::kApproved);
  ExecutionUpdate done;
  done.state = ExecutionState::kSucceeded;
  done.at = clock_.Now();
  ASSERT_TRUE(ledger_->Update(a, done).ok());
  ExecutionId c = Awaiting("w");
  ASSERT_TRUE(
      approvals_->Decide(c, {ApprovalDecision::kExpired, "stopgap", "", clock_.Now()}).ok());

  Result<std::vector<ApprovalCounts>> counts = approvals_->CountApprovals();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].approved, 1);
  EXPECT_EQ((*counts)[0].denied, 1);
  EXPECT_EQ((*counts)[0].expired, 1);
  EXPECT_EQ((*counts)[0].succeeded, 1);
  EXPECT_EQ((*counts)[0].pending, 0);
}

TEST_P(ApprovalLedgerTest, AwaitingApprovalSurvivesAReopenAndCountsAsInFlightForItsAlert) {
  Open();
  NewExecution e;
  e.workaround_id = "w";
  e.issue = "#1";
  e.source = "alertmanager";
  e.fingerprint = "fp1";
  e.mode = "approve";
  e.at = clock_.Now();
  Result<ExecutionId> id = ledger_->CreateExecution(e);
  ASSERT_TRUE(id.ok());
  ExecutionUpdate u;
  u.state = ExecutionState::kAwaitingApproval;
  u.approval_deadline = clock_.Now() + 1h;
  u.at = clock_.Now();
  ASSERT_TRUE(ledger_->Update(*id, u).ok());
  Open();  // MarkUnfinishedInterrupted leaves it alone
  Result<ExecutionRecord> r = ledger_->GetExecution(*id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kAwaitingApproval);
  Result<std::optional<ExecutionId>> f = ledger_->FindInFlightByFingerprint("fp1");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, std::optional<ExecutionId>(*id));
}

TEST_P(ApprovalLedgerTest, BreakerLatchesUntilReset) {
  Open();
  Result<bool> t = breaker_->TripBreaker("budget: workaround w: 3 run(s)", kT0);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(*t);
  // A second trip while tripped changes nothing (the first reason stays).
  t = breaker_->TripBreaker("circuit-breaker: other", kT0 + 1min);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(*t);
  Open();  // survives a restart
  Result<BreakerState> b = breaker_->GetBreaker();
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tripped);
  EXPECT_EQ(b->reason, "budget: workaround w: 3 run(s)");
  EXPECT_EQ(b->tripped_at, kT0);
  b = breaker_->ResetBreaker({"ops-admin", "storm over", kT0 + 5min});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->tripped);
  ASSERT_TRUE(b->last_reset);
  EXPECT_EQ(b->last_reset->by, "ops-admin");
  EXPECT_EQ(b->last_reset->comment, "storm over");
  EXPECT_EQ(b->last_reset->at, kT0 + 5min);
  // A reset of an untripped breaker records nothing.
  b = breaker_->ResetBreaker({"someone", "again", kT0 + 6min});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->last_reset->by, "ops-admin");
  // It can trip again after a reset.
  t = breaker_->TripBreaker("again", kT0 + 7min);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(*t);
}

// limits.group_by: the counts narrow to one group; a resolve ends the
// degraded time of its fingerprint's open executions, a success its own.
TEST_P(ApprovalLedgerTest, GroupCountsAndDegradedTime) {
  Open();
  GroupLimitsLedger* groups = GroupLimitsOf(*ledger_);
  ASSERT_NE(groups, nullptr);
  auto create = [&](const std::string& host, const std::string& fp) {
    NewExecution e;
    e.workaround_id = "w";
    e.issue = "#1";
    e.source = "alertmanager";
    e.fingerprint = fp;
    e.group = {{"host", host}};
    e.instance_start = clock_.Now() - 1min;
    e.at = clock_.Now();
    Result<ExecutionId> id = ledger_->CreateExecution(e);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  };
  ExecutionId a = create("db1", "fa");
  clock_.Advance(1min);
  ExecutionId b = create("db1", "fb");
  create("db2", "fc");
  const std::map<std::string, std::string> db1{{"host", "db1"}}, db3{{"host", "db3"}};
  EXPECT_EQ(*groups->CountGroupRunsSince("w", db1, kT0 - 1h), 2);
  EXPECT_EQ(*groups->CountGroupRunsSince("w", db3, kT0 - 1h), 0);
  EXPECT_EQ(*groups->CountGroupInFlight("w", db1), 2);
  EXPECT_EQ(*groups->GroupLastRunAt("w", db1), std::optional<WallTime>(kT0 + 1min));
  EXPECT_EQ(*groups->GroupLastRunAt("w", db3), std::nullopt);
  EXPECT_EQ(*ledger_->CountRunsSince("w", kT0 - 1h), 3);

  clock_.Advance(1min);
  ExecutionUpdate ok;
  ok.state = ExecutionState::kSucceeded;
  ok.at = clock_.Now();
  ASSERT_TRUE(ledger_->Update(a, ok).ok());
  EXPECT_EQ(*groups->RecordResolve("fb", clock_.Now() + 1min), 1);
  EXPECT_EQ(*groups->RecordResolve("fa", clock_.Now() + 2min), 0);  // ended by its success
  Result<std::vector<ExecutionRecord>> runs = groups->ListRunsSince(kT0, 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].id, a);
  EXPECT_EQ((*runs)[0].group, db1);
  EXPECT_EQ((*runs)[0].Degraded(), std::optional<Duration>(3min));
  EXPECT_EQ((*runs)[1].id, b);
  EXPECT_EQ((*runs)[1].Degraded(), std::optional<Duration>(3min));
  EXPECT_FALSE((*runs)[2].degraded_end);
}

// Several nodes decide one execution at once (a person on node B, the
// expiry timer on A and C): exactly one decision is recorded.
TEST_P(ApprovalLedgerTest, ConcurrentDecisionsFromSeveralNodesRecordOne) {
  if (!pg()) GTEST_SKIP() << "one SQLite node decides under its own lock";
  Open();
  constexpr int kNodes = 3, kRounds = 10;
  std::vector<std::unique_ptr<ExecutionLedger>> nodes =
      testing::OpenNodes(kNodes, [&] { return OpenAnother(); });
  ASSERT_EQ(nodes.size(), size_t{kNodes});
  for (int round = 0; round < kRounds; ++round) {
    ExecutionId id = Awaiting("w");
    std::atomic<int> decided{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes; ++i) {
      threads.emplace_back([&, i] {
        ApprovalRecord d{i == 1 ? ApprovalDecision::kApproved : ApprovalDecision::kExpired,
                         "node" + std::to_string(i), "", clock_.Now()};
        Result<ExecutionRecord> r = AsApprovalLedger(*nodes[i])->Decide(id, d);
        if (r.ok()) {
          ++decided;
        } else if (r.status().code() == StatusCode::kFailedPrecondition) {
          ++refused;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(decided.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), kNodes - 1) << "round " << round;
    Result<ExecutionRecord> r = ledger_->GetExecution(id);
    ASSERT_TRUE(r.ok());
    int decisions = 0;
    for (const TransitionRecord& t : r->transitions) {
      decisions +=
          t.state == ExecutionState::kActing || t.state == ExecutionState::kApprovalExpired;
    }
    EXPECT_EQ(decisions, 1) << "round " << round;
  }
}

// Nodes tripping the latch at once: one trip, one reason.
TEST_P(ApprovalLedgerTest, ConcurrentTripsFromSeveralNodesAreOneTrip) {
  if (!pg()) GTEST_SKIP() << "one SQLite node trips under its own lock";
  Open();
  constexpr int kNodes = 3, kRounds = 10;
  std::vector<std::unique_ptr<ExecutionLedger>> nodes =
      testing::OpenNodes(kNodes, [&] { return OpenAnother(); });
  ASSERT_EQ(nodes.size(), size_t{kNodes});
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> tripped{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes; ++i) {
      threads.emplace_back([&, i] {
        Result<bool> t =
            AsBreakerLedger(*nodes[i])->TripBreaker("node" + std::to_string(i), clock_.Now());
        if (t.ok() && *t) ++tripped;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(tripped.load(), 1) << "round " << round;
    Result<BreakerState> b = breaker_->GetBreaker();
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->tripped);
    ASSERT_TRUE(breaker_->ResetBreaker({"ops", "round " + std::to_string(round), kT0}).ok());
  }
}

// Admission on a shared ledger: threads on three nodes admit against a
// budget of N at once; exactly N are admitted, the rest refused, every
// round. The decision reads the count inside the admission's transaction.
// For comparison (printed, not asserted: a race may or may not show), the
// same burst as a count and then an insert, as each node's own lock did.
TEST_P(ApprovalLedgerTest, AdmissionHoldsABudgetAcrossNodes) {
  if (!pg()) GTEST_SKIP() << "SQLite has no AdmissionLedger: the engine's lock admits";
  Open();
  constexpr int kNodes = 3, kThreadsPerNode = 4, kBudget = 5, kRounds = 5;
  std::vector<std::unique_ptr<ExecutionLedger>> nodes =
      testing::OpenNodes(kNodes, [&] { return OpenAnother(); });
  ASSERT_EQ(nodes.size(), size_t{kNodes});
  for (const auto& n : nodes) ASSERT_NE(AsAdmissionLedger(*n), nullptr);
  // One burst of kNodes * kThreadsPerNode * 2 admissions of `w`; how many
  // were admitted, refused, failed.
  auto burst = [&](const std::string& w, bool atomic) {
    std::atomic<int> admitted{0}, refused{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes * kThreadsPerNode; ++i) {
      threads.emplace_back([&, i] {
        for (int k = 0; k < 2; ++k) {
          bool refuse = false;
          auto decide = [&](LimitQueries& limits, BreakerLedger&) -> Result<NewExecution> {
            Result<int64_t> n = limits.CountRunsSince(w, kT0 - 1h);
            if (!n.ok()) return n.status();
            NewExecution e;
            e.workaround_id = w;
            e.issue = "#1";
            e.source = "alertmanager";
            e.fingerprint = w + "-" + std::to_string(i * 2 + k);
            e.at = clock_.Now();
            refuse = *n >= kBudget;
            if (refuse) {
              e.state = ExecutionState::kRefused;
              e.refusal_reason = "budget";
            }
            return e;
          };
          ExecutionLedger& node = *nodes[i % kNodes];
          Result<ExecutionId> id = Internal("not run");
          if (atomic) {
            id = AsAdmissionLedger(node)->Admit(decide);
          } else {
            Result<NewExecution> e = decide(node, *AsBreakerLedger(node));
            id = e.ok() ? node.CreateExecution(*e) : Result<ExecutionId>(e.status());
          }
          ++(!id.ok() ? failed : refuse ? refused : admitted);
        }
      });
    }
    for (auto& t : threads) t.join();
    return std::array<int, 3>{admitted.load(), refused.load(), failed.load()};
  };
  std::string figures;
  for (int round = 0; round < kRounds; ++round) {
    const std::string w = "w" + std::to_string(round);
    auto [admitted, refused, failed] = burst(w, true);
    EXPECT_EQ(admitted, kBudget) << "round " << round;
    EXPECT_EQ(refused, kNodes * kThreadsPerNode * 2 - kBudget) << "round " << round;
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(*ledger_->CountRunsSince(w, kT0 - 1h), kBudget);
    auto unlocked = burst("unlocked" + std::to_string(round), false);
    figures += " " + std::to_string(admitted) + "/" + std::to_string(unlocked[0]);
  }
  std::cout << "admitted of a budget of " << kBudget << " per round, in one transaction / "
            << "count-then-insert:" << figures << "\n";
}

// A node refused an alert whose firing window another node claimed first:
// that is a duplicate (kAlreadyExists), and its trip is rolled back with it.
TEST_P(ApprovalLedgerTest, ARefusalOfAClaimedWindowIsADuplicateAndTripsNothing) {
  if (!pg()) GTEST_SKIP() << "claims are the shared ledger's";
  Open();
  NewExecution e = AlertExecution(kT0, clock_.Now());
  ASSERT_TRUE(ledger_->CreateExecution(e).ok());
  Result<std::unique_ptr<ExecutionLedger>> other = OpenAnother();
  ASSERT_TRUE(other.ok());
  Result<ExecutionId> id = AsAdmissionLedger(**other)->Admit(
      [&](LimitQueries&, BreakerLedger& latch) -> Result<NewExecution> {
        Result<bool> t = latch.TripBreaker("budget: w", clock_.Now());
        if (!t.ok()) return t.status();
        NewExecution r = e;
        r.state = ExecutionState::kRefused;
        r.refusal_reason = "budget";
        return r;
      });
  EXPECT_EQ(id.status().code(), StatusCode::kAlreadyExists) << id.status().ToString();
  EXPECT_FALSE(breaker_->GetBreaker()->tripped);
  EXPECT_EQ(*ledger_->CountRunsSince("w", kT0 - 1h), 1);
  EXPECT_EQ(ledger_->CountByWorkaround(clock_.Now())->at(0).refusals_total, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApprovalLedgerTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           return i.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace stopgap::remedy

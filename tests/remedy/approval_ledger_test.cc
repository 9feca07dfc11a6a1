// The SQLite ledger's role interfaces for operators in the loop, on a real
// file: migrations 5 and 6 from a version-4 ledger (old rows read mode auto), the
// approval decisions (one per execution, with who and why, durable across a
// reopen), and the storm breaker's latch (trips once, survives a reopen, only
// a reset clears it).
#include <sqlite3.h>

#include "gtest/gtest.h"
#include "remedy/internal/ledger_schema.h"
#include "remedy/ledger.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

const WallTime kT0 = WallTime(std::chrono::hours(24 * 20600));  // 2026-05-25

class ApprovalLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() + "/ledger.db"; }
  void Open() {
    ledger_.reset();
    Result<std::unique_ptr<ExecutionLedger>> l = OpenSqliteLedger(path_, clock_);
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
  ManualClock clock_{kT0};
  std::unique_ptr<ExecutionLedger> ledger_;
  ApprovalLedger* approvals_ = nullptr;
  BreakerLedger* breaker_ = nullptr;
};

TEST_F(ApprovalLedgerTest, MigratesAVersion4Ledger) {
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

TEST_F(ApprovalLedgerTest, DecisionsAreRecordedOnceWithWhoAndWhy) {
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

TEST_F(ApprovalLedgerTest, AwaitingApprovalSurvivesAReopenAndCountsAsInFlightForItsAlert) {
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

TEST_F(ApprovalLedgerTest, BreakerLatchesUntilReset) {
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

}  // namespace
}  // namespace stopgap::remedy

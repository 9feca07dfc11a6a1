// The ledger's conformance suite, run against both backends: SqliteLedger on
// a real SQLite file and PgLedger on a real PostgreSQL (pg_server.h): round
// trips, interrupted marking across processes, totals through pruning,
// alerts, outbox; plus each backend's own (file modes; claims and leases).
#include "remedy/ledger.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"
#include "pg_server.h"
#include "remedy/internal/ledger_schema.h"
#include "remedy/internal/pg_db.h"
#include "remedy/internal/pg_roles.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::AlertExecution;
using testing::TempDir;

const WallTime kT0 = WallTime(std::chrono::hours(24 * 20600));  // 2026-05-25

enum class Backend { kSqlite, kPostgres };

class LedgerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/sub/ledger.db";
    if (pg()) {
      url_ = testing::PgServer::Get().NewDatabase();
      ASSERT_FALSE(url_.empty()) << testing::PgServer::Get().error();
    }
    Open();
  }
  bool pg() const { return GetParam() == Backend::kPostgres; }
  Result<std::unique_ptr<ExecutionLedger>> OpenAnother() {
    return pg() ? OpenPostgresLedger(url_, clock_) : OpenSqliteLedger(path_, clock_);
  }
  void Open() {
    ledger_.reset();
    Result<std::unique_ptr<ExecutionLedger>> l = OpenAnother();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
  }
  ExecutionId Create(const std::string& w, ExecutionState st = ExecutionState::kMatched,
                     std::string issue = "acme/infra#1", std::string fp = "") {
    NewExecution e;
    e.workaround_id = w;
    e.issue = issue;
    e.source = "manual";
    e.state = st;
    e.fingerprint = fp;
    if (st == ExecutionState::kRefused) e.refusal_reason = "cooldown";
    e.at = clock_.Now();
    Result<ExecutionId> id = ledger_->CreateExecution(e);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  void Finish(ExecutionId id, ExecutionState st = ExecutionState::kSucceeded) {
    ExecutionUpdate u;
    u.state = st;
    u.at = clock_.Now();
    ASSERT_TRUE(ledger_->Update(id, u).ok());
  }

  TempDir dir_;
  std::string path_;
  std::string url_;  // kPostgres: this test's database
  ManualClock clock_{kT0};
  std::unique_ptr<ExecutionLedger> ledger_;
};

TEST_P(LedgerTest, FilesAre0600AndSchemaVersioned) {
  if (pg()) GTEST_SKIP() << "SQLite's files";
  Create("w");
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((path_ + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_.path() + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ledger_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), kLedgerSchemaVersion);
  sqlite3_finalize(s);
  sqlite3_stmt* j = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &j, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(j), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(j, 0)), "wal");
  sqlite3_finalize(j);
  // A newer schema is refused, not mangled.
  ASSERT_EQ(
      sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<ExecutionLedger>> l = OpenSqliteLedger(path_, clock_);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(LedgerTest, ReopenKeepsData) {
  ExecutionId id = Create("w");
  Finish(id);
  Open();
  Result<ExecutionRecord> r = ledger_->GetExecution(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kSucceeded);
}

TEST_P(LedgerTest, RoundTripWithStepsAndTransitions) {
  NewExecution e;
  e.workaround_id = "nova";
  e.issue = "OPS-1";
  e.fingerprint = "abc";
  e.source = "alertmanager";
  e.labels = {{"service", "nova"}, {"odd", "quote\"\n\xff"}};
  e.at = clock_.Now();
  Result<ExecutionId> id = ledger_->CreateExecution(e);
  ASSERT_TRUE(id.ok());
  clock_.Advance(1s);
  ExecutionUpdate u;
  u.passed = {{ExecutionState::kDiagnosing, clock_.Now(), ""}};
  clock_.Advance(2s);
  u.state = ExecutionState::kActing;
  u.bundle_dir = "/b/1";
  u.at = clock_.Now();
  StepRecord s;
  s.phase = StepPhase::kDiagnostics;
  s.index = 0;
  s.kind = "run";
  s.argv = {"ss", "-tan"};
  s.outcome = StepOutcome::kFailed;
  s.exit_code = 3;
  s.truncated = true;
  s.started_at = kT0 + 1s;
  s.finished_at = kT0 + 2s;
  s.duration = 1000ms;
  s.files = {"diagnostics-00.stdout"};
  u.steps = {s};
  ASSERT_TRUE(ledger_->Update(*id, u).ok());
  Result<ExecutionRecord> r = ledger_->GetExecution(*id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->workaround_id, "nova");
  EXPECT_EQ(r->issue, "OPS-1");
  EXPECT_EQ(r->labels.at("service"), "nova");
  EXPECT_EQ(r->state, ExecutionState::kActing);
  EXPECT_EQ(r->bundle_dir, "/b/1");
  EXPECT_FALSE(r->finished_at.has_value());
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(r->steps[0].argv, s.argv);
  EXPECT_EQ(r->steps[0].exit_code, 3);
  EXPECT_TRUE(r->steps[0].truncated);
  EXPECT_EQ(r->steps[0].files, s.files);
  EXPECT_EQ(r->steps[0].started_at, s.started_at);
  ASSERT_EQ(r->transitions.size(), 3u);
  EXPECT_EQ(r->transitions[0].state, ExecutionState::kMatched);
  EXPECT_EQ(r->transitions[1].state, ExecutionState::kDiagnosing);
  EXPECT_EQ(r->transitions[1].at, kT0 + 1s);
  EXPECT_EQ(r->transitions[2].state, ExecutionState::kActing);
  EXPECT_EQ(r->transitions[2].at, kT0 + 3s);
  Finish(*id, ExecutionState::kFailed);
  r = ledger_->GetExecution(*id);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->finished_at.has_value());
  // Terminal is final.
  ExecutionUpdate again;
  again.state = ExecutionState::kSucceeded;
  EXPECT_EQ(ledger_->Update(*id, again).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->GetExecution(9999).status().code(), StatusCode::kNotFound);
}

TEST_P(LedgerTest, UnfinishedOfADeadProcessBecomesInterrupted) {
  ledger_.reset();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A separate process opens the ledger, starts an execution, and dies.
    Result<std::unique_ptr<ExecutionLedger>> l = OpenAnother();
    if (!l.ok()) ::_exit(3);
    NewExecution e;
    e.workaround_id = "w";
    e.issue = "#1";
    e.source = "manual";
    e.at = clock_.Now();
    Result<ExecutionId> id = (*l)->CreateExecution(e);
    if (!id.ok()) ::_exit(4);
    ExecutionUpdate u;
    u.state = ExecutionState::kActing;
    u.at = clock_.Now();
    if (!(*l)->Update(*id, u).ok()) ::_exit(5);
    ::_exit(0);  // no cleanup: as if killed mid-action
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  if (pg()) {
    // Another node: the dead one's lease has not lapsed yet.
    Open();
    ASSERT_EQ(ledger_->ListExecutions({})->at(0).state, ExecutionState::kActing);
    clock_.Advance(31s);  // past PgLedgerOptions::lease
  }
  Open();  // runs MarkUnfinishedInterrupted
  Result<std::vector<ExecutionRecord>> list = ledger_->ListExecutions({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, ExecutionState::kInterrupted);
  EXPECT_TRUE((*list)[0].finished_at.has_value());
  Result<ExecutionRecord> r = ledger_->GetExecution((*list)[0].id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->transitions.back().state, ExecutionState::kInterrupted);
}

TEST_P(LedgerTest, UnfinishedOfALiveProcessIsLeftAlone) {
  ExecutionId id = Create("w");  // owned by this (live) process
  Open();
  Result<ExecutionRecord> r = ledger_->GetExecution(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kMatched);
  Result<int64_t> n = ledger_->MarkUnfinishedInterrupted(clock_.Now());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST(LedgerStates, SqlListsComeFromTheEnum) {
  EXPECT_EQ(SqlStateList(StateSet::kRunning), "('matched','diagnosing','acting','verifying')");
  EXPECT_EQ(SqlStateList(StateSet::kOpen),
            "('matched','diagnosing','acting','verifying','awaiting-approval')");
  EXPECT_EQ(
      SqlStateList(StateSet::kFinished),
      "('refused','succeeded','failed','interrupted','observed','denied','approval-expired')");
}

TEST_P(LedgerTest, LimitQueries) {
  ExecutionId a = Create("w");
  clock_.Advance(10min);
  Create("w", ExecutionState::kRefused);  // refusals are not runs
  Create("other");
  Result<int64_t> n = ledger_->CountRunsSince("w", kT0 - 1ms);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(*ledger_->CountRunsSince("", kT0 - 1ms), 2);
  EXPECT_EQ(*ledger_->CountRunsSince("w", kT0), 0);  // strictly after
  EXPECT_EQ(*ledger_->CountInFlight("w"), 1);
  Result<std::optional<WallTime>> last = ledger_->LastRunAt("w");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(**last, kT0);
  clock_.Advance(1min);
  Finish(a);
  EXPECT_EQ(*ledger_->CountInFlight("w"), 0);
  EXPECT_EQ(**ledger_->LastRunAt("w"), kT0 + 11min);  // finish time counts
  EXPECT_FALSE(ledger_->LastRunAt("nobody")->has_value());
}

// Intake's look-up and the limit checks run for every alert, so their cost must
// not grow with refusals: under a refusal storm (a workaround in cooldown,
// 1,000 alerts/s) the breaker's hourly count walked every refused row of the
// hour and the in-flight look-up every row of the fingerprint (found by the
// one-hour soak). SQLite counts the virtual-machine steps of a statement;
// walking 3,000 refusals takes more than 3,000.
TEST_P(LedgerTest, LimitCountsDoNotWalkRefusals) {
  if (pg()) GTEST_SKIP() << "SQLite's statement counters; PostgreSQL has the same indexes";
  for (int i = 0; i < 3; ++i) Create("w");  // matched: runs in flight
  for (int i = 0; i < 3000; ++i) Create("w", ExecutionState::kRefused, "acme/infra#1", "fp");
  ledger_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const int64_t since =
      std::chrono::duration_cast<std::chrono::milliseconds>((kT0 - 1h).time_since_epoch()).count();
  // Runs the statement with text arguments and then `since`; its first
  // column (or -1 without a row) and its VM steps.
  auto run = [&](const std::string& sql, const std::vector<std::string>& text, bool with_since) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    int i = 1;
    for (const std::string& t : text) sqlite3_bind_text(s, i++, t.c_str(), -1, SQLITE_TRANSIENT);
    if (with_since) sqlite3_bind_int64(s, i, since);
    const int64_t value = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    const int steps = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 0);
    sqlite3_finalize(s);
    return std::pair<int64_t, int>(value, steps);
  };
  for (auto [sql, text] :
       {std::pair<std::string, std::vector<std::string>>{internal::kSqlCountRunsAll, {}},
        {internal::kSqlCountRuns, {"w"}},
        {internal::kSqlCountGroupRuns, {"w", "{}"}}}) {
    auto [value, steps] = run(sql, text, true);
    EXPECT_EQ(value, 3) << sql;
    EXPECT_LT(steps, 200) << sql;
  }
  auto [open, steps] = run(internal::SqlInFlightByFingerprint(), {"fp"}, false);
  EXPECT_EQ(open, -1);  // only refusals: none open
  EXPECT_LT(steps, 200) << internal::SqlInFlightByFingerprint();
  sqlite3_close(db);
}

// SQLite uses a partial index only when the query holds the index's WHERE
// word for word: the in-flight index's list is the open states' list.
TEST(LedgerStates, InFlightIndexListsTheOpenStates) {
  const std::string where = "WHERE state IN " + SqlStateList(StateSet::kOpen);
  const std::string m8 = internal::kLedgerMigrations[7];
  EXPECT_NE(m8.find("executions(fingerprint, id)\n  " + where), std::string::npos) << m8;
  EXPECT_NE(internal::SqlInFlightByFingerprint().find(where.substr(6)), std::string::npos);
}

TEST_P(LedgerTest, CountsAndTotalsSurvivePruning) {
  Finish(Create("a", ExecutionState::kMatched, "acme/infra#1"));
  clock_.Advance(48h);
  Finish(Create("b", ExecutionState::kMatched, "acme/infra#1"), ExecutionState::kFailed);
  Create("b", ExecutionState::kRefused, "acme/infra#1");
  Finish(Create("c", ExecutionState::kMatched, "OPS-2"));
  Result<std::vector<IssueCounts>> issues = ledger_->CountByIssue(clock_.Now());
  ASSERT_TRUE(issues.ok());
  ASSERT_EQ(issues->size(), 2u);
  const IssueCounts& i1 = (*issues)[1].issue == "acme/infra#1" ? (*issues)[1] : (*issues)[0];
  EXPECT_EQ(i1.runs_total, 2);
  EXPECT_EQ(i1.runs_24h, 1);
  EXPECT_EQ(i1.runs_7d, 2);
  EXPECT_EQ(i1.refusals_total, 1);
  EXPECT_EQ(i1.workarounds, (std::vector<std::string>{"a", "b"}));
  Result<std::vector<WorkaroundCounts>> ws = ledger_->CountByWorkaround(clock_.Now());
  ASSERT_TRUE(ws.ok());
  ASSERT_EQ(ws->size(), 3u);
  EXPECT_EQ((*ws)[1].workaround_id, "b");
  EXPECT_EQ((*ws)[1].runs_total, 1);
  EXPECT_EQ((*ws)[1].refusals_total, 1);
  EXPECT_EQ((*ws)[1].last_result, "refused");
  EXPECT_EQ((*ws)[1].last_refusal_reason, "cooldown");

  // Prune everything older than 24h: "a" goes, its totals stay.
  Result<PruneResult> p = ledger_->Prune(clock_.Now() - 24h);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->executions, 1);
  issues = ledger_->CountByIssue(clock_.Now());
  ASSERT_TRUE(issues.ok());
  const IssueCounts& j1 = (*issues)[1].issue == "acme/infra#1" ? (*issues)[1] : (*issues)[0];
  EXPECT_EQ(j1.runs_total, 2);
  EXPECT_EQ(j1.runs_7d, 1);
  ws = ledger_->CountByWorkaround(clock_.Now());
  EXPECT_EQ((*ws)[0].workaround_id, "a");
  EXPECT_EQ((*ws)[0].runs_total, 1);
  EXPECT_EQ((*ws)[0].last_result, "");
}

TEST_P(LedgerTest, PruneKeepsUnfinished) {
  Create("w");
  clock_.Advance(1000h);
  Result<PruneResult> p = ledger_->Prune(clock_.Now());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->executions, 0);
}

TEST_P(LedgerTest, ListPaging) {
  for (int i = 0; i < 5; ++i) Create(i % 2 ? "odd" : "even");
  ExecutionFilter f;
  f.limit = 2;
  Result<std::vector<ExecutionRecord>> page = ledger_->ListExecutions(f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, 5);
  f.before_id = (*page)[1].id;
  page = ledger_->ListExecutions(f);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, 3);
  ExecutionFilter odd;
  odd.workaround_id = "odd";
  EXPECT_EQ(ledger_->ListExecutions(odd)->size(), 2u);
}

TEST_P(LedgerTest, Alerts) {
  Alert a;
  a.name = "NovaRPC";
  a.labels = {{"alertname", "NovaRPC"}, {"host", "h1"}};
  a.annotations = {{"summary", "rpc timeouts"}};
  a.fingerprint = "fp1";
  a.source = "alertmanager";
  Result<AlertId> aid = ledger_->RecordAlert(a, clock_.Now());
  ASSERT_TRUE(aid.ok()) << aid.status().ToString();
  ExecutionId e = Create("w", ExecutionState::kMatched, "#1", "fp1");
  ASSERT_TRUE(ledger_->SetAlertDisposition(*aid, AlertDisposition::kMatched, e).ok());
  Result<std::optional<ExecutionId>> inflight = ledger_->FindInFlightByFingerprint("fp1");
  ASSERT_TRUE(inflight.ok());
  EXPECT_EQ(*inflight, e);
  Result<AlertId> dup = ledger_->RecordAlert(a, clock_.Now(), AlertDisposition::kDuplicate, {}, e);
  ASSERT_TRUE(dup.ok());
  Finish(e);
  EXPECT_FALSE(ledger_->FindInFlightByFingerprint("fp1")->has_value());
  Result<std::optional<ExecutionRecord>> last = ledger_->LastExecutionFor("w", "fp1");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->id, e);
  EXPECT_FALSE(ledger_->LastExecutionFor("w", "other")->has_value());
  Result<std::vector<AlertRecord>> alerts = ledger_->ListAlerts(10);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 2u);
  EXPECT_EQ((*alerts)[0].disposition, AlertDisposition::kDuplicate);
  EXPECT_EQ((*alerts)[0].execution_id, e);
  EXPECT_EQ((*alerts)[1].disposition, AlertDisposition::kMatched);
  EXPECT_NE((*alerts)[1].labels_json.find("\"host\":\"h1\""), std::string::npos);
  // The annotations come back for the execution page's "triggering alert".
  EXPECT_NE((*alerts)[1].annotations_json.find("\"summary\":\"rpc timeouts\""), std::string::npos);
  EXPECT_EQ(ledger_->SetAlertDisposition(999, AlertDisposition::kRejected, {}).code(),
            StatusCode::kNotFound);
}

// Group commit (serve --ack fsync): the intake's alert writes wait in one
// open transaction for the next Sync(); any other ledger call commits them
// first, and so does closing the ledger.
TEST_P(LedgerTest, GroupCommitHoldsAlertWritesUntilTheSync) {
  if (pg()) GTEST_SKIP() << "PostgreSQL commits each write";
  auto committed = [&] {  // alerts another connection sees
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts", -1, &s, nullptr), SQLITE_OK);
    const int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  };
  Alert a;
  a.name = "NovaRPC";
  a.labels = {{"alertname", "NovaRPC"}};
  a.fingerprint = "fp1";
  a.source = "alertmanager";
  a.status = AlertStatus::kResolved;
  ledger_->EnableGroupCommit();
  ASSERT_TRUE(ledger_->RecordAlert(a, clock_.Now(), AlertDisposition::kResolved).ok());
  Result<AlertId> second = ledger_->RecordAlert(a, clock_.Now());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(ledger_->SetAlertDisposition(*second, AlertDisposition::kUnmatched, {}).ok());
  EXPECT_EQ(committed(), 0);
  // The intake's look-ups read the open group.
  Result<std::optional<WallTime>> resolved = ledger_->LastResolvedAt("fp1");
  ASSERT_TRUE(resolved.ok());
  EXPECT_TRUE(resolved->has_value());
  ASSERT_TRUE(ledger_->Sync().ok());
  EXPECT_EQ(committed(), 2);
  // Another write commits the group before its own transaction.
  ASSERT_TRUE(ledger_->RecordAlert(a, clock_.Now()).ok());
  EXPECT_EQ(committed(), 2);
  Create("w");
  EXPECT_EQ(committed(), 3);
  // Closing commits what is open.
  ASSERT_TRUE(ledger_->RecordAlert(a, clock_.Now()).ok());
  ledger_.reset();
  EXPECT_EQ(committed(), 4);
  Open();
  EXPECT_EQ(ledger_->CommitFailures(), 0u);
}

TEST_P(LedgerTest, Outbox) {
  OutboxItem item;
  item.issue = "acme/infra#1";
  item.kind = "comment";
  item.payload_json = "{\"body\":\"ran 3 times\"}";
  item.created_at = clock_.Now();
  item.next_attempt_at = clock_.Now();
  Result<int64_t> id = ledger_->Enqueue(item);
  ASSERT_TRUE(id.ok());
  Result<std::vector<OutboxItem>> due = ledger_->ListDue(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].payload_json, item.payload_json);
  ASSERT_TRUE(ledger_->MarkAttempt(*id, clock_.Now() + 1min, "503").ok());
  EXPECT_TRUE(ledger_->ListDue(clock_.Now(), 10)->empty());
  due = ledger_->ListDue(clock_.Now() + 1min, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1);
  EXPECT_EQ((*due)[0].last_error, "503");
  ASSERT_TRUE(ledger_->MarkDone(*id, clock_.Now()).ok());
  EXPECT_TRUE(ledger_->ListDue(clock_.Now() + 1h, 10)->empty());
  Open();  // durable across reopen
  EXPECT_TRUE(ledger_->ListDue(clock_.Now() + 1h, 10)->empty());
  EXPECT_EQ(ledger_->MarkDone(12345, clock_.Now()).code(), StatusCode::kNotFound);
}

TEST_P(LedgerTest, OpenLedgerPicksTheBackendOfTheUrl) {
  LedgerConfig c;
  c.kind = pg() ? LedgerConfig::Kind::kPostgres : LedgerConfig::Kind::kSqlite;
  c.url = pg() ? url_ : "sqlite://" + path_;
  c.path = path_;
  ExecutionId id = Create("w");
  ledger_.reset();
  Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(c, clock_);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE((*l)->GetExecution(id).ok());
}

TEST_P(LedgerTest, Sync) { EXPECT_TRUE(ledger_->Sync().ok()); }

// Several nodes: exactly one claim per fingerprint + firing window wins, by
// the primary key, however many nodes race for it at once.
TEST_P(LedgerTest, OneClaimPerFiringWindowAcrossNodes) {
  if (!pg()) GTEST_SKIP() << "one SQLite node serialises its intake instead";
  constexpr int kNodes = 3, kRounds = 20;
  std::vector<std::unique_ptr<ExecutionLedger>> nodes =
      testing::OpenNodes(kNodes, [&] { return OpenAnother(); });
  ASSERT_EQ(nodes.size(), size_t{kNodes});
  for (int round = 0; round < kRounds; ++round) {
    NewExecution e = AlertExecution(kT0 + std::chrono::seconds(round), clock_.Now());
    e.fingerprint = "fp" + std::to_string(round);
    std::vector<Result<ExecutionId>> got(kNodes, Internal("not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes; ++i) {
      threads.emplace_back([&, i] { got[i] = nodes[i]->CreateExecution(e); });
    }
    for (auto& t : threads) t.join();
    int won = 0;
    for (const auto& r : got) {
      if (r.ok()) {
        ++won;
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists) << r.status().ToString();
      }
    }
    EXPECT_EQ(won, 1) << "round " << round;
  }
  // The losers left nothing behind: one execution per window, runs counted once.
  EXPECT_EQ(*ledger_->CountRunsSince("w", kT0 - 1h), kRounds);
  EXPECT_EQ(ledger_->CountByWorkaround(clock_.Now())->at(0).runs_total, kRounds);
  // A new firing window, and an opt-in repeat of the old one, are claims of their own.
  NewExecution next;
  next.workaround_id = "w";
  next.issue = "#1";
  next.source = "alertmanager";
  next.fingerprint = "fp0";
  next.instance_start = kT0 + 1h;
  next.at = clock_.Now();
  EXPECT_TRUE(nodes[1]->CreateExecution(next).ok());
  next.instance_start = kT0;
  next.attempt = 2;
  EXPECT_TRUE(nodes[2]->CreateExecution(next).ok());
  EXPECT_EQ(nodes[0]->CreateExecution(next).status().code(), StatusCode::kAlreadyExists);
}

// An execution refused before it started gives its claim back.
TEST_P(LedgerTest, RefusingAClaimedExecutionReleasesTheClaim) {
  if (!pg()) GTEST_SKIP() << "claims are the shared ledger's";
  NewExecution e = AlertExecution(kT0, clock_.Now());
  Result<ExecutionId> id = ledger_->CreateExecution(e);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(ledger_->CreateExecution(e).status().code(), StatusCode::kAlreadyExists);
  ExecutionUpdate u;
  u.state = ExecutionState::kRefused;
  u.refusal_reason = "concurrency";
  u.at = clock_.Now();
  ASSERT_TRUE(ledger_->Update(*id, u).ok());
  EXPECT_TRUE(ledger_->CreateExecution(e).ok());
}

// A refusal claims its firing window: the other nodes the same alert reached
// record a duplicate of it, not a refusal each. A run takes the claim over
// (the refused alert has not acted; a later notification may act), and then
// holds it against runs and refusals alike.
TEST_P(LedgerTest, ARefusalClaimsItsFiringWindowUntilARunTakesIt) {
  if (!pg()) GTEST_SKIP() << "claims are the shared ledger's";
  Result<std::unique_ptr<ExecutionLedger>> other = OpenAnother();
  ASSERT_TRUE(other.ok());
  NewExecution e = AlertExecution(kT0, clock_.Now());
  NewExecution refusal = e;
  refusal.state = ExecutionState::kRefused;
  refusal.refusal_reason = "cooldown";
  Result<ExecutionId> first = ledger_->CreateExecution(refusal);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*other)->CreateExecution(refusal).status().code(), StatusCode::kAlreadyExists);
  Result<ExecutionId> run = (*other)->CreateExecution(e);
  ASSERT_TRUE(run.ok()) << "a run takes a refusal's claim: " << run.status().ToString();
  EXPECT_EQ(ledger_->CreateExecution(e).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ledger_->CreateExecution(refusal).status().code(), StatusCode::kAlreadyExists);
  // One refusal and one run recorded; the losers left nothing behind.
  Result<std::vector<WorkaroundCounts>> counts = ledger_->CountByWorkaround(clock_.Now());
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].runs_total, 1);
  EXPECT_EQ((*counts)[0].refusals_total, 1);
  // Another window is another claim.
  refusal.instance_start = kT0 + 1h;
  EXPECT_TRUE((*other)->CreateExecution(refusal).ok());
}

// An admission waits for the cluster-wide lock at most admission_timeout
// (the URL's), then fails kDeadlineExceeded (the intake's 503), and is not
// retried by the ledger on its own.
TEST_P(LedgerTest, AdmissionWaitsForTheClusterLockAtMostItsTimeout) {
  if (!pg()) GTEST_SKIP() << "the admission lock is the shared ledger's";
  Result<std::unique_ptr<ExecutionLedger>> l =
      OpenPostgresLedger(url_ + "?admission_timeout=300ms", clock_);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  AdmissionLedger* admission = AsAdmissionLedger(**l);
  ASSERT_NE(admission, nullptr);
  // Another node holding the lock (stuck mid-admission).
  internal::PgConn holder;
  ASSERT_TRUE(holder.Connect(url_).ok());
  ASSERT_TRUE(holder.Exec("BEGIN").ok());
  ASSERT_TRUE(
      holder
          .Exec("SELECT pg_advisory_xact_lock(" + std::to_string(internal::kPgAdmissionLock) + ")")
          .ok());
  auto decide = [&](LimitQueries&, BreakerLedger&) -> Result<NewExecution> {
    NewExecution e;
    e.workaround_id = "w";
    e.issue = "#1";
    e.source = "manual";
    e.at = clock_.Now();
    return e;
  };
  const auto start = std::chrono::steady_clock::now();
  Result<ExecutionId> id = admission->Admit(decide);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(id.status().code(), StatusCode::kDeadlineExceeded) << id.status().ToString();
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(AsBreakerLedger(**l)->TripBreaker("storm", clock_.Now()).status().code(),
            StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(holder.Exec("ROLLBACK").ok());
  id = admission->Admit(decide);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*(*l)->CountRunsSince("w", kT0 - 1h), 1);
}

// A node that stops renewing (it died) loses its executions to the sweep of
// another; a live node's lease is renewed and its executions are left alone.
TEST_P(LedgerTest, LapsedLeaseIsInterruptedByAnotherNode) {
  if (!pg()) GTEST_SKIP() << "leases are the shared ledger's";
  ExecutionId id = Create("w");
  Result<std::unique_ptr<ExecutionLedger>> other = OpenAnother();
  ASSERT_TRUE(other.ok());
  clock_.Advance(10s);
  EXPECT_EQ(*(*other)->MarkUnfinishedInterrupted(clock_.Now()), 0);
  ledger_.reset();  // the node dies: nothing renews its lease any more
  clock_.Advance(25s);
  Result<int64_t> n = (*other)->MarkUnfinishedInterrupted(clock_.Now());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  Result<ExecutionRecord> r = (*other)->GetExecution(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kInterrupted);
  EXPECT_NE(r->detail.find("lease"), std::string::npos) << r->detail;
}

// A fenced node's record of its execution (ExecutionUpdate::fenced) is
// written once: as the interrupted end when no node marked it yet; as its
// steps only when another node marked it interrupted after its lease lapsed;
// not again when it is written twice (a retry after an unknown COMMIT).
TEST_P(LedgerTest, AFencedRecordIsWrittenOnce) {
  if (!pg()) GTEST_SKIP() << "fencing is the shared ledger's";
  auto fenced = [&](ExecutionId id) {
    StepRecord s;
    s.phase = StepPhase::kAction;
    s.kind = "run";
    s.argv = {"sleep", "60"};
    s.outcome = StepOutcome::kFenced;
    s.signal = 15;
    s.started_at = clock_.Now();
    s.finished_at = clock_.Now();
    ExecutionUpdate u;
    u.state = ExecutionState::kInterrupted;
    u.detail = "action[0] fenced: this node could not renew its cluster lease";
    u.steps = {s};
    u.at = clock_.Now();
    u.fenced = true;
    return ledger_->Update(id, u);
  };
  auto count = [](const ExecutionRecord& r, ExecutionState st, StepOutcome o) {
    int transitions = 0, steps = 0;
    for (const TransitionRecord& t : r.transitions) transitions += t.state == st;
    for (const StepRecord& x : r.steps) steps += x.outcome == o;
    return std::pair(transitions, steps);
  };
  // No other node marked it: the fenced record is its interrupted end.
  ExecutionId mine = Create("w");
  ASSERT_TRUE(fenced(mine).ok());
  Result<ExecutionRecord> r = ledger_->GetExecution(mine);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kInterrupted);
  EXPECT_NE(r->detail.find("fenced"), std::string::npos);
  EXPECT_EQ(count(*r, ExecutionState::kInterrupted, StepOutcome::kFenced), std::pair(1, 1));
  ASSERT_TRUE(fenced(mine).ok()) << "written again: nothing more";
  EXPECT_EQ(count(*ledger_->GetExecution(mine), ExecutionState::kInterrupted, StepOutcome::kFenced),
            std::pair(1, 1));

  // Another node marked it first (its lease lapsed): only the steps are added.
  ExecutionId taken = Create("w");
  Result<std::unique_ptr<ExecutionLedger>> other = OpenAnother();
  ASSERT_TRUE(other.ok());
  clock_.Advance(31s);
  ASSERT_EQ(*(*other)->MarkUnfinishedInterrupted(clock_.Now()), 1);
  ASSERT_TRUE(fenced(taken).ok());
  ASSERT_TRUE(fenced(taken).ok());
  r = ledger_->GetExecution(taken);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kInterrupted);
  EXPECT_NE(r->detail.find("lease"), std::string::npos) << "the other node's record stays";
  EXPECT_EQ(count(*r, ExecutionState::kInterrupted, StepOutcome::kFenced), std::pair(1, 1));
  // Not fenced: a terminal execution still refuses an update.
  ExecutionUpdate late;
  late.state = ExecutionState::kFailed;
  late.at = clock_.Now();
  EXPECT_EQ(ledger_->Update(taken, late).code(), StatusCode::kFailedPrecondition);
}

// One node at a time holds a singleton; it moves when the holder's lease lapses.
TEST_P(LedgerTest, SingletonMovesWhenItsHolderStopsRenewing) {
  EXPECT_TRUE(*ledger_->HoldSingleton("retention", clock_.Now(), 10s));
  if (!pg()) return;  // one SQLite node always holds it
  // Another node: the same process here, so a child process plays it.
  ledger_.reset();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenAnother();
    if (!l.ok()) ::_exit(3);
    Result<bool> first = (*l)->HoldSingleton("retention", clock_.Now(), 10s);
    if (!first.ok() || *first) ::_exit(4);  // held by the parent: not ours
    Result<bool> later = (*l)->HoldSingleton("retention", clock_.Now() + 11s, 10s);
    if (!later.ok() || !*later) ::_exit(5);  // lapsed: ours now
    Result<bool> other = (*l)->HoldSingleton("tracker", clock_.Now(), 10s);
    if (!other.ok() || !*other) ::_exit(6);  // another name, another lease
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  Open();
  EXPECT_FALSE(*ledger_->HoldSingleton("retention", clock_.Now() + 12s, 10s));
}

// resume: rerun. An interrupted execution created with resume "rerun" is a
// candidate until one execution names it in rerun_of; a second claim, from
// this or another process (node), fails already-exists; a rerun is never a
// candidate itself, even interrupted; "escalate" ones never are.
TEST_P(LedgerTest, OneRerunPerInterruptedExecutionAcrossNodes) {
  RerunLedger* reruns = AsRerunLedger(*ledger_);
  ASSERT_NE(reruns, nullptr);
  auto make = [&](std::string resume, std::optional<ExecutionId> rerun_of,
                  std::string fingerprint = "fp1") {
    NewExecution e;
    e.workaround_id = "w";
    e.issue = "acme/infra#1";
    e.source = "alertmanager";
    e.fingerprint = std::move(fingerprint);
    e.labels = {{"alertname", "A"}, {"host", "db1"}};
    e.instance_start = kT0 - 1h;
    e.at = clock_.Now();
    e.resume = std::move(resume);
    e.rerun_of = rerun_of;
    return ledger_->CreateExecution(e);
  };
  Result<ExecutionId> plain = make("escalate", std::nullopt);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  Finish(*plain, ExecutionState::kInterrupted);
  Result<ExecutionId> orig = make("rerun", std::nullopt);
  // PostgreSQL: the same firing window is claimed by `plain` already.
  if (pg()) {
    ASSERT_EQ(orig.status().code(), StatusCode::kAlreadyExists);
    clock_.Advance(1s);
    orig = make("rerun", std::nullopt, "fp2");
  }
  ASSERT_TRUE(orig.ok()) << orig.status().ToString();
  Result<std::vector<ExecutionRecord>> c = reruns->ListRerunCandidates(10);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->empty()) << "still running: not a candidate";
  Finish(*orig, ExecutionState::kInterrupted);
  c = reruns->ListRerunCandidates(10);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].id, *orig);
  EXPECT_EQ((*c)[0].resume, "rerun");
  EXPECT_EQ((*c)[0].labels.at("host"), "db1");
  EXPECT_FALSE((*c)[0].rerun_of);

  // Another node claims it first (a child process plays it).
  ledger_.reset();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenAnother();
    if (!l.ok()) ::_exit(3);
    NewExecution e;
    e.workaround_id = "w";
    e.issue = "acme/infra#1";
    e.source = "alertmanager";
    e.fingerprint = "fp2";
    e.at = clock_.Now();
    e.resume = "rerun";
    e.rerun_of = *orig;
    Result<ExecutionId> id = (*l)->CreateExecution(e);
    ::_exit(id.ok() ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  Open();
  reruns = AsRerunLedger(*ledger_);
  Result<ExecutionId> second = make("rerun", *orig);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status().ToString();
  c = reruns->ListRerunCandidates(10);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->empty()) << "claimed: no longer a candidate";
  // The child's rerun: linked, and when interrupted too, never a candidate.
  Result<std::vector<ExecutionRecord>> all =
      ledger_->ListExecutions(ExecutionFilter{"", "", std::nullopt, 10});
  ASSERT_TRUE(all.ok());
  const ExecutionRecord& rerun = all->front();  // newest first
  ASSERT_EQ(rerun.rerun_of, std::optional<ExecutionId>(*orig));
  // The child process is gone: opening the ledger (SQLite) or its lapsed
  // lease (PostgreSQL) interrupts its rerun; here, directly.
  if (rerun.state != ExecutionState::kInterrupted) Finish(rerun.id, ExecutionState::kInterrupted);
  c = reruns->ListRerunCandidates(10);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->empty()) << "a rerun is never rerun";
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           return i.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace stopgap::remedy

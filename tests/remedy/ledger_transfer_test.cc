// Export, import and migrate of ledgers (remedy/ledger_transfer.h) on real
// SQLite files and a real scratch PostgreSQL: a ledger with history (runs,
// refusals, steps, transitions, alerts, outbox, approvals, the breaker)
// round-trips row for row with its ids and times; the copy answers every
// query alike and hands out ids after the imported ones; bad input (cut
// short, damaged, a table or column the target lacks, a non-empty target)
// is refused with its line number and writes nothing.
#include "remedy/ledger_transfer.h"

#include <fstream>

#include "gtest/gtest.h"
#include "pg_server.h"
#include "remedy/internal/pg_schema.h"
#include "remedy/ledger.h"
#include "remedy/ledger_export_format.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

const WallTime kT0 = WallTime(std::chrono::hours(24 * 20600));  // 2026-05-25

NewExecution ByHand(WallTime at) {
  NewExecution e;
  e.workaround_id = "x";
  e.issue = "acme/infra#7";
  e.source = "manual";
  e.at = at;
  return e;
}

StepRecord MakeStep(StepPhase phase, WallTime at) {
  StepRecord s;
  s.phase = phase;
  s.kind = "run";
  s.argv = {"sh", "-c", "echo 'quoted \"x\"'"};
  s.outcome = StepOutcome::kOk;
  s.exit_code = 0;
  s.started_at = at;
  s.finished_at = at + 1500ms;
  s.duration = 1500ms;
  s.files = {"diagnostics-00.stdout"};
  return s;
}

// History through the ledger's own API, with every role the backend has.
void Fill(ExecutionLedger& l, ManualClock& clock) {
  Alert a;
  a.name = "DiskFull";
  a.labels = {{"alertname", "DiskFull"}, {"host", "web1"}};
  a.annotations = {{"summary", "disk — full ✓"}};
  a.fingerprint = "fp1";
  a.source = "alertmanager";
  a.token = "alertmanager";
  a.starts_at = kT0 - 5min;
  Result<AlertId> alert = l.RecordAlert(a, clock.Now());
  ASSERT_TRUE(alert.ok()) << alert.status().ToString();
  NewExecution e;
  e.workaround_id = "disk-clean";
  e.issue = "acme/infra#7";
  e.fingerprint = "fp1";
  e.alert_id = *alert;
  e.source = "alertmanager";
  e.token = "alertmanager";
  e.labels = {{"host", "web1"}, {"odd", "tab\there"}};
  e.at = clock.Now();
  e.instance_start = kT0 - 5min;
  Result<ExecutionId> run = l.CreateExecution(e);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(l.SetAlertDisposition(*alert, AlertDisposition::kMatched, *run).ok());
  clock.Advance(1s);
  ExecutionUpdate u;
  u.passed = {{ExecutionState::kDiagnosing, clock.Now(), ""}};
  u.state = ExecutionState::kActing;
  u.bundle_dir = "/var/lib/stopgap/bundles/1";
  u.steps = {MakeStep(StepPhase::kDiagnostics, clock.Now())};
  u.at = clock.Now();
  ASSERT_TRUE(l.Update(*run, u).ok());
  clock.Advance(2s);
  ExecutionUpdate done;
  done.passed = {{ExecutionState::kVerifying, clock.Now(), "checking"}};
  done.state = ExecutionState::kSucceeded;
  done.steps = {MakeStep(StepPhase::kAction, clock.Now())};
  done.at = clock.Now();
  ASSERT_TRUE(l.Update(*run, done).ok());
  // A duplicate of it, and a refusal.
  clock.Advance(1min);
  ASSERT_TRUE(l.RecordAlert(a, clock.Now(), AlertDisposition::kDuplicate, "", *run).ok());
  NewExecution refused = e;
  refused.state = ExecutionState::kRefused;
  refused.refusal_reason = "cooldown";
  refused.detail = "cooldown 10m: last run 1m ago";
  refused.at = clock.Now();
  refused.alert_id.reset();
  if (AsClusterLedger(l)) {
    // PostgreSQL: a refusal claims its firing window, and the run holds this
    // one: a duplicate, not a second record. Another window's refusal.
    EXPECT_EQ(l.CreateExecution(refused).status().code(), StatusCode::kAlreadyExists);
    refused.instance_start = kT0 - 4min;
  }
  // SQLite keeps a refusal in the run's window: history that an import into
  // PostgreSQL must take (the run keeps the claim).
  ASSERT_TRUE(l.CreateExecution(refused).ok());
  // The resolve ends the degraded time (GroupLimitsLedger).
  a.status = AlertStatus::kResolved;
  ASSERT_TRUE(l.RecordAlert(a, clock.Now(), AlertDisposition::kResolved, "", *run).ok());
  if (GroupLimitsLedger* g = GroupLimitsOf(l)) {
    ASSERT_TRUE(g->RecordResolve("fp1", clock.Now()).ok());
  }
  OutboxItem o;
  o.issue = "acme/infra#7";
  o.kind = "comment";
  o.payload_json = R"({"body":"ran 1 time"})";
  o.created_at = clock.Now();
  o.next_attempt_at = clock.Now();
  Result<int64_t> item = l.Enqueue(o);
  ASSERT_TRUE(item.ok());
  ASSERT_TRUE(l.MarkAttempt(*item, clock.Now() + 1min, "503 from the tracker").ok());
  if (ApprovalLedger* ap = AsApprovalLedger(l)) {
    NewExecution gated = e;
    gated.workaround_id = "gated";
    gated.fingerprint = "fp2";
    gated.mode = "approve";
    gated.at = clock.Now();
    gated.alert_id.reset();
    for (ApprovalDecision d : {ApprovalDecision::kApproved, ApprovalDecision::kDenied}) {
      Result<ExecutionId> id = l.CreateExecution(gated);
      ASSERT_TRUE(id.ok());
      ExecutionUpdate wait;
      wait.state = ExecutionState::kAwaitingApproval;
      wait.approval_deadline = clock.Now() + 15min;
      wait.at = clock.Now();
      ASSERT_TRUE(l.Update(*id, wait).ok());
      clock.Advance(30s);
      ASSERT_TRUE(
          ap->Decide(*id, {.decision = d, .by = "oncall", .comment = "ok", .at = clock.Now()})
              .ok());
      gated.fingerprint = "fp3";
    }
  }
  if (BreakerLedger* b = AsBreakerLedger(l)) {
    ASSERT_TRUE(b->TripBreaker("max_runs of disk-clean", clock.Now()).ok());
    ASSERT_TRUE(
        b->ResetBreaker({.by = "ops-admin", .comment = "storm over", .at = clock.Now()}).ok());
    ASSERT_TRUE(b->TripBreaker("again", clock.Now() + 1s).ok());
  }
}

std::vector<std::string> Export(const LedgerConfig& c, const Clock& clock) {
  std::vector<std::string> lines;
  Result<TransferCounts> n = ExportLedger(c, clock, [&](std::string_view l) {
    lines.emplace_back(l);
    return Status::Ok();
  });
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return lines;
}

Status Import(const LedgerConfig& c, const Clock& clock, const std::vector<std::string>& lines) {
  Result<std::unique_ptr<LedgerImport>> imp = LedgerImport::Begin(c, clock);
  if (!imp.ok()) return imp.status();
  for (const std::string& l : lines) STOPGAP_RETURN_IF_ERROR((*imp)->Line(l));
  Result<TransferCounts> n = (*imp)->Finish();
  return n.ok() ? Status::Ok() : n.status();
}

// The rows of an export, without the header (its source and time differ).
std::vector<std::string> Rows(std::vector<std::string> lines) {
  if (!lines.empty()) lines.erase(lines.begin());
  return lines;
}

LedgerConfig Sqlite(const std::string& path) { return *ParseLedgerArg("sqlite:" + path); }

class LedgerTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    from_ = Sqlite(dir_.path() + "/from.db");
    to_ = Sqlite(dir_.path() + "/to.db");
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(from_, clock_);
    ASSERT_TRUE(l.ok());
    Fill(**l, clock_);
  }
  // The target holds nothing: an export of it is a header and an empty end.
  void ExpectEmpty(const LedgerConfig& c) {
    std::vector<std::string> lines = Export(c, clock_);
    ASSERT_EQ(lines.size(), 2u);
    Result<ExportLine> end = ParseExportLine(lines[1]);
    ASSERT_TRUE(end.ok());
    for (const auto& [t, n] : std::get<ExportEnd>(*end).rows) EXPECT_EQ(n, 0) << t;
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  LedgerConfig from_, to_;
};

TEST_F(LedgerTransferTest, SqliteRoundTripKeepsEveryRowIdAndTime) {
  std::vector<std::string> lines = Export(from_, clock_);
  ASSERT_GT(lines.size(), 15u);
  // Every table of the schema at version 6 is there, approvals and breaker too.
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  for (const char* t : {"executions", "steps", "transitions", "alerts", "issue_totals",
                        "workaround_totals", "tracker_outbox", "breaker_events"}) {
    EXPECT_NE(all.find(std::string("{\"table\":\"") + t + "\""), std::string::npos) << t;
  }
  for (const char* c : {"\"approval_decision\":\"denied\"", "\"mode\":\"approve\"",
                        "\"group_json\":\"{}\"", "\"degraded_end\":", "\"last_error\":"}) {
    EXPECT_NE(all.find(c), std::string::npos) << c;
  }
  ASSERT_TRUE(Import(to_, clock_, lines).ok());
  EXPECT_EQ(Rows(Export(to_, clock_)), Rows(lines));
  Status same = CompareLedgers(from_, to_, clock_, clock_.Now());
  EXPECT_TRUE(same.ok()) << same.ToString();
  // New ids come after the imported ones.
  Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(to_, clock_);
  ASSERT_TRUE(l.ok());
  Result<std::vector<ExecutionRecord>> old = (*l)->ListExecutions(ExecutionFilter{});
  ASSERT_TRUE(old.ok() && !old->empty());
  Result<ExecutionId> next = (*l)->CreateExecution(ByHand(clock_.Now()));
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, old->front().id);
}

TEST_F(LedgerTransferTest, MigrateVerifiesAndRefusesANonEmptyTarget) {
  Result<TransferCounts> n = MigrateLedger(from_, to_, clock_);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->rows.at("executions"), 4);
  EXPECT_EQ(n->rows.at("breaker_events"), 3);
  std::vector<std::string> before = Export(to_, clock_);
  Result<TransferCounts> again = MigrateLedger(from_, to_, clock_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already holds history (alerts: 3"), std::string::npos)
      << again.status().message();
  EXPECT_EQ(Rows(Export(to_, clock_)), Rows(before));
  EXPECT_EQ(MigrateLedger(from_, from_, clock_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MigrateLedger(Sqlite(dir_.path() + "/none.db"), Sqlite(dir_.path() + "/x.db"), clock_)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(LedgerTransferTest, CompareLedgersSeesADifference) {
  ASSERT_TRUE(MigrateLedger(from_, to_, clock_).ok());
  {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(to_, clock_);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->Prune(kT0 + 1h).ok());  // history lost after the copy
  }
  Status st = CompareLedgers(from_, to_, clock_, clock_.Now());
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

TEST_F(LedgerTransferTest, CutShortOrDamagedInputWritesNothing) {
  std::vector<std::string> lines = Export(from_, clock_);
  // Cut at a line boundary: no end line.
  std::vector<std::string> cut(lines.begin(), lines.end() - 3);
  Status st = Import(to_, clock_, cut);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("cut short"), std::string::npos) << st.ToString();
  ExpectEmpty(to_);
  // Cut inside a line.
  cut.back() = cut.back().substr(0, cut.back().size() / 2);
  st = Import(to_, clock_, cut);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line " + std::to_string(cut.size()) + ": not a JSON document"),
            std::string::npos)
      << st.ToString();
  ExpectEmpty(to_);
  // A line lost in the middle: the end line's counts catch it.
  std::vector<std::string> gap = lines;
  gap.erase(gap.begin() + 5);
  st = Import(to_, clock_, gap);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("line " + std::to_string(gap.size()) + ": the end line counts"),
            std::string::npos)
      << st.ToString();
  ExpectEmpty(to_);
  // A row that breaks a constraint (a step of an execution that is not there).
  std::vector<std::string> orphan = lines;
  orphan.insert(orphan.end() - 1,
                R"({"table":"steps","row":{"id":99,"execution_id":12345,)"
                R"("phase":"action","idx":0,"kind":"run","argv_json":"[]",)"
                R"("outcome":"ok","started_at":1,"finished_at":2,"duration_ms":1}})");
  st = Import(to_, clock_, orphan);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("line " + std::to_string(orphan.size() - 1) + ": table steps"),
            std::string::npos)
      << st.ToString();
  ExpectEmpty(to_);
  // Not an export at all.
  st = Import(to_, clock_, {R"({"table":"alerts","row":{"id":1}})"});
  EXPECT_NE(st.message().find("line 1: the first line is not an export header"), std::string::npos)
      << st.ToString();
  EXPECT_EQ(Import(to_, clock_, {}).code(), StatusCode::kInvalidArgument);
  ExpectEmpty(to_);
}

TEST_F(LedgerTransferTest, ATableOrColumnTheTargetLacksFailsTheImport) {
  std::vector<std::string> lines = Export(from_, clock_);
  std::vector<std::string> table = lines;
  table.insert(table.end() - 1, R"({"table":"frobs","row":{"id":1}})");
  Status st = Import(to_, clock_, table);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("table frobs: the sqlite ledger"), std::string::npos)
      << st.ToString();
  ExpectEmpty(to_);
  std::vector<std::string> column = lines;
  column[1].insert(column[1].find("\"row\":{") + 7, R"("shiny":1,)");
  st = Import(to_, clock_, column);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("line 2: table executions, column shiny"), std::string::npos)
      << st.ToString();
  ExpectEmpty(to_);
  // PostgreSQL's claims mean nothing to SQLite: dropped, and counted.
  std::vector<std::string> claims = lines;
  claims.insert(claims.end() - 1, R"({"table":"claims","row":{"fingerprint":"fp1",)"
                                  R"("window_key":"s:1","attempt":1,"execution_id":1}})");
  std::string& end = claims.back();
  end.insert(end.find("{\"rows\":{") + 9, "\"claims\":1,");
  st = Import(to_, clock_, claims);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Rows(Export(to_, clock_)), Rows(lines));
}

TEST(LedgerExportFormatTest, LinesRoundTripAndBadOnesAreExplained) {
  ExportRow row{.table = "steps",
                .columns = {{"id", LedgerValue{int64_t{-9007199254740993}}},
                            {"error", LedgerValue{std::string("bad \xff\xfe bytes")}},
                            {"exit_code", LedgerValue{}},
                            {"argv_json", LedgerValue{std::string("[\"a\",\"\\n\"]")}}}};
  Result<ExportLine> back = ParseExportLine(FormatExportRow(row));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const ExportRow& r = std::get<ExportRow>(*back);
  EXPECT_EQ(r.table, "steps");
  EXPECT_EQ(r.columns, row.columns);
  EXPECT_NE(FormatExportRow(row).find(R"({"hex":"626164)"), std::string::npos);
  Result<ExportLine> h = ParseExportLine(FormatExportHeader(
      {.backend = "sqlite", .schema_version = 6, .source = "sqlite:///x", .exported_at = "t"}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(std::get<ExportHeader>(*h).schema_version, 6);
  for (const char* bad : {"", "[]", "{\"table\":\"x\"}", R"({"table":"x; DROP","row":{"a":1}})",
                          R"({"table":"x","row":{"a":1.5}})", R"({"table":"x","row":{"a":true}})",
                          R"({"table":"x","row":{"a":{"hex":"zz"}}})",
                          R"({"table":"x","row":{"a":18446744073709551615}})",
                          R"({"format":"stopgap-ledger","version":2})",
                          R"({"format":"other","version":1})", R"({"end":{"rows":{"x":-1}}})",
                          R"({"table":"x","row":{}})", "{\"table\":\"x\",\"row\":{\"a\":1}"}) {
    EXPECT_EQ(ParseExportLine(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(LedgerArgTest, Forms) {
  EXPECT_EQ(ParseLedgerArg("sqlite:/a/b.db")->path, "/a/b.db");
  EXPECT_EQ(ParseLedgerArg("sqlite:///a/b.db")->path, "/a/b.db");
  EXPECT_EQ(ParseLedgerArg("rel/b.db")->path, "rel/b.db");
  EXPECT_EQ(ParseLedgerArg("postgresql://h/db")->kind, LedgerConfig::Kind::kPostgres);
  EXPECT_FALSE(ParseLedgerArg("mysql://h/db").ok());
  EXPECT_FALSE(ParseLedgerArg("sqlite:").ok());
}

// ---- PostgreSQL ----

class PgTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PgServer& pg = testing::PgServer::Get();
    std::string a = pg.NewDatabase(), b = pg.NewDatabase();
    ASSERT_FALSE(a.empty() || b.empty()) << pg.error();
    pg_a_ = *ParseLedgerArg(a + "?lease=5s");
    pg_b_ = *ParseLedgerArg(b);
  }
  TempDir dir_;
  ManualClock clock_{kT0};
  LedgerConfig pg_a_, pg_b_;
};

// PostgreSQL -> PostgreSQL (a restore), PostgreSQL -> SQLite (going back)
// and back to PostgreSQL: the same rows, the sequences moved past them.
TEST_F(PgTransferTest, PostgresToPostgresAndToSqliteAndBack) {
  {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(pg_a_, clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    Fill(**l, clock_);
  }
  std::vector<std::string> lines = Export(pg_a_, clock_);
  EXPECT_NE(lines[0].find("\"backend\":\"postgresql\""), std::string::npos) << lines[0];
  Result<TransferCounts> n = MigrateLedger(pg_a_, pg_b_, clock_);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(Rows(Export(pg_b_, clock_)), Rows(lines));
  EXPECT_GE(n->rows.at("claims"), 1);
  {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(pg_b_, clock_);
    ASSERT_TRUE(l.ok());
    Result<std::vector<ExecutionRecord>> imported =
        (*l)->ListExecutions(ExecutionFilter{"", "", std::nullopt, 1000});
    ASSERT_TRUE(imported.ok() && !imported->empty());
    Result<ExecutionId> next = (*l)->CreateExecution(ByHand(clock_.Now()));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    // Past every imported execution (newest first; ids need not be
    // contiguous: the duplicate refusal's rolled-back insert used one): a
    // run and a refusal, and two decided approvals now that PostgreSQL
    // records them (migration 3).
    EXPECT_EQ(*next, imported->front().id + 1);
    EXPECT_EQ(n->rows.at("executions"), 4);
  }
  // Going back to SQLite: claims and the PostgreSQL-only columns are dropped.
  const LedgerConfig back = Sqlite(dir_.path() + "/back.db");
  Result<TransferCounts> b = MigrateLedger(pg_a_, back, clock_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GE(b->dropped.at("claims"), 1);
  EXPECT_EQ(b->rows.at("executions"), n->rows.at("executions"));
}

// SQLite -> PostgreSQL. PostgreSQL migration 1 mirrors SQLite's schema 4; the
// SQLite 5 and 6 columns and tables (groups, degraded time, approvals,
// breaker) arrive with PostgreSQL migration 3. Before it, the import must
// refuse and write nothing; with it, the copy must be whole and read alike.
TEST_F(PgTransferTest, SqliteToPostgres) {
  const LedgerConfig from = Sqlite(dir_.path() + "/from.db");
  {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(from, clock_);
    ASSERT_TRUE(l.ok());
    Fill(**l, clock_);
  }
  Result<TransferCounts> n = MigrateLedger(from, pg_b_, clock_);
  if (std::size(internal::kPgLedgerMigrations) < 3) {
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(n.status().message().find("has no such column"), std::string::npos)
        << n.status().ToString();
    std::vector<std::string> lines = Export(pg_b_, clock_);
    EXPECT_EQ(lines.size(), 2u);  // nothing was written
    return;
  }
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->rows.at("executions"), 4);
  EXPECT_EQ(n->rows.at("breaker_events"), 3);
  // SQLite has no claims: the import makes one per firing window (fp1's run,
  // not the refusal recorded in its window; fp2 and fp3), so an alert
  // delivered again after the move is a duplicate, not a second run.
  EXPECT_EQ(n->derived.at("claims"), 3);
  Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(pg_b_, clock_);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  NewExecution again;
  again.workaround_id = "disk-clean";
  again.issue = "acme/infra#7";
  again.fingerprint = "fp1";
  again.source = "alertmanager";
  again.instance_start = kT0 - 5min;
  again.at = clock_.Now();
  EXPECT_EQ((*l)->CreateExecution(again).status().code(), StatusCode::kAlreadyExists)
      << "the imported run holds its window (a refusal's claim would be taken over)";
  again.instance_start = kT0;  // a new firing of fp1 runs
  EXPECT_TRUE((*l)->CreateExecution(again).ok());
}

}  // namespace
}  // namespace stopgap::remedy

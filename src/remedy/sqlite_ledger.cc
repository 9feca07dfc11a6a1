// SqliteLedger: the embedded ExecutionLedger. One connection guarded by a
// mutex; WAL with synchronous=NORMAL, durable updates fsync the WAL after
// their commit, outside the mutex (see ledger.h); numbered migrations from
// internal/ledger_schema.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/log.h"
#include "remedy/internal/ledger_codec.h"
#include "remedy/internal/ledger_schema.h"
#include "remedy/internal/owner.h"
#include "remedy/internal/sqlite_db.h"
#include "remedy/ledger.h"
#include "remedy/secrets.h"

namespace stopgap::remedy {

static_assert(std::size(internal::kLedgerMigrations) == kLedgerSchemaVersion,
              "kLedgerSchemaVersion must name the last migration");
namespace {

using internal::SqliteDb;
using internal::Stmt;
using internal::Transaction;
using json = nlohmann::json;
using internal::FromMs;
using internal::JsonList;
using internal::JsonMap;
using internal::ListJson;
using internal::MapJson;
using internal::Ms;

// SQL built once from the state enum (SqlStateList), not repeated string lists.
struct StateSql {
  std::string unfinished = SqlStateList(StateSet::kRunning);
  std::string open = SqlStateList(StateSet::kOpen);
  std::string finished = SqlStateList(StateSet::kFinished);
  std::string select_unfinished =
      "SELECT id, owner, state FROM executions WHERE state IN " + unfinished;
  // '+': use the executions_unfinished index.
  std::string count_in_flight =
      "SELECT COUNT(*) FROM executions WHERE +workaround_id = ? AND state IN " + unfinished;
  std::string in_flight_by_fingerprint = internal::SqlInFlightByFingerprint();
  std::string count_group_in_flight =
      "SELECT COUNT(*) FROM executions WHERE +workaround_id = ? AND +group_json = ? AND state IN " +
      unfinished;
  std::string prune = "DELETE FROM executions WHERE created_at < ? AND state IN " + finished;
};
const StateSql& States() {
  static const StateSql* s = new StateSql();
  return *s;
}

// The columns ReadExecution reads, in its order.
#define STOPGAP_EXECUTION_COLUMNS                                                                \
  "id, workaround_id, issue, fingerprint, alert_id, source, labels_json, state, "                \
  "refusal_reason, detail, created_at, updated_at, finished_at, bundle_dir, instance_start, "    \
  "attempt, token, group_json, degraded_end, "                                                   \
  "(SELECT COALESCE(SUM(duration_ms), 0) FROM steps WHERE steps.execution_id = executions.id), " \
  "mode, approval_deadline, approval_decision, approval_by, approval_comment, approval_at, "     \
  "resume, rerun_of "
ExecutionRecord ReadExecution(const Stmt& s) {
  ExecutionRecord r;
  r.id = s.Int(0);
  r.workaround_id = s.Text(1);
  r.issue = s.Text(2);
  r.fingerprint = s.Text(3);
  r.alert_id = s.OptInt(4);
  r.source = s.Text(5);
  r.labels = JsonMap(s.Text(6));
  Result<ExecutionState> st = ParseExecutionState(s.Text(7));
  r.state = st.ok() ? *st : ExecutionState::kInterrupted;
  r.refusal_reason = s.Text(8);
  r.detail = s.Text(9);
  r.created_at = FromMs(s.Int(10));
  r.updated_at = FromMs(s.Int(11));
  if (auto f = s.OptInt(12)) r.finished_at = FromMs(*f);
  r.bundle_dir = s.Text(13);
  if (auto i = s.OptInt(14)) r.instance_start = FromMs(*i);
  r.attempt = static_cast<int>(s.Int(15));
  r.token = s.Text(16);
  r.group = JsonMap(s.Text(17));
  if (auto d = s.OptInt(18)) r.degraded_end = FromMs(*d);
  r.acting = std::chrono::milliseconds(s.Int(19));
  r.mode = s.Text(20);
  if (auto d = s.OptInt(21)) r.approval_deadline = FromMs(*d);
  r.approval = internal::ApprovalFromColumns(s.Text(22), s.Text(23), s.Text(24), s.OptInt(25));
  r.resume = s.Text(26);
  r.rerun_of = s.OptInt(27);
  return r;
}

// Every row of `q` (a SELECT of STOPGAP_EXECUTION_COLUMNS), in order.
Result<std::vector<ExecutionRecord>> ReadExecutions(Stmt& q) {
  std::vector<ExecutionRecord> out;
  for (;;) {
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadExecution(q));
  }
  return out;
}

class SqliteLedger final : public ExecutionLedger,
                           public GroupLimitsLedger,
                           public ApprovalLedger,
                           public BreakerLedger,
                           public RerunLedger {
 public:
  SqliteLedger(const Clock& clock, SecretMasker masker)
      : clock_(clock), masker_(std::move(masker)) {}
  ~SqliteLedger() override {
    std::lock_guard lock(mu_);
    EndGroupLocked();  // closing the connection would roll it back
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    std::string dir = DirName(path);
    STOPGAP_RETURN_IF_ERROR(MakeDirs(dir, 0700));
    // Create the file 0600 ourselves: SQLite gives -wal/-shm the same mode.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("ledger " + path, errno);
    ::fchmod(fd, 0600);
    ::close(fd);
    STOPGAP_RETURN_IF_ERROR(db_.Open(path));
    db_.OnIoError([this](const Status& st) { Latch(st); });
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA busy_timeout=5000"));
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL"));
    // NORMAL: commits reach the WAL without fsync; durable writes fsync the
    // WAL after their commit (Sync(), see ledger.h).
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=NORMAL"));
    // SQLite's default threshold, but a failed checkpoint is latched too.
    db_.CheckpointEvery(1000);
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA foreign_keys=ON"));
    STOPGAP_RETURN_IF_ERROR(Migrate().WithContext("ledger " + path));
    return QuickCheck().WithContext("ledger " + path);
  }

  // Every open re-checks the file (after a crash or a storage fault, this is
  // what a restart verifies before anything is acknowledged again).
  Status QuickCheck() {
    STOPGAP_SQL(q, db_, "PRAGMA quick_check");
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    std::string verdict = *row ? q.Text(0) : "no answer";
    if (verdict != "ok") {
      return DataLoss("PRAGMA quick_check: " + verdict +
                      "; restore the ledger from a backup or move it aside");
    }
    return Status::Ok();
  }

  void Latch(const Status& st) {
    {
      std::lock_guard lock(fault_mu_);
      if (!fault_.ok()) return;
      fault_ = st;
    }
    Log(LogLevel::kError, "ledger storage failed; nothing more is made durable until restart",
        {{"ledger", path_}, {"error", st.ToString()}});
  }

  Status StorageFault() override {
    std::lock_guard lock(fault_mu_);
    return fault_;
  }

  Status OpenForReading(const std::string& path) {
    path_ = path;
    if (::access(path.c_str(), F_OK) != 0) {
      // Nothing recorded yet: an empty, migrated, in-memory ledger.
      STOPGAP_RETURN_IF_ERROR(db_.Open(":memory:"));
      return Migrate();
    }
    STOPGAP_RETURN_IF_ERROR(db_.Open(path, /*read_only=*/true));
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA busy_timeout=5000"));
    STOPGAP_SQL(q, db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status().WithContext("ledger " + path);
    if (q.Int(0) != static_cast<int64_t>(std::size(internal::kLedgerMigrations))) {
      return FailedPrecondition("ledger " + path + " has schema version " +
                                std::to_string(q.Int(0)) + "; open it read-write once to migrate");
    }
    return Status::Ok();
  }

  Status Migrate() {
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    STOPGAP_RETURN_IF_ERROR(
        db_.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                 "applied_at INTEGER NOT NULL)"));
    int64_t version = 0;
    {
      STOPGAP_SQL(q, db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      version = q.Int(0);
    }
    const int64_t known = static_cast<int64_t>(std::size(internal::kLedgerMigrations));
    if (version > known) {
      return FailedPrecondition("schema version " + std::to_string(version) +
                                " was written by a newer stopgap (this one knows " +
                                std::to_string(known) + ")");
    }
    for (int64_t v = version + 1; v <= known; ++v) {
      STOPGAP_RETURN_IF_ERROR(db_.Exec(internal::kLedgerMigrations[v - 1]));
      STOPGAP_SQL(ins, db_, "INSERT INTO schema_version(version, applied_at) VALUES (?, ?)");
      STOPGAP_RETURN_IF_ERROR(ins.Bind(1, v).Bind(2, Ms(clock_.Now())).Run());
    }
    return tx.Commit();
  }

  // ---- executions ----

  Result<ExecutionId> CreateExecution(const NewExecution& e) override {
    if (e.state != ExecutionState::kMatched && e.state != ExecutionState::kRefused) {
      return InvalidArgument("a new execution is matched or refused");
    }
    auto lock = Lock();
    STOPGAP_RETURN_IF_ERROR(CreateLocked(e));
    return last_id_;
  }

  Status CreateLocked(const NewExecution& e) {
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    const int64_t at = Ms(e.at);
    const bool refused = e.state == ExecutionState::kRefused;
    if (e.rerun_of) {
      // BEGIN IMMEDIATE holds the write lock: no other process inserts
      // between this look-up and the insert (the unique index backs it).
      STOPGAP_SQL(q, db_, "SELECT id FROM executions WHERE rerun_of = ?");
      q.Bind(1, *e.rerun_of);
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (*row) {
        return AlreadyExists("execution " + std::to_string(*e.rerun_of) +
                             " is already rerun by execution " + std::to_string(q.Int(0)));
      }
    }
    {
      STOPGAP_SQL(ins, db_,
                  "INSERT INTO executions(workaround_id, issue, fingerprint, alert_id, source, "
                  "labels_json, state, refusal_reason, detail, created_at, updated_at, "
                  "finished_at, owner, instance_start, attempt, token, group_json, mode, resume, "
                  "rerun_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      ins.Bind(1, e.workaround_id).Bind(2, e.issue).Bind(3, e.fingerprint).Bind(4, e.alert_id);
      ins.Bind(5, e.source).Bind(6, MapJson(masker_.MaskMap(e.labels)));
      ins.Bind(7, ExecutionStateName(e.state)).Bind(16, e.token);
      ins.Bind(8, e.refusal_reason).Bind(9, e.detail).Bind(10, at).Bind(11, at);
      ins.Bind(12, refused ? std::optional<int64_t>(at) : std::nullopt);
      ins.Bind(13, refused ? std::string() : internal::SelfOwnerId());
      ins.Bind(14, e.instance_start ? std::optional<int64_t>(Ms(*e.instance_start)) : std::nullopt);
      ins.Bind(15, int64_t{e.attempt}).Bind(17, MapJson(e.group)).Bind(18, e.mode);
      ins.Bind(19, e.resume).Bind(20, e.rerun_of);
      STOPGAP_RETURN_IF_ERROR(ins.Run());
    }
    last_id_ = db_.LastInsertId();
    STOPGAP_RETURN_IF_ERROR(InsertTransition(last_id_, e.state, at, e.detail));
    {
      STOPGAP_SQL(up, db_,
                  "INSERT INTO issue_totals(issue, runs_total, refusals_total) VALUES (?,?,?) "
                  "ON CONFLICT(issue) DO UPDATE SET runs_total = runs_total + excluded.runs_total, "
                  "refusals_total = refusals_total + excluded.refusals_total");
      STOPGAP_RETURN_IF_ERROR(
          up.Bind(1, e.issue).Bind(2, int64_t{!refused}).Bind(3, int64_t{refused}).Run());
    }
    {
      STOPGAP_SQL(up, db_,
                  "INSERT INTO workaround_totals(workaround_id, issue, runs_total, refusals_total) "
                  "VALUES (?,?,?,?) ON CONFLICT(workaround_id) DO UPDATE SET issue = "
                  "excluded.issue, runs_total = runs_total + excluded.runs_total, "
                  "refusals_total = refusals_total + excluded.refusals_total");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, e.workaround_id)
                                  .Bind(2, e.issue)
                                  .Bind(3, int64_t{!refused})
                                  .Bind(4, int64_t{refused})
                                  .Run());
    }
    return tx.Commit();
  }

  Status InsertTransition(ExecutionId id, ExecutionState s, int64_t at, std::string_view detail) {
    STOPGAP_SQL(ins, db_,
                "INSERT INTO transitions(execution_id, state, at, detail) VALUES (?,?,?,?)");
    return ins.Bind(1, id).Bind(2, ExecutionStateName(s)).Bind(3, at).Bind(4, detail).Run();
  }

  Status Update(ExecutionId id, const ExecutionUpdate& u) override {
    {
      auto lock = Lock();
      STOPGAP_RETURN_IF_ERROR(UpdateLocked(id, u));
    }
    // Durable: fsync the WAL *outside* the lock, so intake and other workers
    // are not held behind this fsync. Our frames are either still in the WAL
    // (covered by this fsync) or were checkpointed, which syncs the WAL before
    // and the database after (synchronous=NORMAL in WAL mode).
    return u.durable ? Sync() : Status::Ok();
  }

  Status Sync() override {
    { auto lock = Lock(); }  // commits the open group; the fsync below covers it
    // Never retry a failed fsync (see StorageFault in ledger.h).
    if (Status f = StorageFault(); !f.ok()) return f;
    // The WAL stays open for the ledger's life: SQLite keeps that file (it
    // truncates or rewrites it, never replaces it) while our connection is
    // open, and an open and a close per group sync cost more than a commit.
    // Without a WAL yet, the database file.
    int fd = wal_fd_.load();
    bool own = false;
    if (fd < 0) {
      const std::string wal = path_ + "-wal";  // path_ is fixed after Open
      fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        int none = -1;
        if (!wal_fd_.compare_exchange_strong(none, fd)) {
          ::close(fd);
          fd = none;
        }
      } else if (errno == ENOENT) {
        fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        own = true;
      }
      if (fd < 0) return ErrnoStatus("ledger sync: open " + wal, errno);
    }
    // fdatasync: the WAL's data and size, not its timestamps.
    int rc = ::fdatasync(fd);
    int err = errno;
    if (own) ::close(fd);
    if (rc != 0) {
      Status st = ErrnoStatus("ledger sync: fdatasync " + path_ + "-wal", err);
      Latch(st);
      return st;
    }
    return Status::Ok();
  }

  Status MoveToRefusals(ExecutionId id, const std::string& reason) {
    {
      STOPGAP_SQL(up, db_, "UPDATE executions SET refusal_reason = ?, owner = '' WHERE id = ?");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, reason).Bind(2, id).Run());
    }
    {
      STOPGAP_SQL(up, db_,
                  "UPDATE issue_totals SET runs_total = runs_total - 1, refusals_total = "
                  "refusals_total + 1 WHERE issue = (SELECT issue FROM executions WHERE id = ?)");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, id).Run());
    }
    STOPGAP_SQL(up, db_,
                "UPDATE workaround_totals SET runs_total = runs_total - 1, refusals_total = "
                "refusals_total + 1 WHERE workaround_id = (SELECT workaround_id FROM executions "
                "WHERE id = ?)");
    return up.Bind(1, id).Run();
  }

  Status UpdateLocked(ExecutionId id, const ExecutionUpdate& u) {
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    const int64_t at = Ms(u.at);
    {
      STOPGAP_SQL(q, db_, "SELECT state FROM executions WHERE id = ?");
      q.Bind(1, id);
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) return NotFound("execution " + std::to_string(id));
      Result<ExecutionState> cur = ParseExecutionState(q.Text(0));
      if (cur.ok() && IsTerminal(*cur)) {
        return FailedPrecondition("execution " + std::to_string(id) + " is already " +
                                  std::string(ExecutionStateName(*cur)));
      }
      if (u.state == ExecutionState::kRefused) {
        // Only an admitted execution that never started may still be refused
        // (it waited for a concurrency slot in vain): it moves from the run
        // totals to the refusal totals.
        if (!cur.ok() || *cur != ExecutionState::kMatched) {
          return FailedPrecondition("execution " + std::to_string(id) +
                                    " has started: it can no longer be refused");
        }
        STOPGAP_RETURN_IF_ERROR(MoveToRefusals(id, u.refusal_reason));
      }
    }
    for (const TransitionRecord& t : u.passed) {
      STOPGAP_RETURN_IF_ERROR(InsertTransition(id, t.state, Ms(t.at), t.detail));
    }
    if (u.state) {
      STOPGAP_SQL(up, db_,
                  "UPDATE executions SET state = ?, updated_at = ?, finished_at = ?, "
                  "detail = COALESCE(?, detail) WHERE id = ?");
      up.Bind(1, ExecutionStateName(*u.state)).Bind(2, at);
      up.Bind(3, IsTerminal(*u.state) ? std::optional<int64_t>(at) : std::nullopt);
      if (u.detail) {
        up.Bind(4, *u.detail);
      } else {
        up.BindNull(4);
      }
      STOPGAP_RETURN_IF_ERROR(up.Bind(5, id).Run());
      STOPGAP_RETURN_IF_ERROR(InsertTransition(id, *u.state, at, u.detail.value_or("")));
      if (*u.state == ExecutionState::kSucceeded) {
        // Its verify passed: the degradation it answered ends here, unless a
        // resolve ended it first.
        STOPGAP_SQL(end, db_,
                    "UPDATE executions SET degraded_end = ? WHERE id = ? AND degraded_end IS NULL");
        STOPGAP_RETURN_IF_ERROR(end.Bind(1, at).Bind(2, id).Run());
      }
    } else if (u.detail) {
      STOPGAP_SQL(up, db_, "UPDATE executions SET detail = ?, updated_at = ? WHERE id = ?");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, *u.detail).Bind(2, at).Bind(3, id).Run());
    }
    if (u.approval_deadline) {
      STOPGAP_SQL(up, db_, "UPDATE executions SET approval_deadline = ? WHERE id = ?");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, Ms(*u.approval_deadline)).Bind(2, id).Run());
    }
    if (u.bundle_dir) {
      STOPGAP_SQL(up, db_, "UPDATE executions SET bundle_dir = ?, updated_at = ? WHERE id = ?");
      STOPGAP_RETURN_IF_ERROR(up.Bind(1, *u.bundle_dir).Bind(2, at).Bind(3, id).Run());
    }
    for (const StepRecord& s : u.steps) {
      STOPGAP_SQL(ins, db_,
                  "INSERT INTO steps(execution_id, phase, idx, kind, argv_json, outcome, "
                  "exit_code, signal, timed_out, truncated, started_at, finished_at, "
                  "duration_ms, files_json, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      ins.Bind(1, id).Bind(2, StepPhaseName(s.phase)).Bind(3, int64_t{s.index}).Bind(4, s.kind);
      ins.Bind(5, ListJson(s.kind == "run" ? masker_.MaskArgv(s.argv) : s.argv));
      ins.Bind(6, StepOutcomeName(s.outcome));
      ins.Bind(7, s.exit_code ? std::optional<int64_t>(*s.exit_code) : std::nullopt);
      ins.Bind(8, int64_t{s.signal}).Bind(9, int64_t{s.timed_out}).Bind(10, int64_t{s.truncated});
      ins.Bind(11, Ms(s.started_at)).Bind(12, Ms(s.finished_at)).Bind(13, s.duration.count());
      ins.Bind(14, ListJson(s.files)).Bind(15, s.error);
      STOPGAP_RETURN_IF_ERROR(ins.Run());
    }
    return tx.Commit();
  }

  Result<int64_t> MarkUnfinishedInterrupted(WallTime now) override {
    auto lock = Lock();
    std::vector<std::pair<ExecutionId, std::string>> open;
    {
      STOPGAP_SQL(q, db_, States().select_unfinished.c_str());
      for (;;) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        if (!internal::OwnerAlive(q.Text(1))) open.emplace_back(q.Int(0), q.Text(2));
      }
    }
    if (open.empty()) return int64_t{0};
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=FULL"));
    Status st = MarkLocked(open, now);
    Status restore = db_.Exec("PRAGMA synchronous=NORMAL");
    STOPGAP_RETURN_IF_ERROR(st);
    STOPGAP_RETURN_IF_ERROR(restore);
    return static_cast<int64_t>(open.size());
  }

  Status MarkLocked(const std::vector<std::pair<ExecutionId, std::string>>& open, WallTime now) {
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    const int64_t at = Ms(now);
    for (const auto& [id, was] : open) {
      std::string detail = "the process running it ended while it was " + was +
                           "; it is not re-run by itself (only with resume: rerun)";
      STOPGAP_SQL(up, db_,
                  "UPDATE executions SET state = ?, updated_at = ?, finished_at = ?, "
                  "detail = ? WHERE id = ?");
      up.Bind(1, ExecutionStateName(ExecutionState::kInterrupted));
      STOPGAP_RETURN_IF_ERROR(up.Bind(2, at).Bind(3, at).Bind(4, detail).Bind(5, id).Run());
      STOPGAP_RETURN_IF_ERROR(InsertTransition(id, ExecutionState::kInterrupted, at, detail));
    }
    return tx.Commit();
  }

  // ---- reruns (resume: rerun) ----

  Result<std::vector<ExecutionRecord>> ListRerunCandidates(int limit) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT " STOPGAP_EXECUTION_COLUMNS
                "FROM executions WHERE state = 'interrupted' AND resume = 'rerun' AND rerun_of IS "
                "NULL AND NOT EXISTS (SELECT 1 FROM executions r WHERE r.rerun_of = "
                "executions.id) ORDER BY id LIMIT ?");
    q.Bind(1, int64_t{std::clamp(limit, 1, 1000)});
    return ReadExecutions(q);
  }

  // ---- queries ----

  Result<std::vector<ExecutionRecord>> ListExecutions(const ExecutionFilter& f) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT " STOPGAP_EXECUTION_COLUMNS
                "FROM executions WHERE (?1 = '' OR workaround_id = ?1) AND (?2 = '' OR issue = ?2) "
                "AND id < ?3 ORDER BY id DESC LIMIT ?4");
    q.Bind(1, f.workaround_id).Bind(2, f.issue);
    q.Bind(3, f.before_id.value_or(std::numeric_limits<int64_t>::max()));
    q.Bind(4, int64_t{std::clamp(f.limit, 1, 1000)});
    return ReadExecutions(q);
  }

  Result<ExecutionRecord> GetExecution(ExecutionId id) override {
    auto lock = Lock();
    ExecutionRecord r;
    {
      STOPGAP_SQL(q, db_, "SELECT " STOPGAP_EXECUTION_COLUMNS "FROM executions WHERE id = ?");
      q.Bind(1, id);
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) return NotFound("no execution " + std::to_string(id));
      r = ReadExecution(q);
    }
    {
      STOPGAP_SQL(q, db_,
                  "SELECT phase, idx, kind, argv_json, outcome, exit_code, signal, timed_out, "
                  "truncated, started_at, finished_at, duration_ms, files_json, error FROM steps "
                  "WHERE execution_id = ? ORDER BY id");
      q.Bind(1, id);
      for (;;) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        StepRecord s;
        std::string phase = q.Text(0);
        s.phase = phase == "action"   ? StepPhase::kAction
                  : phase == "verify" ? StepPhase::kVerify
                                      : StepPhase::kDiagnostics;
        s.index = static_cast<int>(q.Int(1));
        s.kind = q.Text(2);
        s.argv = JsonList(q.Text(3));
        Result<StepOutcome> outcome = ParseStepOutcome(q.Text(4));
        s.outcome = outcome.ok() ? *outcome : StepOutcome::kError;
        if (auto e = q.OptInt(5)) s.exit_code = static_cast<int>(*e);
        s.signal = static_cast<int>(q.Int(6));
        s.timed_out = q.Int(7) != 0;
        s.truncated = q.Int(8) != 0;
        s.started_at = FromMs(q.Int(9));
        s.finished_at = FromMs(q.Int(10));
        s.duration = Duration(q.Int(11));
        s.files = JsonList(q.Text(12));
        s.error = q.Text(13);
        r.steps.push_back(std::move(s));
      }
    }
    {
      STOPGAP_SQL(q, db_,
                  "SELECT state, at, detail FROM transitions WHERE execution_id = ? ORDER BY "
                  "rowid");
      q.Bind(1, id);
      for (;;) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        TransitionRecord t;
        Result<ExecutionState> st = ParseExecutionState(q.Text(0));
        t.state = st.ok() ? *st : ExecutionState::kInterrupted;
        t.at = FromMs(q.Int(1));
        t.detail = q.Text(2);
        r.transitions.push_back(std::move(t));
      }
    }
    return r;
  }

  Result<std::vector<IssueCounts>> CountByIssue(WallTime now) override {
    auto lock = Lock();
    std::vector<IssueCounts> out;
    STOPGAP_SQL(q, db_,
                "SELECT t.issue, t.runs_total, t.refusals_total, "
                "(SELECT COUNT(*) FROM executions e WHERE e.issue = t.issue AND e.state != "
                "'refused' AND e.created_at > ?1), "
                "(SELECT COUNT(*) FROM executions e WHERE e.issue = t.issue AND e.state != "
                "'refused' AND e.created_at > ?2), "
                "(SELECT group_concat(workaround_id, char(10)) FROM (SELECT workaround_id FROM "
                "workaround_totals w WHERE w.issue = t.issue ORDER BY workaround_id)) "
                "FROM issue_totals t ORDER BY t.issue");
    q.Bind(1, Ms(now - std::chrono::hours(24))).Bind(2, Ms(now - std::chrono::hours(24 * 7)));
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      IssueCounts c;
      c.issue = q.Text(0);
      c.runs_total = q.Int(1);
      c.refusals_total = q.Int(2);
      c.runs_24h = q.Int(3);
      c.runs_7d = q.Int(4);
      c.workarounds = internal::SplitNewlines(q.Text(5));
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<WorkaroundCounts>> CountByWorkaround(WallTime now) override {
    auto lock = Lock();
    std::vector<WorkaroundCounts> out;
    STOPGAP_SQL(q, db_,
                "SELECT w.workaround_id, w.issue, w.runs_total, w.refusals_total, "
                "(SELECT COUNT(*) FROM executions e WHERE e.workaround_id = w.workaround_id AND "
                "e.state != 'refused' AND e.created_at > ?1), "
                "(SELECT COUNT(*) FROM executions e WHERE e.workaround_id = w.workaround_id AND "
                "e.state != 'refused' AND e.created_at > ?2), "
                "l.id, l.state, l.refusal_reason, COALESCE(l.finished_at, l.updated_at) "
                "FROM workaround_totals w LEFT JOIN executions l ON l.id = (SELECT MAX(id) FROM "
                "executions x WHERE x.workaround_id = w.workaround_id) "
                "ORDER BY w.workaround_id");
    q.Bind(1, Ms(now - std::chrono::hours(24))).Bind(2, Ms(now - std::chrono::hours(24 * 7)));
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      WorkaroundCounts c;
      c.workaround_id = q.Text(0);
      c.issue = q.Text(1);
      c.runs_total = q.Int(2);
      c.refusals_total = q.Int(3);
      c.runs_24h = q.Int(4);
      c.runs_7d = q.Int(5);
      c.last_execution_id = q.OptInt(6);
      c.last_result = q.Text(7);
      c.last_refusal_reason = q.Text(8);
      if (auto t = q.OptInt(9)) c.last_at = FromMs(*t);
      out.push_back(std::move(c));
    }
    return out;
  }

  // ---- limits ----

  Result<int64_t> CountRunsSince(std::string_view workaround_id, WallTime since) override {
    auto lock = Lock();
    // Two statements, so each one scans only its index range of the window
    // (an "?1 = '' OR" filter would defeat the index).
    if (workaround_id.empty()) {
      STOPGAP_SQL(q, db_, internal::kSqlCountRunsAll);
      q.Bind(1, Ms(since));
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      return q.Int(0);
    }
    STOPGAP_SQL(q, db_, internal::kSqlCountRuns);
    q.Bind(1, workaround_id).Bind(2, Ms(since));
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Result<int64_t> CountInFlight(std::string_view workaround_id) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_, States().count_in_flight.c_str());
    q.Bind(1, workaround_id);
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Result<std::optional<WallTime>> LastRunAt(std::string_view workaround_id) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT COALESCE(finished_at, created_at) FROM executions WHERE workaround_id = ? "
                "AND state != 'refused' ORDER BY id DESC LIMIT 1");
    q.Bind(1, workaround_id);
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<WallTime>();
    return std::optional<WallTime>(FromMs(q.Int(0)));
  }

  // ---- GroupLimitsLedger ----

  Result<int64_t> CountGroupRunsSince(std::string_view workaround_id,
                                      const std::map<std::string, std::string>& group,
                                      WallTime since) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_, internal::kSqlCountGroupRuns);
    q.Bind(1, workaround_id).Bind(2, MapJson(group)).Bind(3, Ms(since));
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Result<int64_t> CountGroupInFlight(std::string_view workaround_id,
                                     const std::map<std::string, std::string>& group) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_, States().count_group_in_flight.c_str());
    q.Bind(1, workaround_id).Bind(2, MapJson(group));
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Result<std::optional<WallTime>> GroupLastRunAt(
      std::string_view workaround_id, const std::map<std::string, std::string>& group) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT COALESCE(finished_at, created_at) FROM executions WHERE workaround_id = ? "
                "AND group_json = ? AND state != 'refused' ORDER BY id DESC LIMIT 1");
    q.Bind(1, workaround_id).Bind(2, MapJson(group));
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<WallTime>();
    return std::optional<WallTime>(FromMs(q.Int(0)));
  }

  Result<int64_t> RecordResolve(std::string_view fingerprint, WallTime at) override {
    if (fingerprint.empty()) return int64_t{0};
    auto lock = Lock();
    STOPGAP_SQL(up, db_,
                "UPDATE executions SET degraded_end = ?1 WHERE fingerprint = ?2 AND degraded_end "
                "IS NULL AND (instance_start IS NULL OR instance_start <= ?1)");
    STOPGAP_RETURN_IF_ERROR(up.Bind(1, Ms(at)).Bind(2, fingerprint).Run());
    return db_.Changes();
  }

  Result<std::vector<ExecutionRecord>> ListRunsSince(WallTime since, int limit) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT " STOPGAP_EXECUTION_COLUMNS
                "FROM executions WHERE created_at >= ? AND state != 'refused' ORDER BY id LIMIT ?");
    q.Bind(1, Ms(since)).Bind(2, int64_t{std::clamp(limit, 1, 100000)});
    return ReadExecutions(q);
  }

  // ---- group commit (see AlertLog::EnableGroupCommit) ----

  void EnableGroupCommit() override {
    std::lock_guard lock(mu_);
    group_enabled_ = true;
  }
  uint64_t CommitFailures() const override { return group_failures_.load(); }

  // mu_, with the open group committed first: every method but the intake's
  // alert writes and look-ups commits (and fails) on its own, as without
  // group commit.
  std::unique_lock<std::mutex> Lock() {
    std::unique_lock lock(mu_);
    EndGroupLocked();
    return lock;
  }

  void EndGroupLocked() {
    if (!group_open_) return;
    group_open_ = false;
    Status st = db_.Exec("COMMIT");
    if (st.ok()) return;
    if (!sqlite3_get_autocommit(db_.raw())) (void)db_.Exec("ROLLBACK");
    GroupLost(st);
  }

  Status JoinGroupLocked() {
    if (!group_enabled_ || group_open_) return Status::Ok();
    STOPGAP_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    group_open_ = true;
    return Status::Ok();
  }

  // A failed write inside the group: SQLite rolls the whole transaction back
  // on some errors (a full disk, I/O), losing the group's earlier writes too.
  Status GroupWrite(Status st) {
    if (!st.ok() && group_open_ && sqlite3_get_autocommit(db_.raw())) {
      group_open_ = false;
      GroupLost(st);
    }
    return st;
  }

  void GroupLost(const Status& st) {
    group_failures_.fetch_add(1);
    Log(LogLevel::kError, "ledger group commit lost", {{"error", st.ToString()}});
  }

  // ---- alerts ----

  Result<AlertId> RecordAlert(const Alert& a, WallTime received_at, AlertDisposition d,
                              std::string_view reason,
                              std::optional<ExecutionId> execution) override {
    std::lock_guard lock(mu_);
    STOPGAP_RETURN_IF_ERROR(JoinGroupLocked());
    STOPGAP_SQL(ins, db_,
                "INSERT INTO alerts(received_at, source, fingerprint, name, status, labels_json, "
                "annotations_json, disposition, reason, execution_id, token) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    ins.Bind(1, Ms(received_at)).Bind(2, a.source).Bind(3, a.fingerprint).Bind(4, a.name);
    ins.Bind(5, a.status == AlertStatus::kResolved ? "resolved" : "firing");
    ins.Bind(6, MapJson(masker_.MaskMap(a.labels)))
        .Bind(7, MapJson(masker_.MaskMap(a.annotations)));
    ins.Bind(11, a.token);
    ins.Bind(8, AlertDispositionName(d)).Bind(9, reason).Bind(10, execution);
    STOPGAP_RETURN_IF_ERROR(GroupWrite(ins.Run()));
    return db_.LastInsertId();
  }

  Status SetAlertDisposition(AlertId id, AlertDisposition d, std::optional<ExecutionId> exec,
                             std::string_view reason) override {
    std::lock_guard lock(mu_);
    STOPGAP_RETURN_IF_ERROR(JoinGroupLocked());
    STOPGAP_SQL(up, db_,
                "UPDATE alerts SET disposition = ?, execution_id = ?, reason = ? WHERE id = ?");
    STOPGAP_RETURN_IF_ERROR(GroupWrite(
        up.Bind(1, AlertDispositionName(d)).Bind(2, exec).Bind(3, reason).Bind(4, id).Run()));
    if (db_.Changes() == 0) return NotFound("no alert " + std::to_string(id));
    return Status::Ok();
  }

  Result<std::vector<AlertRecord>> ListAlerts(int limit) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT id, received_at, source, fingerprint, name, status, labels_json, "
                "disposition, execution_id, reason, token, annotations_json FROM alerts ORDER BY "
                "id DESC LIMIT ?");
    q.Bind(1, int64_t{std::clamp(limit, 1, 1000)});
    std::vector<AlertRecord> out;
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      AlertRecord a;
      a.id = q.Int(0);
      a.received_at = FromMs(q.Int(1));
      a.source = q.Text(2);
      a.fingerprint = q.Text(3);
      a.name = q.Text(4);
      a.status = q.Text(5);
      a.labels_json = q.Text(6);
      std::string d = q.Text(7);
      for (AlertDisposition x : {AlertDisposition::kReceived, AlertDisposition::kMatched,
                                 AlertDisposition::kUnmatched, AlertDisposition::kDuplicate,
                                 AlertDisposition::kResolved, AlertDisposition::kRejected}) {
        if (AlertDispositionName(x) == d) a.disposition = x;
      }
      a.execution_id = q.OptInt(8);
      a.reason = q.Text(9);
      a.token = q.Text(10);
      a.annotations_json = q.Text(11);
      out.push_back(std::move(a));
    }
    return out;
  }

  Result<std::optional<ExecutionId>> FindInFlightByFingerprint(
      std::string_view fingerprint) override {
    std::lock_guard lock(mu_);
    STOPGAP_SQL(q, db_, States().in_flight_by_fingerprint.c_str());
    q.Bind(1, fingerprint);
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<ExecutionId>();
    return std::optional<ExecutionId>(q.Int(0));
  }

  Result<std::optional<WallTime>> LastResolvedAt(std::string_view fingerprint) override {
    std::lock_guard lock(mu_);
    STOPGAP_SQL(q, db_,
                "SELECT MAX(received_at) FROM alerts WHERE fingerprint = ? AND status = "
                "'resolved'");
    q.Bind(1, fingerprint);
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<WallTime>();
    std::optional<int64_t> at = q.OptInt(0);
    if (!at) return std::optional<WallTime>();
    return std::optional<WallTime>(FromMs(*at));
  }

  Result<std::optional<ExecutionRecord>> LastExecutionFor(std::string_view workaround_id,
                                                          std::string_view fingerprint) override {
    std::lock_guard lock(mu_);
    STOPGAP_SQL(q, db_,
                "SELECT " STOPGAP_EXECUTION_COLUMNS
                "FROM executions WHERE workaround_id = ? AND fingerprint = ? ORDER BY id DESC "
                "LIMIT 1");
    q.Bind(1, workaround_id).Bind(2, fingerprint);
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<ExecutionRecord>();
    return std::optional<ExecutionRecord>(ReadExecution(q));
  }

  // ---- retention ----

  Result<PruneResult> Prune(WallTime before) override {
    auto lock = Lock();
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    PruneResult r;
    const int64_t t = Ms(before);
    {
      STOPGAP_SQL(d, db_, States().prune.c_str());
      STOPGAP_RETURN_IF_ERROR(d.Bind(1, t).Run());
      r.executions = db_.Changes();
    }
    {
      STOPGAP_SQL(d, db_, "DELETE FROM alerts WHERE received_at < ?");
      STOPGAP_RETURN_IF_ERROR(d.Bind(1, t).Run());
      r.alerts = db_.Changes();
    }
    {
      STOPGAP_SQL(d, db_, "DELETE FROM tracker_outbox WHERE done_at IS NOT NULL AND done_at < ?");
      STOPGAP_RETURN_IF_ERROR(d.Bind(1, t).Run());
      r.outbox = db_.Changes();
    }
    STOPGAP_RETURN_IF_ERROR(tx.Commit());
    return r;
  }

  // ---- outbox ----

  Result<int64_t> Enqueue(const OutboxItem& item) override {
    auto lock = Lock();
    STOPGAP_SQL(ins, db_,
                "INSERT INTO tracker_outbox(issue, kind, payload_json, created_at, attempts, "
                "next_attempt_at) VALUES (?,?,?,?,0,?)");
    ins.Bind(1, item.issue).Bind(2, item.kind).Bind(3, item.payload_json);
    ins.Bind(4, Ms(item.created_at)).Bind(5, Ms(item.next_attempt_at));
    STOPGAP_RETURN_IF_ERROR(ins.Run());
    return db_.LastInsertId();
  }

  Result<std::vector<OutboxItem>> ListDue(WallTime now, int limit) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT id, issue, kind, payload_json, created_at, attempts, next_attempt_at, "
                "last_error FROM tracker_outbox WHERE done_at IS NULL AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?");
    q.Bind(1, Ms(now)).Bind(2, int64_t{std::clamp(limit, 1, 1000)});
    std::vector<OutboxItem> out;
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      OutboxItem o;
      o.id = q.Int(0);
      o.issue = q.Text(1);
      o.kind = q.Text(2);
      o.payload_json = q.Text(3);
      o.created_at = FromMs(q.Int(4));
      o.attempts = static_cast<int>(q.Int(5));
      o.next_attempt_at = FromMs(q.Int(6));
      o.last_error = q.Text(7);
      out.push_back(std::move(o));
    }
    return out;
  }

  Status MarkDone(int64_t id, WallTime at) override {
    auto lock = Lock();
    STOPGAP_SQL(up, db_, "UPDATE tracker_outbox SET done_at = ? WHERE id = ?");
    STOPGAP_RETURN_IF_ERROR(up.Bind(1, Ms(at)).Bind(2, id).Run());
    if (db_.Changes() == 0) return NotFound("no outbox item " + std::to_string(id));
    return Status::Ok();
  }

  Status MarkAttempt(int64_t id, WallTime next_attempt_at, std::string_view error) override {
    auto lock = Lock();
    STOPGAP_SQL(up, db_,
                "UPDATE tracker_outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                "last_error = ? WHERE id = ?");
    STOPGAP_RETURN_IF_ERROR(up.Bind(1, Ms(next_attempt_at)).Bind(2, error).Bind(3, id).Run());
    if (db_.Changes() == 0) return NotFound("no outbox item " + std::to_string(id));
    return Status::Ok();
  }

  // ---- approvals ----

  Result<std::vector<ExecutionRecord>> ListAwaitingApproval(int limit) override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT " STOPGAP_EXECUTION_COLUMNS
                "FROM executions WHERE state = 'awaiting-approval' ORDER BY id LIMIT ?");
    q.Bind(1, int64_t{std::clamp(limit, 1, 1000)});
    return ReadExecutions(q);
  }

  Result<ExecutionRecord> Decide(ExecutionId id, const ApprovalRecord& d) override {
    {
      auto lock = Lock();
      STOPGAP_RETURN_IF_ERROR(DecideLocked(id, d));
    }
    STOPGAP_RETURN_IF_ERROR(Sync());
    return GetExecution(id);
  }

  Status DecideLocked(ExecutionId id, const ApprovalRecord& d) {
    Transaction tx(db_);
    STOPGAP_RETURN_IF_ERROR(tx.Begin());
    {
      STOPGAP_SQL(q, db_, "SELECT state FROM executions WHERE id = ?");
      q.Bind(1, id);
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) return NotFound("no execution " + std::to_string(id));
      if (q.Text(0) != ExecutionStateName(ExecutionState::kAwaitingApproval)) {
        return FailedPrecondition("execution " + std::to_string(id) + " is " + q.Text(0) +
                                  ", not awaiting approval");
      }
    }
    const ExecutionState next = internal::StateAfter(d.decision);
    const int64_t at = Ms(d.at);
    const std::string detail = internal::DecisionDetail(d);
    {
      STOPGAP_SQL(up, db_,
                  "UPDATE executions SET state = ?, updated_at = ?, finished_at = ?, detail = ?, "
                  "owner = ?, approval_decision = ?, approval_by = ?, approval_comment = ?, "
                  "approval_at = ? WHERE id = ?");
      up.Bind(1, ExecutionStateName(next)).Bind(2, at);
      up.Bind(3, IsTerminal(next) ? std::optional<int64_t>(at) : std::nullopt).Bind(4, detail);
      up.Bind(5, IsTerminal(next) ? std::string() : internal::SelfOwnerId());
      up.Bind(6, ApprovalDecisionName(d.decision)).Bind(7, d.by).Bind(8, d.comment);
      STOPGAP_RETURN_IF_ERROR(up.Bind(9, at).Bind(10, id).Run());
    }
    STOPGAP_RETURN_IF_ERROR(InsertTransition(id, next, at, detail));
    return tx.Commit();
  }

  Result<std::vector<ApprovalCounts>> CountApprovals() override {
    auto lock = Lock();
    STOPGAP_SQL(q, db_,
                "SELECT workaround_id, SUM(approval_decision = 'approved'), "
                "SUM(approval_decision = 'denied'), SUM(approval_decision = 'expired'), "
                "SUM(state = 'awaiting-approval'), "
                "SUM(approval_decision = 'approved' AND state = 'succeeded'), "
                "SUM(approval_decision = 'approved' AND state IN ('failed','interrupted')) "
                "FROM executions WHERE mode = 'approve' GROUP BY workaround_id "
                "ORDER BY workaround_id");
    std::vector<ApprovalCounts> out;
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ApprovalCounts c;
      c.workaround_id = q.Text(0);
      c.approved = q.Int(1);
      c.denied = q.Int(2);
      c.expired = q.Int(3);
      c.pending = q.Int(4);
      c.succeeded = q.Int(5);
      c.failed = q.Int(6);
      out.push_back(std::move(c));
    }
    return out;
  }

  // ---- the storm breaker's latch ----

  Result<BreakerState> GetBreaker() override {
    auto lock = Lock();
    return BreakerLocked();
  }

  Result<BreakerState> BreakerLocked() {
    BreakerState b;
    {
      STOPGAP_SQL(q, db_, "SELECT kind, reason, at FROM breaker_events ORDER BY id DESC LIMIT 1");
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (*row && q.Text(0) == "trip") {
        b.tripped = true;
        b.reason = q.Text(1);
        b.tripped_at = FromMs(q.Int(2));
      }
    }
    STOPGAP_SQL(
        q, db_,
        "SELECT actor, comment, at FROM breaker_events WHERE kind = 'reset' ORDER BY id DESC "
        "LIMIT 1");
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (*row) b.last_reset = BreakerReset{q.Text(0), q.Text(1), FromMs(q.Int(2))};
    return b;
  }

  Result<bool> TripBreaker(std::string_view reason, WallTime at) override {
    {
      auto lock = Lock();
      Transaction tx(db_);
      STOPGAP_RETURN_IF_ERROR(tx.Begin());
      Result<BreakerState> b = BreakerLocked();
      if (!b.ok()) return b.status();
      if (b->tripped) return false;
      STOPGAP_SQL(ins, db_, "INSERT INTO breaker_events(kind, reason, at) VALUES ('trip', ?, ?)");
      STOPGAP_RETURN_IF_ERROR(ins.Bind(1, reason).Bind(2, Ms(at)).Run());
      STOPGAP_RETURN_IF_ERROR(tx.Commit());
    }
    STOPGAP_RETURN_IF_ERROR(Sync());
    return true;
  }

  Result<BreakerState> ResetBreaker(const BreakerReset& r) override {
    {
      auto lock = Lock();
      Transaction tx(db_);
      STOPGAP_RETURN_IF_ERROR(tx.Begin());
      Result<BreakerState> b = BreakerLocked();
      if (!b.ok()) return b.status();
      if (!b->tripped) return *b;
      STOPGAP_SQL(ins, db_,
                  "INSERT INTO breaker_events(kind, actor, comment, at) VALUES ('reset', ?, ?, ?)");
      STOPGAP_RETURN_IF_ERROR(ins.Bind(1, r.by).Bind(2, r.comment).Bind(3, Ms(r.at)).Run());
      STOPGAP_RETURN_IF_ERROR(tx.Commit());
    }
    STOPGAP_RETURN_IF_ERROR(Sync());
    return GetBreaker();
  }

 private:
  const Clock& clock_;
  const SecretMasker masker_;
  std::string path_;
  std::mutex mu_;
  SqliteDb db_;
  std::mutex fault_mu_;  // guards fault_ only; never held with mu_ waiting on it
  Status fault_;
  ExecutionId last_id_ = 0;
  // Group commit (EnableGroupCommit): guarded by mu_, but the failure count is
  // read without it.
  bool group_enabled_ = false;
  bool group_open_ = false;
  std::atomic<uint64_t> group_failures_{0};
  std::atomic<int> wal_fd_{-1};  // Sync()'s, opened by the first
};

}  // namespace

Result<std::unique_ptr<ExecutionLedger>> OpenSqliteLedgerForReading(const std::string& path,
                                                                    const Clock& clock) {
  auto ledger = std::make_unique<SqliteLedger>(clock, SecretMasker::Defaults());
  STOPGAP_RETURN_IF_ERROR(ledger->OpenForReading(path));
  return std::unique_ptr<ExecutionLedger>(std::move(ledger));
}

Result<std::unique_ptr<ExecutionLedger>> OpenSqliteLedger(const std::string& path,
                                                          const Clock& clock,
                                                          const std::vector<std::string>& redact) {
  if (path.empty()) return InvalidArgument("empty ledger path");
  Result<SecretMasker> masker = SecretMasker::Create(redact);
  if (!masker.ok()) return masker.status();
  auto ledger = std::make_unique<SqliteLedger>(clock, std::move(*masker));
  STOPGAP_RETURN_IF_ERROR(ledger->Open(path));
  Result<int64_t> n = ledger->MarkUnfinishedInterrupted(clock.Now());
  if (!n.ok()) return n.status();
  return std::unique_ptr<ExecutionLedger>(std::move(ledger));
}

}  // namespace stopgap::remedy

// PgLedger: the ExecutionLedger on PostgreSQL, shared by several `stopgap
// serve` nodes. Same semantics and roles as SqliteLedger (its unit tests run
// against both), plus what several nodes need: a claim row per alert
// fingerprint + firing window (unique by its primary key: the losing node's
// CreateExecution fails kAlreadyExists), leases on unfinished executions
// that a housekeeping thread renews (executions whose lease lapsed, their
// node dead, are marked interrupted by whichever node sweeps next), and
// admission under a cluster-wide advisory lock (AdmissionLedger, pg_roles.h).
// Thread safety: every method from any thread; a pool of connections, each
// used by one call at a time; one housekeeping thread per ledger.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "remedy/internal/ledger_codec.h"
#include "remedy/internal/owner.h"
#include "remedy/internal/pg_db.h"
#include "remedy/internal/pg_roles.h"
#include "remedy/internal/pg_schema.h"
#include "remedy/ledger.h"
#include "remedy/secrets.h"

namespace stopgap::remedy {
namespace {

using internal::FromMs;
using internal::JsonList;
using internal::JsonMap;
using internal::ListJson;
using internal::MapJson;
using internal::Ms;
using internal::P;
using internal::PgConn;
using internal::PgParam;
using internal::PgPool;
using internal::PgResult;

// The columns ReadExecution reads, in its order.
#define STOPGAP_PG_EXECUTION_COLUMNS                                                             \
  "id, workaround_id, issue, fingerprint, alert_id, source, labels_json, state, "                \
  "refusal_reason, detail, created_at, updated_at, finished_at, bundle_dir, instance_start, "    \
  "attempt, token, group_json, degraded_end, "                                                   \
  "(SELECT COALESCE(SUM(duration_ms), 0) FROM steps WHERE steps.execution_id = executions.id), " \
  "mode, approval_deadline, approval_decision, approval_by, approval_comment, approval_at, "     \
  "resume, rerun_of "

ExecutionRecord ReadExecution(const PgResult& q, int i) {
  ExecutionRecord r;
  r.id = q.Int(i, 0);
  r.workaround_id = q.Text(i, 1);
  r.issue = q.Text(i, 2);
  r.fingerprint = q.Text(i, 3);
  r.alert_id = q.OptInt(i, 4);
  r.source = q.Text(i, 5);
  r.labels = JsonMap(q.Text(i, 6));
  Result<ExecutionState> st = ParseExecutionState(q.Text(i, 7));
  r.state = st.ok() ? *st : ExecutionState::kInterrupted;
  r.refusal_reason = q.Text(i, 8);
  r.detail = q.Text(i, 9);
  r.created_at = FromMs(q.Int(i, 10));
  r.updated_at = FromMs(q.Int(i, 11));
  if (auto f = q.OptInt(i, 12)) r.finished_at = FromMs(*f);
  r.bundle_dir = q.Text(i, 13);
  if (auto s = q.OptInt(i, 14)) r.instance_start = FromMs(*s);
  r.attempt = static_cast<int>(q.Int(i, 15));
  r.token = q.Text(i, 16);
  r.group = JsonMap(q.Text(i, 17));
  if (auto d = q.OptInt(i, 18)) r.degraded_end = FromMs(*d);
  r.acting = std::chrono::milliseconds(q.Int(i, 19));
  r.mode = q.Text(i, 20);
  if (auto d = q.OptInt(i, 21)) r.approval_deadline = FromMs(*d);
  r.approval =
      internal::ApprovalFromColumns(q.Text(i, 22), q.Text(i, 23), q.Text(i, 24), q.OptInt(i, 25));
  r.resume = q.Text(i, 26);
  r.rerun_of = q.OptInt(i, 27);
  return r;
}

// SQL built once from the state enum (SqlStateList).
struct PgStateSql {
  std::string unfinished = SqlStateList(StateSet::kRunning);
  std::string open = SqlStateList(StateSet::kOpen);
  std::string finished = SqlStateList(StateSet::kFinished);
  std::string in_flight_by_fingerprint =
      "SELECT id FROM executions WHERE fingerprint = $1 AND fingerprint != '' AND state IN " +
      open + " ORDER BY id DESC LIMIT 1";
  std::string prune = "DELETE FROM executions WHERE created_at < $1 AND state IN " + finished;
  std::string renew =
      "UPDATE executions SET lease_until = $1 WHERE owner = $2 AND state IN " + unfinished;
  // Unfinished executions whose lease lapsed, locked so two sweeping nodes
  // never mark one twice.
  std::string lapsed = "SELECT id, state, owner FROM executions WHERE state IN " + unfinished +
                       " AND COALESCE(lease_until, 0) < $1 ORDER BY id FOR UPDATE SKIP LOCKED";
};
const PgStateSql& States() {
  static const PgStateSql* s = new PgStateSql();
  return *s;
}

class PgLedger final : public ExecutionLedger,
                       public GroupLimitsLedger,
                       public ApprovalLedger,
                       public BreakerLedger,
                       public AdmissionLedger,
                       public RerunLedger,
                       public ClusterLedger {
 public:
  PgLedger(const Clock& clock, SecretMasker masker, std::string conninfo, PgLedgerOptions o)
      : clock_(clock),
        masker_(std::move(masker)),
        options_(o),
        url_(internal::RedactedUrl(conninfo)),
        pool_(std::move(conninfo), {.size = o.pool_size, .connect_for = o.connect_for}),
        self_(internal::SelfOwnerId()) {}

  ~PgLedger() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (housekeeper_.joinable()) housekeeper_.join();
  }

  Status Open(bool for_reading) {
    if (for_reading) return CheckVersion();
    STOPGAP_RETURN_IF_ERROR(Migrate());
    {
      // The open is the first contact: leases created from now on are fresh.
      std::lock_guard lock(health_mu_);
      last_renewal_ = clock_.Monotonic();
    }
    housekeeper_ = std::thread([this] { Housekeep(); });
    return Status::Ok();
  }

  // ---- transactions ----

  // Runs `f` in BEGIN..COMMIT on a pooled connection. A connection error
  // before COMMIT (the server went away, or a failover left us on a
  // standby) is retried on a new connection until options.connect_for; a
  // failed COMMIT is not (its outcome is unknown: the caller does not
  // acknowledge, and the sender retries).
  // kRead: one read statement, run without BEGIN/COMMIT (two round trips
  // fewer) and always safe to retry.
  enum class Mode { kTransaction, kRead };
  Status InTx(const std::function<Status(PgConn&)>& f, Mode mode = Mode::kTransaction) {
    const auto deadline = std::chrono::steady_clock::now() + options_.connect_for;
    std::chrono::milliseconds backoff{50};
    for (;;) {
      Result<PgPool::Lease> lease = pool_.Acquire();
      if (!lease.ok()) return lease.status().WithContext("ledger " + url_);
      PgConn& c = **lease;
      bool committing = false;
      Status st = [&]() -> Status {
        if (mode == Mode::kRead) return f(c);
        Result<PgResult> b = c.Exec("BEGIN");
        if (!b.ok()) return b.status();
        Status s = f(c);
        if (!s.ok()) {
          if (!c.Broken()) (void)c.Exec("ROLLBACK");
          return s;
        }
        committing = true;
        Result<PgResult> cm = c.Exec("COMMIT");
        return cm.ok() ? Status::Ok() : cm.status();
      }();
      if (st.ok() || !internal::IsConnectionError(st)) return st;
      c.Close();  // never reuse it: it may be a standby now
      ++reconnects_;
      if (committing) {
        return Unavailable("ledger " + url_ + ": the connection was lost during COMMIT (" +
                           st.message() + "); the outcome is unknown, nothing is acknowledged");
      }
      if (std::chrono::steady_clock::now() + backoff > deadline) {
        return st.WithContext("ledger " + url_);
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }

  Status CheckVersion() {
    int64_t version = 0;
    STOPGAP_RETURN_IF_ERROR(InTx([&](PgConn& c) -> Status {
      Result<PgResult> t = c.Exec("SELECT to_regclass('schema_version') IS NOT NULL");
      if (!t.ok()) return t.status();
      if (t->Text(0, 0) != "t") return Status::Ok();
      Result<PgResult> q = c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      if (!q.ok()) return q.status();
      version = q->Int(0, 0);
      return Status::Ok();
    }));
    const int64_t known = static_cast<int64_t>(std::size(internal::kPgLedgerMigrations));
    if (version != known) {
      return FailedPrecondition("ledger " + url_ + " has schema version " +
                                std::to_string(version) + " (this stopgap writes " +
                                std::to_string(known) + "); open it read-write once to migrate");
    }
    return Status::Ok();
  }

  Status Migrate() {
    return InTx([&](PgConn& c) -> Status {
      // Nodes starting together: one migrates, the others wait and find it done.
      Result<PgResult> lock = c.Exec("SELECT pg_advisory_xact_lock(5730179)");
      if (!lock.ok()) return lock.status();
      Result<PgResult> t = c.Exec(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
          "applied_at BIGINT NOT NULL)");
      if (!t.ok()) return t.status();
      Result<PgResult> q = c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      if (!q.ok()) return q.status();
      const int64_t version = q->Int(0, 0);
      const int64_t known = static_cast<int64_t>(std::size(internal::kPgLedgerMigrations));
      if (version > known) {
        return FailedPrecondition("schema version " + std::to_string(version) +
                                  " was written by a newer stopgap (this one knows " +
                                  std::to_string(known) + ")");
      }
      for (int64_t v = version + 1; v <= known; ++v) {
        Result<PgResult> m = c.Exec(internal::kPgLedgerMigrations[v - 1]);
        if (!m.ok()) return m.status().WithContext("migration " + std::to_string(v));
        Result<PgResult> ins =
            c.Run("schema_version_insert",
                  "INSERT INTO schema_version(version, applied_at) VALUES ($1, $2)",
                  {P(v), P(Ms(clock_.Now()))});
        if (!ins.ok()) return ins.status();
      }
      return Status::Ok();
    });
  }

  // ---- housekeeping: lease renewal and the sweep of lapsed leases ----

  // One housekeeping round (renewal, then sweep) every lease/4, at least
  // every 100 ms: a fence (lease_fence.h) follows at lease/2 without a
  // renewal, so one slow or lost round does not fence a node.
  Duration Round() const {
    return std::max(options_.lease / 4, Duration(std::chrono::milliseconds(100)));
  }

  // Rounds are timed from the start of the previous one (not its end: a slow
  // sweep does not delay the next renewal).
  void Housekeep() {
    const Duration period = Round();
    std::unique_lock lock(mu_);
    auto next = std::chrono::steady_clock::now() + period;
    while (!cv_.wait_until(lock, next, [&] { return stop_; })) {
      next = std::max(next + period, std::chrono::steady_clock::now());
      lock.unlock();
      Status renewed = RenewLeases();
      if (!renewed.ok()) {
        Log(LogLevel::kWarn, "ledger lease renewal failed",
            {{"ledger", url_}, {"error", renewed.ToString()}});
      } else {
        FlushFenced();
      }
      Result<int64_t> n = MarkUnfinishedInterrupted(clock_.Now());
      if (!n.ok()) {
        Log(LogLevel::kWarn, "ledger lease sweep failed",
            {{"ledger", url_}, {"error", n.status().ToString()}});
      }
      NoteContact(n.ok() ? renewed : n.status());
      lock.lock();
    }
  }

  // Each housekeeping round is the node's contact with the database (Health()).
  void NoteContact(const Status& st) {
    std::lock_guard lock(health_mu_);
    if (st.ok()) {
      last_contact_ = clock_.Now();
      last_error_.clear();
    } else {
      last_error_ = st.ToString();
    }
  }

  Status RenewLeases() {
    MonoTime attempt{};  // when the attempt that committed began
    Status st = InTx([&](PgConn& c) -> Status {
      attempt = clock_.Monotonic();
      Result<PgResult> r =
          c.Run("renew", States().renew, {P(Ms(clock_.Now() + options_.lease)), P(self_)});
      return r.ok() ? Status::Ok() : r.status();
    });
    ++(st.ok() ? renewals_ : renewal_failures_);
    if (st.ok()) {
      std::lock_guard lock(health_mu_);
      last_renewal_ = std::max(last_renewal_.value_or(attempt), attempt);
    }
    return st;
  }

  // ---- ClusterLedger ----

  ClusterCounters Counters() const override {
    return {.claims_won = claims_won_,
            .claims_lost = claims_lost_,
            .lease_renewals = renewals_,
            .lease_renewal_failures = renewal_failures_,
            .failovers = failovers_,
            .reconnects = reconnects_};
  }

  ClusterHealth Health(WallTime now) const override {
    ClusterHealth h;
    h.lease = options_.lease;
    std::lock_guard lock(health_mu_);
    h.last_contact = last_contact_;
    h.error = last_error_;
    // Answered within two housekeeping rounds, and the last one did not fail.
    const Duration round = Round();
    h.reachable = last_error_.empty() && last_contact_ && now - *last_contact_ <= 2 * round;
    h.last_renewal = last_renewal_;
    for (const auto& [name, until] : singletons_) h.singletons[name] = until > now;
    {
      std::lock_guard fenced(fenced_mu_);
      h.fenced_records_pending = static_cast<int64_t>(fenced_pending_.size());
    }
    return h;
  }

  // ---- executions ----

  Result<ExecutionId> CreateExecution(const NewExecution& e) override {
    ExecutionId id = 0;
    std::optional<ExecutionId> lost_to;
    Status st = InTx([&](PgConn& c) -> Status { return InsertExecution(c, e, &id, &lost_to); });
    return Created(e, st, id, lost_to);
  }

  // Counts a claim won or lost; the id when `st` is OK.
  Result<ExecutionId> Created(const NewExecution& e, const Status& st, ExecutionId id,
                              const std::optional<ExecutionId>& lost_to) {
    if (lost_to) ++claims_lost_;
    if (!st.ok()) return st;
    if (e.state != ExecutionState::kRefused && (!e.fingerprint.empty() || e.rerun_of)) {
      ++claims_won_;
    }
    return id;
  }

  // The firing window of an alert's claim: its start, else the last resolve
  // of its fingerprint.
  Result<std::string> ClaimWindow(PgConn& c, const NewExecution& e) {
    if (e.instance_start) return "s:" + std::to_string(Ms(*e.instance_start));
    Result<PgResult> r = c.Run("claim_last_resolved",
                               "SELECT COALESCE(MAX(received_at), 0) FROM alerts WHERE "
                               "fingerprint = $1 AND status = 'resolved'",
                               {P(e.fingerprint)});
    if (!r.ok()) return r.status();
    return "r:" + r->Text(0, 0);
  }

  // The execution holding the claim of e's firing window, if any.
  Result<std::optional<ExecutionId>> ClaimedBy(PgConn& c, const NewExecution& e,
                                               const std::string& window) {
    Result<PgResult> who = c.Run("claimed_by",
                                 "SELECT execution_id FROM claims WHERE fingerprint = $1 "
                                 "AND window_key = $2 AND attempt = $3",
                                 {P(e.fingerprint), P(window), P(int64_t{e.attempt})});
    if (!who.ok()) return who.status();
    if (who->Rows() == 0) return std::optional<ExecutionId>();
    return std::optional<ExecutionId>(who->Int(0, 0));
  }

  // CreateExecution's insert, in the caller's transaction. kAlreadyExists
  // (with *lost_to) when another execution holds the claim.
  Status InsertExecution(PgConn& c, const NewExecution& e, ExecutionId* out,
                         std::optional<ExecutionId>* lost_to) {
    if (e.state != ExecutionState::kMatched && e.state != ExecutionState::kRefused) {
      return InvalidArgument("a new execution is matched or refused");
    }
    const bool refused = e.state == ExecutionState::kRefused;
    const int64_t at = Ms(e.at);
    const std::string labels = MapJson(masker_.MaskMap(e.labels));
    {
      lost_to->reset();
      // A rerun's claim is its rerun_of (unique): a second node's insert
      // waits for the first and then does nothing.
      Result<PgResult> ins =
          c.Run("create_execution",
                "INSERT INTO executions(workaround_id, issue, fingerprint, alert_id, source, "
                "labels_json, state, refusal_reason, detail, created_at, updated_at, finished_at, "
                "owner, instance_start, attempt, token, lease_until, group_json, mode, resume, "
                "rerun_of) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,"
                "$21) ON CONFLICT (rerun_of) WHERE rerun_of IS NOT NULL DO NOTHING RETURNING id",
                {P(e.workaround_id),
                 P(e.issue),
                 P(e.fingerprint),
                 P(e.alert_id),
                 P(e.source),
                 P(labels),
                 P(ExecutionStateName(e.state)),
                 P(e.refusal_reason),
                 P(e.detail),
                 P(at),
                 P(at),
                 refused ? P(std::optional<int64_t>(at)) : std::nullopt,
                 P(refused ? std::string() : self_),
                 P(e.instance_start ? std::optional<int64_t>(Ms(*e.instance_start)) : std::nullopt),
                 P(int64_t{e.attempt}),
                 P(e.token),
                 refused ? std::nullopt : P(Ms(clock_.Now() + options_.lease)),
                 P(MapJson(e.group)),
                 P(e.mode),
                 P(e.resume),
                 P(e.rerun_of)});
      if (!ins.ok()) return ins.status();
      if (ins->Rows() == 0) {
        // Another node reruns that execution already (counted as a claim
        // lost; the id of its rerun is not needed).
        *lost_to = ExecutionId{0};
        return AlreadyExists("execution " + std::to_string(e.rerun_of.value_or(0)) +
                             " is already rerun by another execution");
      }
      const ExecutionId id = ins->Int(0, 0);
      *out = id;
      // The alert's claim belongs to the interrupted execution; its rerun
      // holds the rerun_of claim instead.
      if (!e.fingerprint.empty() && !e.rerun_of) {
        // The claim: one row per fingerprint + firing window + attempt. The
        // primary key decides between nodes; a concurrent insert of the same
        // key waits for the other transaction and then does nothing. A
        // refusal claims the window too (so the nodes that the same alert
        // reached record one refusal, the others a duplicate of it), but only
        // a free one; a run takes over a refusal's claim: that alert has not
        // acted, and a later notification may act (firing.h).
        Result<std::string> w = ClaimWindow(c, e);
        if (!w.ok()) return w.status();
        const std::string& window = *w;
        Result<PgResult> cl =
            refused ? c.Run("claim_refused",
                            "INSERT INTO claims(fingerprint, window_key, attempt, execution_id) "
                            "VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING execution_id",
                            {P(e.fingerprint), P(window), P(int64_t{e.attempt}), P(id)})
                    : c.Run("claim",
                            "INSERT INTO claims(fingerprint, window_key, attempt, execution_id) "
                            "VALUES ($1,$2,$3,$4) ON CONFLICT (fingerprint, window_key, attempt) "
                            "DO UPDATE SET execution_id = excluded.execution_id WHERE EXISTS "
                            "(SELECT 1 FROM executions x WHERE x.id = claims.execution_id AND "
                            "x.state = 'refused') RETURNING execution_id",
                            {P(e.fingerprint), P(window), P(int64_t{e.attempt}), P(id)});
        if (!cl.ok()) return cl.status();
        if (cl->Rows() == 0) {
          Result<std::optional<ExecutionId>> who = ClaimedBy(c, e, window);
          if (!who.ok()) return who.status();
          *lost_to = who->value_or(0);
          return AlreadyExists("alert " + e.fingerprint + " (firing window " + window +
                               ") is already claimed by execution " + std::to_string(**lost_to));
        }
      }
      STOPGAP_RETURN_IF_ERROR(InsertTransition(c, id, e.state, at, e.detail));
      Result<PgResult> it =
          c.Run("issue_totals_add",
                "INSERT INTO issue_totals(issue, runs_total, refusals_total) VALUES ($1,$2,$3) "
                "ON CONFLICT(issue) DO UPDATE SET runs_total = issue_totals.runs_total + "
                "excluded.runs_total, refusals_total = issue_totals.refusals_total + "
                "excluded.refusals_total",
                {P(e.issue), P(int64_t{!refused}), P(int64_t{refused})});
      if (!it.ok()) return it.status();
      Result<PgResult> wt = c.Run(
          "workaround_totals_add",
          "INSERT INTO workaround_totals(workaround_id, issue, runs_total, refusals_total) "
          "VALUES ($1,$2,$3,$4) ON CONFLICT(workaround_id) DO UPDATE SET issue = excluded.issue, "
          "runs_total = workaround_totals.runs_total + excluded.runs_total, refusals_total = "
          "workaround_totals.refusals_total + excluded.refusals_total",
          {P(e.workaround_id), P(e.issue), P(int64_t{!refused}), P(int64_t{refused})});
      return wt.ok() ? Status::Ok() : wt.status();
    }
  }

  // ---- AdmissionLedger: limits, latch and insert under the admission lock ----

  Result<ExecutionId> Admit(const Decision& decide) override {
    ExecutionId id = 0;
    std::optional<ExecutionId> lost_to;
    NewExecution e;
    Status st = InTx([&](PgConn& c) -> Status {
      lost_to.reset();
      STOPGAP_RETURN_IF_ERROR(internal::PgLockAdmission(c, options_.admission_timeout));
      internal::PgAdmissionView view(c);
      Result<NewExecution> d = decide(view, view);
      if (!d.ok()) return d.status();
      e = std::move(*d);
      // A refusal of a firing window another node claimed (its run or its
      // refusal committed before we took the lock) fails kAlreadyExists in
      // the insert: a duplicate of that, not a refusal; its trip rolls back.
      return InsertExecution(c, e, &id, &lost_to);
    });
    return Created(e, st, id, lost_to);
  }

  Status InsertTransition(PgConn& c, ExecutionId id, ExecutionState s, int64_t at,
                          std::string_view detail) {
    Result<PgResult> r =
        c.Run("insert_transition",
              "INSERT INTO transitions(execution_id, state, at, detail) VALUES ($1,$2,$3,$4)",
              {P(id), P(ExecutionStateName(s)), P(at), P(detail)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status Update(ExecutionId id, const ExecutionUpdate& u) override {
    Status st = WriteUpdate(id, u);
    if (!st.ok() && u.fenced && internal::IsConnectionError(st)) {
      // Fenced and cut off: kept until the database answers (FlushFenced).
      std::lock_guard lock(fenced_mu_);
      fenced_pending_[id] = u;
      return st.WithContext("kept; written once the database answers");
    }
    return st;
  }

  // Writes the records of fenced executions that waited for the database.
  // Called after a renewal committed. An update that fails on a lost
  // connection again stays; any other outcome ends its wait.
  void FlushFenced() {
    std::map<ExecutionId, ExecutionUpdate> pending;
    {
      std::lock_guard lock(fenced_mu_);
      pending = fenced_pending_;
    }
    for (const auto& [id, u] : pending) {
      Status st = WriteUpdate(id, u);
      if (!st.ok() && internal::IsConnectionError(st)) return;
      if (!st.ok()) {
        Log(LogLevel::kError, "cannot record a fenced execution",
            {{"execution", std::to_string(id)}, {"error", st.ToString()}});
      } else {
        Log(LogLevel::kWarn, "fenced execution recorded interrupted",
            {{"execution", std::to_string(id)}});
      }
      std::lock_guard lock(fenced_mu_);
      fenced_pending_.erase(id);
    }
  }

  Status WriteUpdate(ExecutionId id, const ExecutionUpdate& u) {
    const int64_t at = Ms(u.at);
    return InTx([&](PgConn& c) -> Status {
      Result<PgResult> q =
          c.Run("lock_execution", "SELECT state FROM executions WHERE id = $1 FOR UPDATE", {P(id)});
      if (!q.ok()) return q.status();
      if (q->Rows() == 0) return NotFound("execution " + std::to_string(id));
      Result<ExecutionState> cur = ParseExecutionState(q->Text(0, 0));
      if (cur.ok() && u.fenced && *cur == ExecutionState::kInterrupted) {
        // Another node marked it interrupted after its lease lapsed (or this
        // record landed before): its steps, once; no second interrupted record.
        return AddFencedSteps(c, id, u.steps);
      }
      if (cur.ok() && IsTerminal(*cur)) {
        return FailedPrecondition("execution " + std::to_string(id) + " is already " +
                                  std::string(ExecutionStateName(*cur)));
      }
      if (u.state == ExecutionState::kRefused) {
        if (!cur.ok() || *cur != ExecutionState::kMatched) {
          return FailedPrecondition("execution " + std::to_string(id) +
                                    " has started: it can no longer be refused");
        }
        STOPGAP_RETURN_IF_ERROR(MoveToRefusals(c, id, u.refusal_reason));
      }
      for (const TransitionRecord& t : u.passed) {
        STOPGAP_RETURN_IF_ERROR(InsertTransition(c, id, t.state, Ms(t.at), t.detail));
      }
      if (u.state) {
        Result<PgResult> up =
            c.Run("update_state",
                  "UPDATE executions SET state = $1, updated_at = $2, finished_at = $3, "
                  "detail = COALESCE($4, detail) WHERE id = $5",
                  {P(ExecutionStateName(*u.state)), P(at),
                   IsTerminal(*u.state) ? P(std::optional<int64_t>(at)) : std::nullopt,
                   u.detail ? P(*u.detail) : std::nullopt, P(id)});
        if (!up.ok()) return up.status();
        STOPGAP_RETURN_IF_ERROR(InsertTransition(c, id, *u.state, at, u.detail.value_or("")));
        if (*u.state == ExecutionState::kSucceeded) {
          // Its verify passed: the degradation it answered ends here, unless
          // a resolve ended it first.
          Result<PgResult> end = c.Run(
              "end_degraded",
              "UPDATE executions SET degraded_end = $1 WHERE id = $2 AND degraded_end IS NULL",
              {P(at), P(id)});
          if (!end.ok()) return end.status();
        }
      } else if (u.detail) {
        Result<PgResult> up = c.Run(
            "update_detail", "UPDATE executions SET detail = $1, updated_at = $2 WHERE id = $3",
            {P(*u.detail), P(at), P(id)});
        if (!up.ok()) return up.status();
      }
      if (u.approval_deadline) {
        Result<PgResult> up = c.Run("set_approval_deadline",
                                    "UPDATE executions SET approval_deadline = $1 WHERE id = $2",
                                    {P(Ms(*u.approval_deadline)), P(id)});
        if (!up.ok()) return up.status();
      }
      if (u.bundle_dir) {
        Result<PgResult> up = c.Run(
            "update_bundle", "UPDATE executions SET bundle_dir = $1, updated_at = $2 WHERE id = $3",
            {P(*u.bundle_dir), P(at), P(id)});
        if (!up.ok()) return up.status();
      }
      return InsertSteps(c, id, u.steps);
    });
  }

  Status InsertSteps(PgConn& c, ExecutionId id, const std::vector<StepRecord>& steps) {
    for (const StepRecord& s : steps) {
      Result<PgResult> ins =
          c.Run("insert_step",
                "INSERT INTO steps(execution_id, phase, idx, kind, argv_json, outcome, exit_code, "
                "signal, timed_out, truncated, started_at, finished_at, duration_ms, files_json, "
                "error) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
                {P(id), P(StepPhaseName(s.phase)), P(int64_t{s.index}), P(s.kind),
                 P(ListJson(s.kind == "run" ? masker_.MaskArgv(s.argv) : s.argv)),
                 P(StepOutcomeName(s.outcome)),
                 P(s.exit_code ? std::optional<int64_t>(*s.exit_code) : std::nullopt),
                 P(int64_t{s.signal}), P(int64_t{s.timed_out}), P(int64_t{s.truncated}),
                 P(Ms(s.started_at)), P(Ms(s.finished_at)), P(int64_t{s.duration.count()}),
                 P(ListJson(s.files)), P(s.error)});
      if (!ins.ok()) return ins.status();
    }
    return Status::Ok();
  }

  // The steps of a fenced record whose execution is already interrupted,
  // unless a fenced step of it is recorded already (a retry after a COMMIT
  // whose outcome was unknown): written once.
  Status AddFencedSteps(PgConn& c, ExecutionId id, const std::vector<StepRecord>& steps) {
    Result<PgResult> q = c.Run(
        "fenced_steps", "SELECT 1 FROM steps WHERE execution_id = $1 AND outcome = $2 LIMIT 1",
        {P(id), P(StepOutcomeName(StepOutcome::kFenced))});
    if (!q.ok()) return q.status();
    if (q->Rows() > 0) return Status::Ok();
    return InsertSteps(c, id, steps);
  }

  Status MoveToRefusals(PgConn& c, ExecutionId id, const std::string& reason) {
    Result<PgResult> a = c.Run(
        "refuse_execution",
        "UPDATE executions SET refusal_reason = $1, owner = '', lease_until = NULL WHERE id = $2",
        {P(reason), P(id)});
    if (!a.ok()) return a.status();
    // It never acted: its claim goes, so a later notification may act.
    Result<PgResult> d = c.Run("unclaim", "DELETE FROM claims WHERE execution_id = $1", {P(id)});
    if (!d.ok()) return d.status();
    Result<PgResult> b = c.Run(
        "refuse_issue_totals",
        "UPDATE issue_totals SET runs_total = runs_total - 1, refusals_total = refusals_total + "
        "1 WHERE issue = (SELECT issue FROM executions WHERE id = $1)",
        {P(id)});
    if (!b.ok()) return b.status();
    Result<PgResult> w = c.Run(
        "refuse_workaround_totals",
        "UPDATE workaround_totals SET runs_total = runs_total - 1, refusals_total = "
        "refusals_total + 1 WHERE workaround_id = (SELECT workaround_id FROM executions WHERE "
        "id = $1)",
        {P(id)});
    return w.ok() ? Status::Ok() : w.status();
  }

  Result<int64_t> MarkUnfinishedInterrupted(WallTime now) override {
    int64_t n = 0, others = 0;
    const int64_t at = Ms(now);
    Status st = InTx([&](PgConn& c) -> Status {
      n = 0;
      others = 0;
      Result<PgResult> q = c.Run("lapsed", States().lapsed, {P(at)});
      if (!q.ok()) return q.status();
      for (int i = 0; i < q->Rows(); ++i) {
        const ExecutionId id = q->Int(i, 0);
        std::string detail = "the node running it (" + q->Text(i, 2) +
                             ") stopped renewing its lease while it was " + q->Text(i, 1) +
                             "; it is not re-run by itself (only with resume: rerun)";
        Result<PgResult> up = c.Run(
            "interrupt",
            "UPDATE executions SET state = $1, updated_at = $2, finished_at = $2, detail = $3, "
            "lease_until = NULL WHERE id = $4",
            {P(ExecutionStateName(ExecutionState::kInterrupted)), P(at), P(detail), P(id)});
        if (!up.ok()) return up.status();
        STOPGAP_RETURN_IF_ERROR(InsertTransition(c, id, ExecutionState::kInterrupted, at, detail));
        ++n;
        if (q->Text(i, 2) != self_) ++others;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (n > 0) {
      failovers_ += others;  // failovers: another node's executions
      Log(LogLevel::kWarn, "executions whose node stopped renewing their lease marked interrupted",
          {{"count", std::to_string(n)}});
    }
    return n;
  }

  // ---- queries ----

  Result<std::vector<ExecutionRecord>> ListExecutions(const ExecutionFilter& f) override {
    return QueryRows<ExecutionRecord>(
        "list_executions",
        "SELECT " STOPGAP_PG_EXECUTION_COLUMNS
        "FROM executions WHERE ($1::text = '' OR workaround_id = $1::text) AND "
        "($2::text = '' OR issue = $2::text) AND id < $3::bigint ORDER BY id DESC "
        "LIMIT $4::bigint",
        {P(f.workaround_id), P(f.issue),
         P(f.before_id.value_or(std::numeric_limits<int64_t>::max())),
         P(int64_t{std::clamp(f.limit, 1, 1000)})},
        ReadExecution);
  }

  Result<ExecutionRecord> GetExecution(ExecutionId id) override {
    ExecutionRecord r;
    Status st = InTx([&](PgConn& c) -> Status {
      Result<PgResult> q =
          c.Run("get_execution",
                "SELECT " STOPGAP_PG_EXECUTION_COLUMNS "FROM executions WHERE id = $1", {P(id)});
      if (!q.ok()) return q.status();
      if (q->Rows() == 0) return NotFound("no execution " + std::to_string(id));
      r = ReadExecution(*q, 0);
      Result<PgResult> s = c.Run(
          "get_steps",
          "SELECT phase, idx, kind, argv_json, outcome, exit_code, signal, timed_out, truncated, "
          "started_at, finished_at, duration_ms, files_json, error FROM steps WHERE "
          "execution_id = $1 ORDER BY id",
          {P(id)});
      if (!s.ok()) return s.status();
      for (int i = 0; i < s->Rows(); ++i) {
        StepRecord x;
        std::string phase = s->Text(i, 0);
        x.phase = phase == "action"   ? StepPhase::kAction
                  : phase == "verify" ? StepPhase::kVerify
                                      : StepPhase::kDiagnostics;
        x.index = static_cast<int>(s->Int(i, 1));
        x.kind = s->Text(i, 2);
        x.argv = JsonList(s->Text(i, 3));
        Result<StepOutcome> outcome = ParseStepOutcome(s->Text(i, 4));
        x.outcome = outcome.ok() ? *outcome : StepOutcome::kError;
        if (auto e = s->OptInt(i, 5)) x.exit_code = static_cast<int>(*e);
        x.signal = static_cast<int>(s->Int(i, 6));
        x.timed_out = s->Int(i, 7) != 0;
        x.truncated = s->Int(i, 8) != 0;
        x.started_at = FromMs(s->Int(i, 9));
        x.finished_at = FromMs(s->Int(i, 10));
        x.duration = Duration(s->Int(i, 11));
        x.files = JsonList(s->Text(i, 12));
        x.error = s->Text(i, 13);
        r.steps.push_back(std::move(x));
      }
      Result<PgResult> t = c.Run(
          "get_transitions",
          "SELECT state, at, detail FROM transitions WHERE execution_id = $1 ORDER BY id", {P(id)});
      if (!t.ok()) return t.status();
      for (int i = 0; i < t->Rows(); ++i) {
        TransitionRecord x;
        Result<ExecutionState> s2 = ParseExecutionState(t->Text(i, 0));
        x.state = s2.ok() ? *s2 : ExecutionState::kInterrupted;
        x.at = FromMs(t->Int(i, 1));
        x.detail = t->Text(i, 2);
        r.transitions.push_back(std::move(x));
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return r;
  }

  Result<std::vector<IssueCounts>> CountByIssue(WallTime now) override {
    // COLLATE "C": the order SQLite gives (bytewise), whatever the database's locale.
    return QueryRows<IssueCounts>(
        "count_by_issue",
        "SELECT t.issue, t.runs_total, t.refusals_total, "
        "(SELECT COUNT(*) FROM executions e WHERE e.issue = t.issue AND e.state != "
        "'refused' AND e.created_at > $1), "
        "(SELECT COUNT(*) FROM executions e WHERE e.issue = t.issue AND e.state != "
        "'refused' AND e.created_at > $2), "
        "(SELECT COALESCE(string_agg(workaround_id, E'\\n' ORDER BY workaround_id COLLATE "
        "\"C\"), '') FROM workaround_totals w WHERE w.issue = t.issue) "
        "FROM issue_totals t ORDER BY t.issue COLLATE \"C\"",
        {P(Ms(now - std::chrono::hours(24))), P(Ms(now - std::chrono::hours(24 * 7)))},
        [](const PgResult& q, int i) {
          IssueCounts x;
          x.issue = q.Text(i, 0);
          x.runs_total = q.Int(i, 1);
          x.refusals_total = q.Int(i, 2);
          x.runs_24h = q.Int(i, 3);
          x.runs_7d = q.Int(i, 4);
          x.workarounds = internal::SplitNewlines(q.Text(i, 5));
          return x;
        });
  }

  Result<std::vector<WorkaroundCounts>> CountByWorkaround(WallTime now) override {
    return QueryRows<WorkaroundCounts>(
        "count_by_workaround",
        "SELECT w.workaround_id, w.issue, w.runs_total, w.refusals_total, "
        "(SELECT COUNT(*) FROM executions e WHERE e.workaround_id = w.workaround_id AND "
        "e.state != 'refused' AND e.created_at > $1), "
        "(SELECT COUNT(*) FROM executions e WHERE e.workaround_id = w.workaround_id AND "
        "e.state != 'refused' AND e.created_at > $2), "
        "l.id, l.state, l.refusal_reason, COALESCE(l.finished_at, l.updated_at) "
        "FROM workaround_totals w LEFT JOIN executions l ON l.id = (SELECT MAX(id) FROM "
        "executions x WHERE x.workaround_id = w.workaround_id) "
        "ORDER BY w.workaround_id COLLATE \"C\"",
        {P(Ms(now - std::chrono::hours(24))), P(Ms(now - std::chrono::hours(24 * 7)))},
        [](const PgResult& q, int i) {
          WorkaroundCounts x;
          x.workaround_id = q.Text(i, 0);
          x.issue = q.Text(i, 1);
          x.runs_total = q.Int(i, 2);
          x.refusals_total = q.Int(i, 3);
          x.runs_24h = q.Int(i, 4);
          x.runs_7d = q.Int(i, 5);
          x.last_execution_id = q.OptInt(i, 6);
          x.last_result = q.Text(i, 7);
          x.last_refusal_reason = q.Text(i, 8);
          if (auto t = q.OptInt(i, 9)) x.last_at = FromMs(*t);
          return x;
        });
  }

  // ---- limits (shared tables: they hold across nodes) ----

  Result<int64_t> Scalar(const char* name, const std::string& sql, std::vector<PgParam> params,
                         Mode mode = Mode::kRead) {
    int64_t v = 0;
    Status st = InTx(
        [&](PgConn& c) -> Status {
          Result<PgResult> q = c.Run(name, sql, params);
          if (!q.ok()) return q.status();
          v = q->Int(0, 0);
          return Status::Ok();
        },
        mode);
    if (!st.ok()) return st;
    return v;
  }

  Result<std::optional<int64_t>> OptScalar(const char* name, const std::string& sql,
                                           std::vector<PgParam> params) {
    std::optional<int64_t> v;
    Status st = InTx(
        [&](PgConn& c) -> Status {
          v.reset();
          Result<PgResult> q = c.Run(name, sql, params);
          if (!q.ok()) return q.status();
          if (q->Rows() > 0) v = q->OptInt(0, 0);
          return Status::Ok();
        },
        Mode::kRead);
    if (!st.ok()) return st;
    return v;
  }

  // Runs `f` on a pooled connection (Mode as InTx) and returns its result.
  template <typename T>
  Result<T> On(Mode mode, const std::function<Result<T>(PgConn&)>& f) {
    std::optional<Result<T>> out;
    Status st = InTx(
        [&](PgConn& c) -> Status {
          out.emplace(f(c));
          return out->ok() ? Status::Ok() : out->status();
        },
        mode);
    if (!st.ok()) return st;
    return std::move(*out);
  }

  Result<int64_t> CountRunsSince(std::string_view workaround_id, WallTime since) override {
    return On<int64_t>(Mode::kRead, [&](PgConn& c) {
      return internal::PgCountRunsSince(c, workaround_id, since);
    });
  }

  Result<int64_t> CountInFlight(std::string_view workaround_id) override {
    return On<int64_t>(Mode::kRead,
                       [&](PgConn& c) { return internal::PgCountInFlight(c, workaround_id); });
  }

  Result<std::optional<WallTime>> LastRunAt(std::string_view workaround_id) override {
    return On<std::optional<WallTime>>(
        Mode::kRead, [&](PgConn& c) { return internal::PgLastRunAt(c, workaround_id); });
  }

  // ---- GroupLimitsLedger ----

  Result<int64_t> CountGroupRunsSince(std::string_view workaround_id,
                                      const std::map<std::string, std::string>& group,
                                      WallTime since) override {
    return On<int64_t>(Mode::kRead, [&](PgConn& c) {
      return internal::PgCountGroupRunsSince(c, workaround_id, group, since);
    });
  }

  Result<int64_t> CountGroupInFlight(std::string_view workaround_id,
                                     const std::map<std::string, std::string>& group) override {
    return On<int64_t>(Mode::kRead, [&](PgConn& c) {
      return internal::PgCountGroupInFlight(c, workaround_id, group);
    });
  }

  Result<std::optional<WallTime>> GroupLastRunAt(
      std::string_view workaround_id, const std::map<std::string, std::string>& group) override {
    return On<std::optional<WallTime>>(Mode::kRead, [&](PgConn& c) {
      return internal::PgGroupLastRunAt(c, workaround_id, group);
    });
  }

  Result<int64_t> RecordResolve(std::string_view fingerprint, WallTime at) override {
    if (fingerprint.empty()) return int64_t{0};
    return On<int64_t>(Mode::kTransaction, [&](PgConn& c) -> Result<int64_t> {
      Result<PgResult> up = c.Run("record_resolve",
                                  "UPDATE executions SET degraded_end = $1 WHERE fingerprint = $2 "
                                  "AND degraded_end IS NULL AND (instance_start IS NULL OR "
                                  "instance_start <= $1)",
                                  {P(Ms(at)), P(fingerprint)});
      if (!up.ok()) return up.status();
      return up->Changes();
    });
  }

  Result<std::vector<ExecutionRecord>> ListRunsSince(WallTime since, int limit) override {
    return QueryRows<ExecutionRecord>(
        "list_runs_since",
        "SELECT " STOPGAP_PG_EXECUTION_COLUMNS
        "FROM executions WHERE created_at >= $1 AND state != 'refused' ORDER BY id "
        "LIMIT $2",
        {P(Ms(since)), P(int64_t{std::clamp(limit, 1, 100000)})}, ReadExecution);
  }

  // One read statement (Mode::kRead: run without a transaction, retried on a
  // new connection after a lost one) and its rows, each made by `row`; a
  // retry builds the list afresh.
  template <typename T>
  Result<std::vector<T>> QueryRows(const char* name, const std::string& sql,
                                   const std::vector<PgParam>& params,
                                   const std::function<T(const PgResult&, int)>& row) {
    return On<std::vector<T>>(Mode::kRead, [&](PgConn& c) -> Result<std::vector<T>> {
      Result<PgResult> q = c.Run(name, sql, params);
      if (!q.ok()) return q.status();
      std::vector<T> out;
      out.reserve(static_cast<size_t>(q->Rows()));
      for (int i = 0; i < q->Rows(); ++i) out.push_back(row(*q, i));
      return out;
    });
  }

  // ---- ApprovalLedger ----

  Result<std::vector<ExecutionRecord>> ListAwaitingApproval(int limit) override {
    return QueryRows<ExecutionRecord>(
        "list_awaiting_approval",
        "SELECT " STOPGAP_PG_EXECUTION_COLUMNS
        "FROM executions WHERE state = 'awaiting-approval' ORDER BY id LIMIT $1",
        {P(int64_t{std::clamp(limit, 1, 1000)})}, ReadExecution);
  }

  // The row is locked (FOR UPDATE): of two nodes deciding at once, the
  // second waits, then reads the first one's decision and is refused.
  Result<ExecutionRecord> Decide(ExecutionId id, const ApprovalRecord& d) override {
    Status st = InTx([&](PgConn& c) -> Status {
      Result<PgResult> q =
          c.Run("lock_execution", "SELECT state FROM executions WHERE id = $1 FOR UPDATE", {P(id)});
      if (!q.ok()) return q.status();
      if (q->Rows() == 0) return NotFound("no execution " + std::to_string(id));
      if (q->Text(0, 0) != ExecutionStateName(ExecutionState::kAwaitingApproval)) {
        return FailedPrecondition("execution " + std::to_string(id) + " is " + q->Text(0, 0) +
                                  ", not awaiting approval");
      }
      const ExecutionState next = internal::StateAfter(d.decision);
      const bool terminal = IsTerminal(next);
      const int64_t at = Ms(d.at);
      const std::string detail = internal::DecisionDetail(d);
      // Approved: this node owns it from now on, under a lease it renews.
      Result<PgResult> up =
          c.Run("decide",
                "UPDATE executions SET state = $1, updated_at = $2, finished_at = $3, detail = $4, "
                "owner = $5, lease_until = $6, approval_decision = $7, approval_by = $8, "
                "approval_comment = $9, approval_at = $2 WHERE id = $10",
                {P(ExecutionStateName(next)), P(at),
                 terminal ? P(std::optional<int64_t>(at)) : std::nullopt, P(detail),
                 P(terminal ? std::string() : self_),
                 terminal ? std::nullopt : P(Ms(clock_.Now() + options_.lease)),
                 P(ApprovalDecisionName(d.decision)), P(d.by), P(d.comment), P(id)});
      if (!up.ok()) return up.status();
      return InsertTransition(c, id, next, at, detail);
    });
    if (!st.ok()) return st;
    return GetExecution(id);
  }

  Result<std::vector<ApprovalCounts>> CountApprovals() override {
    return QueryRows<ApprovalCounts>(
        "count_approvals",
        "SELECT workaround_id, "
        "COUNT(*) FILTER (WHERE approval_decision = 'approved'), "
        "COUNT(*) FILTER (WHERE approval_decision = 'denied'), "
        "COUNT(*) FILTER (WHERE approval_decision = 'expired'), "
        "COUNT(*) FILTER (WHERE state = 'awaiting-approval'), "
        "COUNT(*) FILTER (WHERE approval_decision = 'approved' AND state = 'succeeded'), "
        "COUNT(*) FILTER (WHERE approval_decision = 'approved' AND state IN "
        "('failed','interrupted')) "
        "FROM executions WHERE mode = 'approve' GROUP BY workaround_id "
        "ORDER BY workaround_id COLLATE \"C\"",
        {}, [](const PgResult& q, int i) {
          ApprovalCounts x;
          x.workaround_id = q.Text(i, 0);
          x.approved = q.Int(i, 1);
          x.denied = q.Int(i, 2);
          x.expired = q.Int(i, 3);
          x.pending = q.Int(i, 4);
          x.succeeded = q.Int(i, 5);
          x.failed = q.Int(i, 6);
          return x;
        });
  }

  // ---- BreakerLedger: writes under the admission lock (pg_roles.h) ----

  Result<BreakerState> GetBreaker() override {
    return On<BreakerState>(Mode::kRead, [](PgConn& c) { return internal::PgGetBreaker(c); });
  }

  Result<bool> TripBreaker(std::string_view reason, WallTime at) override {
    return On<bool>(Mode::kTransaction, [&](PgConn& c) -> Result<bool> {
      STOPGAP_RETURN_IF_ERROR(internal::PgLockAdmission(c, options_.admission_timeout));
      return internal::PgTripBreaker(c, reason, at);
    });
  }

  Result<BreakerState> ResetBreaker(const BreakerReset& r) override {
    return On<BreakerState>(Mode::kTransaction, [&](PgConn& c) -> Result<BreakerState> {
      STOPGAP_RETURN_IF_ERROR(internal::PgLockAdmission(c, options_.admission_timeout));
      return internal::PgResetBreaker(c, r);
    });
  }

  // ---- alerts ----

  Result<AlertId> RecordAlert(const Alert& a, WallTime received_at, AlertDisposition d,
                              std::string_view reason,
                              std::optional<ExecutionId> execution) override {
    const std::string labels = MapJson(masker_.MaskMap(a.labels));
    const std::string annotations = MapJson(masker_.MaskMap(a.annotations));
    AlertId id = 0;
    Status st = InTx([&](PgConn& c) -> Status {
      Result<PgResult> q =
          c.Run("record_alert",
                "INSERT INTO alerts(received_at, source, fingerprint, name, status, labels_json, "
                "annotations_json, disposition, reason, execution_id, token) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
                {P(Ms(received_at)), P(a.source), P(a.fingerprint), P(a.name),
                 P(a.status == AlertStatus::kResolved ? "resolved" : "firing"), P(labels),
                 P(annotations), P(AlertDispositionName(d)), P(reason), P(execution), P(a.token)});
      if (!q.ok()) return q.status();
      id = q->Int(0, 0);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return id;
  }

  Status SetAlertDisposition(AlertId id, AlertDisposition d, std::optional<ExecutionId> exec,
                             std::string_view reason) override {
    return InTx([&](PgConn& c) -> Status {
      Result<PgResult> q =
          c.Run("set_alert_disposition",
                "UPDATE alerts SET disposition = $1, execution_id = $2, reason = $3 WHERE id = $4",
                {P(AlertDispositionName(d)), P(exec), P(reason), P(id)});
      if (!q.ok()) return q.status();
      if (q->Changes() == 0) return NotFound("no alert " + std::to_string(id));
      return Status::Ok();
    });
  }

  Result<std::vector<AlertRecord>> ListAlerts(int limit) override {
    return QueryRows<AlertRecord>(
        "list_alerts",
        "SELECT id, received_at, source, fingerprint, name, status, labels_json, disposition, "
        "execution_id, reason, token, annotations_json FROM alerts ORDER BY id DESC LIMIT $1",
        {P(int64_t{std::clamp(limit, 1, 1000)})}, [](const PgResult& q, int i) {
          AlertRecord a;
          a.id = q.Int(i, 0);
          a.received_at = FromMs(q.Int(i, 1));
          a.source = q.Text(i, 2);
          a.fingerprint = q.Text(i, 3);
          a.name = q.Text(i, 4);
          a.status = q.Text(i, 5);
          a.labels_json = q.Text(i, 6);
          std::string d = q.Text(i, 7);
          for (AlertDisposition x : {AlertDisposition::kReceived, AlertDisposition::kMatched,
                                     AlertDisposition::kUnmatched, AlertDisposition::kDuplicate,
                                     AlertDisposition::kResolved, AlertDisposition::kRejected}) {
            if (AlertDispositionName(x) == d) a.disposition = x;
          }
          a.execution_id = q.OptInt(i, 8);
          a.reason = q.Text(i, 9);
          a.token = q.Text(i, 10);
          a.annotations_json = q.Text(i, 11);
          return a;
        });
  }

  Result<std::optional<ExecutionId>> FindInFlightByFingerprint(
      std::string_view fingerprint) override {
    return OptScalar("in_flight_by_fingerprint", States().in_flight_by_fingerprint,
                     {P(fingerprint)});
  }

  Result<std::optional<WallTime>> LastResolvedAt(std::string_view fingerprint) override {
    Result<std::optional<int64_t>> v = OptScalar(
        "last_resolved_at",
        "SELECT MAX(received_at) FROM alerts WHERE fingerprint = $1 AND status = 'resolved'",
        {P(fingerprint)});
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<WallTime>();
    return std::optional<WallTime>(FromMs(**v));
  }

  Result<std::optional<ExecutionRecord>> LastExecutionFor(std::string_view workaround_id,
                                                          std::string_view fingerprint) override {
    Result<std::vector<ExecutionRecord>> r = QueryRows<ExecutionRecord>(
        "last_execution_for",
        "SELECT " STOPGAP_PG_EXECUTION_COLUMNS
        "FROM executions WHERE workaround_id = $1 AND fingerprint = $2 ORDER BY id DESC LIMIT 1",
        {P(workaround_id), P(fingerprint)}, ReadExecution);
    if (!r.ok()) return r.status();
    if (r->empty()) return std::optional<ExecutionRecord>();
    return std::optional<ExecutionRecord>(std::move(r->front()));
  }

  // ---- cluster singletons ----

  Result<bool> HoldSingleton(std::string_view name, WallTime now, Duration lease) override {
    bool held = false;
    Status st = InTx([&](PgConn& c) -> Status {
      // Take it when free or lapsed, renew it when ours; one statement, so two
      // nodes racing for a lapsed lease serialise on the row.
      Result<PgResult> q =
          c.Run("hold_singleton",
                "INSERT INTO singleton_leases(name, holder, until_ms) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = "
                "excluded.until_ms WHERE singleton_leases.holder = excluded.holder OR "
                "singleton_leases.until_ms < $4 RETURNING holder",
                {P(name), P(self_), P(Ms(now + lease)), P(Ms(now))});
      if (!q.ok()) return q.status();
      held = q->Rows() == 1;
      return Status::Ok();
    });
    {
      std::lock_guard lock(health_mu_);
      // Not held (or unknown after an error): it lapsed for us, if we had it.
      singletons_[std::string(name)] = st.ok() && held ? now + lease : WallTime{};
    }
    if (!st.ok()) return st;
    return held;
  }

  // ---- reruns (resume: rerun) ----

  Result<std::vector<ExecutionRecord>> ListRerunCandidates(int limit) override {
    return QueryRows<ExecutionRecord>(
        "rerun_candidates",
        "SELECT " STOPGAP_PG_EXECUTION_COLUMNS
        "FROM executions WHERE state = 'interrupted' AND resume = 'rerun' AND rerun_of IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM executions r WHERE r.rerun_of = executions.id) "
        "ORDER BY id LIMIT $1",
        {P(int64_t{std::clamp(limit, 1, 1000)})}, ReadExecution);
  }

  // ---- retention ----

  Result<PruneResult> Prune(WallTime before) override {
    PruneResult r;
    const int64_t t = Ms(before);
    Status st = InTx([&](PgConn& c) -> Status {
      Result<PgResult> e = c.Run("prune_executions", States().prune, {P(t)});
      if (!e.ok()) return e.status();
      r.executions = e->Changes();
      Result<PgResult> a =
          c.Run("prune_alerts", "DELETE FROM alerts WHERE received_at < $1", {P(t)});
      if (!a.ok()) return a.status();
      r.alerts = a->Changes();
      Result<PgResult> o =
          c.Run("prune_outbox",
                "DELETE FROM tracker_outbox WHERE done_at IS NOT NULL AND done_at < $1", {P(t)});
      if (!o.ok()) return o.status();
      r.outbox = o->Changes();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return r;
  }

  // ---- outbox ----

  Result<int64_t> Enqueue(const OutboxItem& item) override {
    return Scalar("enqueue",
                  "INSERT INTO tracker_outbox(issue, kind, payload_json, created_at, attempts, "
                  "next_attempt_at) VALUES ($1,$2,$3,$4,0,$5) RETURNING id",
                  {P(item.issue), P(item.kind), P(item.payload_json), P(Ms(item.created_at)),
                   P(Ms(item.next_attempt_at))},
                  Mode::kTransaction);
  }

  Result<std::vector<OutboxItem>> ListDue(WallTime now, int limit) override {
    return QueryRows<OutboxItem>(
        "list_due",
        "SELECT id, issue, kind, payload_json, created_at, attempts, next_attempt_at, "
        "last_error FROM tracker_outbox WHERE done_at IS NULL AND next_attempt_at <= $1 "
        "ORDER BY next_attempt_at, id LIMIT $2",
        {P(Ms(now)), P(int64_t{std::clamp(limit, 1, 1000)})}, [](const PgResult& q, int i) {
          OutboxItem o;
          o.id = q.Int(i, 0);
          o.issue = q.Text(i, 1);
          o.kind = q.Text(i, 2);
          o.payload_json = q.Text(i, 3);
          o.created_at = FromMs(q.Int(i, 4));
          o.attempts = static_cast<int>(q.Int(i, 5));
          o.next_attempt_at = FromMs(q.Int(i, 6));
          o.last_error = q.Text(i, 7);
          return o;
        });
  }

  Status MarkDone(int64_t id, WallTime at) override {
    return InTx([&](PgConn& c) -> Status {
      Result<PgResult> q = c.Run(
          "mark_done", "UPDATE tracker_outbox SET done_at = $1 WHERE id = $2", {P(Ms(at)), P(id)});
      if (!q.ok()) return q.status();
      if (q->Changes() == 0) return NotFound("no outbox item " + std::to_string(id));
      return Status::Ok();
    });
  }

  Status MarkAttempt(int64_t id, WallTime next_attempt_at, std::string_view error) override {
    return InTx([&](PgConn& c) -> Status {
      Result<PgResult> q = c.Run("mark_attempt",
                                 "UPDATE tracker_outbox SET attempts = attempts + 1, "
                                 "next_attempt_at = $1, last_error = $2 WHERE id = $3",
                                 {P(Ms(next_attempt_at)), P(error), P(id)});
      if (!q.ok()) return q.status();
      if (q->Changes() == 0) return NotFound("no outbox item " + std::to_string(id));
      return Status::Ok();
    });
  }

 private:
  const Clock& clock_;
  const SecretMasker masker_;
  const PgLedgerOptions options_;
  const std::string url_;  // redacted
  PgPool pool_;
  const std::string self_;
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread housekeeper_;
  std::atomic<int64_t> claims_won_{0}, claims_lost_{0}, renewals_{0}, renewal_failures_{0},
      reconnects_{0}, failovers_{0};
  mutable std::mutex health_mu_;  // guards the four below
  std::optional<WallTime> last_contact_;
  std::string last_error_;
  std::map<std::string, WallTime> singletons_;  // name -> held until (past: not held)
  std::optional<MonoTime> last_renewal_;        // ClusterHealth::last_renewal
  mutable std::mutex fenced_mu_;                // guards fenced_pending_
  // Records of fenced executions waiting for the database (Update, FlushFenced).
  std::map<ExecutionId, ExecutionUpdate> fenced_pending_;
};

// Splits our own parameters (lease=, admission_timeout=) off a libpq URL;
// libpq refuses unknown ones.
Result<std::string> TakeOptions(std::string url, PgLedgerOptions* o) {
  size_t q = url.find('?');
  if (q == std::string::npos) return url;
  std::string kept;
  size_t start = q + 1;
  while (start <= url.size()) {
    size_t amp = url.find('&', start);
    if (amp == std::string::npos) amp = url.size();
    std::string kv = url.substr(start, amp - start);
    if (kv.starts_with("lease=")) {
      Result<Duration> d = ParseDuration(kv.substr(6));
      if (!d.ok() || *d < std::chrono::seconds(1)) {
        return InvalidArgument("ledger URL: lease= wants a duration of at least 1s, e.g. 30s");
      }
      o->lease = *d;
    } else if (kv.starts_with("admission_timeout=")) {
      Result<Duration> d = ParseDuration(kv.substr(18));
      if (!d.ok() || *d < std::chrono::milliseconds(1)) {
        return InvalidArgument(
            "ledger URL: admission_timeout= wants a duration of at least 1ms, e.g. 5s");
      }
      o->admission_timeout = *d;
    } else if (!kv.empty()) {
      kept += (kept.empty() ? "" : "&") + kv;
    }
    start = amp + 1;
  }
  return url.substr(0, q) + (kept.empty() ? "" : "?" + kept);
}

}  // namespace

Result<std::unique_ptr<ExecutionLedger>> OpenPostgresLedger(const std::string& url,
                                                            const Clock& clock,
                                                            const std::vector<std::string>& redact,
                                                            PgLedgerOptions options) {
  Result<std::string> conninfo = TakeOptions(url, &options);
  if (!conninfo.ok()) return conninfo.status();
  Result<SecretMasker> masker = SecretMasker::Create(redact);
  if (!masker.ok()) return masker.status();
  auto ledger =
      std::make_unique<PgLedger>(clock, std::move(*masker), std::move(*conninfo), options);
  STOPGAP_RETURN_IF_ERROR(ledger->Open(options.for_reading));
  if (!options.for_reading) {
    Result<int64_t> n = ledger->MarkUnfinishedInterrupted(clock.Now());
    if (!n.ok()) return n.status();
  }
  return std::unique_ptr<ExecutionLedger>(std::move(ledger));
}

}  // namespace stopgap::remedy

namespace stopgap::remedy::internal {

// For the export/import tables (internal/ledger_tables.h): the libpq conninfo
// of a ledger URL, without stopgap's own parameters.
Result<std::string> PgConninfo(const std::string& url) {
  PgLedgerOptions ignored;
  return TakeOptions(url, &ignored);
}

}  // namespace stopgap::remedy::internal

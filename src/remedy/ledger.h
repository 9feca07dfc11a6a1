// The execution ledger: every execution (run or refusal) with its state
// history and steps, the alerts received, per-issue and per-workaround totals
// that survive pruning, and a durable outbox for issue-tracker updates.
// Durable format: docs/ledger-schema.md (schema_version table, numbered
// migrations). SqliteLedger is the embedded implementation; PgLedger
// (pg_ledger.cc) the one several nodes share, with claims and leases.
//
//   Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(catalog.ledger, clock);
//   ExecutionId id = *(*l)->CreateExecution({.workaround_id = "x", ...});
//
// States: matched -> refused | diagnosing -> acting -> verifying ->
// succeeded | failed; an execution its process did not finish reads
// interrupted (set by MarkUnfinishedInterrupted, which Open runs), never re-run
// by itself: only a workaround with `resume: rerun` runs once more, as a new
// execution linked to it (rerun_of; RerunLedger).
// A workaround in `mode: observe` ends diagnosing -> observed (the action is
// recorded as would-run steps); in `mode: approve` diagnosing ->
// awaiting-approval -> acting (approved) | denied | approval-expired
// (ApprovalLedger::Decide). awaiting-approval is not terminal, but no process
// owns it: MarkUnfinishedInterrupted leaves it alone, so a restart keeps it.
//
// Durability: Update() with durable=true (the default) is committed and then
// the write-ahead log is fsynced (outside the ledger's lock) before it
// returns; that makes every earlier write durable too (one WAL). All other writes (CreateExecution,
// RecordAlert, SetAlertDisposition, Enqueue, MarkDone, MarkAttempt, Prune)
// survive a process crash once they return, and a power loss once Sync() or
// a durable Update() returns: callers that acknowledge something outside
// (the daemon's 202, `stopgap run`'s exit) call Sync() first or share one
// fsync among many requests. The engine makes a durable Update() before any
// action step starts. All times are UTC, stored as milliseconds since the
// epoch.
//
// Thread safety: every method may be called from any thread; the SQLite
// implementation serialises them on one connection with a mutex, which is
// held across an fsync only while Open() marks interrupted executions. Several
// processes may share one SQLite file (WAL; writers wait up to 5 s).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/alert.h"
#include "remedy/catalog.h"

namespace stopgap::remedy {

using ExecutionId = int64_t;
using AlertId = int64_t;

enum class ExecutionState {
  kMatched,
  kRefused,
  kDiagnosing,
  kActing,
  kVerifying,
  kSucceeded,
  kFailed,
  kInterrupted,
  kObserved,          // observe mode: diagnostics ran, the action did not
  kAwaitingApproval,  // approve mode: diagnostics ran, waiting for a person
  kDenied,            // approve mode: a person denied it
  kApprovalExpired,   // approve mode: nobody decided within approval_timeout
};
std::string_view ExecutionStateName(ExecutionState s);  // "matched", "awaiting-approval", ...
Result<ExecutionState> ParseExecutionState(std::string_view s);
// refused, succeeded, failed, interrupted, observed, denied, approval-expired.
bool IsTerminal(ExecutionState s);

enum class StepPhase { kDiagnostics, kAction, kVerify };
std::string_view StepPhaseName(StepPhase p);  // "diagnostics", "action", "verify"

// How a step ended. kOk: exit 0 / collected; kFailed: non-zero exit, a signal,
// or a collector error; kTimeout: killed at its timeout; kError: could not
// start; kStopped: stopped by a shutdown (the execution reads interrupted).
// kLegacyUnsupported is only read back from ledgers written before every
// build ran collect/guru steps; nothing produces it any more. kWouldRun: an
// action step of an observe-mode execution, recorded with its argv, not run.
// kFenced: stopped (or refused) because this node lost its cluster lease
// (ProcessRunner::Fence); the execution reads interrupted.
enum class StepOutcome {
  kOk,
  kFailed,
  kTimeout,
  kError,
  kStopped,
  kLegacyUnsupported,
  kWouldRun,
  kFenced
};
std::string_view StepOutcomeName(StepOutcome o);  // "ok", "failed", ..., "would-run"
Result<StepOutcome> ParseStepOutcome(std::string_view s);

struct StepRecord {
  StepPhase phase = StepPhase::kDiagnostics;
  int index = 0;                  // position within its phase, from 0
  std::string kind;               // "run", "collect", "guru"
  std::vector<std::string> argv;  // run: the substituted argv; else a description
  StepOutcome outcome = StepOutcome::kOk;
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  bool truncated = false;
  WallTime started_at{};
  WallTime finished_at{};
  Duration duration{0};
  std::vector<std::string> files;  // relative to the bundle directory
  std::string error;
};

struct TransitionRecord {
  ExecutionState state = ExecutionState::kMatched;
  WallTime at{};
  std::string detail;
};

struct NewExecution {
  std::string workaround_id;
  std::string issue;        // IssueRef::text
  std::string fingerprint;  // the alert's; empty for runs by hand without labels
  std::optional<AlertId> alert_id;
  std::string source;  // "alertmanager", "generic", "manual", "api"
  std::string token;   // the name of the API token that asked for it; empty: none
  std::map<std::string, std::string> labels;        // stored masked (remedy/secrets.h)
  ExecutionState state = ExecutionState::kMatched;  // kMatched or kRefused
  std::string refusal_reason;  // kRefused: "cooldown", "budget", ... (see engine.h)
  std::string detail;          // human text, e.g. "cooldown 10m: last run 3m ago"
  WallTime at{};
  // The firing instance's start (Alertmanager's startsAt) when the alert
  // carried one; unset for runs by hand and alerts without a start.
  std::optional<WallTime> instance_start;
  int attempt = 1;  // 2.. for the opt-in repeats of one firing instance
  // The limits.group_by label values (GroupOf); {} without group_by. Limits
  // count per group through GroupLimitsLedger.
  std::map<std::string, std::string> group;
  std::string mode = "auto";  // the workaround's mode: "auto", "observe", "approve"
  // The workaround's `resume:` ("escalate", "rerun"), kept with the execution:
  // what becomes of it if it is interrupted (RerunLedger).
  std::string resume = "escalate";
  // Set: this execution reruns that interrupted one. At most one execution
  // per interrupted one, made unique by the ledger (an index, not a check):
  // the second CreateExecution with the same rerun_of fails kAlreadyExists.
  std::optional<ExecutionId> rerun_of;
};

// A person's (or the timeout's) decision on an execution awaiting approval.
enum class ApprovalDecision { kApproved, kDenied, kExpired };
std::string_view ApprovalDecisionName(ApprovalDecision d);  // "approved", "denied", "expired"

struct ApprovalRecord {
  ApprovalDecision decision = ApprovalDecision::kApproved;
  std::string by;  // the API token's name; "stopgap" for an expiry
  std::string comment;
  WallTime at{};
};

struct ExecutionRecord {
  ExecutionId id = 0;
  std::string workaround_id;
  std::string issue;
  std::string fingerprint;
  std::optional<AlertId> alert_id;
  std::string source;
  std::string token;  // the API token's name; empty: none
  std::map<std::string, std::string> labels;
  ExecutionState state = ExecutionState::kMatched;
  std::string refusal_reason;
  std::string detail;
  WallTime created_at{};
  WallTime updated_at{};
  std::optional<WallTime> finished_at;
  std::string bundle_dir;                  // empty until diagnostics start
  std::optional<WallTime> instance_start;  // see NewExecution
  int attempt = 1;
  std::map<std::string, std::string> group;  // see NewExecution
  // When the degradation this execution answered ended: the execution's
  // success (its verify passed), or the first resolve of its fingerprint
  // received after its instance started (GroupLimitsLedger::RecordResolve),
  // whichever came first. Unset while open.
  std::optional<WallTime> degraded_end;
  Duration acting{0};  // the steps' durations, summed
  // degraded_end - instance_start; unset while open or without an alert start.
  std::optional<Duration> Degraded() const;
  std::string mode = "auto";                  // see NewExecution
  std::optional<WallTime> approval_deadline;  // set on entering awaiting-approval
  std::optional<ApprovalRecord> approval;     // the decision, once made
  std::string resume = "escalate";            // see NewExecution
  std::optional<ExecutionId> rerun_of;        // see NewExecution
  // Filled by GetExecution only.
  std::vector<StepRecord> steps;
  std::vector<TransitionRecord> transitions;
};

// One transaction: the state change (if any), the bundle path, the steps to
// append. Durable (fsynced) on return unless durable=false.
struct ExecutionUpdate {
  // States passed through before `state`, recorded in the history with their
  // own times (e.g. diagnosing, then acting, in one commit).
  std::vector<TransitionRecord> passed;
  std::optional<ExecutionState> state;
  std::optional<std::string> bundle_dir;
  std::optional<std::string> detail;
  // With state kRefused (allowed only from kMatched: an admitted execution
  // that never started), the refusal reason; the totals move from runs to
  // refusals.
  std::string refusal_reason;
  std::vector<StepRecord> steps;
  WallTime at{};
  bool durable = true;
  // With state kAwaitingApproval: when the wait ends (approval_timeout).
  std::optional<WallTime> approval_deadline;
  // This node fenced the execution (remedy/lease_fence.h: its lease could
  // not be renewed, its steps were stopped; state kInterrupted). PostgreSQL
  // (a SQLite ledger has no leases, so nothing fences it): another node may
  // have marked it interrupted meanwhile, then only the steps are added (no
  // second interrupted record), and once only; when the database cannot be
  // reached the ledger keeps the update and writes it once the database
  // answers again (the call still returns the error).
  bool fenced = false;
};

struct ExecutionFilter {
  std::string workaround_id;             // empty: all
  std::string issue;                     // empty: all
  std::optional<ExecutionId> before_id;  // only ids < before_id (paging)
  int limit = 50;                        // capped at 1000
};

struct IssueCounts {
  std::string issue;
  int64_t runs_24h = 0;
  int64_t runs_7d = 0;
  int64_t runs_total = 0;  // survives pruning
  int64_t refusals_total = 0;
  std::vector<std::string> workarounds;  // ids seen in the ledger for this issue
};

struct WorkaroundCounts {
  std::string workaround_id;
  std::string issue;
  int64_t runs_24h = 0;
  int64_t runs_7d = 0;
  int64_t runs_total = 0;  // survives pruning
  int64_t refusals_total = 0;
  std::optional<ExecutionId> last_execution_id;
  std::string last_result;  // state of the last execution ("succeeded", "refused", ...)
  std::string last_refusal_reason;
  std::optional<WallTime> last_at;
};

// "A run" below is any execution that was not refused.

enum class AlertDisposition {
  kReceived,   // recorded, not yet dispatched
  kMatched,    // started an execution (execution_id set)
  kUnmatched,  // no workaround matches
  kDuplicate,  // same fingerprint as an execution in flight (execution_id set)
  kResolved,   // a resolved notification (execution_id set when known)
  kRejected,   // bad input (reason set)
};
std::string_view AlertDispositionName(AlertDisposition d);

struct AlertRecord {
  AlertId id = 0;
  WallTime received_at{};
  std::string source;
  std::string fingerprint;
  std::string name;
  std::string status;                   // "firing" | "resolved"
  std::string labels_json;              // {"alertname": "...", ...}, secrets masked
  std::string annotations_json = "{}";  // {"summary": "...", ...}, secrets masked
  std::string token;                    // the API token's name; empty: none
  AlertDisposition disposition = AlertDisposition::kReceived;
  std::optional<ExecutionId> execution_id;
  std::string reason;
};

struct OutboxItem {
  int64_t id = 0;
  std::string issue;  // IssueRef::text
  std::string kind;   // adapter-defined, e.g. "comment", "run-count"
  std::string payload_json;
  WallTime created_at{};
  int attempts = 0;
  WallTime next_attempt_at{};
  std::optional<WallTime> done_at;
  std::string last_error;
};

struct PruneResult {
  int64_t executions = 0;
  int64_t alerts = 0;
  int64_t outbox = 0;
};

// The ledger by role: each caller takes only the roles it uses (the engine
// its executions and limits, the intake the alert log, TrackerSync the
// queries and the outbox, the daemon retention), so a fake or a second
// backend implements small interfaces. ExecutionLedger is all of them.

// Writes of executions (the engine).
class ExecutionStore {
 public:
  virtual ~ExecutionStore() = default;

  virtual Result<ExecutionId> CreateExecution(const NewExecution& e) = 0;
  // kFailedPrecondition when the execution is already in a terminal state.
  virtual Status Update(ExecutionId id, const ExecutionUpdate& u) = 0;
  // Makes everything committed so far durable (SQLite: fsync of the WAL).
  // The default suits implementations whose every write is already durable.
  virtual Status Sync() { return Status::Ok(); }
  // The first failed fsync or I/O error of the ledger's storage, latched for
  // the life of this object (OK when none). "fsyncgate": after a failed
  // fsync the kernel may have dropped the dirty pages and cleared the error,
  // so a retry could succeed and lie; Sync() returns this error again without
  // retrying. Only a new process, re-opening (and re-checking) the file,
  // clears it. A full disk is not latched: its writes fail cleanly.
  virtual Status StorageFault() { return Status::Ok(); }
  // Executions in a non-terminal state whose owning process is gone become
  // interrupted (an execution owned by a live process, e.g. a running
  // `stopgap serve` sharing the file, is left alone). Returns how many.
  virtual Result<int64_t> MarkUnfinishedInterrupted(WallTime now) = 0;
};

// Reads of executions and totals (API, report, TrackerSync).
class ExecutionQueries {
 public:
  virtual ~ExecutionQueries() = default;

  virtual Result<std::vector<ExecutionRecord>> ListExecutions(const ExecutionFilter& f) = 0;
  // With steps and transitions; kNotFound when absent.
  virtual Result<ExecutionRecord> GetExecution(ExecutionId id) = 0;
  virtual Result<std::vector<IssueCounts>> CountByIssue(WallTime now) = 0;
  virtual Result<std::vector<WorkaroundCounts>> CountByWorkaround(WallTime now) = 0;
};

// The look-ups behind cooldown, max_runs and concurrency (remedy/internal/limits.h).
class LimitQueries {
 public:
  virtual ~LimitQueries() = default;

  // Runs of `workaround_id` (all workarounds when empty) created strictly
  // after `since`: a run exactly one window ago is out of the window.
  virtual Result<int64_t> CountRunsSince(std::string_view workaround_id, WallTime since) = 0;
  // Executions of `workaround_id` in a non-terminal state.
  virtual Result<int64_t> CountInFlight(std::string_view workaround_id) = 0;
  // The latest activity of the last run (finished_at, else created_at).
  virtual Result<std::optional<WallTime>> LastRunAt(std::string_view workaround_id) = 0;
};

// The alerts received, with what became of each (the daemon's intake, the API).
class AlertLog {
 public:
  virtual ~AlertLog() = default;

  // Inserts the alert with its disposition (and the execution it is recorded
  // against, for duplicates and resolves) in one write.
  virtual Result<AlertId> RecordAlert(const Alert& alert, WallTime received_at,
                                      AlertDisposition disposition = AlertDisposition::kReceived,
                                      std::string_view reason = {},
                                      std::optional<ExecutionId> execution = std::nullopt) = 0;
  virtual Status SetAlertDisposition(AlertId id, AlertDisposition d,
                                     std::optional<ExecutionId> execution_id,
                                     std::string_view reason = {}) = 0;
  virtual Result<std::vector<AlertRecord>> ListAlerts(int limit) = 0;
  // The newest non-terminal execution started by an alert with this fingerprint.
  virtual Result<std::optional<ExecutionId>> FindInFlightByFingerprint(
      std::string_view fingerprint) = 0;
  // When the newest resolved notification for `fingerprint` was received.
  virtual Result<std::optional<WallTime>> LastResolvedAt(std::string_view fingerprint) = 0;
  // The newest execution (any state) of `workaround_id` for `fingerprint`.
  virtual Result<std::optional<ExecutionRecord>> LastExecutionFor(std::string_view workaround_id,
                                                                  std::string_view fingerprint) = 0;

  // Group commit of the intake's alert writes (serve with --ack fsync): once
  // enabled, RecordAlert and SetAlertDisposition of every request join one
  // open transaction, committed by the next Sync() (or by any other ledger
  // call), instead of a commit each. Whoever enables it must Sync() after
  // those writes on every path. A commit that fails loses every write in it,
  // other requests' included: CommitFailures() counts such commits, so a
  // request that read it before its first write and reads the same count
  // after its Sync() knows its writes are committed. Backends that commit
  // each write ignore both (PostgreSQL).
  virtual void EnableGroupCommit() {}
  virtual uint64_t CommitFailures() const { return 0; }
};

// policy.retain (the daemon).
class LedgerRetention {
 public:
  virtual ~LedgerRetention() = default;

  // Deletes executions (with steps), alerts and done outbox items older than
  // `before`; the totals tables keep per-issue / per-workaround counts.
  virtual Result<PruneResult> Prune(WallTime before) = 0;
};

// The durable queue of issue-tracker updates (TrackerSync).
class TrackerOutbox {
 public:
  virtual ~TrackerOutbox() = default;

  virtual Result<int64_t> Enqueue(const OutboxItem& item) = 0;
  // Not done, next_attempt_at <= now, oldest first.
  virtual Result<std::vector<OutboxItem>> ListDue(WallTime now, int limit) = 0;
  virtual Status MarkDone(int64_t id, WallTime at) = 0;
  virtual Status MarkAttempt(int64_t id, WallTime next_attempt_at, std::string_view error) = 0;
};

// Housekeeping that must run on one node at a time when several share the
// ledger (retention, tracker comment updates).
class ClusterSingletons {
 public:
  virtual ~ClusterSingletons() = default;

  // True when this process holds the lease `name` until now + lease (it took
  // it, or renewed its own); false when another node holds it. A ledger one
  // node owns (SQLite): always true.
  virtual Result<bool> HoldSingleton(std::string_view name, WallTime now, Duration lease) {
    (void)name, (void)now, (void)lease;
    return true;
  }
};

// Every role: what a backend (SQLite, PostgreSQL) implements and OpenLedger returns.
class ExecutionLedger : public ExecutionStore,
                        public ExecutionQueries,
                        public LimitQueries,
                        public AlertLog,
                        public LedgerRetention,
                        public TrackerOutbox,
                        public ClusterSingletons {
 public:
  ~ExecutionLedger() override = default;
};

// Sets of states the backends' queries select by.
enum class StateSet {
  kRunning,   // owned by a running process: what dies with it (interrupted) and
              // what the concurrency limit counts; awaiting-approval is not
  kOpen,      // not finished: kRunning and awaiting-approval (an alert's
              // execution in flight, for deduplication)
  kFinished,  // terminal: what retention may delete
};
// SQL lists of states built from the enum, e.g. "('matched','diagnosing',
// 'acting','verifying')" for kRunning: the one place the backends' queries
// get them from.
std::string SqlStateList(StateSet set);

// A role beside ExecutionLedger (it stays as it is): limits per group of
// label values (limits.group_by) and the time degraded each bandaid answered.
// Both ledgers implement it (SQLite migration 5, PostgreSQL 3); GroupLimitsOf()
// finds it on a ledger. Same thread safety and durability as ExecutionLedger.
class GroupLimitsLedger {
 public:
  virtual ~GroupLimitsLedger() = default;
  // ExecutionLedger's limit look-ups, restricted to the executions of
  // `workaround_id` recorded with exactly this group (NewExecution::group).
  virtual Result<int64_t> CountGroupRunsSince(std::string_view workaround_id,
                                              const std::map<std::string, std::string>& group,
                                              WallTime since) = 0;
  virtual Result<int64_t> CountGroupInFlight(std::string_view workaround_id,
                                             const std::map<std::string, std::string>& group) = 0;
  virtual Result<std::optional<WallTime>> GroupLastRunAt(
      std::string_view workaround_id, const std::map<std::string, std::string>& group) = 0;
  // A resolve of `fingerprint` at `at` (its endsAt, else when received): ends
  // the degraded time of that fingerprint's executions still open whose
  // instance started at or before `at`. Returns how many it ended.
  virtual Result<int64_t> RecordResolve(std::string_view fingerprint, WallTime at) = 0;
  // Runs (not refusals) created at or after `since`, oldest first, at most
  // `limit` (capped at 100000): without steps and transitions, with
  // degraded_end and acting filled.
  virtual Result<std::vector<ExecutionRecord>> ListRunsSince(WallTime since, int limit) = 0;
};

// The ledger's GroupLimitsLedger role, or null when its implementation has
// none (then limits.group_by is refused at admission and cost is empty).
GroupLimitsLedger* GroupLimitsOf(ExecutionLedger& ledger);
// The same for a caller that holds only one role of the ledger.
GroupLimitsLedger* GroupLimitsOf(LimitQueries& ledger);
GroupLimitsLedger* GroupLimitsOf(AlertLog& ledger);

// ---- role interfaces beside ExecutionLedger -------------------------------
// Small interfaces for the callers that need one capability each. Both
// ledgers implement ApprovalLedger and BreakerLedger; AsApprovalLedger /
// AsBreakerLedger return null for a backend that does not (the engine then
// refuses `mode: approve` and keeps no latch). Same durability and threading
// as ExecutionLedger. On PostgreSQL a decision locks its execution's row, so
// of two nodes deciding (or expiring) one execution at once, one records it
// and the other gets kFailedPrecondition.

// Per workaround, executions of approve mode still in the ledger.
struct ApprovalCounts {
  std::string workaround_id;
  int64_t approved = 0;
  int64_t denied = 0;
  int64_t expired = 0;
  int64_t pending = 0;
  int64_t succeeded = 0;  // approved and then succeeded
  int64_t failed = 0;     // approved and then failed or interrupted
};

class ApprovalLedger {
 public:
  virtual ~ApprovalLedger() = default;
  // Executions in awaiting-approval, oldest first (at most `limit`).
  virtual Result<std::vector<ExecutionRecord>> ListAwaitingApproval(int limit) = 0;
  // Records the decision on an execution awaiting approval, in one durable
  // transaction with its state change: approved -> acting (owned by this
  // process from now on: MarkUnfinishedInterrupted of a later process marks it
  // interrupted if this one dies), denied -> denied, expired ->
  // approval-expired. kNotFound for an unknown id; kFailedPrecondition when
  // it is not awaiting approval (decided already, or never asked). Returns
  // the execution as GetExecution reads it after the change.
  virtual Result<ExecutionRecord> Decide(ExecutionId id, const ApprovalRecord& decision) = 0;
  virtual Result<std::vector<ApprovalCounts>> CountApprovals() = 0;
};

// The storm breaker's latch (policy.max_runs_per_hour, limits.max_runs): once
// tripped it stays tripped, across restarts, until a person resets it.
struct BreakerReset {
  std::string by;  // the API token's name
  std::string comment;
  WallTime at{};
};
struct BreakerState {
  bool tripped = false;
  std::string reason;                  // why it tripped (while tripped)
  std::optional<WallTime> tripped_at;  // while tripped
  std::optional<BreakerReset> last_reset;
};

class BreakerLedger {
 public:
  virtual ~BreakerLedger() = default;
  virtual Result<BreakerState> GetBreaker() = 0;
  // Trips the latch unless it is tripped already; true when this call
  // tripped it. Durable on return.
  virtual Result<bool> TripBreaker(std::string_view reason, WallTime at) = 0;
  // Clears a tripped latch and records who, when and why (nothing is
  // recorded when it was not tripped). Durable on return; the state after.
  virtual Result<BreakerState> ResetBreaker(const BreakerReset& reset) = 0;
};

// Admission that holds across every process sharing the ledger (the
// PostgreSQL one): the limit look-ups, the breaker's latch and the insert of
// the execution in one database transaction under one cluster-wide lock, so
// two nodes can never both pass a limit, and a latch tripped by several nodes
// at once is one trip. A ledger without it (SQLite: one node) is admitted
// under the engine's own lock, against the same counts.
class AdmissionLedger {
 public:
  virtual ~AdmissionLedger() = default;
  // `limits` answers the LimitQueries and, through GroupLimitsOf(limits), the
  // group counts; `latch` reads and trips the breaker. Both read inside the
  // admission's transaction and are valid only during the call.
  using Decision = std::function<Result<NewExecution>(LimitQueries& limits, BreakerLedger& latch)>;
  // Takes the lock, calls `decide` and inserts what it returns as
  // CreateExecution does, then commits (which releases the lock). An error
  // from `decide` rolls everything back, a trip included. kAlreadyExists as
  // CreateExecution, and also when `decide` refused an alert whose firing
  // window another node has claimed: that alert is a duplicate, not a
  // refusal (its trip is rolled back). `decide` may be called again after a
  // lost connection, so it must do nothing outside the ledger.
  virtual Result<ExecutionId> Admit(const Decision& decide) = 0;
};

// `resume: rerun`: interrupted executions to run once more. Both backends
// implement it. Which process interrupted an execution does not matter (its
// node's lease lapsed, its process died, a shutdown stopped it): what counts
// is that it was cut short and its workaround said rerun when it was created.
class RerunLedger {
 public:
  virtual ~RerunLedger() = default;
  // Interrupted executions created with resume "rerun" that are not
  // themselves reruns and that no execution reruns yet, oldest first (at
  // most `limit`). A caller claims one with CreateExecution(rerun_of = id):
  // exactly one claim per interrupted execution succeeds, across nodes.
  virtual Result<std::vector<ExecutionRecord>> ListRerunCandidates(int limit) = 0;
};

// What a node sharing the ledger with other nodes knows about itself, for
// /healthz and /metrics. Counters only grow, for the life of the ledger object.
struct ClusterCounters {
  int64_t claims_won = 0;              // alert claims this node inserted (it runs the alert)
  int64_t claims_lost = 0;             // alert claims another node held first (a duplicate here)
  int64_t lease_renewals = 0;          // renewal rounds that committed
  int64_t lease_renewal_failures = 0;  // renewal rounds that failed (database away)
  // Executions this node marked interrupted because the node running them
  // stopped renewing their lease.
  int64_t failovers = 0;
  int64_t reconnects = 0;  // calls retried on a new connection (database restart, failover)
};
struct ClusterHealth {
  // The database answered the last housekeeping round (every lease/4).
  bool reachable = false;
  std::optional<WallTime> last_contact;  // the last round that answered
  std::string error;                     // why the last round failed; empty when it did not
  Duration lease{0};
  // When the last lease renewal that committed began (monotonic; the open of
  // the ledger before the first). What LeaseFence watches.
  std::optional<MonoTime> last_renewal;
  // Records of executions this node fenced that wait for the database
  // (ExecutionUpdate::fenced); written, then forgotten, once it answers.
  int64_t fenced_records_pending = 0;
  // Singleton leases this node asked for (HoldSingleton), and whether it
  // holds each now (taken or renewed, and not lapsed since).
  std::map<std::string, bool> singletons;
};
class ClusterLedger {
 public:
  virtual ~ClusterLedger() = default;
  virtual ClusterCounters Counters() const = 0;
  virtual ClusterHealth Health(WallTime now) const = 0;
};

// The role interfaces of `ledger` (null when its backend lacks one).
ApprovalLedger* AsApprovalLedger(ExecutionLedger& ledger);
BreakerLedger* AsBreakerLedger(ExecutionLedger& ledger);
AdmissionLedger* AsAdmissionLedger(ExecutionLedger& ledger);
RerunLedger* AsRerunLedger(ExecutionLedger& ledger);
ClusterLedger* AsClusterLedger(ExecutionLedger& ledger);  // PostgreSQL only

// Secrets: every write masks what it stores with a SecretMasker
// (remedy/secrets.h) built from the config's redact patterns (the defaults
// for OpenSqliteLedger): alert labels and annotations, execution labels, step
// argv. What is stored is what is served.
//
// Opens (creating 0600 and migrating) the ledger a catalog names, checks it
// (PRAGMA quick_check: kDataLoss when damaged), then runs
// MarkUnfinishedInterrupted. postgresql:// opens OpenPostgresLedger.
Result<std::unique_ptr<ExecutionLedger>> OpenLedger(const LedgerConfig& config, const Clock& clock);

// The SQLite ledger at `path` (parent directories created 0700).
Result<std::unique_ptr<ExecutionLedger>> OpenSqliteLedger(
    const std::string& path, const Clock& clock, const std::vector<std::string>& redact = {});

// OpenSqliteLedgerForReading for the ledger a catalog names (dry runs).
Result<std::unique_ptr<ExecutionLedger>> OpenLedgerForReading(const LedgerConfig& config,
                                                              const Clock& clock);

// A read-only view for dry runs: no file is created, nothing is migrated or
// marked; when the file does not exist, an empty ledger. Writes fail.
Result<std::unique_ptr<ExecutionLedger>> OpenSqliteLedgerForReading(const std::string& path,
                                                                    const Clock& clock);

// The PostgreSQL ledger, shared by several `stopgap serve` nodes.
struct PgLedgerOptions {
  // How long a claim on an unfinished execution lasts unless its node renews
  // it (every lease/4). After it lapses, any node marks the execution
  // interrupted. The URL's own `lease=30s` parameter overrides it.
  Duration lease = std::chrono::seconds(30);
  // How long an admission (and a trip or reset of the breaker's latch) waits
  // for the cluster-wide admission lock before it fails kDeadlineExceeded
  // (intake: 503, the sender retries). The URL's `admission_timeout=5s`.
  Duration admission_timeout = std::chrono::seconds(5);
  int pool_size = 4;
  // How long a call keeps reconnecting (with backoff) before it fails.
  std::chrono::milliseconds connect_for{std::chrono::seconds(30)};
  // Dry runs: nothing is migrated, marked or renewed.
  bool for_reading = false;
};

// `url`: a libpq URL, e.g. postgresql://h1:5432,h2:5432/stopgap?
// target_session_attrs=read-write&lease=30s&admission_timeout=5s (several
// hosts: the one that takes writes is found, also after a failover). Migrates (under an advisory
// lock), then marks executions whose lease lapsed interrupted.
Result<std::unique_ptr<ExecutionLedger>> OpenPostgresLedger(
    const std::string& url, const Clock& clock, const std::vector<std::string>& redact = {},
    PgLedgerOptions options = {});

// The schema version this build writes (see docs/ledger-schema.md).
inline constexpr int kLedgerSchemaVersion = 8;

}  // namespace stopgap::remedy

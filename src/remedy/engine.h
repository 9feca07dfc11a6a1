// The remediation engine: admits an execution (limits checked and the
// matched/refused record written under one lock), then runs it: diagnostics
// into <bundles>/<id>/ (manifest.json, fsynced before any action) -> action
// -> verify -> succeeded | failed, every step recorded in the ledger.
//
//   RemediationEngine engine(catalog, ledger, runner, clock, {});
//   Result<Admission> a = engine.Begin("nova-rpc", alert, "alertmanager");  // fast
//   if (a.ok() && !a->refusal) ExecutionOutcome o = engine.Run(a->id);      // slow
//
// Refusal reasons: expired | retired | unknown-issue | unsafe-label |
// circuit-breaker (the latch, tripped) | concurrency | cooldown | budget |
// circuit-breaker (the hourly count) (checked in that order;
// with EngineOptions::queue_when_busy, concurrency waits instead for
// workarounds with `on_busy: queue`, see Run()).
// A refusal is an execution in state "refused" with its reason.
//
// The storm breaker latches (with a ledger that has a BreakerLedger): the
// first budget or hourly circuit-breaker refusal trips it, and from then on
// every admission, of every workaround, is refused (circuit-breaker) until a
// person calls ResetBreaker(). Observers hear OnBreakerTripped once per trip.
//
// Modes (Workaround::mode): auto runs diagnostics, action, verify. observe
// ends after the diagnostics in state observed, the action recorded as
// would-run steps. approve ends Run() after the diagnostics in state
// awaiting-approval (no thread waits); Decide() approves (then Run(id) again
// runs the action and verify), denies, or ExpireApprovals() expires it.
//
// Thread safety: all methods may be called from any thread. Begin() holds the
// engine's admission lock across the limit checks and the insert, so two
// workers can never both pass a limit; catalog(), SetCatalog() and the other
// accessors never wait for it. Run() for different executions may run
// concurrently. Observers are called on the calling thread, without the lock.
// With a ledger several processes share (PostgreSQL: an AdmissionLedger) the
// checks, the latch and the insert also run in one database transaction under
// a cluster-wide lock, so limits and the latch hold across nodes. On a SQLite
// file shared with another process (`stopgap run` beside `serve`) each
// process enforces them against the shared counts but may race by one.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/process.h"
#include "core/status.h"
#include "core/time.h"
#include "remedy/alert.h"
#include "remedy/catalog.h"
#include "remedy/diagnostics.h"
#include "remedy/ledger.h"
#include "remedy/secrets.h"

namespace stopgap::remedy {

enum class RefusalReason {
  kExpired,
  kRetired,
  kUnknownIssue,
  kUnsafeLabel,
  kConcurrency,
  kCooldown,
  kBudget,
  kCircuitBreaker,
};
std::string_view RefusalReasonName(RefusalReason r);  // "expired", "circuit-breaker", ...
Result<RefusalReason> ParseRefusalReason(std::string_view s);
// Concurrency, cooldown, budget and the circuit breaker pass with time: an
// alert refused for one of them has not acted and may act when re-notified.
bool IsPassingRefusal(RefusalReason r);

struct Refusal {
  RefusalReason reason = RefusalReason::kExpired;
  std::string detail;  // "cooldown 10m: last run 3m ago"
};

struct Admission {
  ExecutionId id = 0;              // refused executions have an id too
  std::optional<Refusal> refusal;  // set: the execution is recorded as refused
};

struct PlannedStep {
  StepPhase phase = StepPhase::kDiagnostics;
  int index = 0;
  StepKind kind = StepKind::kRun;
  std::vector<std::string> argv;  // run: with labels substituted
  std::string description;        // Step::Describe()
  Duration timeout{0};
};

// What would happen now, without writing anything (`stopgap run --dry-run`).
struct Plan {
  std::string workaround_id;
  std::string issue;
  WorkaroundState state = WorkaroundState::kActive;
  std::optional<int64_t> days_left;
  std::vector<PlannedStep> steps;   // empty when refused for unsafe-label
  std::vector<std::string> limits;  // "cooldown 10m (last run: never)", ...
  std::optional<Refusal> refusal;   // the refusal Begin() would record now
};

struct ExecutionOutcome {
  ExecutionId id = 0;
  // succeeded | failed | interrupted | refused | observed | denied |
  // approval-expired, matched when `waiting`, or awaiting-approval.
  ExecutionState state = ExecutionState::kFailed;
  // Run() found every concurrency slot of its workaround taken (on_busy:
  // queue): the execution waits and is run by the worker that frees a slot,
  // or refused (concurrency) if none frees within limits.queue_timeout.
  bool waiting = false;
  std::optional<Refusal> refusal;
  std::string detail;      // why it failed, e.g. "action[0] exit 3"
  std::string bundle_dir;  // empty when refused
  std::vector<StepRecord> steps;
  Status error;  // a ledger or bundle write failed (state is then failed)
};

// Hooks for metrics, StatsD and tracker updates. Default: do nothing.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void OnAdmitted(ExecutionId id, const Workaround& w) {}
  virtual void OnRefused(ExecutionId id, const Workaround& w, const Refusal& r) {}
  virtual void OnStepFinished(ExecutionId id, const Workaround& w, const StepRecord& step) {}
  // An admitted execution moved to a non-terminal state (diagnosing, acting,
  // verifying), once the ledger holds it; the end comes to OnExecutionFinished.
  virtual void OnStateChanged(ExecutionId id, const Workaround& w, ExecutionState state) {}
  virtual void OnExecutionFinished(const Workaround& w, const ExecutionOutcome& outcome) {}
  // A firing instance whose execution failed (or was interrupted) is still
  // firing, and the workaround does not repeat: escalate to a person.
  virtual void OnStillFiring(const Workaround& w, ExecutionId failed) {}
  // The storm breaker latched, on a refusal of `w` (see BreakerLedger).
  virtual void OnBreakerTripped(const Workaround& w, const BreakerState& breaker) {}
};

struct EngineOptions {
  std::string bundles_dir;  // empty: catalog.bundles
  size_t output_cap = kDefaultOutputCap;
  Duration kill_grace = std::chrono::seconds(5);
  // collect:/guru: steps; null: the diagnostics library (MakeDiagnosticsCollector).
  DiagnosticsCollector* diagnostics = nullptr;
  // `stopgap serve`: an execution of a workaround with `on_busy: queue` that
  // finds its concurrency slots taken waits for one instead of being refused.
  // Off for `stopgap run`, which refuses (its slots are not shared in memory
  // with a running daemon, only through the ledger's counts).
  bool queue_when_busy = false;
  // Extra environment for every step ("NAME=value"); the engine adds
  // STOPGAP_EXECUTION_ID, STOPGAP_WORKAROUND, STOPGAP_BUNDLE_DIR.
  std::vector<std::string> env;
};

class RemediationEngine {
 public:
  // `ledger`, `runner`, `clock` and options.diagnostics must outlive the engine.
  RemediationEngine(std::shared_ptr<const Catalog> catalog, ExecutionLedger& ledger,
                    ProcessRunner& runner, const Clock& clock, EngineOptions options = {});
  ~RemediationEngine();
  RemediationEngine(const RemediationEngine&) = delete;
  RemediationEngine& operator=(const RemediationEngine&) = delete;

  // Swaps in a reloaded catalog; executions already admitted keep the one they
  // were admitted with.
  void SetCatalog(std::shared_ptr<const Catalog> catalog);
  std::shared_ptr<const Catalog> catalog() const;

  // Issue states from the tracker (IssueRef::text): closed issues retire their
  // workarounds; unknown ones (the tracker says the issue does not exist)
  // refuse with unknown-issue.
  void SetIssueStates(std::set<std::string> closed, std::set<std::string> unknown);
  // The closed issues last set (for StateOf: their workarounds are retired).
  std::set<std::string> ClosedIssues() const;

  // Observers must outlive the engine.
  void AddObserver(EngineObserver* observer);

  // Dry run: reads the ledger, writes nothing.
  Result<Plan> PlanFor(std::string_view workaround_id, const Alert& alert);

  // Checks the limits and records the execution as matched or refused, under
  // the admission lock. kNotFound for an unknown workaround id; kUnavailable
  // while the runner is fenced (lease_fence.h: nothing is recorded, the
  // sender retries); other errors are ledger failures.
  // `attempt` > 1 for a repeat of a firing instance (`repeat:`). The alert's
  // starts_at, when set, is recorded as the execution's firing instance.
  Result<Admission> Begin(std::string_view workaround_id, const Alert& alert,
                          std::string_view source, std::optional<AlertId> alert_id = {},
                          int attempt = 1);

  // `resume: rerun`: admits a rerun of the interrupted execution `e` (a
  // RerunLedger candidate) as a new execution with rerun_of = e.id, the
  // same fingerprint, labels (as stored: masked), firing instance and
  // attempt. Every admission check applies except the cooldown; a label the
  // ledger stores masked that a step needs refuses it (unsafe-label: the
  // secret is gone). A refusal is recorded like any other and ends the
  // matter: the interrupted execution is never considered again.
  // kAlreadyExists when another process claimed the rerun first;
  // kFailedPrecondition when the workaround left the catalog or no longer
  // says resume: rerun (nothing is recorded). Then Run(id) as after Begin().
  Result<Admission> BeginRerun(const ExecutionRecord& e);

  // Runs an admitted execution to its end. Each id runs at most once
  // (kFailedPrecondition in `error` otherwise). With queue_when_busy, an
  // execution that finds no free slot comes back `waiting`; the thread whose
  // execution frees a slot then runs the waiting ones of that workaround, in
  // order (their outcomes reach the observers).
  ExecutionOutcome Run(ExecutionId id);

  // Executions admitted but never started (waiting for a slot): removed from
  // the engine and returned, for a shutdown to record them interrupted. From
  // then on a freed slot starts no waiting execution (call it again after the
  // workers have stopped to collect those that began waiting meanwhile).
  std::vector<ExecutionId> TakeWaiting();

  // ---- approvals (mode: approve) ----
  // Records a decision on an execution awaiting approval, with the name of
  // the token that made it. Approved: the execution reads acting (durable)
  // and is ready to Run(id), which the caller queues; it is refused
  // (kFailedPrecondition) while the storm breaker is tripped, after a storage
  // fault, or when its workaround left the catalog. Denied: it ends denied.
  // kNotFound for an unknown id; kFailedPrecondition when it is not awaiting
  // approval. An execution admitted by an earlier process is rebuilt from
  // the ledger (its bundle is reopened).
  Result<ExecutionRecord> Decide(ExecutionId id, ApprovalDecision decision, std::string_view by,
                                 std::string_view comment);
  // Ends every execution whose approval_deadline has passed as
  // approval-expired (by "stopgap"). Returns how many. Call it periodically.
  Result<int> ExpireApprovals();

  // ---- the storm breaker's latch ----
  Result<BreakerState> Breaker();
  // Clears the latch (recorded with who and why). Under the admission lock.
  Result<BreakerState> ResetBreaker(std::string_view by, std::string_view comment);

  // Tells the observers that the firing instance of execution `failed` still
  // fires (see EngineObserver::OnStillFiring). Unknown workaround: ignored.
  void NoteStillFiring(std::string_view workaround_id, ExecutionId failed);

  // The first storage fault (a failed fsync of a bundle, or the ledger's
  // StorageFault()), latched for the life of the engine; OK when none. From
  // then on no action starts (its bundle and "acting" record cannot be made
  // durable) and the daemon stops acknowledging alerts until a restart.
  Status StorageFault() const;

  // Time elapsed since `then`, a time read back from the ledger. When this
  // engine wrote that very time (admission, a state change, the end), it is
  // measured on the monotonic clock from the moment it was written, so a step
  // of the wall clock (NTP, an operator) neither shortens nor stretches a
  // cooldown; otherwise (another process, before a restart) on the wall clock.
  Duration Elapsed(WallTime then) const;

  // Begin + Run (`stopgap run`). A refusal comes back as an outcome in state
  // refused.
  Result<ExecutionOutcome> Execute(std::string_view workaround_id, const Alert& alert,
                                   std::string_view source);

 private:
  struct Pending;
  struct StepContext;
  struct PhaseResult {
    std::vector<StepRecord> steps;
    std::string failure;   // the first failing step (action, verify); empty: all ok
    bool stopped = false;  // a step was stopped by a shutdown
    bool fenced = false;   // a step was stopped (or refused) by a fence; the phase ended there
  };
  std::optional<Refusal> Check(const Catalog& catalog, const Workaround& w, const Alert& alert,
                               const std::map<std::string, std::string>& group,
                               const std::set<std::string>& closed,
                               const std::set<std::string>& unknown, LimitQueries& limits,
                               BreakerLedger* latch_ledger, Status* error, BreakerState* breaker,
                               bool rerun = false);
  // Begin(), and BeginRerun() with `rerun` set.
  Result<Admission> Admit(std::string_view workaround_id, const Alert& alert,
                          std::string_view source, std::optional<AlertId> alert_id, int attempt,
                          const ExecutionRecord* rerun);
  // mode: approve: keeps the execution (its labels, argv and bundle) until Decide().
  void ParkIfAwaiting(ExecutionId id, const ExecutionOutcome& out, std::unique_ptr<Pending>& p);
  Result<std::unique_ptr<Pending>> Resume(const ExecutionRecord& e);
  ExecutionOutcome RunPending(ExecutionId id, Pending& p);
  PhaseResult RunPhase(StepContext& c, StepPhase phase);
  StepRecord RunOneStep(StepContext& c, StepPhase phase, int index);
  // After an execution that held a slot of `slot_key` (a workaround, or one
  // group of it with limits.group_by): frees it and runs (or, past their
  // deadline, refuses) the executions waiting for one.
  void ReleaseSlotAndRunWaiting(const std::string& slot_key);
  void RefuseWaiting(ExecutionId id, const Pending& p);

  ExecutionLedger& ledger_;
  ApprovalLedger* approvals_ = nullptr;  // null: the ledger records no approvals
  BreakerLedger* breaker_ = nullptr;     // null: no latch
  ProcessRunner& runner_;
  const Clock& clock_;
  EngineOptions options_;
  std::unique_ptr<DiagnosticsCollector> default_diagnostics_;
  DiagnosticsCollector* diagnostics_ = nullptr;

  // Held across Begin()'s limit checks and insert (ledger calls), so that two
  // admissions are never interleaved. Never taken by catalog() & co.
  std::mutex admission_mu_;
  mutable std::mutex mu_;  // guards everything below; held only briefly
  std::shared_ptr<const Catalog> catalog_;
  std::shared_ptr<const SecretMasker> masker_;  // from catalog_->policy.redact
  std::set<std::string> closed_issues_;
  std::set<std::string> unknown_issues_;
  std::vector<EngineObserver*> observers_;
  std::map<ExecutionId, std::unique_ptr<Pending>> pending_;
  std::map<std::string, int> running_;  // queue_when_busy: slots taken, by slot key
  std::map<std::string, std::deque<ExecutionId>> waiting_;    // in pending_, FIFO
  std::map<ExecutionId, std::unique_ptr<Pending>> awaiting_;  // awaiting approval
  bool draining_ = false;                                     // TakeWaiting() was called
  Status bundle_fault_;  // the first failed bundle fsync (StorageFault())

  // clock_.Now(), remembered with the monotonic time (see Elapsed()).
  WallTime StampNow();
  mutable std::mutex stamps_mu_;
  std::map<int64_t, MonoTime> stamps_;  // wall ms written -> monotonic then
  std::deque<int64_t> stamp_order_;     // oldest first, bounded
};

}  // namespace stopgap::remedy

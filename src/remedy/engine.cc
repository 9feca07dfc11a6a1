// RemediationEngine: admission (limits under one lock) and execution
// (diagnostics -> sealed bundle -> action -> verify). See engine.h.
#include "remedy/engine.h"

#include <algorithm>
#include <future>

#include "core/log.h"
#include "remedy/diag_collector.h"
#include "remedy/internal/execution_bundle.h"
#include "remedy/internal/limits.h"
#include "remedy/template.h"

namespace stopgap::remedy {

using internal::ExecutionBundle;

struct RemediationEngine::Pending {
  std::shared_ptr<const Catalog> catalog;
  const Workaround* workaround = nullptr;
  Alert alert;
  std::map<std::string, std::string> safe_labels;  // secrets masked (remedy/secrets.h)
  // Substituted argv per step (empty for collect/guru), by phase: what runs.
  std::vector<std::vector<std::string>> argv[3];
  // The same with secrets masked: what the ledger and the bundle record.
  std::vector<std::vector<std::string>> record_argv[3];
  WallTime created_at{};
  bool uses_slot = false;    // queue_when_busy and on_busy: queue
  std::string slot_key;      // workaround id, plus its group with limits.group_by
  MonoTime slot_deadline{};  // monotonic: a wall-clock step does not move it
  // mode: approve. The bundle of the diagnostics, kept while the execution
  // awaits approval; `approved`: Run() goes on with the action.
  std::optional<ExecutionBundle> bundle;
  bool approved = false;
};

namespace {

std::shared_ptr<const SecretMasker> MaskerFor(const Catalog& catalog) {
  Result<SecretMasker> m = SecretMasker::Create(catalog.policy.redact);
  // The loader refuses bad patterns; a catalog built by hand falls back.
  return std::make_shared<const SecretMasker>(m.ok() ? *m : SecretMasker::Defaults());
}

const std::vector<Step>& StepsOf(const Workaround& w, StepPhase p) {
  switch (p) {
    case StepPhase::kDiagnostics:
      return w.diagnostics;
    case StepPhase::kAction:
      return w.action;
    case StepPhase::kVerify:
      return w.verify;
  }
  return w.action;
}

constexpr StepPhase kPhases[] = {StepPhase::kDiagnostics, StepPhase::kAction, StepPhase::kVerify};

// Substitutes labels into every run step; the refusal detail when unsafe.
Status SubstituteAll(const Workaround& w, const Alert& alert,
                     std::vector<std::vector<std::string>> (&out)[3]) {
  for (StepPhase p : kPhases) {
    const std::vector<Step>& steps = StepsOf(w, p);
    auto& dst = out[static_cast<int>(p)];
    dst.clear();
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto* run = std::get_if<RunStep>(&steps[i].body);
      if (!run) {
        dst.emplace_back();
        continue;
      }
      Result<std::vector<std::string>> argv = SubstituteLabels(run->argv, alert.labels, w.labels);
      if (!argv.ok()) {
        return argv.status().WithContext(std::string(StepPhaseName(p)) + "[" + std::to_string(i) +
                                         "]");
      }
      dst.push_back(std::move(*argv));
    }
  }
  return Status::Ok();
}

// The argv records: templates filled from the masked labels, then masked as
// argv (--password=x, Bearer …). Empty for collect/guru, like the argv.
void RecordAll(const Workaround& w, const SecretMasker& masker,
               const std::map<std::string, std::string>& masked_labels,
               std::vector<std::vector<std::string>> (&out)[3]) {
  for (StepPhase p : kPhases) {
    auto& dst = out[static_cast<int>(p)];
    dst.clear();
    for (const Step& step : StepsOf(w, p)) {
      const auto* run = std::get_if<RunStep>(&step.body);
      dst.push_back(run ? masker.MaskArgv(RecordedArgv(run->argv, masked_labels))
                        : std::vector<std::string>{});
    }
  }
}

// The action steps of an observe-mode execution: recorded with their argv
// (secrets masked), never run.
std::vector<StepRecord> WouldRunSteps(const Workaround& w,
                                      const std::vector<std::vector<std::string>>& record_argv,
                                      WallTime at) {
  std::vector<StepRecord> out;
  for (size_t i = 0; i < w.action.size(); ++i) {
    StepRecord r;
    r.phase = StepPhase::kAction;
    r.index = static_cast<int>(i);
    r.kind = std::string(StepKindName(w.action[i].kind()));
    r.argv = w.action[i].kind() == StepKind::kRun
                 ? record_argv[i]
                 : std::vector<std::string>{w.action[i].Describe()};
    r.outcome = StepOutcome::kWouldRun;
    r.started_at = at;
    r.finished_at = at;
    out.push_back(std::move(r));
  }
  return out;
}

std::string FailureText(const StepRecord& s) {
  std::string where = std::string(StepPhaseName(s.phase)) + "[" + std::to_string(s.index) + "]";
  switch (s.outcome) {
    case StepOutcome::kTimeout:
      return where + " timed out";
    case StepOutcome::kStopped:
      return where + " stopped: stopgap is shutting down";
    case StepOutcome::kFenced:
      return where + " fenced: this node could not renew its cluster lease";
    case StepOutcome::kError:
      return where + " could not start: " + s.error;
    default:
      break;
  }
  if (s.signal != 0) return where + " killed by signal " + std::to_string(s.signal);
  if (s.exit_code) return where + " exited " + std::to_string(*s.exit_code);
  if (!s.error.empty()) return where + " failed: " + s.error;
  return where + " " + std::string(StepOutcomeName(s.outcome));
}

}  // namespace

std::string_view RefusalReasonName(RefusalReason r) {
  switch (r) {
    case RefusalReason::kExpired:
      return "expired";
    case RefusalReason::kRetired:
      return "retired";
    case RefusalReason::kUnknownIssue:
      return "unknown-issue";
    case RefusalReason::kUnsafeLabel:
      return "unsafe-label";
    case RefusalReason::kConcurrency:
      return "concurrency";
    case RefusalReason::kCooldown:
      return "cooldown";
    case RefusalReason::kBudget:
      return "budget";
    case RefusalReason::kCircuitBreaker:
      return "circuit-breaker";
  }
  return "?";
}

Result<RefusalReason> ParseRefusalReason(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(RefusalReason::kCircuitBreaker); ++i) {
    if (RefusalReasonName(static_cast<RefusalReason>(i)) == s) return static_cast<RefusalReason>(i);
  }
  return InvalidArgument("unknown refusal reason '" + std::string(s) + "'");
}

bool IsPassingRefusal(RefusalReason r) {
  return r == RefusalReason::kConcurrency || r == RefusalReason::kCooldown ||
         r == RefusalReason::kBudget || r == RefusalReason::kCircuitBreaker;
}

RemediationEngine::RemediationEngine(std::shared_ptr<const Catalog> catalog,
                                     ExecutionLedger& ledger, ProcessRunner& runner,
                                     const Clock& clock, EngineOptions options)
    : ledger_(ledger),
      approvals_(AsApprovalLedger(ledger)),
      breaker_(AsBreakerLedger(ledger)),
      runner_(runner),
      clock_(clock),
      options_(std::move(options)),
      catalog_(std::move(catalog)),
      masker_(MaskerFor(*catalog_)) {
  diagnostics_ = options_.diagnostics;
  if (!diagnostics_) {
    default_diagnostics_ = MakeDiagnosticsCollector(*catalog_, clock_);
    diagnostics_ = default_diagnostics_.get();
  }
}

RemediationEngine::~RemediationEngine() = default;

void RemediationEngine::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  auto masker = MaskerFor(*catalog);
  std::lock_guard lock(mu_);
  catalog_ = std::move(catalog);
  masker_ = std::move(masker);
}

std::shared_ptr<const Catalog> RemediationEngine::catalog() const {
  std::lock_guard lock(mu_);
  return catalog_;
}

void RemediationEngine::SetIssueStates(std::set<std::string> closed,
                                       std::set<std::string> unknown) {
  std::lock_guard lock(mu_);
  closed_issues_ = std::move(closed);
  unknown_issues_ = std::move(unknown);
}

std::set<std::string> RemediationEngine::ClosedIssues() const {
  std::lock_guard lock(mu_);
  return closed_issues_;
}

void RemediationEngine::AddObserver(EngineObserver* observer) {
  std::lock_guard lock(mu_);
  observers_.push_back(observer);
}

std::optional<Refusal> RemediationEngine::Check(const Catalog& catalog, const Workaround& w,
                                                const Alert& alert,
                                                const std::map<std::string, std::string>& group,
                                                const std::set<std::string>& closed,
                                                const std::set<std::string>& unknown,
                                                LimitQueries& limits, BreakerLedger* latch_ledger,
                                                Status* error, BreakerState* breaker, bool rerun) {
  const WallTime now = clock_.Now();
  internal::LimitInputs in;
  BreakerState latch;
  if (latch_ledger) {
    Result<BreakerState> b = latch_ledger->GetBreaker();
    if (!b.ok()) {
      *error = b.status();
      return std::nullopt;
    }
    latch = std::move(*b);
  }
  if (breaker) *breaker = latch;
  in.breaker = &latch;
  in.now = now;
  in.today = CivilDayOf(now);
  in.closed = &closed;
  in.unknown = &unknown;
  std::vector<std::vector<std::string>> argv[3];
  in.label_status = SubstituteAll(w, alert, argv);
  in.wait_when_busy = options_.queue_when_busy && w.limits.on_busy == OnBusy::kQueue;
  in.elapsed = [this](WallTime then) { return Elapsed(then); };
  in.group = group;
  in.rerun = rerun;
  Result<std::optional<Refusal>> r = internal::CheckLimits(catalog, w, in, limits);
  if (!r.ok()) {
    *error = r.status();
    return std::nullopt;
  }
  return *r;
}

Result<Plan> RemediationEngine::PlanFor(std::string_view workaround_id, const Alert& alert) {
  std::shared_ptr<const Catalog> catalog;
  std::set<std::string> closed, unknown;
  {
    std::lock_guard lock(mu_);
    catalog = catalog_;
    closed = closed_issues_;
    unknown = unknown_issues_;
  }
  const Workaround* w = catalog->Find(workaround_id);
  if (!w) return NotFound("no workaround '" + std::string(workaround_id) + "' in the catalog");
  std::shared_ptr<const SecretMasker> masker = MaskerFor(*catalog);
  const std::map<std::string, std::string> group =
      GroupOf(w->limits, masker->MaskMap(alert.labels));
  Status error;
  std::optional<Refusal> refusal =
      Check(*catalog, *w, alert, group, closed, unknown, ledger_, breaker_, &error, nullptr);
  if (!error.ok()) return error;

  Plan plan;
  const WallTime now = clock_.Now();
  plan.workaround_id = w->id;
  plan.issue = w->issue.text;
  plan.state = StateOf(*w, CivilDayOf(now), closed);
  plan.days_left = DaysLeft(*w, CivilDayOf(now));
  plan.refusal = refusal;
  std::vector<std::vector<std::string>> argv[3];
  bool substituted = SubstituteAll(*w, alert, argv).ok();
  if (substituted) {
    RecordAll(*w, *masker, masker->MaskMap(alert.labels), argv);
  }
  for (StepPhase p : kPhases) {
    const std::vector<Step>& steps = StepsOf(*w, p);
    for (size_t i = 0; i < steps.size(); ++i) {
      PlannedStep ps;
      ps.phase = p;
      ps.index = static_cast<int>(i);
      ps.kind = steps[i].kind();
      ps.description = steps[i].Describe();
      ps.timeout = steps[i].timeout;
      if (const auto* run = std::get_if<RunStep>(&steps[i].body)) {
        ps.argv = substituted ? argv[static_cast<int>(p)][i] : run->argv;
      }
      plan.steps.push_back(std::move(ps));
    }
  }
  Result<std::vector<std::string>> limits =
      internal::DescribeLimits(*catalog, *w, group, now, ledger_);
  if (!limits.ok()) return limits.status();
  plan.limits = std::move(*limits);
  return plan;
}

Result<Admission> RemediationEngine::Begin(std::string_view workaround_id, const Alert& alert,
                                           std::string_view source, std::optional<AlertId> alert_id,
                                           int attempt) {
  return Admit(workaround_id, alert, source, alert_id, attempt, nullptr);
}

Result<Admission> RemediationEngine::BeginRerun(const ExecutionRecord& e) {
  {
    std::lock_guard lock(mu_);
    const Workaround* w = catalog_->Find(e.workaround_id);
    if (!w || w->resume != Resume::kRerun) {
      return FailedPrecondition(
          "execution " + std::to_string(e.id) + ": workaround '" + e.workaround_id + "' " +
          (w ? "no longer says resume: rerun" : "left the catalog") + "; not rerun");
    }
  }
  Alert alert;
  alert.fingerprint = e.fingerprint;
  alert.labels = e.labels;  // as stored: secrets masked
  alert.source = e.source;
  alert.token = e.token;
  if (e.instance_start) alert.starts_at = *e.instance_start;
  return Admit(e.workaround_id, alert, e.source, e.alert_id, e.attempt, &e);
}

Result<Admission> RemediationEngine::Admit(std::string_view workaround_id, const Alert& alert,
                                           std::string_view source, std::optional<AlertId> alert_id,
                                           int attempt, const ExecutionRecord* rerun) {
  // A fenced node (lease_fence.h) starts nothing: it cannot hold a lease, and
  // another node may be taking its executions over. The sender retries.
  if (runner_.fenced()) {
    return Unavailable("this node is fenced (it could not renew its cluster lease); retry later");
  }
  std::unique_lock admission(admission_mu_);
  std::shared_ptr<const Catalog> catalog;
  std::set<std::string> closed, unknown;
  std::vector<EngineObserver*> observers;
  std::shared_ptr<const SecretMasker> masker;
  {
    std::lock_guard lock(mu_);
    catalog = catalog_;
    masker = masker_;
    closed = closed_issues_;
    unknown = unknown_issues_;
    observers = observers_;
  }
  const Workaround* w = catalog->Find(workaround_id);
  if (!w) return NotFound("no workaround '" + std::string(workaround_id) + "' in the catalog");
  // Without a ledger that records decisions an approve-mode execution could
  // never be decided: refuse to start it.
  if (w->mode == Mode::kApprove && !approvals_) {
    return FailedPrecondition("workaround " + w->id +
                              ": mode approve needs a ledger that records approvals");
  }
  auto pending = std::make_unique<Pending>();
  pending->safe_labels = masker->MaskMap(alert.labels);
  // Label values name the group as the ledger stores labels: masked.
  const std::map<std::string, std::string> group = GroupOf(w->limits, pending->safe_labels);
  BreakerState breaker;
  std::optional<Refusal> refusal;
  bool tripped = false;
  // The limits, the latch and the execution to record. With a shared ledger
  // (AdmissionLedger) this runs inside its admission transaction, under its
  // cluster-wide lock, and may run again after a lost connection.
  auto decide = [&](LimitQueries& limits, BreakerLedger* latch) -> Result<NewExecution> {
    tripped = false;
    Status error;
    refusal = Check(*catalog, *w, alert, group, closed, unknown, limits, latch, &error, &breaker,
                    rerun != nullptr);
    if (!error.ok()) return error;
    if (rerun && !refusal) {
      // The ledger keeps labels masked: an action built from a masked value
      // would act on "***". The secret is gone; a person re-sends the alert.
      std::vector<std::vector<std::string>> argv[3];
      (void)SubstituteAll(*w, alert, argv);  // checked above
      for (const auto& phase : argv) {
        for (const auto& step : phase) {
          for (const std::string& a : step) {
            if (a.find(kSecretMask) == std::string::npos) continue;
            refusal = Refusal{RefusalReason::kUnsafeLabel,
                              "a step needs a label the ledger stores masked as a secret"};
          }
        }
      }
    }
    if (refusal && rerun) {
      refusal->detail = "rerun of execution " + std::to_string(rerun->id) + ": " + refusal->detail;
    }
    // A budget or the hourly breaker refusing for the first time trips the
    // latch: from now on every admission is refused until a person resets it.
    // A budget counted per group (limits.group_by) does not: one host's budget
    // must not stop every other host; it refuses its own group only, for its
    // window (a latch per group is not built yet).
    if (refusal && latch && !breaker.tripped &&
        ((refusal->reason == RefusalReason::kBudget && w->limits.group_by.empty()) ||
         refusal->reason == RefusalReason::kCircuitBreaker)) {
      const std::string why = std::string(RefusalReasonName(refusal->reason)) + ": workaround " +
                              w->id + ": " + refusal->detail;
      Result<bool> t = latch->TripBreaker(why, clock_.Now());
      if (!t.ok()) return t.status();
      tripped = *t;
      if (tripped) {
        Result<BreakerState> b = latch->GetBreaker();
        if (!b.ok()) return b.status();
        breaker = std::move(*b);
      }
    }
    NewExecution e;
    e.workaround_id = w->id;
    e.issue = w->issue.text;
    e.fingerprint = alert.fingerprint;
    e.alert_id = alert_id;
    e.source = std::string(source);
    e.token = alert.token;
    e.labels = pending->safe_labels;
    e.at = StampNow();
    if (alert.starts_at != WallTime{}) e.instance_start = alert.starts_at;
    e.attempt = attempt;
    e.group = group;
    e.mode = std::string(ModeName(w->mode));
    e.resume = std::string(ResumeName(w->resume));
    if (rerun) {
      e.rerun_of = rerun->id;
      e.detail = "rerun of interrupted execution " + std::to_string(rerun->id);
    }
    if (refusal) {
      e.state = ExecutionState::kRefused;
      e.refusal_reason = std::string(RefusalReasonName(refusal->reason));
      e.detail = refusal->detail;
    }
    return e;
  };
  NewExecution e;
  Result<ExecutionId> id = Internal("not admitted");
  if (AdmissionLedger* shared = AsAdmissionLedger(ledger_)) {
    id = shared->Admit([&](LimitQueries& limits, BreakerLedger& latch) -> Result<NewExecution> {
      Result<NewExecution> d = decide(limits, &latch);
      if (d.ok()) e = *d;
      return d;
    });
  } else {
    Result<NewExecution> d = decide(ledger_, breaker_);
    if (!d.ok()) return d.status();
    e = std::move(*d);
    id = ledger_.CreateExecution(e);
  }
  if (!id.ok()) return id.status();
  if (!refusal) {
    pending->catalog = catalog;
    pending->workaround = w;
    pending->alert = alert;
    pending->created_at = e.at;
    pending->uses_slot = options_.queue_when_busy && w->limits.on_busy == OnBusy::kQueue;
    pending->slot_key =
        w->limits.group_by.empty() ? w->id : w->id + "\n" + internal::GroupText(e.group);
    pending->slot_deadline = clock_.Monotonic() + w->limits.queue_timeout;
    (void)SubstituteAll(*w, alert, pending->argv);  // checked above
    RecordAll(*w, *masker, pending->safe_labels, pending->record_argv);
    std::lock_guard lock(mu_);
    pending_[*id] = std::move(pending);
  }
  admission.unlock();

  if (refusal) {
    Log(LogLevel::kWarn, "workaround refused",
        {{"workaround", w->id},
         {"execution", std::to_string(*id)},
         {"reason", std::string(RefusalReasonName(refusal->reason))},
         {"detail", refusal->detail}});
    for (EngineObserver* o : observers) o->OnRefused(*id, *w, *refusal);
    if (tripped) {
      Log(LogLevel::kError, "storm breaker tripped: nothing runs until a person resets it",
          {{"workaround", w->id}, {"reason", breaker.reason}});
      for (EngineObserver* o : observers) o->OnBreakerTripped(*w, breaker);
    }
  } else {
    for (EngineObserver* o : observers) o->OnAdmitted(*id, *w);
  }
  Admission a;
  a.id = *id;
  a.refusal = refusal;
  return a;
}

ExecutionOutcome RemediationEngine::Run(ExecutionId id) {
  std::unique_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) {
      p = std::move(it->second);
      pending_.erase(it);
    }
  }
  if (!p) {
    ExecutionOutcome o;
    o.id = id;
    o.error = FailedPrecondition("execution " + std::to_string(id) +
                                 " is not waiting to run (unknown, refused or already run)");
    return o;
  }
  if (!p->uses_slot || p->approved) {
    ExecutionOutcome out = RunPending(id, *p);
    ParkIfAwaiting(id, out, p);
    return out;
  }
  const Workaround& w = *p->workaround;
  {
    std::lock_guard lock(mu_);
    int& taken = running_[p->slot_key];
    if (taken >= w.limits.concurrency) {
      ExecutionOutcome o;
      o.id = id;
      o.state = ExecutionState::kMatched;
      o.waiting = true;
      o.detail = "waiting for a free slot (concurrency " + std::to_string(w.limits.concurrency) +
                 ", queue_timeout " + FormatDuration(w.limits.queue_timeout) + ")";
      waiting_[p->slot_key].push_back(id);
      pending_[id] = std::move(p);
      return o;
    }
    ++taken;
  }
  const std::string slot_key = p->slot_key;
  ExecutionOutcome out = RunPending(id, *p);
  ParkIfAwaiting(id, out, p);
  ReleaseSlotAndRunWaiting(slot_key);
  return out;
}

void RemediationEngine::ReleaseSlotAndRunWaiting(const std::string& slot_key) {
  for (;;) {
    std::unique_ptr<Pending> next;
    ExecutionId next_id = 0;
    {
      std::lock_guard lock(mu_);
      --running_[slot_key];
      if (draining_) return;  // a shutdown takes the waiting ones (TakeWaiting)
      auto q = waiting_.find(slot_key);
      while (!next && q != waiting_.end() && !q->second.empty()) {
        next_id = q->second.front();
        q->second.pop_front();
        auto it = pending_.find(next_id);
        if (it == pending_.end()) continue;  // taken by TakeWaiting
        next = std::move(it->second);
        pending_.erase(it);
      }
      if (!next) return;
      ++running_[slot_key];
    }
    if (clock_.Monotonic() > next->slot_deadline) {
      RefuseWaiting(next_id, *next);
    } else {
      Log(LogLevel::kInfo, "execution starts after waiting for a slot",
          {{"workaround", next->workaround->id}, {"execution", std::to_string(next_id)}});
      ExecutionOutcome out = RunPending(next_id, *next);
      ParkIfAwaiting(next_id, out, next);
    }
  }
}

void RemediationEngine::RefuseWaiting(ExecutionId id, const Pending& p) {
  const Workaround& w = *p.workaround;
  Refusal r;
  r.reason = RefusalReason::kConcurrency;
  r.detail = "no free slot within queue_timeout " + FormatDuration(w.limits.queue_timeout) +
             " (concurrency " + std::to_string(w.limits.concurrency) + ")";
  ExecutionUpdate u;
  u.state = ExecutionState::kRefused;
  u.refusal_reason = std::string(RefusalReasonName(r.reason));
  u.detail = r.detail;
  u.at = clock_.Now();
  if (Status s = ledger_.Update(id, u); !s.ok()) {
    Log(LogLevel::kError, "cannot record refusal",
        {{"execution", std::to_string(id)}, {"error", s.ToString()}});
  }
  Log(LogLevel::kWarn, "workaround refused",
      {{"workaround", w.id},
       {"execution", std::to_string(id)},
       {"reason", u.refusal_reason},
       {"detail", r.detail}});
  std::vector<EngineObserver*> observers;
  {
    std::lock_guard lock(mu_);
    observers = observers_;
  }
  for (EngineObserver* o : observers) o->OnRefused(id, w, r);
}

std::vector<ExecutionId> RemediationEngine::TakeWaiting() {
  std::lock_guard lock(mu_);
  draining_ = true;
  std::vector<ExecutionId> out;
  for (auto& [wid, q] : waiting_) {
    for (ExecutionId id : q) {
      if (pending_.erase(id)) out.push_back(id);
    }
    q.clear();
  }
  return out;
}

WallTime RemediationEngine::StampNow() {
  constexpr size_t kMaxStamps = 4096;
  std::lock_guard lock(stamps_mu_);
  const WallTime now = clock_.Now();
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (stamps_.emplace(ms, clock_.Monotonic()).second) {
    stamp_order_.push_back(ms);
    if (stamp_order_.size() > kMaxStamps) {
      stamps_.erase(stamp_order_.front());
      stamp_order_.pop_front();
    }
  }
  return now;
}

Duration RemediationEngine::Elapsed(WallTime then) const {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(then.time_since_epoch()).count();
  {
    std::lock_guard lock(stamps_mu_);
    auto it = stamps_.find(ms);
    if (it != stamps_.end()) {
      return std::chrono::duration_cast<Duration>(clock_.Monotonic() - it->second);
    }
  }
  return std::chrono::duration_cast<Duration>(clock_.Now() - then);
}

void RemediationEngine::ParkIfAwaiting(ExecutionId id, const ExecutionOutcome& out,
                                       std::unique_ptr<Pending>& p) {
  if (out.state != ExecutionState::kAwaitingApproval || !p) return;
  p->uses_slot = false;  // an approved run does not queue for a slot again
  std::lock_guard lock(mu_);
  awaiting_[id] = std::move(p);
}

Result<std::unique_ptr<RemediationEngine::Pending>> RemediationEngine::Resume(
    const ExecutionRecord& e) {
  std::shared_ptr<const Catalog> catalog;
  std::shared_ptr<const SecretMasker> masker;
  {
    std::lock_guard lock(mu_);
    catalog = catalog_;
    masker = masker_;
  }
  const Workaround* w = catalog->Find(e.workaround_id);
  if (!w) {
    return FailedPrecondition("workaround '" + e.workaround_id +
                              "' is no longer in the catalog: deny execution " +
                              std::to_string(e.id));
  }
  auto p = std::make_unique<Pending>();
  p->catalog = catalog;
  p->workaround = w;
  p->alert.fingerprint = e.fingerprint;
  p->alert.labels = e.labels;  // as stored: secrets masked
  p->alert.source = e.source;
  p->safe_labels = e.labels;
  p->created_at = e.created_at;
  if (Status s = SubstituteAll(*w, p->alert, p->argv); !s.ok()) {
    return FailedPrecondition("the reloaded catalog refuses the labels of execution " +
                              std::to_string(e.id) + ": " + s.message());
  }
  // The ledger keeps labels masked; an action built from a masked value would
  // act on "***". That one is for a person to re-send, not to approve.
  for (const auto& phase : p->argv) {
    for (const std::vector<std::string>& argv : phase) {
      for (const std::string& a : argv) {
        if (a.find(kSecretMask) == std::string::npos) continue;
        return FailedPrecondition(
            "execution " + std::to_string(e.id) +
            " needs a label the ledger stores masked as a secret, and stopgap restarted since "
            "it was admitted: deny it and let the alert fire again");
      }
    }
  }
  RecordAll(*w, *masker, p->safe_labels, p->record_argv);
  ExecutionBundle::Header h;
  h.execution_id = e.id;
  h.workaround_id = w->id;
  h.issue = w->issue.text;
  h.fingerprint = e.fingerprint;
  h.labels = e.labels;
  h.created_at = e.created_at;
  std::optional<WallTime> diag_end;
  for (const TransitionRecord& t : e.transitions) {
    if (t.state == ExecutionState::kAwaitingApproval) diag_end = t.at;
  }
  p->bundle.emplace(ExecutionBundle::Resume(e.bundle_dir, std::move(h), e.steps, diag_end));
  return p;
}

Result<ExecutionRecord> RemediationEngine::Decide(ExecutionId id, ApprovalDecision decision,
                                                  std::string_view by, std::string_view comment) {
  if (!approvals_) return FailedPrecondition("this ledger does not record approvals");
  std::unique_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = awaiting_.find(id);
    if (it != awaiting_.end()) {
      p = std::move(it->second);
      awaiting_.erase(it);
    }
  }
  // Back to the waiting ones when nothing was decided.
  auto keep = [&](Status st) -> Result<ExecutionRecord> {
    if (p) {
      std::lock_guard lock(mu_);
      awaiting_[id] = std::move(p);
    }
    return st;
  };
  if (decision == ApprovalDecision::kApproved) {
    if (Status f = StorageFault(); !f.ok()) return keep(f);
    if (breaker_) {
      Result<BreakerState> b = breaker_->GetBreaker();
      if (!b.ok()) return keep(b.status());
      if (b->tripped) {
        return keep(FailedPrecondition("the storm breaker is tripped (" + b->reason +
                                       "): reset it before approving anything"));
      }
    }
    if (!p) {
      // Admitted by an earlier process (or `stopgap run`): rebuilt from the ledger.
      Result<ExecutionRecord> e = ledger_.GetExecution(id);
      if (!e.ok()) return e.status();
      if (e->state != ExecutionState::kAwaitingApproval) {
        return FailedPrecondition("execution " + std::to_string(id) + " is " +
                                  std::string(ExecutionStateName(e->state)) +
                                  ", not awaiting approval");
      }
      Result<std::unique_ptr<Pending>> resumed = Resume(*e);
      if (!resumed.ok()) return resumed.status();
      p = std::move(*resumed);
    }
  }
  ApprovalRecord a;
  a.decision = decision;
  a.by = std::string(by);
  a.comment = std::string(comment);
  a.at = StampNow();
  Result<ExecutionRecord> r = approvals_->Decide(id, a);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kFailedPrecondition ||
        r.status().code() == StatusCode::kNotFound) {
      return r.status();  // decided meanwhile: nothing to keep
    }
    return keep(r.status());
  }
  Log(LogLevel::kInfo, "approval decided",
      {{"execution", std::to_string(id)},
       {"workaround", r->workaround_id},
       {"decision", std::string(ApprovalDecisionName(decision))},
       {"by", a.by}});
  if (decision == ApprovalDecision::kApproved) {
    p->approved = true;
    std::lock_guard lock(mu_);
    pending_[id] = std::move(p);  // the caller queues Run(id)
    return r;
  }
  // Denied or expired: the bundle's manifest says how it ended.
  if (p && p->bundle) {
    if (Status s = p->bundle->Finish(r->state, a.at); !s.ok()) {
      Log(LogLevel::kWarn, "cannot rewrite bundle manifest",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
  }
  std::shared_ptr<const Catalog> catalog;
  std::vector<EngineObserver*> observers;
  {
    std::lock_guard lock(mu_);
    catalog = catalog_;
    observers = observers_;
  }
  if (const Workaround* w = catalog->Find(r->workaround_id)) {
    ExecutionOutcome o;
    o.id = id;
    o.state = r->state;
    o.detail = r->detail;
    o.bundle_dir = r->bundle_dir;
    for (EngineObserver* obs : observers) obs->OnExecutionFinished(*w, o);
  }
  return r;
}

Result<int> RemediationEngine::ExpireApprovals() {
  if (!approvals_) return 0;
  constexpr int kMax = 1000;
  Result<std::vector<ExecutionRecord>> list = approvals_->ListAwaitingApproval(kMax);
  if (!list.ok()) return list.status();
  if (list->size() < static_cast<size_t>(kMax)) {
    // Decided by another node sharing the ledger: forget them here. (One
    // parked meanwhile and forgotten is rebuilt from the ledger if decided.)
    std::set<ExecutionId> waiting;
    for (const ExecutionRecord& e : *list) waiting.insert(e.id);
    std::lock_guard lock(mu_);
    std::erase_if(awaiting_, [&](const auto& kv) { return !waiting.contains(kv.first); });
  }
  const WallTime now = clock_.Now();
  int n = 0;
  for (const ExecutionRecord& e : *list) {
    if (!e.approval_deadline || *e.approval_deadline > now) continue;
    Result<ExecutionRecord> r = Decide(e.id, ApprovalDecision::kExpired, "stopgap",
                                       "approval_timeout passed without a decision");
    if (r.ok()) {
      ++n;
    } else if (r.status().code() != StatusCode::kFailedPrecondition) {
      return r.status();
    }
  }
  return n;
}

Result<BreakerState> RemediationEngine::Breaker() {
  if (!breaker_) return BreakerState{};
  return breaker_->GetBreaker();
}

Result<BreakerState> RemediationEngine::ResetBreaker(std::string_view by,
                                                     std::string_view comment) {
  if (!breaker_) return FailedPrecondition("this ledger keeps no storm breaker latch");
  // Under the admission lock: no admission reads the latch half-way.
  std::lock_guard admission(admission_mu_);
  Result<BreakerState> before = breaker_->GetBreaker();
  if (!before.ok()) return before.status();
  Result<BreakerState> after =
      breaker_->ResetBreaker({std::string(by), std::string(comment), clock_.Now()});
  if (after.ok() && before->tripped) {
    Log(LogLevel::kWarn, "storm breaker reset",
        {{"by", std::string(by)}, {"comment", std::string(comment)}, {"was", before->reason}});
  }
  return after;
}

Status RemediationEngine::StorageFault() const {
  {
    std::lock_guard lock(mu_);
    if (!bundle_fault_.ok()) return bundle_fault_;
  }
  return ledger_.StorageFault();
}

void RemediationEngine::NoteStillFiring(std::string_view workaround_id, ExecutionId failed) {
  std::shared_ptr<const Catalog> catalog;
  std::vector<EngineObserver*> observers;
  {
    std::lock_guard lock(mu_);
    catalog = catalog_;
    observers = observers_;
  }
  const Workaround* w = catalog->Find(workaround_id);
  if (!w) return;
  for (EngineObserver* o : observers) o->OnStillFiring(*w, failed);
}

Result<ExecutionOutcome> RemediationEngine::Execute(std::string_view workaround_id,
                                                    const Alert& alert, std::string_view source) {
  Result<Admission> a = Begin(workaround_id, alert, source);
  if (!a.ok()) return a.status();
  if (a->refusal) {
    // `stopgap run` exits right after: make the refusal durable first.
    STOPGAP_RETURN_IF_ERROR(ledger_.Sync());
    ExecutionOutcome o;
    o.id = a->id;
    o.state = ExecutionState::kRefused;
    o.refusal = a->refusal;
    o.detail = a->refusal->detail;
    return o;
  }
  return Run(a->id);
}

// One execution being run: what every step of it needs.
struct RemediationEngine::StepContext {
  ExecutionId id = 0;
  const Pending& p;
  ExecutionBundle& bundle;
  std::vector<std::string> env;
  std::vector<EngineObserver*> observers;
};

StepRecord RemediationEngine::RunOneStep(StepContext& c, StepPhase phase, int index) {
  const Step& step = StepsOf(*c.p.workaround, phase)[index];
  StepRecord r;
  r.phase = phase;
  r.index = index;
  r.kind = std::string(StepKindName(step.kind()));
  r.started_at = clock_.Now();
  std::vector<diag::CollectorOutcome> collectors;  // collect:/guru: detail for the manifest
  if (step.kind() == StepKind::kRun) {
    ProcessSpec spec;
    spec.argv = c.p.argv[static_cast<int>(phase)][index];
    spec.timeout = step.timeout;
    spec.kill_grace = options_.kill_grace;
    spec.output_cap = options_.output_cap;
    std::string out_name = ExecutionBundle::StreamFile(phase, index, "stdout");
    std::string err_name = ExecutionBundle::StreamFile(phase, index, "stderr");
    spec.stdout_path = c.bundle.dir() + "/" + out_name;
    spec.stderr_path = c.bundle.dir() + "/" + err_name;
    spec.env = c.env;
    r.argv = c.p.record_argv[static_cast<int>(phase)][index];  // secrets masked
    Result<ProcessResult> res = runner_.Run(spec);
    if (!res.ok()) {
      r.outcome = runner_.stopping() ? StepOutcome::kStopped
                  : runner_.fenced() ? StepOutcome::kFenced
                                     : StepOutcome::kError;
      r.error = res.status().message();
    } else {
      r.outcome = res->stopped       ? StepOutcome::kStopped
                  : res->fenced      ? StepOutcome::kFenced
                  : res->timed_out   ? StepOutcome::kTimeout
                  : res->Succeeded() ? StepOutcome::kOk
                                     : StepOutcome::kFailed;
      if (res->term_signal == 0) r.exit_code = res->exit_code;
      r.signal = res->term_signal;
      r.timed_out = res->timed_out;
      r.truncated = res->Truncated();
      r.duration = res->duration;
      if (res->stdout_bytes > 0 && res->output_error.empty()) r.files.push_back(out_name);
      if (res->stderr_bytes > 0 && res->output_error.empty()) r.files.push_back(err_name);
      if (!res->output_error.empty()) r.error = res->output_error;
    }
  } else {
    r.argv = {step.Describe()};
    auto mono = clock_.Monotonic();
    DiagnosticsOutcome d =
        step.kind() == StepKind::kCollect
            ? diagnostics_->Collect(std::get<CollectStep>(step.body), step.timeout, c.bundle.dir())
            : diagnostics_->Guru(std::get<GuruStep>(step.body), step.timeout, c.bundle.dir());
    r.outcome = d.timed_out ? StepOutcome::kTimeout
                : d.ok      ? StepOutcome::kOk
                            : StepOutcome::kFailed;
    r.timed_out = d.timed_out;
    r.truncated = d.truncated;
    r.error = d.error;
    r.files = d.files;
    r.duration = d.duration.count() > 0
                     ? d.duration
                     : std::chrono::duration_cast<Duration>(clock_.Monotonic() - mono);
    collectors = std::move(d.collectors);
  }
  r.finished_at = clock_.Now();
  c.bundle.AddStep(r, std::move(collectors));
  for (EngineObserver* o : c.observers) o->OnStepFinished(c.id, *c.p.workaround, r);
  return r;
}

RemediationEngine::PhaseResult RemediationEngine::RunPhase(StepContext& c, StepPhase phase) {
  // Diagnostics run to the end whatever fails (evidence is best effort and
  // the action still runs); action and verify stop at the first failure.
  const bool stop_at_failure = phase != StepPhase::kDiagnostics;
  PhaseResult r;
  const size_t n = StepsOf(*c.p.workaround, phase).size();
  for (size_t i = 0; i < n; ++i) {
    r.steps.push_back(RunOneStep(c, phase, static_cast<int>(i)));
    const StepRecord& s = r.steps.back();
    if (s.outcome == StepOutcome::kOk) continue;
    if (s.outcome == StepOutcome::kStopped) r.stopped = true;
    // Fenced: another node may take the execution over; nothing more runs here.
    if (s.outcome == StepOutcome::kFenced) r.fenced = true;
    if (stop_at_failure || r.fenced) {
      r.failure = FailureText(s);
      break;
    }
  }
  return r;
}

ExecutionOutcome RemediationEngine::RunPending(ExecutionId id, Pending& p) {
  const Workaround& w = *p.workaround;
  std::vector<EngineObserver*> observers;
  {
    std::lock_guard lock(mu_);
    observers = observers_;
  }
  ExecutionOutcome out;
  out.id = id;
  auto finish = [&](ExecutionState state, std::string detail) {
    out.state = state;
    out.detail = std::move(detail);
    for (EngineObserver* o : observers) o->OnExecutionFinished(w, out);
    return out;
  };
  // Records a failure that happened before or between phases (best effort).
  auto fail_early = [&](Status st) {
    out.error = st;
    ExecutionUpdate u;
    u.state = ExecutionState::kFailed;
    u.detail = "engine error: " + st.message();
    u.at = StampNow();
    Status s = ledger_.Update(id, u);
    if (!s.ok()) {
      Log(LogLevel::kError, "cannot record execution failure",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
    return finish(ExecutionState::kFailed, *u.detail);
  };
  // A state change with the steps of the phase before it.
  auto record = [&](ExecutionState state, std::vector<StepRecord> steps, bool durable) {
    ExecutionUpdate u;
    u.state = state;
    u.steps = std::move(steps);
    u.at = StampNow();
    u.durable = durable;
    Status st = ledger_.Update(id, u);
    if (st.ok()) {
      for (EngineObserver* o : observers) o->OnStateChanged(id, w, state);
    }
    return st;
  };

  if (Status f = StorageFault(); !f.ok()) {
    return fail_early(f.WithContext("storage failed earlier; restart stopgap. Not started"));
  }
  // 3. Action, then 4. verify when the action succeeded (after step 2 below,
  // or after an approval).
  // The end of an execution that ran (some of) its steps: the final state
  // with the last phase's steps, and the bundle's manifest. A fenced one is
  // written once, whether or not another node marked it interrupted first,
  // and kept by the ledger until its database answers (ExecutionUpdate).
  auto conclude = [&](ExecutionBundle* bundle, ExecutionState final_state,
                      const std::string& failure, std::vector<StepRecord> steps,
                      bool fenced) -> ExecutionOutcome {
    const WallTime end = StampNow();
    ExecutionUpdate u;
    u.state = final_state;
    u.detail = failure;
    u.steps = std::move(steps);
    u.at = end;
    u.fenced = fenced;
    if (Status s = ledger_.Update(id, u); !s.ok()) {
      out.error = s;
      Log(LogLevel::kError, "cannot record execution result",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
    if (Status s = bundle->Finish(final_state, end); !s.ok()) {
      Log(LogLevel::kWarn, "cannot rewrite bundle manifest",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
    Log(failure.empty() ? LogLevel::kInfo : LogLevel::kWarn, "execution finished",
        {{"workaround", w.id},
         {"execution", std::to_string(id)},
         {"state", std::string(ExecutionStateName(final_state))},
         {"detail", failure}});
    return finish(final_state, failure);
  };
  auto act_and_verify = [&](StepContext& c, bool diag_stopped) -> ExecutionOutcome {
    PhaseResult last = RunPhase(c, StepPhase::kAction);
    bool stopped = diag_stopped || last.stopped;
    if (last.failure.empty() && !w.verify.empty()) {
      out.steps.insert(out.steps.end(), last.steps.begin(), last.steps.end());
      if (Status s = record(ExecutionState::kVerifying, std::move(last.steps), false); !s.ok()) {
        return fail_early(s);
      }
      last = RunPhase(c, StepPhase::kVerify);
      stopped = stopped || last.stopped;
    }
    out.steps.insert(out.steps.end(), last.steps.begin(), last.steps.end());

    // A step stopped by a shutdown (the runner's StopAll) or a fence
    // interrupts the execution: it neither succeeded nor failed on its own.
    const std::string& failure = last.failure;
    const ExecutionState final_state = failure.empty()          ? ExecutionState::kSucceeded
                                       : stopped || last.fenced ? ExecutionState::kInterrupted
                                                                : ExecutionState::kFailed;
    return conclude(&c.bundle, final_state, failure, std::move(last.steps), last.fenced);
  };
  auto add_env = [&](StepContext& c) {
    c.env.push_back("STOPGAP_EXECUTION_ID=" + std::to_string(id));
    c.env.push_back("STOPGAP_WORKAROUND=" + w.id);
    c.env.push_back("STOPGAP_BUNDLE_DIR=" + c.bundle.dir());
  };

  if (p.approved) {
    // mode: approve, approved (Decide recorded "acting", durable): the
    // diagnostics ran before the wait; go on with the action.
    out.bundle_dir = p.bundle->dir();
    StepContext c{id, p, *p.bundle, options_.env, observers};
    add_env(c);
    return act_and_verify(c, false);
  }
  const std::string root = options_.bundles_dir.empty() ? p.catalog->bundles : options_.bundles_dir;
  ExecutionBundle::Header h;
  h.execution_id = id;
  h.workaround_id = w.id;
  h.issue = w.issue.text;
  h.fingerprint = p.alert.fingerprint;
  h.labels = p.safe_labels;
  h.created_at = p.created_at;
  Result<ExecutionBundle> created = ExecutionBundle::Create(root, std::move(h));
  if (!created.ok()) return fail_early(created.status());
  p.bundle.emplace(std::move(*created));
  ExecutionBundle* bundle = &*p.bundle;
  out.bundle_dir = bundle->dir();
  {
    // Visible to the API while diagnostics run; made durable with "acting".
    ExecutionUpdate u;
    u.state = ExecutionState::kDiagnosing;
    u.bundle_dir = bundle->dir();
    u.at = clock_.Now();
    u.durable = false;
    if (Status s = ledger_.Update(id, u); !s.ok()) return fail_early(s);
    for (EngineObserver* o : observers) o->OnStateChanged(id, w, ExecutionState::kDiagnosing);
  }
  StepContext c{id, p, *bundle, options_.env, observers};
  add_env(c);

  // 1. Diagnostics: always first.
  PhaseResult diag = RunPhase(c, StepPhase::kDiagnostics);
  out.steps = diag.steps;
  if (diag.fenced) {
    // The node lost its lease during the diagnostics: nothing acts here.
    return conclude(bundle, ExecutionState::kInterrupted, diag.failure, std::move(diag.steps),
                    true);
  }
  if (w.mode == Mode::kObserve) {
    // Shadow mode: the action is recorded as it would run, and nothing changes.
    const WallTime end = StampNow();
    std::vector<StepRecord> would = WouldRunSteps(w, p.record_argv[1], end);
    for (const StepRecord& r : would) bundle->AddStep(r);
    out.steps.insert(out.steps.end(), would.begin(), would.end());
    std::vector<StepRecord> steps = std::move(diag.steps);
    steps.insert(steps.end(), would.begin(), would.end());
    const std::string detail = "observe mode: the action was not run";
    ExecutionUpdate u;
    u.state = ExecutionState::kObserved;
    u.detail = detail;
    u.steps = std::move(steps);
    u.at = end;
    if (Status st = ledger_.Update(id, u); !st.ok()) return fail_early(st);
    if (Status st = bundle->Finish(ExecutionState::kObserved, end); !st.ok()) {
      Log(LogLevel::kWarn, "cannot rewrite bundle manifest",
          {{"execution", std::to_string(id)}, {"error", st.ToString()}});
    }
    Log(LogLevel::kInfo, "execution observed (mode: observe)",
        {{"workaround", w.id}, {"execution", std::to_string(id)}});
    return finish(ExecutionState::kObserved, detail);
  }
  // 2. The evidence (bundle) and the record that the action starts (ledger,
  // "acting" with the diagnostics steps) are both durable before anything
  // changes. They are independent, so their fsyncs run concurrently and share
  // the filesystem's journal commits. From here on, a crash reads
  // "interrupted". In approve mode the record is "awaiting-approval" instead,
  // and nothing else happens until Decide().
  {
    // The manifest is written first: a process killed after the "acting"
    // commit leaves a whole manifest (and one killed before it a
    // "diagnosing" execution); only the fsyncs run concurrently.
    if (Status s = bundle->WriteSealedManifest(clock_.Now()); !s.ok()) {
      return fail_early(s.WithContext("bundle manifest not written, action not started"));
    }
    std::future<Status> sealed =
        std::async(std::launch::async, [bundle] { return bundle->Sync(); });
    Status recorded;
    if (w.mode == Mode::kApprove) {
      ExecutionUpdate u;
      u.state = ExecutionState::kAwaitingApproval;
      u.steps = std::move(diag.steps);
      u.at = StampNow();
      u.approval_deadline = u.at + w.approval_timeout;
      u.detail = "waiting for approval until " + FormatRfc3339(*u.approval_deadline);
      recorded = ledger_.Update(id, u);
    } else {
      recorded = record(ExecutionState::kActing, std::move(diag.steps), true);
    }
    Status seal = sealed.get();
    if (!recorded.ok()) return fail_early(recorded.WithContext("action not started"));
    if (!seal.ok()) {
      // fsyncgate: the bundle's pages may be gone; never retried, latched.
      bool first = false;
      {
        std::lock_guard lock(mu_);
        first = bundle_fault_.ok();
        if (first) bundle_fault_ = seal.WithContext("bundle " + bundle->dir());
      }
      if (first) {
        Log(LogLevel::kError, "bundle storage failed; no action starts until restart",
            {{"execution", std::to_string(id)}, {"error", seal.ToString()}});
      }
      return fail_early(seal.WithContext("bundle not durable, action not started"));
    }
  }
  if (w.mode == Mode::kApprove) {
    Log(LogLevel::kInfo, "execution awaits approval (mode: approve)",
        {{"workaround", w.id},
         {"execution", std::to_string(id)},
         {"timeout", FormatDuration(w.approval_timeout)}});
    out.state = ExecutionState::kAwaitingApproval;
    out.detail = "awaiting approval";
    return out;  // not finished: the caller parks it (ParkIfAwaiting)
  }
  return act_and_verify(c, diag.stopped);
}

}  // namespace stopgap::remedy

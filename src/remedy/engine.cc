// RemediationEngine: admission (limits under one lock) and execution
// (diagnostics -> sealed bundle -> action -> verify). See engine.h.
#include "remedy/engine.h"

#include <algorithm>
#include <future>

#include "core/log.h"
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

std::string FailureText(const StepRecord& s) {
  std::string where = std::string(StepPhaseName(s.phase)) + "[" + std::to_string(s.index) + "]";
  if (s.outcome == "timeout") return where + " timed out";
  if (s.outcome == "stopped") return where + " stopped: stopgap is shutting down";
  if (s.outcome == "error") return where + " could not start: " + s.error;
  if (s.signal != 0) return where + " killed by signal " + std::to_string(s.signal);
  if (s.exit_code) return where + " exited " + std::to_string(*s.exit_code);
  return where + " " + s.outcome;
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

RemediationEngine::RemediationEngine(std::shared_ptr<const Catalog> catalog,
                                     ExecutionLedger& ledger, ProcessRunner& runner,
                                     const Clock& clock, EngineOptions options)
    : ledger_(ledger),
      runner_(runner),
      clock_(clock),
      options_(std::move(options)),
      catalog_(std::move(catalog)),
      masker_(MaskerFor(*catalog_)) {
  if (!options_.diagnostics) {
    default_diagnostics_ = std::make_unique<UnsupportedDiagnostics>();
    options_.diagnostics = default_diagnostics_.get();
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
                                                const std::set<std::string>& closed,
                                                const std::set<std::string>& unknown,
                                                Status* error) {
  const WallTime now = clock_.Now();
  internal::LimitInputs in;
  in.now = now;
  in.today = CivilDayOf(now);
  in.closed = &closed;
  in.unknown = &unknown;
  std::vector<std::vector<std::string>> argv[3];
  in.label_status = SubstituteAll(w, alert, argv);
  Result<std::optional<Refusal>> r = internal::CheckLimits(catalog, w, in, ledger_);
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
  Status error;
  std::optional<Refusal> refusal = Check(*catalog, *w, alert, closed, unknown, &error);
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
    std::shared_ptr<const SecretMasker> masker = MaskerFor(*catalog);
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
  Result<std::vector<std::string>> limits = internal::DescribeLimits(*catalog, *w, now, ledger_);
  if (!limits.ok()) return limits.status();
  plan.limits = std::move(*limits);
  return plan;
}

Result<Admission> RemediationEngine::Begin(std::string_view workaround_id, const Alert& alert,
                                           std::string_view source,
                                           std::optional<AlertId> alert_id) {
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
  Status error;
  std::optional<Refusal> refusal = Check(*catalog, *w, alert, closed, unknown, &error);
  if (!error.ok()) return error;

  auto pending = std::make_unique<Pending>();
  pending->safe_labels = masker->MaskMap(alert.labels);
  NewExecution e;
  e.workaround_id = w->id;
  e.issue = w->issue.text;
  e.fingerprint = alert.fingerprint;
  e.alert_id = alert_id;
  e.source = std::string(source);
  e.token = alert.token;
  e.labels = pending->safe_labels;
  e.at = clock_.Now();
  if (refusal) {
    e.state = ExecutionState::kRefused;
    e.refusal_reason = std::string(RefusalReasonName(refusal->reason));
    e.detail = refusal->detail;
  }
  Result<ExecutionId> id = ledger_.CreateExecution(e);
  if (!id.ok()) return id.status();
  if (!refusal) {
    pending->catalog = catalog;
    pending->workaround = w;
    pending->alert = alert;
    pending->created_at = e.at;
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
  return RunPending(id, *p);
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
  // Record a failure that happened before or between phases (best effort).
  auto fail_early = [&](Status st) {
    out.error = st;
    ExecutionUpdate u;
    u.state = ExecutionState::kFailed;
    u.detail = "engine error: " + st.message();
    u.at = clock_.Now();
    u.steps = {};
    Status s = ledger_.Update(id, u);
    if (!s.ok()) {
      Log(LogLevel::kError, "cannot record execution failure",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
    return finish(ExecutionState::kFailed, *u.detail);
  };

  const std::string root = options_.bundles_dir.empty() ? p.catalog->bundles : options_.bundles_dir;
  ExecutionBundle::Header h;
  h.execution_id = id;
  h.workaround_id = w.id;
  h.issue = w.issue.text;
  h.fingerprint = p.alert.fingerprint;
  h.labels = p.safe_labels;
  h.created_at = p.created_at;
  Result<ExecutionBundle> bundle = ExecutionBundle::Create(root, std::move(h));
  if (!bundle.ok()) return fail_early(bundle.status());
  out.bundle_dir = bundle->dir();

  const WallTime diag_start = clock_.Now();
  {
    // Visible to the API while diagnostics run; made durable with "acting".
    ExecutionUpdate u;
    u.state = ExecutionState::kDiagnosing;
    u.bundle_dir = bundle->dir();
    u.at = diag_start;
    u.durable = false;
    Status s = ledger_.Update(id, u);
    if (!s.ok()) return fail_early(s);
  }

  std::vector<std::string> env = options_.env;
  env.push_back("STOPGAP_EXECUTION_ID=" + std::to_string(id));
  env.push_back("STOPGAP_WORKAROUND=" + w.id);
  env.push_back("STOPGAP_BUNDLE_DIR=" + bundle->dir());

  auto run_step = [&](StepPhase phase, int index) -> StepRecord {
    const Step& step = StepsOf(w, phase)[index];
    StepRecord r;
    r.phase = phase;
    r.index = index;
    r.kind = std::string(StepKindName(step.kind()));
    r.started_at = clock_.Now();
    if (step.kind() == StepKind::kRun) {
      ProcessSpec spec;
      spec.argv = p.argv[static_cast<int>(phase)][index];
      spec.timeout = step.timeout;
      spec.kill_grace = options_.kill_grace;
      spec.output_cap = options_.output_cap;
      std::string out_name = ExecutionBundle::StreamFile(phase, index, "stdout");
      std::string err_name = ExecutionBundle::StreamFile(phase, index, "stderr");
      spec.stdout_path = bundle->dir() + "/" + out_name;
      spec.stderr_path = bundle->dir() + "/" + err_name;
      spec.env = env;
      r.argv = p.record_argv[static_cast<int>(phase)][index];  // secrets masked
      Result<ProcessResult> res = runner_.Run(spec);
      if (!res.ok()) {
        r.outcome = runner_.stopping() ? "stopped" : "error";
        r.error = res.status().message();
      } else {
        r.outcome = res->stopped       ? "stopped"
                    : res->timed_out   ? "timeout"
                    : res->Succeeded() ? "ok"
                                       : "failed";
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
      DiagnosticsOutcome d = step.kind() == StepKind::kCollect
                                 ? options_.diagnostics->Collect(std::get<CollectStep>(step.body),
                                                                 step.timeout, bundle->dir())
                                 : options_.diagnostics->Guru(std::get<GuruStep>(step.body),
                                                              step.timeout, bundle->dir());
      r.outcome = !d.supported ? "unsupported" : d.timed_out ? "timeout" : d.ok ? "ok" : "failed";
      r.timed_out = d.timed_out;
      r.truncated = d.truncated;
      r.error = d.error;
      r.files = d.files;
      r.duration = d.duration.count() > 0
                       ? d.duration
                       : std::chrono::duration_cast<Duration>(clock_.Monotonic() - mono);
    }
    r.finished_at = clock_.Now();
    for (EngineObserver* o : observers) o->OnStepFinished(id, w, r);
    return r;
  };

  // 1. Diagnostics: always first, failures recorded and the action still runs.
  std::vector<StepRecord> diag_steps;
  for (size_t i = 0; i < w.diagnostics.size(); ++i) {
    diag_steps.push_back(run_step(StepPhase::kDiagnostics, static_cast<int>(i)));
    bundle->AddStep(diag_steps.back());
  }
  const WallTime diag_end = clock_.Now();
  // 2. The evidence (bundle) and the record that the action starts (ledger,
  // "acting" with the diagnostics steps) are both durable before anything
  // changes. They are independent, so their fsyncs run concurrently and share
  // the filesystem's journal commits.
  {
    ExecutionUpdate u;
    u.state = ExecutionState::kActing;
    u.steps = diag_steps;
    u.at = clock_.Now();
    std::future<Status> sealed =
        std::async(std::launch::async, [&bundle, diag_end] { return bundle->Seal(diag_end); });
    Status recorded = ledger_.Update(id, u);
    Status seal = sealed.get();
    out.steps = diag_steps;
    if (!recorded.ok()) return fail_early(recorded.WithContext("action not started"));
    if (!seal.ok()) return fail_early(seal.WithContext("bundle not durable, action not started"));
  }
  // From here on, a crash reads "interrupted".

  // 3. Action: stops at the first failing step.
  std::vector<StepRecord> later;
  std::string failure;
  for (size_t i = 0; i < w.action.size() && failure.empty(); ++i) {
    later.push_back(run_step(StepPhase::kAction, static_cast<int>(i)));
    bundle->AddStep(later.back());
    if (later.back().outcome != "ok") failure = FailureText(later.back());
  }
  // 4. Verify, when the action succeeded.
  if (failure.empty() && !w.verify.empty()) {
    ExecutionUpdate u;
    u.state = ExecutionState::kVerifying;
    u.steps = later;
    u.at = clock_.Now();
    u.durable = false;
    if (Status s = ledger_.Update(id, u); !s.ok()) {
      out.steps.insert(out.steps.end(), later.begin(), later.end());
      return fail_early(s);
    }
    out.steps.insert(out.steps.end(), later.begin(), later.end());
    later.clear();
    for (size_t i = 0; i < w.verify.size() && failure.empty(); ++i) {
      later.push_back(run_step(StepPhase::kVerify, static_cast<int>(i)));
      bundle->AddStep(later.back());
      if (later.back().outcome != "ok") failure = FailureText(later.back());
    }
  }
  out.steps.insert(out.steps.end(), later.begin(), later.end());

  // A step stopped by a shutdown (the runner's StopAll) interrupts the
  // execution: it neither succeeded nor failed on its own.
  const bool stopped = std::any_of(out.steps.begin(), out.steps.end(),
                                   [](const StepRecord& s) { return s.outcome == "stopped"; });
  const ExecutionState final_state = failure.empty() ? ExecutionState::kSucceeded
                                     : stopped       ? ExecutionState::kInterrupted
                                                     : ExecutionState::kFailed;
  const WallTime end = clock_.Now();
  ExecutionUpdate u;
  u.state = final_state;
  u.detail = failure;
  u.steps = std::move(later);
  u.at = end;
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
}

}  // namespace stopgap::remedy

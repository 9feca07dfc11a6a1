// RemediationEngine with the real SQLite ledger: ordering (diagnostics before
// action, bundle sealed first), outcomes, refusals and each limit refusing
// exactly when it should (ManualClock; a fake runner where processes don't
// matter, the real runner where they do).
#include "remedy/engine.h"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/file.h"
#include "diag/bundle.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::MakeCatalog;
using testing::MakeWorkaround;
using testing::RunOf;
using testing::TempDir;

const WallTime kNow = WallTime(std::chrono::hours(24 * 20600));  // 2026-05-25

// Records every argv; succeeds unless the program is "false".
class FakeRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec& spec) override {
    std::lock_guard lock(mu);
    runs.push_back(spec.argv);
    ProcessResult r;
    r.exit_code = spec.argv[0] == "false" ? 1 : 0;
    return r;
  }
  size_t count() {
    std::lock_guard lock(mu);
    return runs.size();
  }
  std::mutex mu;
  std::vector<std::vector<std::string>> runs;
};

class RecordingObserver final : public EngineObserver {
 public:
  void OnAdmitted(ExecutionId, const Workaround&) override { ++admitted; }
  void OnRefused(ExecutionId, const Workaround&, const Refusal& r) override {
    refusals.push_back(std::string(RefusalReasonName(r.reason)));
  }
  void OnStepFinished(ExecutionId, const Workaround&, const StepRecord&) override { ++steps; }
  void OnExecutionFinished(const Workaround&, const ExecutionOutcome& o) override {
    finished.push_back(o.state);
  }
  void OnBreakerTripped(const Workaround& w, const BreakerState& b) override {
    tripped.push_back(w.id + ": " + b.reason);
  }
  std::vector<std::string> tripped;
  int admitted = 0;
  int steps = 0;
  std::vector<std::string> refusals;
  std::vector<ExecutionState> finished;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<ExecutionLedger>> l =
        OpenSqliteLedger(dir_.path() + "/ledger.db", clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
  }
  std::unique_ptr<RemediationEngine> Engine(std::vector<Workaround> ws, ProcessRunner& runner,
                                            const Clock& clock, int max_runs_per_hour = 60,
                                            EngineOptions options = {}) {
    auto c = std::make_shared<Catalog>();
    c->bundles = dir_.path() + "/bundles";
    c->workarounds = std::move(ws);
    c->policy.max_runs_per_hour = max_runs_per_hour;
    auto e = std::make_unique<RemediationEngine>(c, *ledger_, runner, clock, options);
    e->AddObserver(&observer_);
    return e;
  }
  // Runs by hand and returns the final state, or "refused:<reason>".
  // `stopgap serve`'s engine: busy concurrency slots queue.
  std::unique_ptr<RemediationEngine> QueueingEngine(const Workaround& w, ProcessRunner& runner) {
    EngineOptions o;
    o.queue_when_busy = true;
    return Engine({w}, runner, clock_, 60, o);
  }
  std::string RunOnce(RemediationEngine& e, const std::string& id, Alert alert = {}) {
    Result<ExecutionOutcome> o = e.Execute(id, alert, "manual");
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    if (!o.ok()) return "error";
    if (o->refusal) return "refused:" + std::string(RefusalReasonName(o->refusal->reason));
    return std::string(ExecutionStateName(o->state));
  }

  TempDir dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<ExecutionLedger> ledger_;
  RecordingObserver observer_;
};

TEST_F(EngineTest, DiagnosticsFinishBeforeTheActionStarts) {
  // Real processes and the real clock. The diagnostic is slow and leaves a
  // marker; the action succeeds only if the marker and the sealed manifest
  // already exist when it starts.
  PosixProcessRunner runner;
  Workaround w = MakeWorkaround("ordered");
  w.diagnostics = {RunOf({"sh", "-c", "sleep 0.2; echo evidence; touch \"$STOPGAP_BUNDLE_DIR/m\""}),
                   RunOf({"sh", "-c", "echo second >&2; exit 1"})};  // fails: action still runs
  w.action = {RunOf({"sh", "-c",
                     "test -f \"$STOPGAP_BUNDLE_DIR/m\" && "
                     "grep -q '\"complete\": false' \"$STOPGAP_BUNDLE_DIR/manifest.json\""})};
  w.verify = {RunOf({"true"})};
  auto engine = Engine({w}, runner, SystemClock::Instance());
  Result<ExecutionOutcome> o = engine->Execute("ordered", {}, "manual");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->state, ExecutionState::kSucceeded) << o->detail;
  ASSERT_EQ(o->steps.size(), 4u);
  EXPECT_EQ(o->steps[1].outcome, StepOutcome::kFailed);

  // The ledger: every diagnostics step finished before the action started,
  // and "acting" was entered after the last diagnostic.
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->steps.size(), 4u);
  const StepRecord& action = r->steps[2];
  ASSERT_EQ(action.phase, StepPhase::kAction);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(r->steps[i].phase, StepPhase::kDiagnostics);
    EXPECT_LE(r->steps[i].finished_at, action.started_at);
  }
  std::vector<std::string> states;
  WallTime acting_at{};
  for (const TransitionRecord& t : r->transitions) {
    states.push_back(std::string(ExecutionStateName(t.state)));
    if (t.state == ExecutionState::kActing) acting_at = t.at;
  }
  EXPECT_EQ(states, (std::vector<std::string>{"matched", "diagnosing", "acting", "verifying",
                                              "succeeded"}));
  EXPECT_GE(acting_at, r->steps[1].finished_at);
  EXPECT_LE(acting_at, action.started_at);

  // The bundle: outputs and a manifest whose diagnostics finished before the action.
  EXPECT_EQ(r->bundle_dir, dir_.path() + "/bundles/" + std::to_string(o->id));
  Result<std::string> out = ReadFile(r->bundle_dir + "/diagnostics-00.stdout");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "evidence\n");
  Result<std::string> manifest = ReadFile(r->bundle_dir + "/manifest.json");
  ASSERT_TRUE(manifest.ok());
  auto m = nlohmann::json::parse(*manifest);
  EXPECT_EQ(m["schema"], "stopgap.bundle/2");
  EXPECT_EQ(m["complete"], true);
  EXPECT_EQ(m["execution"]["state"], "succeeded");
  EXPECT_EQ(m["execution"]["id"], o->id);
  ASSERT_EQ(m["steps"].size(), 4u);
  EXPECT_EQ(m["steps"][0]["files"][0], "diagnostics-00.stdout");
  EXPECT_EQ(m["steps"][1]["exit_code"], 1);
  Result<WallTime> diag_done =
      ParseRfc3339(m["execution"]["diagnostics_finished_at"].get<std::string>());
  Result<WallTime> action_start = ParseRfc3339(m["steps"][2]["started_at"].get<std::string>());
  ASSERT_TRUE(diag_done.ok() && action_start.ok());
  EXPECT_LE(*diag_done, *action_start);
}

TEST_F(EngineTest, ActionFailureSkipsVerify) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"false"}), RunOf({"never"})};
  w.verify = {RunOf({"verify-me"})};
  auto engine = Engine({w}, runner, clock_);
  Result<ExecutionOutcome> o = engine->Execute("w", {}, "manual");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state, ExecutionState::kFailed);
  EXPECT_EQ(o->detail, "action[0] exited 1");
  EXPECT_EQ(runner.count(), 2u);  // diagnostics + the failing action only
  EXPECT_EQ(ledger_->GetExecution(o->id)->state, ExecutionState::kFailed);
  EXPECT_EQ(observer_.finished, (std::vector<ExecutionState>{ExecutionState::kFailed}));
}

TEST_F(EngineTest, VerifyFailureFails) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.verify = {RunOf({"false"})};
  auto engine = Engine({w}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "w"), "failed");
}

TEST_F(EngineTest, ProgramNotFoundFailsTheAction) {
  PosixProcessRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"no-such-program-stopgap"})};
  auto engine = Engine({w}, runner, clock_);
  Result<ExecutionOutcome> o = engine->Execute("w", {}, "manual");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state, ExecutionState::kFailed);
  EXPECT_NE(o->detail.find("could not start"), std::string::npos);
}

// A fence (the node lost its cluster lease) stops the running action: the
// step reads fenced, the execution interrupted (written as a fenced record),
// and nothing is admitted until the runner is unfenced.
TEST_F(EngineTest, AFenceInterruptsTheRunningActionAndAdmitsNothing) {
  PosixProcessRunner runner;
  const std::string started = dir_.path() + "/started";
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"sh", "-c", "touch " + started + "; exec sleep 60"}, 120s)};
  w.verify = {RunOf({"true"})};
  auto engine = Engine({w}, runner, clock_);
  Result<Admission> a = engine->Begin("w", {}, "manual");
  ASSERT_TRUE(a.ok() && !a->refusal);
  ExecutionOutcome o;
  std::thread worker([&] { o = engine->Run(a->id); });
  for (int i = 0; i < 500 && !std::filesystem::exists(started); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(std::filesystem::exists(started));
  runner.Fence(1s);
  worker.join();
  EXPECT_EQ(o.state, ExecutionState::kInterrupted) << o.detail;
  EXPECT_NE(o.detail.find("fenced"), std::string::npos) << o.detail;
  Result<ExecutionRecord> r = ledger_->GetExecution(a->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kInterrupted);
  ASSERT_EQ(r->steps.size(), 2u) << "the diagnostic and the fenced action; verify never ran";
  EXPECT_EQ(r->steps[1].outcome, StepOutcome::kFenced);
  EXPECT_EQ(r->steps[1].signal, SIGTERM);
  Result<Admission> refused = engine->Begin("w", {}, "manual");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << "nothing starts while fenced";
  runner.Unfence();
  Result<Admission> next = engine->Begin("w", {}, "manual");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
}

TEST_F(EngineTest, CollectRunsTheDiagnosticsLibraryByDefault) {
  // No collector injected: the engine uses the diagnostics library, so a
  // `collect:` step collects (it was once recorded "unsupported").
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  Step collect;
  collect.body = CollectStep{{"system"}, std::nullopt, "", false, ""};
  collect.timeout = 10s;
  w.diagnostics.insert(w.diagnostics.begin(), collect);
  auto engine = Engine({w}, runner, clock_);
  Result<ExecutionOutcome> o = engine->Execute("w", {}, "manual");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state, ExecutionState::kSucceeded);
  ASSERT_FALSE(o->steps.empty());
  EXPECT_EQ(o->steps[0].kind, "collect");
  EXPECT_EQ(o->steps[0].outcome, StepOutcome::kOk) << o->steps[0].error;
  ASSERT_FALSE(o->steps[0].files.empty());
  EXPECT_TRUE(std::filesystem::exists(o->bundle_dir + "/" + o->steps[0].files[0]));
  // The manifest (one format, one reader) lists the step's collectors.
  Result<diag::Manifest> m = diag::ReadManifest(o->bundle_dir);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->schema, diag::kManifestSchema);
  ASSERT_TRUE(m->execution.has_value());
  EXPECT_EQ(m->execution->id, o->id);
  EXPECT_EQ(m->execution->state, "succeeded");
  ASSERT_FALSE(m->steps.empty());
  EXPECT_EQ(m->steps[0].kind, "collect");
  ASSERT_EQ(m->steps[0].collectors.size(), 1u);
  EXPECT_EQ(m->steps[0].collectors[0].name, "system");
  EXPECT_TRUE(m->steps[0].collectors[0].ok);
  EXPECT_EQ(m->steps[0].collectors[0].files, o->steps[0].files);
  // The ledger reads the outcome back as the same enum.
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->steps[0].outcome, StepOutcome::kOk);
}

TEST_F(EngineTest, LabelsAreSubstitutedAsWholeArguments) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"systemctl", "restart", "{{labels.service}}"})};
  auto engine = Engine({w}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nova-compute"}};
  EXPECT_EQ(RunOnce(*engine, "w", a), "succeeded");
  EXPECT_EQ(runner.runs.back(), (std::vector<std::string>{"systemctl", "restart", "nova-compute"}));
}

TEST_F(EngineTest, SecretLabelRunsRealButIsRecordedMasked) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"curl", "{{labels.api_token}}", "{{labels.host}}"})};
  auto engine = Engine({w}, runner, clock_);
  Alert a;
  a.labels = {{"api_token", "tok-SECRET-42"}, {"host", "db1"}};
  a.token = "am";
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(o->state, ExecutionState::kSucceeded);
  // The action got the real value...
  ASSERT_EQ(runner.runs.size(), 2u);
  EXPECT_EQ(runner.runs[1], (std::vector<std::string>{"curl", "tok-SECRET-42", "db1"}));
  // ...the records did not.
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels.at("api_token"), "***");
  EXPECT_EQ(r->token, "am");
  ASSERT_EQ(r->steps.size(), 2u);
  EXPECT_EQ(r->steps[1].argv, (std::vector<std::string>{"curl", "***", "db1"}));
  Result<std::string> manifest = ReadFile(o->bundle_dir + "/manifest.json", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->find("SECRET"), std::string::npos) << *manifest;
  EXPECT_NE(manifest->find("db1"), std::string::npos);
}

// resume: rerun. An interrupted execution runs once more with its recorded
// labels (the cooldown its own run started does not refuse it); a second
// BeginRerun finds the rerun claimed; a step needing a masked secret refuses
// it; a workaround that no longer says rerun records nothing.
TEST_F(EngineTest, RerunOfAnInterruptedExecutionRunsOnceWithItsLabels) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.resume = Resume::kRerun;
  w.limits.cooldown = 1h;
  w.action = {RunOf({"systemctl", "restart", "{{labels.service}}"})};
  Workaround s = MakeWorkaround("s");
  s.resume = Resume::kRerun;
  s.action = {RunOf({"curl", "{{labels.api_token}}"})};
  auto engine = Engine({w, s}, runner, clock_);
  Alert a;
  a.fingerprint = "fp";
  a.labels = {{"service", "nova-compute"}};
  Result<Admission> first = engine->Begin("w", a, "alertmanager");
  ASSERT_TRUE(first.ok() && !first->refusal);
  // Its process dies before running it: interrupted.
  ExecutionUpdate cut;
  cut.state = ExecutionState::kInterrupted;
  cut.at = clock_.Now();
  ASSERT_TRUE(ledger_->Update(first->id, cut).ok());
  Result<ExecutionRecord> orig = ledger_->GetExecution(first->id);
  ASSERT_TRUE(orig.ok());
  EXPECT_EQ(orig->resume, "rerun");
  clock_.Advance(1min);  // well within the cooldown
  Result<Admission> rerun = engine->BeginRerun(*orig);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  ASSERT_FALSE(rerun->refusal) << rerun->refusal->detail;
  ExecutionOutcome o = engine->Run(rerun->id);
  EXPECT_EQ(o.state, ExecutionState::kSucceeded);
  EXPECT_EQ(runner.runs.back(), (std::vector<std::string>{"systemctl", "restart", "nova-compute"}));
  Result<ExecutionRecord> r = ledger_->GetExecution(rerun->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rerun_of, std::optional<ExecutionId>(first->id));
  EXPECT_EQ(r->fingerprint, "fp");
  Result<Admission> again = engine->BeginRerun(*orig);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);

  // A secret the ledger keeps masked: refused unsafe-label, recorded.
  Alert b;
  b.fingerprint = "fp2";
  b.labels = {{"api_token", "tok-SECRET"}};
  Result<Admission> secret = engine->Begin("s", b, "alertmanager");
  ASSERT_TRUE(secret.ok() && !secret->refusal);
  ASSERT_TRUE(ledger_->Update(secret->id, cut).ok());
  Result<ExecutionRecord> sorig = ledger_->GetExecution(secret->id);
  ASSERT_TRUE(sorig.ok());
  const size_t runs = runner.count();
  Result<Admission> srerun = engine->BeginRerun(*sorig);
  ASSERT_TRUE(srerun.ok()) << srerun.status().ToString();
  ASSERT_TRUE(srerun->refusal);
  EXPECT_EQ(srerun->refusal->reason, RefusalReason::kUnsafeLabel);
  EXPECT_EQ(runner.count(), runs);
  Result<ExecutionRecord> sr = ledger_->GetExecution(srerun->id);
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(sr->state, ExecutionState::kRefused);
  EXPECT_EQ(sr->rerun_of, std::optional<ExecutionId>(secret->id));

  // The catalog no longer says rerun: nothing is recorded.
  Workaround plain = MakeWorkaround("w");
  engine->SetCatalog(MakeCatalog({plain}, dir_.path() + "/bundles"));
  Result<std::vector<ExecutionRecord>> before =
      ledger_->ListExecutions(ExecutionFilter{"", "", std::nullopt, 100});
  orig->id = 999;  // as if another interrupted one
  Result<Admission> none = engine->BeginRerun(*orig);
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  Result<std::vector<ExecutionRecord>> after =
      ledger_->ListExecutions(ExecutionFilter{"", "", std::nullopt, 100});
  EXPECT_EQ(before->size(), after->size());
}

Alert WithLabels(std::map<std::string, std::string> labels) {
  Alert a;
  a.labels = std::move(labels);
  return a;
}

TEST_F(EngineTest, OptionInjectionLabelIsRefusedUnlessTheSchemaAllowsIt) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"kill", "-TERM", "{{labels.pid}}"})};
  Workaround s = MakeWorkaround("s");
  s.action = w.action;
  s.labels["pid"] = *LabelSchema::FromPattern("[1-9][0-9]{0,6}");
  auto engine = Engine({w, s}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "w", WithLabels({{"pid", "-1"}})), "refused:unsafe-label");
  EXPECT_EQ(RunOnce(*engine, "s", WithLabels({{"pid", "0"}})), "refused:unsafe-label");
  EXPECT_EQ(runner.count(), 0u);
  EXPECT_EQ(RunOnce(*engine, "s", WithLabels({{"pid", "4242"}})), "succeeded");
}

TEST_F(EngineTest, UnsafeLabelIsRefusedAndNothingRuns) {
  PosixProcessRunner runner;
  std::string marker = dir_.path() + "/injected";
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"echo", "{{labels.service}}"})};
  auto engine = Engine({w}, runner, clock_);
  Alert a;
  a.labels = {{"service", "$(touch " + marker + ")"}};
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(o->refusal.has_value());
  EXPECT_EQ(o->refusal->reason, RefusalReason::kUnsafeLabel);
  EXPECT_EQ(o->state, ExecutionState::kRefused);
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kRefused);
  EXPECT_EQ(r->refusal_reason, "unsafe-label");
  EXPECT_TRUE(r->steps.empty());
  EXPECT_FALSE(std::filesystem::exists(marker));
  // A missing label is refused the same way.
  EXPECT_EQ(RunOnce(*engine, "w", {}), "refused:unsafe-label");
}

TEST_F(EngineTest, CooldownRefusesOnlyWithinTheCooldown) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.cooldown = 10min;
  auto engine = Engine({w}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
  clock_.Advance(9min + 59s);
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:cooldown");
  clock_.Advance(1s);  // exactly 10 minutes after the last run
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
  // A refusal does not restart the cooldown; another workaround is unaffected.
  EXPECT_EQ(observer_.refusals, (std::vector<std::string>{"cooldown"}));
}

// A step of the wall clock (NTP, an operator) moves no cooldown: the engine
// measures it on the monotonic clock from the end it recorded itself.
TEST_F(EngineTest, CooldownIgnoresWallClockSteps) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.cooldown = 10min;
  auto engine = Engine({w}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
  clock_.Set(clock_.Now() + 3h);  // wall forward, monotonic unchanged
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:cooldown");
  clock_.Set(clock_.Now() - 6h);  // wall back
  clock_.Advance(10min);          // the cooldown passes in real time
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
}

TEST_F(EngineTest, CooldownIsPerWorkaround) {
  FakeRunner runner;
  Workaround a = MakeWorkaround("a");
  a.limits.cooldown = 10min;
  Workaround b = MakeWorkaround("b");
  b.limits.cooldown = 10min;
  auto engine = Engine({a, b}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "a"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "b"), "succeeded");
}

TEST_F(EngineTest, BudgetRefusesOnlyPastMaxRuns) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.max_runs = Limits::MaxRuns{3, 1h};
  auto engine = Engine({w}, runner, clock_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(RunOnce(*engine, "w"), "succeeded") << i;
    clock_.Advance(1min);
  }
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:budget");  // trips the storm breaker
  ASSERT_EQ(observer_.tripped.size(), 1u);
  EXPECT_EQ(observer_.tripped[0].rfind("w: budget: workaround w: 3 run(s)", 0), 0u)
      << observer_.tripped[0];
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:circuit-breaker");  // latched
  clock_.Advance(57min);  // first run now exactly 1h ago: out of the window
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:circuit-breaker");  // ...but the latch holds
  ASSERT_TRUE(engine->ResetBreaker("ops", "budget reviewed").ok());
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:budget");  // and trips it again
  EXPECT_EQ(observer_.tripped.size(), 2u);
  EXPECT_EQ(runner.count(), 8u);  // 4 runs x (diagnostics + action)
}

TEST_F(EngineTest, CircuitBreakerAcrossWorkarounds) {
  FakeRunner runner;
  auto engine = Engine({MakeWorkaround("a"), MakeWorkaround("b"), MakeWorkaround("c")}, runner,
                       clock_, /*max_runs_per_hour=*/3);
  EXPECT_EQ(RunOnce(*engine, "a"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "b"), "succeeded");
  clock_.Advance(30min);
  EXPECT_EQ(RunOnce(*engine, "c"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "a"), "refused:circuit-breaker");
  EXPECT_EQ(RunOnce(*engine, "c"), "refused:circuit-breaker");
  EXPECT_EQ(observer_.tripped.size(), 1u);  // tripped once, by a's refusal
  clock_.Advance(30min);                    // the first two leave the hour window...
  EXPECT_EQ(RunOnce(*engine, "a"), "refused:circuit-breaker");  // ...the latch holds
  Result<BreakerState> b = engine->Breaker();
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tripped);
  b = engine->ResetBreaker("ops", "storm understood");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->tripped);
  EXPECT_EQ(b->last_reset->by, "ops");
  EXPECT_EQ(RunOnce(*engine, "a"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "b"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "b"), "refused:circuit-breaker");
}

TEST_F(EngineTest, ConcurrencyCountsExecutionsInFlight) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.concurrency = 1;
  auto engine = Engine({w}, runner, clock_);
  Result<Admission> first = engine->Begin("w", {}, "alertmanager");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->refusal);
  Result<Admission> second = engine->Begin("w", {}, "alertmanager");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->refusal);
  EXPECT_EQ(second->refusal->reason, RefusalReason::kConcurrency);
  EXPECT_EQ(engine->Run(first->id).state, ExecutionState::kSucceeded);
  Result<Admission> third = engine->Begin("w", {}, "alertmanager");
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->refusal);
  // A refused or finished id cannot be run.
  EXPECT_FALSE(engine->Run(second->id).error.ok());
  EXPECT_FALSE(engine->Run(first->id).error.ok());
}

// A runner whose "block" program waits until released: executions that hold
// a concurrency slot for as long as a test wants.
class BlockingRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec& spec) override {
    std::unique_lock lock(mu);
    runs.push_back(spec.argv);
    if (spec.argv[0] == "block") {
      ++blocked;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    ProcessResult r;
    r.exit_code = 0;
    return r;
  }
  void WaitBlocked(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return blocked >= n; });
  }
  void Release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  int blocked = 0;
  bool released = false;
  std::vector<std::vector<std::string>> runs;
};

TEST_F(EngineTest, BusySlotQueuesAndTheFreeingWorkerRunsTheWaitingOne) {
  BlockingRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"block"})};
  w.limits.concurrency = 1;  // on_busy: queue by default
  auto queueing = QueueingEngine(w, runner);
  RemediationEngine& engine = *queueing;
  Alert host_a, host_b;
  host_a.fingerprint = "a";
  host_b.fingerprint = "b";
  Result<Admission> first = engine.Begin("w", host_a, "alertmanager");
  Result<Admission> second = engine.Begin("w", host_b, "alertmanager");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->refusal);
  EXPECT_FALSE(second->refusal) << "a busy slot is waited for, not refused";
  ExecutionOutcome first_out;
  std::thread worker([&] { first_out = engine.Run(first->id); });
  runner.WaitBlocked(1);
  ExecutionOutcome waiting = engine.Run(second->id);
  EXPECT_TRUE(waiting.waiting);
  EXPECT_EQ(ledger_->GetExecution(second->id)->state, ExecutionState::kMatched);
  runner.Release();
  worker.join();
  EXPECT_EQ(first_out.state, ExecutionState::kSucceeded);
  // The worker that freed the slot ran the waiting execution too.
  EXPECT_EQ(ledger_->GetExecution(second->id)->state, ExecutionState::kSucceeded);
  EXPECT_EQ(observer_.finished.size(), 2u);
}

TEST_F(EngineTest, WaitingPastQueueTimeoutIsRefusedConcurrency) {
  BlockingRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"block"})};
  w.limits.queue_timeout = 1min;
  auto queueing = QueueingEngine(w, runner);
  RemediationEngine& engine = *queueing;
  Result<Admission> first = engine.Begin("w", {}, "alertmanager");
  Result<Admission> second = engine.Begin("w", {}, "alertmanager");
  ASSERT_TRUE(first.ok() && second.ok());
  std::thread worker([&] { engine.Run(first->id); });
  runner.WaitBlocked(1);
  EXPECT_TRUE(engine.Run(second->id).waiting);
  clock_.Advance(61s);
  runner.Release();
  worker.join();
  Result<ExecutionRecord> r = ledger_->GetExecution(second->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kRefused);
  EXPECT_EQ(r->refusal_reason, "concurrency");
  EXPECT_EQ(observer_.refusals, (std::vector<std::string>{"concurrency"}));
  // It moved from the run totals to the refusal totals.
  auto counts = ledger_->CountByWorkaround(clock_.Now());
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].runs_total, 1);
  EXPECT_EQ((*counts)[0].refusals_total, 1);
  EXPECT_EQ(runner.runs.size(), 2u);  // diagnostics + action of the first only
}

TEST_F(EngineTest, TakeWaitingHandsBackExecutionsThatNeverStarted) {
  BlockingRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"block"})};
  auto queueing = QueueingEngine(w, runner);
  RemediationEngine& engine = *queueing;
  Result<Admission> first = engine.Begin("w", {}, "alertmanager");
  Result<Admission> second = engine.Begin("w", {}, "alertmanager");
  ASSERT_TRUE(first.ok() && second.ok());
  std::thread worker([&] { engine.Run(first->id); });
  runner.WaitBlocked(1);
  EXPECT_TRUE(engine.Run(second->id).waiting);
  EXPECT_EQ(engine.TakeWaiting(), (std::vector<ExecutionId>{second->id}));
  runner.Release();
  worker.join();
  // The freed slot started nothing: the shutdown owns the waiting one now.
  EXPECT_EQ(ledger_->GetExecution(second->id)->state, ExecutionState::kMatched);
  EXPECT_EQ(runner.runs.size(), 2u);
}

TEST_F(EngineTest, ConcurrentBeginsAdmitExactlyTheLimit) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.concurrency = 2;
  auto engine = Engine({w}, runner, clock_);
  std::atomic<int> admitted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      Result<Admission> a = engine->Begin("w", {}, "alertmanager");
      if (a.ok() && !a->refusal) ++admitted;
      if (a.ok() && a->refusal) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 2);
  EXPECT_EQ(refused.load(), 6);
}

TEST_F(EngineTest, ExpiredRetiredAndUnknownIssueRefuse) {
  FakeRunner runner;
  Workaround expired = MakeWorkaround("old");
  expired.expires = CivilDayOf(kNow);  // the expiry day itself no longer runs
  Workaround hw = MakeWorkaround("hw", "OPS-9");
  hw.cause = Cause::kHardware;
  hw.expires.reset();
  auto engine = Engine({expired, MakeWorkaround("w", "acme/infra#2"), hw}, runner, clock_);
  EXPECT_EQ(RunOnce(*engine, "old"), "refused:expired");
  EXPECT_EQ(RunOnce(*engine, "hw"), "succeeded");
  engine->SetIssueStates({"acme/infra#2"}, {"OPS-9"});
  EXPECT_EQ(engine->ClosedIssues(), std::set<std::string>{"acme/infra#2"});
  EXPECT_EQ(RunOnce(*engine, "w"), "refused:retired");
  EXPECT_EQ(RunOnce(*engine, "hw"), "refused:unknown-issue");
  engine->SetIssueStates({}, {});
  EXPECT_TRUE(engine->ClosedIssues().empty());
  EXPECT_EQ(RunOnce(*engine, "w"), "succeeded");
  EXPECT_EQ(runner.count(), 4u);
  EXPECT_EQ(engine->Begin("nope", {}, "manual").status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, PlanWritesNothing) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.action = {RunOf({"systemctl", "restart", "{{labels.service}}"})};
  w.limits.cooldown = 10min;
  w.limits.max_runs = Limits::MaxRuns{5, 24h};
  auto engine = Engine({w}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nginx"}};
  Result<Plan> plan = engine->PlanFor("w", a);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->refusal);
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_EQ(plan->steps[1].argv, (std::vector<std::string>{"systemctl", "restart", "nginx"}));
  EXPECT_EQ(plan->limits.size(), 4u);
  EXPECT_EQ(plan->limits[1], "cooldown 10m (last run: never)");
  EXPECT_EQ(runner.count(), 0u);
  EXPECT_TRUE(ledger_->ListExecutions({})->empty());
  a.labels["service"] = "a b";
  plan = engine->PlanFor("w", a);
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->refusal);
  EXPECT_EQ(plan->refusal->reason, RefusalReason::kUnsafeLabel);
  EXPECT_TRUE(ledger_->ListExecutions({})->empty());
}

TEST_F(EngineTest, SecretLookingLabelsAreMasked) {
  FakeRunner runner;
  auto engine = Engine({MakeWorkaround("w")}, runner, clock_);
  Alert a;
  a.labels = {{"api_token", "hunter2"}, {"host", "h1"}};
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok());
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels.at("api_token"), "***");
  EXPECT_EQ(r->labels.at("host"), "h1");
  Result<std::string> manifest = ReadFile(o->bundle_dir + "/manifest.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->find("hunter2"), std::string::npos);
}

TEST_F(EngineTest, ObserverSeesEverything) {
  FakeRunner runner;
  Workaround w = MakeWorkaround("w");
  w.limits.cooldown = 1h;
  auto engine = Engine({w}, runner, clock_);
  RunOnce(*engine, "w");
  RunOnce(*engine, "w");
  EXPECT_EQ(observer_.admitted, 1);
  EXPECT_EQ(observer_.steps, 2);
  EXPECT_EQ(observer_.refusals, (std::vector<std::string>{"cooldown"}));
  EXPECT_EQ(observer_.finished, (std::vector<ExecutionState>{ExecutionState::kSucceeded}));
}

Workaround WithMode(const std::string& id, Mode mode) {
  Workaround w = MakeWorkaround(id);
  w.mode = mode;
  w.approval_timeout = 10min;
  w.action = {RunOf({"restart", "{{labels.service}}"})};
  return w;
}

TEST_F(EngineTest, ObserveModeRunsDiagnosticsAndRecordsTheActionAsWouldRun) {
  FakeRunner runner;
  auto engine = Engine({WithMode("w", Mode::kObserve)}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nginx"}};
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state, ExecutionState::kObserved);
  ASSERT_EQ(runner.count(), 1u);  // the diagnostics only
  EXPECT_NE(runner.runs[0][0], "restart");
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kObserved);
  EXPECT_EQ(r->mode, "observe");
  ASSERT_EQ(r->steps.size(), 2u);
  EXPECT_EQ(r->steps[1].phase, StepPhase::kAction);
  EXPECT_EQ(r->steps[1].outcome, StepOutcome::kWouldRun);
  EXPECT_EQ(r->steps[1].argv, (std::vector<std::string>{"restart", "nginx"}));
  EXPECT_EQ(observer_.finished, std::vector<ExecutionState>{ExecutionState::kObserved});
}

TEST_F(EngineTest, ApproveModeActsOnlyAfterTheApproval) {
  FakeRunner runner;
  auto engine = Engine({WithMode("w", Mode::kApprove)}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nginx"}};
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state, ExecutionState::kAwaitingApproval);
  EXPECT_EQ(runner.count(), 1u);  // diagnostics; no action yet
  Result<ExecutionRecord> r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kAwaitingApproval);
  EXPECT_EQ(r->approval_deadline, kNow + 10min);
  // Run() of a waiting execution does nothing.
  EXPECT_FALSE(engine->Run(o->id).error.ok());
  EXPECT_EQ(runner.count(), 1u);

  Result<ExecutionRecord> d = engine->Decide(o->id, ApprovalDecision::kApproved, "oncall", "go");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->state, ExecutionState::kActing);
  ExecutionOutcome run = engine->Run(o->id);
  EXPECT_EQ(run.state, ExecutionState::kSucceeded) << run.detail;
  ASSERT_EQ(runner.count(), 2u);
  EXPECT_EQ(runner.runs[1], (std::vector<std::string>{"restart", "nginx"}));
  r = ledger_->GetExecution(o->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kSucceeded);
  ASSERT_TRUE(r->approval);
  EXPECT_EQ(r->approval->by, "oncall");
  ASSERT_EQ(r->steps.size(), 2u);
  // The bundle's manifest has both phases and the end state.
  std::ifstream m(r->bundle_dir + "/manifest.json");
  nlohmann::json j = nlohmann::json::parse(m, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["steps"].size(), 2u);
  EXPECT_EQ(j["complete"], true);
  // Decided once.
  EXPECT_EQ(engine->Decide(o->id, ApprovalDecision::kDenied, "x", "").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, DeniedAndExpiredApprovalsNeverAct) {
  FakeRunner runner;
  auto engine = Engine({WithMode("w", Mode::kApprove)}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nginx"}};
  Result<ExecutionOutcome> denied = engine->Execute("w", a, "manual");
  ASSERT_TRUE(denied.ok());
  Result<ExecutionRecord> d = engine->Decide(denied->id, ApprovalDecision::kDenied, "lead", "no");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state, ExecutionState::kDenied);
  EXPECT_FALSE(engine->Run(denied->id).error.ok());

  Result<ExecutionOutcome> late = engine->Execute("w", a, "manual");
  ASSERT_TRUE(late.ok());
  clock_.Advance(9min);
  Result<int> n = engine->ExpireApprovals();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  clock_.Advance(1min);  // exactly approval_timeout
  n = engine->ExpireApprovals();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  Result<ExecutionRecord> r = ledger_->GetExecution(late->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, ExecutionState::kApprovalExpired);
  EXPECT_EQ(r->approval->decision, ApprovalDecision::kExpired);
  EXPECT_EQ(engine->Decide(late->id, ApprovalDecision::kApproved, "oncall", "").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(runner.count(), 2u);  // two diagnostics, no action
  EXPECT_EQ(engine->Decide(12345, ApprovalDecision::kApproved, "x", "").status().code(),
            StatusCode::kNotFound);
}

TEST_F(EngineTest, AnApprovalAfterARestartActsWithTheRecordedLabels) {
  FakeRunner runner;
  ExecutionId id = 0;
  {
    auto first = Engine({WithMode("w", Mode::kApprove)}, runner, clock_);
    Alert a;
    a.labels = {{"service", "nginx"}};
    Result<ExecutionOutcome> o = first->Execute("w", a, "manual");
    ASSERT_TRUE(o.ok());
    ASSERT_EQ(o->state, ExecutionState::kAwaitingApproval);
    id = o->id;
  }
  // A new engine (the restarted daemon) knows it only from the ledger.
  auto second = Engine({WithMode("w", Mode::kApprove)}, runner, clock_);
  Result<ExecutionRecord> d = second->Decide(id, ApprovalDecision::kApproved, "oncall", "");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ExecutionOutcome run = second->Run(id);
  EXPECT_EQ(run.state, ExecutionState::kSucceeded) << run.detail;
  ASSERT_EQ(runner.count(), 2u);
  EXPECT_EQ(runner.runs[1], (std::vector<std::string>{"restart", "nginx"}));
}

TEST_F(EngineTest, NoApprovalWhileTheBreakerIsTripped) {
  FakeRunner runner;
  Workaround storm = MakeWorkaround("storm");
  storm.limits.max_runs = Limits::MaxRuns{1, 1h};
  auto engine = Engine({WithMode("w", Mode::kApprove), storm}, runner, clock_);
  Alert a;
  a.labels = {{"service", "nginx"}};
  Result<ExecutionOutcome> o = engine->Execute("w", a, "manual");
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->state, ExecutionState::kAwaitingApproval);
  EXPECT_EQ(RunOnce(*engine, "storm"), "succeeded");
  EXPECT_EQ(RunOnce(*engine, "storm"), "refused:budget");  // trips
  Result<ExecutionRecord> d = engine->Decide(o->id, ApprovalDecision::kApproved, "oncall", "");
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(engine->ResetBreaker("admin", "ok").ok());
  d = engine->Decide(o->id, ApprovalDecision::kApproved, "oncall", "");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
}

}  // namespace
}  // namespace stopgap::remedy

// `stopgap run -c FILE ID [--label k=v …] [--dry-run]`: runs one workaround
// by hand through the same engine, limits and ledger as `serve`.
// Exit: 0 succeeded, 1 failed or refused (reason printed), 2 bad usage or a
// bad catalog. --dry-run prints the plan and writes nothing. With a
// `tracker:`, the workaround's issue is looked up first (--offline skips it):
// closed refuses `retired`, unknown refuses `unknown-issue`, both recorded.
// The engine is assembled as `serve` assembles it (app/assembly.h).
// SIGINT/SIGTERM during a run stop its running step (process group: SIGTERM,
// then SIGKILL) and start no other: the execution is recorded interrupted.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/assembly.h"
#include "cli/catalog_arg.h"
#include "cli/command.h"
#include "core/process.h"
#include "core/time.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"

namespace stopgap::cli {
namespace {

struct RunOpts {
  std::string catalog;
  std::string id;
  std::vector<std::string> labels;
  bool dry_run = false;
  bool offline = false;
};

// How long `run` waits for its bundle to reach the archive store.
constexpr Duration kArchiveWait = std::chrono::seconds(60);

// While alive, SIGINT and SIGTERM go to a thread that stops the runner's
// steps instead of killing stopgap (which would leave the step running and
// the execution unrecorded until a later reader marks it interrupted).
// Construct before any other thread so every thread inherits the mask.
class StopStepsOnSignal {
 public:
  explicit StopStepsOnSignal(PosixProcessRunner& runner) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this, &runner] {
      int sig = 0;
      while (sigwait(&set_, &sig) == 0 && !done_.load()) {
        std::fprintf(stderr, "stopgap run: %s: stopping the running step\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        runner.StopAll();
      }
    });
  }
  ~StopStepsOnSignal() {
    done_.store(true);
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait; ignored as done
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  StopStepsOnSignal(const StopStepsOnSignal&) = delete;
  StopStepsOnSignal& operator=(const StopStepsOnSignal&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void PrintStep(const remedy::StepRecord& s) {
  std::string what(remedy::StepOutcomeName(s.outcome));
  if (s.exit_code) what += ", exit " + std::to_string(*s.exit_code);
  if (s.signal) what += ", signal " + std::to_string(s.signal);
  if (s.truncated) what += ", output truncated";
  // collect/guru steps carry their description ("collect: system") as argv.
  std::string text = s.kind == "run" ? "run: " + Join(s.argv) : Join(s.argv);
  std::printf("  %s[%d] %s -> %s (%lld ms)%s%s\n",
              std::string(remedy::StepPhaseName(s.phase)).c_str(), s.index, text.c_str(),
              what.c_str(), static_cast<long long>(s.duration.count()), s.error.empty() ? "" : ": ",
              s.error.c_str());
}

int RunMain(const RunOpts& o) {
  const Clock& clock = SystemClock::Instance();
  std::optional<remedy::Catalog> catalog =
      LoadCatalogOrExplain("run", o.catalog, CivilDayOf(clock.Now()));
  if (!catalog) return kExitUsage;
  const remedy::Workaround* w = catalog->Find(o.id);
  if (!w) {
    std::fprintf(stderr, "stopgap run: no workaround '%s' in %s\n", o.id.c_str(),
                 o.catalog.c_str());
    return kExitUsage;
  }
  remedy::Alert alert;
  alert.source = "manual";
  if (w->match) alert.name = w->match->alertname;
  for (const std::string& kv : o.labels) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "stopgap run: --label '%s': expected NAME=VALUE\n", kv.c_str());
      return kExitUsage;
    }
    alert.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (!alert.labels.empty()) alert.fingerprint = remedy::ComputeFingerprint(alert.labels);

  Result<std::unique_ptr<remedy::ExecutionLedger>> ledger =
      o.dry_run ? remedy::OpenLedgerForReading(catalog->ledger, clock)
                : remedy::OpenLedger(catalog->ledger, clock);
  if (!ledger.ok()) {
    std::fprintf(stderr, "stopgap run: %s\n", ledger.status().ToString().c_str());
    return kExitFailed;
  }
  auto shared = std::make_shared<const remedy::Catalog>(std::move(*catalog));
  std::optional<app::ArchiveResult> archived;
  app::AssemblyOptions assembly;
  assembly.archive.on_done = [&archived](const app::ArchiveResult& r) { archived = r; };
  assembly.archive.max_attempts = 2;
  Result<std::unique_ptr<app::Remediation>> remediation =
      app::AssembleRemediation(shared, **ledger, std::move(assembly));
  if (!remediation.ok()) {
    std::fprintf(stderr, "stopgap run: %s\n", remediation.status().ToString().c_str());
    return kExitFailed;
  }
  remedy::RemediationEngine& engine = *(*remediation)->engine;
  std::optional<StopStepsOnSignal> stop_on_signal;
  if (!o.dry_run) stop_on_signal.emplace((*remediation)->runner);
  if (o.offline) {
    if (shared->tracker) std::printf("tracker: not asked (--offline)\n");
  } else {
    Result<std::string> issue = app::CheckIssueBeforeRun(*shared, *w, engine, clock);
    if (!issue.ok()) {
      std::fprintf(stderr, "stopgap run: %s (--offline skips the look-up)\n",
                   issue.status().ToString().c_str());
      return kExitFailed;
    }
    if (!issue->empty()) std::printf("tracker: %s\n", issue->c_str());
  }

  if (o.dry_run) {
    Result<remedy::Plan> plan = engine.PlanFor(o.id, alert);
    if (!plan.ok()) {
      std::fprintf(stderr, "stopgap run: %s\n", plan.status().ToString().c_str());
      return kExitFailed;
    }
    std::printf("plan for %s (issue %s, %s", plan->workaround_id.c_str(), plan->issue.c_str(),
                std::string(remedy::WorkaroundStateName(plan->state)).c_str());
    if (plan->days_left)
      std::printf(", %lld day(s) left", static_cast<long long>(*plan->days_left));
    std::printf("):\n");
    for (const remedy::PlannedStep& s : plan->steps) {
      std::string text = s.kind == remedy::StepKind::kRun ? "run: " + Join(s.argv) : s.description;
      std::printf("  %s[%d] %s (timeout %s)\n", std::string(remedy::StepPhaseName(s.phase)).c_str(),
                  s.index, text.c_str(), FormatDuration(s.timeout).c_str());
    }
    std::printf("limits:\n");
    for (const std::string& l : plan->limits) std::printf("  %s\n", l.c_str());
    if (plan->refusal) {
      std::printf("would be refused: %s: %s\n",
                  std::string(remedy::RefusalReasonName(plan->refusal->reason)).c_str(),
                  plan->refusal->detail.c_str());
      return kExitFailed;
    }
    std::printf("would run (dry run: nothing executed, nothing written)\n");
    return kExitOk;
  }

  Result<remedy::ExecutionOutcome> out = engine.Execute(o.id, alert, "manual");
  if (!out.ok()) {
    std::fprintf(stderr, "stopgap run: %s\n", out.status().ToString().c_str());
    return kExitFailed;
  }
  if (out->refusal) {
    std::printf("execution %lld: refused (%s): %s\n", static_cast<long long>(out->id),
                std::string(remedy::RefusalReasonName(out->refusal->reason)).c_str(),
                out->refusal->detail.c_str());
    return kExitFailed;
  }
  for (const remedy::StepRecord& s : out->steps) PrintStep(s);
  std::printf("execution %lld: %s%s%s\n  bundle: %s\n", static_cast<long long>(out->id),
              std::string(remedy::ExecutionStateName(out->state)).c_str(),
              out->detail.empty() ? "" : ": ", out->detail.c_str(), out->bundle_dir.c_str());
  if ((*remediation)->archive) {
    (*remediation)->Stop(kArchiveWait);
    if (archived && archived->ok) {
      std::printf("  archived: %s\n", archived->key.c_str());
    } else {
      std::printf("  not archived (kept locally): %s\n",
                  archived ? archived->error.c_str() : "the upload did not finish in time");
    }
  }
  if (!out->error.ok()) {
    std::fprintf(stderr, "stopgap run: %s\n", out->error.ToString().c_str());
  }
  if (out->state == remedy::ExecutionState::kAwaitingApproval) {
    std::printf(
        "  approve or deny it with POST /api/v1/executions/%lld/approve|deny on stopgap "
        "serve (its approval_timeout applies)\n",
        static_cast<long long>(out->id));
  }
  // observe and approve mode end as they should without acting.
  return out->state == remedy::ExecutionState::kSucceeded ||
                 out->state == remedy::ExecutionState::kObserved ||
                 out->state == remedy::ExecutionState::kAwaitingApproval
             ? kExitOk
             : kExitFailed;
}

}  // namespace

CommandMain SetupRun(CLI::App& sub) {
  auto o = std::make_shared<RunOpts>();
  sub.add_option("-c,--catalog", o->catalog, "Catalog file (YAML)")->required();
  sub.add_option("id", o->id, "Workaround id")->required();
  sub.add_option("-l,--label", o->labels, "Alert label NAME=VALUE for {{labels.NAME}} (repeat)");
  sub.add_flag("--dry-run", o->dry_run, "Print the plan and the limits; run and write nothing");
  sub.add_flag("--offline", o->offline,
               "Do not ask the tracker whether the workaround's issue is open (by default a "
               "closed issue refuses as retired, an unknown one as unknown-issue; an "
               "unreachable tracker falls back to the state serve last saw)");
  return [o] { return RunMain(*o); };
}

}  // namespace stopgap::cli

// The one place a remediation engine is assembled, for `stopgap serve`,
// `stopgap run` and any later entry point, with everything the catalog asks
// of it: the process runner, the diagnostics collector (`collect:`, `guru:`),
// the tracker (issue states, counts on the issue), the bundle archive
// queue (`archive:`), and on a ledger several nodes share the fence that
// stops this node's steps when it cannot renew its leases (lease_fence.h). An entry point that
// builds its engine here cannot run a step kind that another one would record as unsupported; that
// is how `collect:` once came to be skipped under `serve` while `run` collected.
//
//   AssemblyOptions o;  o.queue_when_busy = true;  o.start_tracker = true;   // serve
//   Result<std::unique_ptr<Remediation>> r = AssembleRemediation(catalog, *ledger, o);
//   (*r)->engine->Run(id);  ...  (*r)->Stop(grace);
//
// Thread safety: AssembleRemediation and Stop from the owning thread; the
// parts are as thread-safe as their own headers say.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/archive_queue.h"
#include "core/process.h"
#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/diagnostics.h"
#include "remedy/engine.h"
#include "remedy/lease_fence.h"
#include "remedy/ledger.h"
#include "remedy/tracker/service.h"

namespace stopgap::app {

struct AssemblyOptions {
  const Clock* clock = nullptr;  // null: SystemClock
  // serve: busy concurrency slots queue (on_busy: queue); run: they refuse.
  bool queue_when_busy = false;
  // serve: the tracker sync (issue refresh, comments, outbox) is built and
  // started; run asks the tracker once per run instead (CheckIssueBeforeRun).
  bool start_tracker = false;
  std::string bundles_dir;  // empty: catalog.bundles
  Duration kill_grace{5'000};
  ArchiveQueueOptions archive;
};

// Everything an entry point runs workarounds with. Members are destroyed in
// reverse order: the engine first, then its observers (archive, tracker).
struct Remediation {
  PosixProcessRunner runner;
  std::unique_ptr<remedy::LeaseFence> fence;  // null: a ledger without leases (SQLite)
  std::unique_ptr<remedy::DiagnosticsCollector> diagnostics;
  std::unique_ptr<remedy::tracker::TrackerService> tracker;  // null: no tracker, or run
  std::unique_ptr<BundleArchiveQueue> archive;               // null: no `archive:`
  std::unique_ptr<remedy::RemediationEngine> engine;

  ~Remediation();
  // Stops the tracker thread (no more calls into the engine), drains the
  // archive queue for up to `archive_wait` and stops the fence's watchdog.
  // Idempotent.
  void Stop(Duration archive_wait);
};

Result<std::unique_ptr<Remediation>> AssembleRemediation(
    std::shared_ptr<const remedy::Catalog> catalog, remedy::ExecutionLedger& ledger,
    AssemblyOptions options);

// `stopgap run`'s question to the tracker before anything runs. Looks up the
// workaround's issue and hands the answer to the engine (closed: refused
// `retired`; missing: refused `unknown-issue`). When the tracker cannot be
// reached, the last state `serve` saw (its state file) decides. Returns a line
// for the user saying which it was; empty when the catalog has no tracker.
Result<std::string> CheckIssueBeforeRun(const remedy::Catalog& catalog, const remedy::Workaround& w,
                                        remedy::RemediationEngine& engine, const Clock& clock);

}  // namespace stopgap::app

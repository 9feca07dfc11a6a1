// AssembleRemediation and CheckIssueBeforeRun: the shared assembly of the
// engine for every entry point. See assembly.h.
#include "app/assembly.h"

#include "remedy/diag_collector.h"
#include "remedy/tracker/sync.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::app {

Remediation::~Remediation() { Stop(Duration{0}); }

void Remediation::Stop(Duration archive_wait) {
  if (tracker) tracker->Stop();
  if (archive) archive->Drain(archive_wait);
  if (fence) fence->Stop();
}

Result<std::unique_ptr<Remediation>> AssembleRemediation(
    std::shared_ptr<const remedy::Catalog> catalog, remedy::ExecutionLedger& ledger,
    AssemblyOptions options) {
  const Clock& clock = options.clock ? *options.clock : SystemClock::Instance();
  auto r = std::make_unique<Remediation>();
  if (const remedy::ClusterLedger* cluster = remedy::AsClusterLedger(ledger)) {
    r->fence = std::make_unique<remedy::LeaseFence>(*cluster, r->runner, clock);
    r->fence->Start();
  }
  r->diagnostics = remedy::MakeDiagnosticsCollector(*catalog, clock);
  if (catalog->archive) {
    auto archiver = BundleArchiver::Open(*catalog->archive);
    if (!archiver.ok()) return archiver.status();
    r->archive = std::make_unique<BundleArchiveQueue>(std::move(*archiver), options.archive);
  }
  remedy::EngineOptions eo;
  eo.bundles_dir = options.bundles_dir;
  eo.kill_grace = options.kill_grace;
  eo.diagnostics = r->diagnostics.get();
  eo.queue_when_busy = options.queue_when_busy;
  r->engine = std::make_unique<remedy::RemediationEngine>(catalog, ledger, r->runner, clock, eo);
  if (r->archive) r->engine->AddObserver(r->archive.get());
  if (options.start_tracker) {
    auto tracker = remedy::tracker::NewTrackerService(catalog, ledger, *r->engine, clock);
    if (!tracker.ok()) return tracker.status().WithContext("tracker");
    r->tracker = std::move(*tracker);
  }
  return r;
}

Result<std::string> CheckIssueBeforeRun(const remedy::Catalog& catalog, const remedy::Workaround& w,
                                        remedy::RemediationEngine& engine, const Clock& clock) {
  namespace tr = remedy::tracker;
  if (!catalog.tracker) return std::string();
  std::set<std::string> closed, missing;
  auto decide = [&](bool is_closed, bool is_missing) {
    if (is_closed) closed.insert(w.issue.text);
    if (is_missing) missing.insert(w.issue.text);
    engine.SetIssueStates(closed, missing);
  };
  auto tracker = tr::NewIssueTracker(*catalog.tracker, clock);
  if (!tracker.ok()) return tracker.status().WithContext("tracker");
  Status reach;
  if (Status accepts = (*tracker)->Accepts(w.issue); !accepts.ok()) {
    decide(false, true);
    return "issue " + w.issue.text + ": not an issue of this " + catalog.tracker->kind +
           " tracker (" + accepts.message() + ")";
  }
  Result<tr::IssueInfo> info = (*tracker)->GetIssue(w.issue);
  if (info.ok()) {
    decide(info->closed, !info->exists);
    return "issue " + w.issue.text + ": " +
           (!info->exists         ? std::string("not found in the tracker")
            : info->state.empty() ? (info->closed ? "closed" : "open")
                                  : info->state);
  }
  // Unreachable: the last state `serve` saw decides.
  const std::string file = tr::DefaultStateFile(catalog);
  Result<tr::KnownIssues> known = file.empty() ? Result<tr::KnownIssues>(NotFound("no state file"))
                                               : tr::ReadTrackerState(file);
  std::string why = "tracker unreachable (" + info.status().message() + ")";
  if (!known.ok()) {
    decide(false, false);
    return why + "; no last known state: issue " + w.issue.text + " taken as open";
  }
  auto it = known->state.find(w.issue.text);
  const bool is_closed = it != known->state.end() && it->second == tr::IssueState::kClosed;
  const bool is_missing = it != known->state.end() && it->second == tr::IssueState::kMissing;
  decide(is_closed, is_missing);
  return why + "; last known state from " + file + ": issue " + w.issue.text + " " +
         (is_closed                  ? "closed"
          : is_missing               ? "missing"
          : it == known->state.end() ? "unknown, taken as open"
                                     : "open");
}

}  // namespace stopgap::app

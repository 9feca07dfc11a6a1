// TrackerService: the one object `stopgap serve` needs for issue trackers — the
// adapter built from catalog.tracker, a TrackerSync feeding the engine's
// retired / unknown-issue sets and observing its runs, the state file next to
// the ledger, and a thread ticking once a second.
//
//   auto t = NewTrackerService(catalog, *ledger, *engine, clock);   // after the engine
//   if (!t.ok()) return t.status();          // bad tracker section or token file
//   tracker_service = std::move(*t);         // nullptr: the catalog has no tracker
//   if (tracker_service) tracker_service->Start();
//   ...  on reload: tracker_service->SetCatalog(new_catalog);
//   ...  on shutdown: tracker_service->Stop() (no more ticks, no calls into the
//        engine); destroy the service after the engine (it is the engine's
//        observer, and engine.h wants observers to outlive it), before the ledger.
//
// Thread safety: as TrackerSync; Start/Stop from the owning thread.
#pragma once

#include <memory>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"
#include "remedy/tracker/sync.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker {

class TrackerService {
 public:
  TrackerService(std::unique_ptr<IssueTracker> tracker, std::unique_ptr<TrackerSync> sync)
      : tracker_(std::move(tracker)), sync_(std::move(sync)) {}
  ~TrackerService() { Stop(); }

  void Start() { sync_->Start(); }
  void Stop() { sync_->Stop(); }
  void SetCatalog(std::shared_ptr<const Catalog> catalog) { sync_->SetCatalog(std::move(catalog)); }
  TrackerSyncStats stats() const { return sync_->stats(); }
  TrackerSync& sync() { return *sync_; }

 private:
  std::unique_ptr<IssueTracker> tracker_;  // used by sync_; destroyed after it
  std::unique_ptr<TrackerSync> sync_;
};

// nullptr (OK) when the catalog has no tracker section. Registers the
// TrackerSync as an engine observer and sends issue states to
// engine.SetIssueStates (unless options.on_issue_states is set); the state
// file defaults to DefaultStateFile(catalog).
Result<std::unique_ptr<TrackerService>> NewTrackerService(std::shared_ptr<const Catalog> catalog,
                                                          ExecutionLedger& ledger,
                                                          RemediationEngine& engine,
                                                          const Clock& clock,
                                                          TrackerSyncOptions options = {});

}  // namespace stopgap::remedy::tracker

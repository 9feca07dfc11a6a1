// NewTrackerService: tracker + TrackerSync wired to the engine.
#include "remedy/tracker/service.h"

namespace stopgap::remedy::tracker {

Result<std::unique_ptr<TrackerService>> NewTrackerService(std::shared_ptr<const Catalog> catalog,
                                                          ExecutionLedger& ledger,
                                                          RemediationEngine& engine,
                                                          const Clock& clock,
                                                          TrackerSyncOptions options) {
  if (!catalog || !catalog->tracker) return std::unique_ptr<TrackerService>();
  auto tracker = NewIssueTracker(*catalog->tracker, clock);
  if (!tracker.ok()) return tracker.status().WithContext("tracker");
  if (options.state_file.empty()) options.state_file = DefaultStateFile(*catalog);
  if (!options.on_issue_states) {
    options.on_issue_states = [&engine](const std::set<std::string>& closed,
                                        const std::set<std::string>& unknown) {
      engine.SetIssueStates(closed, unknown);
    };
  }
  if (!options.is_singleton) {
    options.is_singleton = [&ledger, &clock] {
      Result<bool> held = ledger.HoldSingleton("tracker", clock.Now(), std::chrono::seconds(15));
      return held.ok() && *held;
    };
  }
  auto sync = std::make_unique<TrackerSync>(std::move(catalog), **tracker, ledger, ledger, clock,
                                            std::move(options));
  engine.AddObserver(sync.get());
  return std::make_unique<TrackerService>(std::move(*tracker), std::move(sync));
}

}  // namespace stopgap::remedy::tracker

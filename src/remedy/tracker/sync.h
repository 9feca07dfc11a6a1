// TrackerSync: keeps the issue tracker and stopgap in step.
//
//  - On start and every tracker.refresh (5m): looks up every workaround's
//    issue. Missing (404/410, or a reference for another tracker) -> the
//    unknown-issue set; closed -> the retired set and a one-time comment
//    "workaround X stopped; it ran N times"; unreachable -> the last known
//    state stands (kept in an optional state file across restarts), the
//    failure is counted and logged. The sets go to `on_issue_states`
//    (wire it to RemediationEngine::SetIssueStates).
//  - After runs and refusals (it is an EngineObserver): one summary comment
//    per issue, edited in place, debounced by tracker.update_interval (15m),
//    plus labels; one-shot escalation comments when a workaround hits its TTL
//    or its max_runs budget, and when the storm breaker latches. Every update is queued in the
//    ledger's tracker_outbox first and delivered from there: a tracker outage or a restart loses
//    nothing; older summaries of an issue are superseded by newer ones; rate limits and outages
//    pause delivery with backoff.
//
//   TrackerSync sync(catalog, *tracker, ledger, ledger, clock,   // its queries and outbox
//                    {.on_issue_states = [&](auto& c, auto& u) { engine.SetIssueStates(c, u); }});
//   engine.AddObserver(&sync);
//   sync.Start();            // or call sync.Tick() from the daemon's housekeeping loop
//
// Thread safety: Tick() may be called from any one thread at a time (it is
// serialised); observer callbacks, SetCatalog(), stats() and the issue-set
// getters may be called from any thread. `tracker`, the ledger roles and `clock` must
// outlive the TrackerSync; the tracker is used only from Tick().
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"
#include "remedy/tracker/comment.h"
#include "remedy/tracker/sync_state.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::remedy::tracker {

struct TrackerSyncOptions {
  // Last known issue states survive restarts here (JSON, 0600); "" = memory only.
  std::string state_file;
  // The link to an execution's diagnostics bundle in summaries (archive URL when
  // the bundle was shipped). Default: "/api/v1/executions/<id>".
  std::function<std::string(const ExecutionRecord&)> bundle_link;
  // Called from Tick() with the closed and missing issue sets (IssueRef::text)
  // once at start and whenever they change.
  std::function<void(const std::set<std::string>& closed, const std::set<std::string>& unknown)>
      on_issue_states;
  // Several nodes on one ledger: queueing and delivering tracker updates
  // happen only while this returns true (the "tracker" singleton lease), so a
  // comment is edited once, not once per node. Refreshes run on every node.
  std::function<bool()> is_singleton;
  int drain_batch = 100;         // outbox items read per Tick
  Duration tick_interval{1000};  // Start(): how often Tick runs
};

struct TrackerSyncStats {
  int64_t refreshes = 0;
  int64_t lookup_failures = 0;  // issue lookups that failed (last state kept)
  int64_t outbox_sent = 0;
  int64_t outbox_superseded = 0;  // older summaries replaced by a newer one
  int64_t outbox_dropped = 0;     // permanent errors (issue deleted, bad item)
  int64_t outbox_failures = 0;    // attempts that failed and will be retried
  std::optional<WallTime> last_refresh;
  std::string last_error;
};

// Where serve keeps the last known issue states: "tracker-state.json" next to
// a SQLite ledger; "" (memory only) for other ledgers.
std::string DefaultStateFile(const Catalog& catalog);
// Reads a state file written by TrackerSync (for `report` and the UI, which
// show retired workarounds without asking the tracker). NotFound when absent.
Result<KnownIssues> ReadTrackerState(const std::string& path);

class TrackerSync final : public EngineObserver {
 public:
  TrackerSync(std::shared_ptr<const Catalog> catalog, IssueTracker& tracker,
              ExecutionQueries& executions, TrackerOutbox& outbox, const Clock& clock,
              TrackerSyncOptions options = {});
  ~TrackerSync() override;
  TrackerSync(const TrackerSync&) = delete;
  TrackerSync& operator=(const TrackerSync&) = delete;

  // A reloaded catalog: every issue is refreshed and summarised again.
  void SetCatalog(std::shared_ptr<const Catalog> catalog);

  // One round: refresh when due, queue due summaries and events, drain the outbox.
  void Tick();
  // The next Tick refreshes regardless of tracker.refresh.
  void RequestRefresh();

  // A thread calling Tick() every options.tick_interval until Stop().
  void Start();
  void Stop();

  std::set<std::string> ClosedIssues() const;
  std::set<std::string> UnknownIssues() const;
  TrackerSyncStats stats() const;

  // EngineObserver: runs and refusals make their issue's summary due.
  void OnRefused(ExecutionId id, const Workaround& w, const Refusal& r) override;
  void OnExecutionFinished(const Workaround& w, const ExecutionOutcome& outcome) override;
  void OnStillFiring(const Workaround& w, ExecutionId failed) override;
  // The storm breaker latched on a refusal of `w`: an escalation on its issue.
  void OnBreakerTripped(const Workaround& w, const BreakerState& breaker) override;

 private:
  enum class EventKind { kRetired, kExpired, kBudget, kStillFiring, kBreaker };
  struct PendingEvent {
    std::string issue;
    std::string workaround_id;
    EventKind kind = EventKind::kRetired;
    CivilDay day;
    ExecutionId execution = 0;  // kStillFiring: the failed execution; kBreaker: trip time (ms)
    std::string reason{};       // kBreaker: why it tripped
  };

  void LoadStateFile();
  void SaveStateFile(const KnownIssues& known);
  void Refresh(WallTime now, const Catalog& catalog);
  void QueueEvents(WallTime now, const Catalog& catalog);
  void QueueSummaries(WallTime now, const Catalog& catalog);
  void Drain(WallTime now, const Catalog& catalog);
  Status Deliver(const OutboxItem& item);
  Result<WorkaroundSummary> Summarize(const Workaround& w, const Catalog& catalog, WallTime now,
                                      const std::map<std::string, WorkaroundCounts>& counts);
  Status EnqueueEvent(WallTime now, const std::string& issue, const std::string& key,
                      const std::string& body);
  void NoteError(const std::string& what, const Status& st);

  IssueTracker& tracker_;
  ExecutionQueries& executions_;
  TrackerOutbox& outbox_;
  const Clock& clock_;
  TrackerSyncOptions options_;

  std::mutex tick_mu_;  // serialises Tick(); guards the fields below it
  bool started_ = false;
  std::optional<WallTime> next_refresh_;
  std::optional<WallTime> drain_paused_until_;
  int drain_failures_in_a_row_ = 0;
  std::map<std::string, std::string> comment_ids_;          // issue -> summary comment id
  std::map<std::string, std::vector<std::string>> labels_;  // issue -> labels last seen
  std::map<std::string, WallTime> last_summary_;            // issue -> last enqueued
  std::map<std::string, std::string> last_body_;            // issue -> last enqueued body
  std::set<std::string> queued_events_;                     // event keys queued this process

  mutable std::mutex mu_;  // guards the fields below
  std::shared_ptr<const Catalog> catalog_;
  KnownIssues known_;
  std::set<std::string> dirty_;  // issues whose summary should be refreshed
  std::vector<PendingEvent> pending_events_;
  bool force_refresh_ = false;
  TrackerSyncStats stats_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace stopgap::remedy::tracker

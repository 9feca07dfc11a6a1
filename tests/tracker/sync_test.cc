// TrackerSync against an in-memory ledger and tracker, in simulated time:
// retirement within one refresh (and its one-time comment), unknown issues,
// the last known state standing through outages and restarts, one summary
// comment per issue edited in place and debounced, labels, escalations once
// per event, and an outage that loses no update.
#include "remedy/tracker/sync.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "fakes.h"

namespace stopgap::testing {
namespace {

using remedy::tracker::TrackerSync;
using remedy::tracker::TrackerSyncOptions;

WallTime Epoch() { return WallTime(std::chrono::seconds(1795608000)); }  // 2026-11-25 12:00Z

Workaround W(const std::string& id, const std::string& issue, bool diagnosed = false,
             CivilDay expires = {2027, 1, 31}) {
  Workaround w;
  w.id = id;
  w.issue = *ParseIssueRef(issue);
  w.diagnosed = diagnosed;
  w.expires = expires;
  w.limits.max_runs = Limits::MaxRuns{5, std::chrono::hours(24)};
  return w;
}

std::shared_ptr<const Catalog> MakeCatalog(std::vector<Workaround> ws) {
  auto c = std::make_shared<Catalog>();
  c->path = "stopgap.yaml";
  c->tracker = TrackerConfig{"fake", "http://127.0.0.1:1",    "",
                             "",     std::chrono::minutes(5), std::chrono::minutes(15)};
  c->workarounds = std::move(ws);
  return c;
}

class SyncTest : public ::testing::Test {
 protected:
  SyncTest() : clock_(Epoch()) {
    tracker_.issues["acme/infra#1"] = {};
    tracker_.issues["acme/infra#2"] = {};
    catalog_ = MakeCatalog({W("rpc-restart", "acme/infra#1"), W("disk-clean", "acme/infra#2")});
  }
  std::unique_ptr<TrackerSync> Make(TrackerSyncOptions o = {}) {
    o.on_issue_states = [this](const std::set<std::string>& c, const std::set<std::string>& u) {
      closed_ = c;
      unknown_ = u;
      ++published_;
    };
    return std::make_unique<TrackerSync>(catalog_, tracker_, ledger_, ledger_, clock_,
                                         std::move(o));
  }
  void Run(const std::string& wid, const std::string& issue,
           ExecutionState st = ExecutionState::kSucceeded) {
    ledger_.AddExecution(wid, issue, st, clock_.Now(), "", "/var/lib/stopgap/bundles/x");
  }
  std::string Summary(const std::string& issue) {
    for (const auto& c : tracker_.issues[issue].comments) {
      if (c.body.find("stopgap:workaround-summary") != std::string::npos) return c.body;
    }
    return "";
  }

  ManualClock clock_;
  FakeLedger ledger_;
  FakeTracker tracker_;
  std::shared_ptr<const Catalog> catalog_;
  std::set<std::string> closed_, unknown_;
  int published_ = 0;
};

TEST_F(SyncTest, ClosedIssueRetiresWithinOneRefreshAndCommentsOnce) {
  auto sync = Make();
  sync->Tick();
  EXPECT_TRUE(closed_.empty());
  Run("rpc-restart", "acme/infra#1");
  Run("rpc-restart", "acme/infra#1");
  tracker_.issues["acme/infra#1"].closed = true;
  clock_.Advance(std::chrono::minutes(4));
  sync->Tick();
  EXPECT_TRUE(closed_.empty()) << "refresh is every 5m";
  clock_.Advance(std::chrono::minutes(1));
  sync->Tick();
  EXPECT_EQ(closed_, std::set<std::string>{"acme/infra#1"});
  EXPECT_EQ(tracker_.Count("acme/infra#1", "stopgap:event:retired:rpc-restart"), 1);
  EXPECT_EQ(tracker_.Count("acme/infra#1", "has stopped"), 1);
  EXPECT_EQ(tracker_.Count("acme/infra#1", "It ran 2 runs in total"), 1);
  // Later refreshes, and a restart, don't repeat the notice.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::minutes(5));
    sync->Tick();
  }
  auto again = Make();
  again->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "stopgap:event:retired:rpc-restart"), 1);
}

TEST_F(SyncTest, MissingIssueAndOtherTrackersReferenceAreUnknown) {
  catalog_ = MakeCatalog({W("a", "acme/infra#1"), W("b", "acme/infra#404"), W("c", "OPS-1")});
  auto sync = Make();
  sync->Tick();
  EXPECT_EQ(unknown_, (std::set<std::string>{"acme/infra#404", "OPS-1"}));
  EXPECT_EQ(sync->UnknownIssues(), unknown_);
}

TEST_F(SyncTest, UnreachableTrackerKeepsTheLastKnownState) {
  tracker_.issues["acme/infra#2"].closed = true;
  auto sync = Make();
  sync->Tick();
  ASSERT_EQ(closed_, std::set<std::string>{"acme/infra#2"});
  tracker_.down = true;
  tracker_.issues["acme/infra#2"].closed = false;  // reopened, but we can't see it
  clock_.Advance(std::chrono::minutes(5));
  sync->Tick();
  EXPECT_EQ(sync->ClosedIssues(), std::set<std::string>{"acme/infra#2"});
  EXPECT_EQ(sync->stats().lookup_failures, 2);
  EXPECT_EQ(tracker_.gets, 3) << "a down tracker is asked once per refresh";
  tracker_.down = false;
  clock_.Advance(std::chrono::minutes(5));
  sync->Tick();
  EXPECT_TRUE(closed_.empty()) << "reopened issue un-retires";
}

TEST_F(SyncTest, StateFileCarriesTheLastKnownStateAcrossRestarts) {
  std::string dir = ::testing::TempDir() + "/sync-state-" + std::to_string(getpid());
  ASSERT_TRUE(MakeDirs(dir).ok());
  TrackerSyncOptions o;
  o.state_file = dir + "/tracker-state.json";
  tracker_.issues["acme/infra#1"].closed = true;
  Make(o)->Tick();
  tracker_.down = true;  // after a restart the tracker is down
  closed_.clear();
  Make(o)->Tick();
  EXPECT_EQ(closed_, std::set<std::string>{"acme/infra#1"});
  auto state = remedy::tracker::ReadTrackerState(o.state_file);  // what `report` reads
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->Closed(), std::set<std::string>{"acme/infra#1"});
  EXPECT_EQ(std::filesystem::status(o.state_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

// Several nodes: three TrackerSyncs on one ledger, only the singleton holder
// queues and delivers; when it goes, the next holder edits the same comment.
TEST_F(SyncTest, OnlyTheSingletonHolderWritesToTheTracker) {
  int holder = 0;
  std::vector<std::unique_ptr<TrackerSync>> nodes;
  for (int i = 0; i < 3; ++i) {
    TrackerSyncOptions o;
    o.is_singleton = [&holder, i] { return holder == i; };
    nodes.push_back(Make(std::move(o)));
  }
  Workaround w = catalog_->workarounds[0];
  Run("rpc-restart", "acme/infra#1");
  for (auto& n : nodes) n->OnExecutionFinished(w, {});
  for (auto& n : nodes) n->Tick();
  EXPECT_EQ(tracker_.creates, 1);
  holder = 2;  // node 0 died; node 2 took the lease
  clock_.Advance(std::chrono::minutes(16));
  Run("rpc-restart", "acme/infra#1", ExecutionState::kFailed);
  for (auto& n : nodes) n->OnExecutionFinished(w, {});
  for (auto& n : nodes) n->Tick();
  EXPECT_EQ(tracker_.creates, 1);
  EXPECT_EQ(tracker_.edits, 1);
  EXPECT_EQ(tracker_.Count("acme/infra#1", "stopgap:workaround-summary"), 1);
}

TEST_F(SyncTest, OneSummaryCommentPerIssueEditedInPlaceAndDebounced) {
  auto sync = Make();
  sync->Tick();
  EXPECT_EQ(tracker_.creates, 0) << "no runs, nothing to say";
  Workaround w = catalog_->workarounds[0];
  Run("rpc-restart", "acme/infra#1");
  sync->OnExecutionFinished(w, {});
  sync->Tick();
  EXPECT_EQ(tracker_.creates, 1);
  EXPECT_NE(Summary("acme/infra#1").find("* runs: 1 in 24 h, 1 in 7 d, 1 in total"),
            std::string::npos)
      << Summary("acme/infra#1");
  // Two more runs within the update interval: no edit yet.
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(std::chrono::minutes(3));
    Run("rpc-restart", "acme/infra#1", ExecutionState::kFailed);
    sync->OnExecutionFinished(w, {});
    sync->Tick();
  }
  EXPECT_EQ(tracker_.edits, 0);
  clock_.Advance(std::chrono::minutes(9));  // 15 min since the first summary
  sync->Tick();
  EXPECT_EQ(tracker_.creates, 1);
  EXPECT_EQ(tracker_.edits, 1);
  std::string body = Summary("acme/infra#1");
  EXPECT_NE(body.find("* runs: 3 in 24 h, 3 in 7 d, 3 in total"), std::string::npos) << body;
  EXPECT_NE(body.find("* failures in 7 d: 2"), std::string::npos) << body;
  EXPECT_NE(body.find("* last run: 2026-11-25 12:06 UTC, failed"), std::string::npos) << body;
  EXPECT_NE(body.find("/api/v1/executions/3"), std::string::npos) << body;
  EXPECT_EQ(tracker_.Count("acme/infra#1", "stopgap:workaround-summary"), 1);
}

TEST_F(SyncTest, LabelsFollowDiagnosisAndExpiry) {
  auto sync = Make();
  sync->Tick();
  Run("rpc-restart", "acme/infra#1");
  sync->OnExecutionFinished(catalog_->workarounds[0], {});
  sync->Tick();
  EXPECT_EQ(tracker_.issues["acme/infra#1"].labels,
            (std::vector<std::string>{"stopgap:workaround", "stopgap:undiagnosed"}));
  // Marked diagnosed in a reloaded catalog: the label goes.
  auto diagnosed =
      MakeCatalog({W("rpc-restart", "acme/infra#1", true), W("disk-clean", "acme/infra#2")});
  sync->SetCatalog(diagnosed);
  clock_.Advance(std::chrono::minutes(15));
  sync->Tick();
  EXPECT_EQ(tracker_.issues["acme/infra#1"].labels, std::vector<std::string>{"stopgap:workaround"});
}

TEST_F(SyncTest, ExpiredWorkaroundEscalatesOnceWithLabel) {
  catalog_ = MakeCatalog({W("rpc-restart", "acme/infra#1", false, CivilDay{2026, 11, 25})});
  Run("rpc-restart", "acme/infra#1");
  auto sync = Make();
  sync->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "reached its TTL"), 1);
  EXPECT_NE(std::find(tracker_.issues["acme/infra#1"].labels.begin(),
                      tracker_.issues["acme/infra#1"].labels.end(), "stopgap:expired"),
            tracker_.issues["acme/infra#1"].labels.end());
  Refusal r{RefusalReason::kExpired, "expired 2026-11-25"};
  sync->OnRefused(9, catalog_->workarounds[0], r);
  clock_.Advance(std::chrono::minutes(30));
  sync->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "reached its TTL"), 1);
}

TEST_F(SyncTest, BreakerTripEscalatesOncePerTrip) {
  auto sync = Make();
  sync->Tick();
  BreakerState b;
  b.tripped = true;
  b.reason = "budget: workaround rpc-restart: 5 run(s) in the last 1d (max_runs 5)";
  b.tripped_at = clock_.Now();
  sync->OnBreakerTripped(catalog_->workarounds[0], b);
  sync->Tick();
  sync->OnBreakerTripped(catalog_->workarounds[0], b);  // the same trip again: no second comment
  sync->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "storm breaker tripped"), 1);
  EXPECT_EQ(tracker_.Count("acme/infra#1", "max_runs 5)). No workaround runs until a person"), 1);
  clock_.Advance(std::chrono::hours(1));  // reset, then tripped again: a new escalation
  b.tripped_at = clock_.Now();
  sync->OnBreakerTripped(catalog_->workarounds[0], b);
  sync->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "storm breaker tripped"), 2);
}

TEST_F(SyncTest, BudgetEscalationOncePerDay) {
  auto sync = Make();
  sync->Tick();
  Refusal r{RefusalReason::kBudget, "max_runs 5 per 24h"};
  for (int i = 0; i < 3; ++i) {
    ledger_.AddExecution("rpc-restart", "acme/infra#1", ExecutionState::kRefused, clock_.Now(),
                         "budget");
    sync->OnRefused(i, catalog_->workarounds[0], r);
    sync->Tick();
  }
  EXPECT_EQ(tracker_.Count("acme/infra#1", "hit its run budget (5 per 1d)"), 1);
  clock_.Advance(std::chrono::hours(24));
  sync->OnRefused(4, catalog_->workarounds[0], r);
  sync->Tick();
  EXPECT_EQ(tracker_.Count("acme/infra#1", "hit its run budget"), 2);
  EXPECT_NE(Summary("acme/infra#1").find("refusals in 7 d: budget 3"), std::string::npos)
      << Summary("acme/infra#1");
}

TEST_F(SyncTest, OutageLosesNoUpdateAndRestartResumes) {
  auto sync = Make();
  sync->Tick();
  Workaround w = catalog_->workarounds[0];
  tracker_.down = true;
  for (int i = 0; i < 4; ++i) {  // an hour of runs while the tracker is down
    Run("rpc-restart", "acme/infra#1");
    sync->OnExecutionFinished(w, {});
    sync->Tick();
    clock_.Advance(std::chrono::minutes(15));
  }
  EXPECT_TRUE(tracker_.issues["acme/infra#1"].comments.empty());
  EXPECT_GE(ledger_.pending(), 1u);
  EXPECT_GE(sync->stats().outbox_failures, 1);
  // The daemon restarts; the tracker comes back.
  sync.reset();
  tracker_.down = false;
  auto again = Make();
  clock_.Advance(std::chrono::minutes(15));
  again->Tick();
  EXPECT_EQ(ledger_.pending(), 0u);
  EXPECT_EQ(tracker_.Count("acme/infra#1", "stopgap:workaround-summary"), 1);
  EXPECT_NE(Summary("acme/infra#1").find("4 in total"), std::string::npos)
      << Summary("acme/infra#1");
}

TEST_F(SyncTest, RedmineStyleTrackerWithoutLabelsGetsNoLabelCalls) {
  tracker_.labels_supported = false;
  auto sync = Make();
  Run("rpc-restart", "acme/infra#1");
  sync->Tick();
  EXPECT_EQ(tracker_.creates, 1);
  EXPECT_EQ(tracker_.label_calls, 0);
}

}  // namespace
}  // namespace stopgap::testing

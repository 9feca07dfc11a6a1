// Unit tests of the pure comment builders, wanted labels and sync decisions.
#include <gtest/gtest.h>

#include "remedy/tracker/comment.h"
#include "remedy/tracker/sync_state.h"

namespace stopgap::remedy::tracker {
namespace {

WorkaroundSummary Sample() {
  WorkaroundSummary w;
  w.id = "nova-rpc";
  w.cause = "in-house";
  w.diagnosed = false;
  w.expires = CivilDay{2027, 1, 31};
  w.days_left = 67;
  w.state = "active";
  w.runs_24h = 3;
  w.runs_7d = 10;
  w.runs_total = 42;
  w.failures_7d = 2;
  w.refusals_7d = {{"cooldown", 4}, {"budget", 1}};
  w.last_run_at = WallTime(std::chrono::seconds(1795608000));
  w.last_result = "succeeded";
  w.bundle_links = {"https://archive/b/42", "https://archive/b/41"};
  w.budget = "5 per 1d";
  return w;
}

TEST(SummaryBody, CarriesEveryCount) {
  IssueSummary s{"acme/infra#123", {Sample()}, std::chrono::minutes(15)};
  std::string b = SummaryBody(s);
  for (const char* want :
       {"acme/infra#123",
        "Workaround nova-rpc (in-house, undiagnosed): active, expires 2027-01-31 "
        "(67 days left)",
        "* runs: 3 in 24 h, 10 in 7 d, 42 in total", "* last run: 2026-11-25 12:00 UTC, succeeded",
        "* failures in 7 d: 2", "* refusals in 7 d: budget 1, cooldown 4",
        "* last diagnostics bundles: https://archive/b/42, https://archive/b/41", "every 15m"}) {
    EXPECT_NE(b.find(want), std::string::npos) << want << "\n" << b;
  }
  EXPECT_EQ(b.find("<!--"), std::string::npos) << "markers are the adapter's job";
}

TEST(SummaryBody, HardwareHasNoExpiryAndNeverRunShowsNever) {
  WorkaroundSummary w;
  w.id = "nic";
  w.cause = "hardware";
  w.diagnosed = true;
  w.state = "active";
  std::string b = SummaryBody({"#7", {w}, std::chrono::minutes(15)});
  EXPECT_NE(b.find("no expiry (hardware)"), std::string::npos) << b;
  EXPECT_NE(b.find("* last run: never"), std::string::npos) << b;
  EXPECT_NE(b.find("refusals in 7 d: none"), std::string::npos) << b;
}

TEST(EventBodies, CarryTheirMarkers) {
  WorkaroundSummary w = Sample();
  EXPECT_NE(RetirementBody(w, "#5").find("stopgap:event:retired:nova-rpc"), std::string::npos);
  EXPECT_NE(RetirementBody(w, "#5").find("It ran 42 runs in total"), std::string::npos);
  EXPECT_NE(ExpiredBody(w, "#5").find("stopgap:event:expired:nova-rpc:2027-01-31"),
            std::string::npos);
  std::string b = BudgetBody(w, "#5", CivilDay{2026, 11, 25});
  EXPECT_NE(b.find("stopgap:event:budget:nova-rpc:2026-11-25"), std::string::npos);
  EXPECT_NE(b.find("(5 per 1d)"), std::string::npos);
}

TEST(Labels, WantedAndDelta) {
  WorkaroundSummary a = Sample();
  WorkaroundSummary b = Sample();
  b.diagnosed = true;
  b.state = "expired";
  IssueSummary s{"#1", {a, b}, {}};
  LabelChange want = WantedLabels(s);
  EXPECT_EQ(want.add, (std::vector<std::string>{"stopgap:workaround", "stopgap:undiagnosed",
                                                "stopgap:expired"}));
  EXPECT_TRUE(want.remove.empty());
  a.diagnosed = true;
  LabelChange diag = WantedLabels({"#1", {a}, {}});
  EXPECT_EQ(diag.remove, (std::vector<std::string>{"stopgap:undiagnosed", "stopgap:expired"}));
  LabelChange d = LabelDelta(diag, {"bug", "stopgap:workaround", "stopgap:undiagnosed"});
  EXPECT_TRUE(d.add.empty());
  EXPECT_EQ(d.remove, std::vector<std::string>{"stopgap:undiagnosed"});
  // A retired undiagnosed workaround no longer asks for root-cause work.
  WorkaroundSummary r = Sample();
  r.state = "retired";
  EXPECT_EQ(WantedLabels({"#1", {r}, {}}).remove.front(), "stopgap:undiagnosed");
}

TEST(ApplyLookups, FailuresKeepStateAndTransitionsAreReported) {
  using O = IssueLookup::Outcome;
  KnownIssues prev;
  prev.state = {{"#1", IssueState::kOpen}, {"#2", IssueState::kClosed}, {"#9", IssueState::kOpen}};
  auto r = ApplyLookups(prev, {{"#1", O::kClosed, ""},
                               {"#2", O::kFailed, "down"},
                               {"#3", O::kFailed, "down"},
                               {"#4", O::kWrongTracker, "gitlab url"},
                               {"#5", O::kMissing, ""}});
  EXPECT_EQ(r.next.Closed(), (std::set<std::string>{"#1", "#2"}));
  EXPECT_EQ(r.next.Missing(), (std::set<std::string>{"#4", "#5"}));
  EXPECT_EQ(r.newly_closed, std::vector<std::string>{"#1"});
  EXPECT_EQ(r.failures, 2);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.next.state.count("#3"), 0u) << "never known, still unknown";
  EXPECT_EQ(r.next.state.count("#9"), 0u) << "left the catalog";
  auto again = ApplyLookups(r.next, {{"#1", O::kOpen, ""},
                                     {"#2", O::kClosed, ""},
                                     {"#4", O::kWrongTracker, ""},
                                     {"#5", O::kMissing, ""}});
  EXPECT_EQ(again.reopened, std::vector<std::string>{"#1"});
  EXPECT_TRUE(again.newly_closed.empty());
}

TEST(Debounce, FirstAtOnceThenAfterInterval) {
  WallTime t0(std::chrono::seconds(1000));
  const Duration iv = std::chrono::minutes(15);
  EXPECT_TRUE(SummaryDue(std::nullopt, t0, iv));
  EXPECT_FALSE(SummaryDue(t0, t0 + std::chrono::minutes(14), iv));
  EXPECT_TRUE(SummaryDue(t0, t0 + std::chrono::minutes(15), iv));
}

TEST(RetryDelay, DoublesUpToTheCap) {
  const Duration cap = std::chrono::minutes(15);
  EXPECT_EQ(RetryDelay(1, cap), std::chrono::seconds(30));
  EXPECT_EQ(RetryDelay(2, cap), std::chrono::seconds(60));
  EXPECT_EQ(RetryDelay(5, cap), std::chrono::seconds(480));
  EXPECT_EQ(RetryDelay(6, cap), cap);
  EXPECT_EQ(RetryDelay(100, cap), cap);
}

}  // namespace
}  // namespace stopgap::remedy::tracker

// DecideFiring and SameInstance: one firing instance acts once, however often
// Alertmanager notifies (group updates, repeat_interval, retries).
#include "remedy/firing.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;
using testing::MakeWorkaround;

const WallTime kT0 = WallTime(std::chrono::hours(24 * 20600));

ExecutionRecord Exec(ExecutionState state, std::string reason = "", int attempt = 1) {
  ExecutionRecord e;
  e.id = 7;
  e.state = state;
  e.refusal_reason = std::move(reason);
  e.attempt = attempt;
  e.created_at = kT0;
  e.updated_at = kT0 + 1min;
  e.finished_at = kT0 + 1min;
  e.instance_start = kT0 - 5min;
  return e;
}

TEST(SameInstanceTest, StartsAtDecidesWhenTheAlertHasOne) {
  ExecutionRecord last = Exec(ExecutionState::kSucceeded);
  Alert a;
  a.starts_at = kT0 - 5min;
  EXPECT_TRUE(SameInstance(last, a, std::nullopt));
  EXPECT_TRUE(SameInstance(last, a, kT0 + 1h)) << "a resolve does not matter with a start";
  // Alertmanager sends nanoseconds; the ledger keeps milliseconds.
  last.instance_start = kT0 - 5min + 123ms;
  a.starts_at = kT0 - 5min + 123ms + 456us;
  EXPECT_TRUE(SameInstance(last, a, std::nullopt));
  last.instance_start = kT0 - 5min;
  a.starts_at = kT0 + 2h;  // fired again after a resolve: a new startsAt
  EXPECT_FALSE(SameInstance(last, a, std::nullopt));
  last.instance_start.reset();  // a run by hand is no firing instance
  a.starts_at = kT0 - 5min;
  EXPECT_FALSE(SameInstance(last, a, std::nullopt));
}

TEST(SameInstanceTest, WithoutStartTheInstanceEndsAtTheNextResolve) {
  ExecutionRecord last = Exec(ExecutionState::kSucceeded);
  Alert a;  // no starts_at
  EXPECT_TRUE(SameInstance(last, a, std::nullopt));
  EXPECT_TRUE(SameInstance(last, a, kT0 - 1min)) << "resolved before the run: same instance";
  EXPECT_FALSE(SameInstance(last, a, kT0 + 1min)) << "resolved after the run: a new instance";
}

TEST(DecideFiringTest, NothingYetOrAnotherInstanceActs) {
  Workaround w = MakeWorkaround("w");
  EXPECT_EQ(DecideFiring(w, std::nullopt, false, kT0).verdict, FiringVerdict::kAct);
  FiringDecision d = DecideFiring(w, Exec(ExecutionState::kSucceeded), false, kT0);
  EXPECT_EQ(d.verdict, FiringVerdict::kAct);
  EXPECT_EQ(d.attempt, 1);
}

TEST(DecideFiringTest, AnInstanceThatActedIsADuplicateWhateverTheTime) {
  Workaround w = MakeWorkaround("w");
  for (Duration later : {Duration(1min), Duration(5min), Duration(24h)}) {
    FiringDecision d = DecideFiring(w, Exec(ExecutionState::kSucceeded), true, kT0 + later);
    EXPECT_EQ(d.verdict, FiringVerdict::kDuplicate);
    EXPECT_EQ(d.of, 7);
    EXPECT_EQ(d.why, "same-instance");
  }
  EXPECT_EQ(DecideFiring(w, Exec(ExecutionState::kActing), true, kT0).why, "in-flight");
}

TEST(DecideFiringTest, PassingRefusalsMayActAgainLastingOnesDoNot) {
  Workaround w = MakeWorkaround("w");
  for (const char* r : {"concurrency", "cooldown", "budget", "circuit-breaker"}) {
    EXPECT_EQ(DecideFiring(w, Exec(ExecutionState::kRefused, r), true, kT0).verdict,
              FiringVerdict::kAct)
        << r;
  }
  for (const char* r : {"expired", "retired", "unknown-issue", "unsafe-label"}) {
    FiringDecision d = DecideFiring(w, Exec(ExecutionState::kRefused, r), true, kT0);
    EXPECT_EQ(d.verdict, FiringVerdict::kDuplicate) << r;
    EXPECT_EQ(d.why, "refused");
  }
}

TEST(DecideFiringTest, AFailedInstanceEscalatesByDefault) {
  Workaround w = MakeWorkaround("w");
  for (ExecutionState s : {ExecutionState::kFailed, ExecutionState::kInterrupted}) {
    FiringDecision d = DecideFiring(w, Exec(s), true, kT0 + 1h);
    EXPECT_EQ(d.verdict, FiringVerdict::kEscalate);
    EXPECT_EQ(d.why, "still-firing");
    EXPECT_EQ(d.of, 7);
  }
}

// resume: rerun: the interrupted instance is rerun by a node, not escalated;
// once its rerun exists the rerun decides (and a rerun is never rerun).
TEST(DecideFiringTest, AnInterruptedInstanceWithResumeRerunWaitsForItsRerun) {
  Workaround w = MakeWorkaround("w");
  w.resume = Resume::kRerun;
  ExecutionRecord e = Exec(ExecutionState::kInterrupted);
  e.resume = "rerun";
  FiringDecision d = DecideFiring(w, e, true, kT0 + 1h);
  EXPECT_EQ(d.verdict, FiringVerdict::kDuplicate);
  EXPECT_EQ(d.why, "rerun-pending");
  e.rerun_of = 6;  // this one is the rerun, and it was interrupted too
  EXPECT_EQ(DecideFiring(w, e, true, kT0 + 1h).verdict, FiringVerdict::kEscalate);
  // Created before the catalog said rerun: what the execution recorded counts.
  ExecutionRecord old = Exec(ExecutionState::kInterrupted);
  EXPECT_EQ(DecideFiring(w, old, true, kT0 + 1h).verdict, FiringVerdict::kEscalate);
}

TEST(DecideFiringTest, RepeatAllowsMoreAttemptsEveryIntervalUpToMax) {
  Workaround w = MakeWorkaround("w");
  w.repeat = Repeat{30min, 3};
  const WallTime finished = kT0 + 1min;
  FiringDecision early = DecideFiring(w, Exec(ExecutionState::kFailed), true, finished + 29min);
  EXPECT_EQ(early.verdict, FiringVerdict::kDuplicate);
  EXPECT_EQ(early.why, "repeat-wait");
  FiringDecision second = DecideFiring(w, Exec(ExecutionState::kFailed), true, finished + 30min);
  EXPECT_EQ(second.verdict, FiringVerdict::kRepeat);
  EXPECT_EQ(second.attempt, 2);
  FiringDecision third =
      DecideFiring(w, Exec(ExecutionState::kFailed, "", 2), true, finished + 30min);
  EXPECT_EQ(third.attempt, 3);
  // The third attempt failed too: max reached, a person is told.
  EXPECT_EQ(DecideFiring(w, Exec(ExecutionState::kFailed, "", 3), true, finished + 5h).verdict,
            FiringVerdict::kEscalate);
  // An interrupted run is never repeated by itself.
  EXPECT_EQ(DecideFiring(w, Exec(ExecutionState::kInterrupted), true, finished + 5h).verdict,
            FiringVerdict::kEscalate);
}

}  // namespace
}  // namespace stopgap::remedy

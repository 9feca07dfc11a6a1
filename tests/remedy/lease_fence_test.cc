// LeaseFence, the watchdog that fences a node which cannot renew its cluster
// leases: the decision (pure), and the watchdog over a fake cluster ledger
// and a fake runner on simulated time. The real runner's side of a fence is
// in tests/core/process_test.cc, the whole of it in
// tests/cluster/postgres_fence.sh.
#include "remedy/lease_fence.h"

#include <thread>

#include "gtest/gtest.h"

namespace stopgap::remedy {
namespace {

using namespace std::chrono_literals;

const MonoTime kM0 = MonoTime(std::chrono::hours(1));

TEST(DecideFenceTest, FencesPastHalfTheLeaseAndUnfencesOnARenewal) {
  const Duration lease = 30s;
  EXPECT_EQ(DecideFence(false, kM0, kM0 + 15s, lease), FenceAction::kNone) << "exactly half";
  EXPECT_EQ(DecideFence(false, kM0, kM0 + 15s + 1ms, lease), FenceAction::kFence);
  EXPECT_EQ(DecideFence(true, kM0, kM0 + 20s, lease), FenceAction::kNone) << "fenced already";
  EXPECT_EQ(DecideFence(true, kM0 + 19s, kM0 + 20s, lease), FenceAction::kUnfence);
  EXPECT_EQ(DecideFence(false, kM0 + 19s, kM0 + 20s, lease), FenceAction::kNone);
}

// What the fence reads: the time of the last renewal that committed.
class FakeCluster final : public ClusterLedger {
 public:
  ClusterCounters Counters() const override { return {}; }
  ClusterHealth Health(WallTime) const override {
    ClusterHealth h;
    h.lease = 8s;
    h.last_renewal = last_renewal;
    return h;
  }
  std::optional<MonoTime> last_renewal;
};

class FenceRecordingRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec&) override { return ProcessResult{}; }
  void Fence(Duration grace) override {
    graces.push_back(grace);
    fenced_ = true;
  }
  void Unfence() override { fenced_ = false; }
  bool fenced() const override { return fenced_; }
  std::vector<Duration> graces;
  bool fenced_ = false;
};

TEST(LeaseFenceTest, FencesTheRunnerWhenRenewalsStopAndUnfencesWhenTheyResume) {
  ManualClock clock(WallTime(std::chrono::hours(24 * 20600)));
  FakeCluster cluster;
  FenceRecordingRunner runner;
  LeaseFence fence(cluster, runner, clock);
  // No renewal reported yet: the fence's own start is the baseline.
  clock.Advance(4s);
  EXPECT_EQ(fence.Check(), FenceAction::kNone);
  cluster.last_renewal = clock.Monotonic();
  clock.Advance(4s);  // half the lease, not more
  EXPECT_EQ(fence.Check(), FenceAction::kNone);
  EXPECT_FALSE(fence.fenced());
  clock.Advance(1ms);
  EXPECT_EQ(fence.Check(), FenceAction::kFence);
  EXPECT_TRUE(fence.fenced());
  EXPECT_TRUE(runner.fenced());
  // Killed by three quarters of the lease: the fence at half, SIGKILL a quarter later.
  EXPECT_EQ(runner.graces, (std::vector<Duration>{2s}));
  clock.Advance(10s);
  EXPECT_EQ(fence.Check(), FenceAction::kNone) << "fenced once, not on every round";
  EXPECT_EQ(fence.fences(), 1);
  cluster.last_renewal = clock.Monotonic();  // the database answers again
  EXPECT_EQ(fence.Check(), FenceAction::kUnfence);
  EXPECT_FALSE(fence.fenced());
  EXPECT_FALSE(runner.fenced());
  clock.Advance(4s + 1ms);
  EXPECT_EQ(fence.Check(), FenceAction::kFence);
  EXPECT_EQ(fence.fences(), 2);
}

// Without renewals the node fences by itself, on its own thread: the check
// reads memory only, so a database call that hangs cannot delay it.
TEST(LeaseFenceTest, TheWatchdogThreadFencesWithoutBeingAsked) {
  FakeCluster cluster;
  cluster.last_renewal = SystemClock::Instance().Monotonic() - 5s;  // over 8s/2 ago
  FenceRecordingRunner runner;
  LeaseFence fence(cluster, runner, SystemClock::Instance());
  fence.Start();
  for (int i = 0; i < 200 && !fence.fenced(); ++i) std::this_thread::sleep_for(10ms);
  fence.Stop();
  EXPECT_TRUE(fence.fenced());
  EXPECT_EQ(runner.graces.size(), 1u);
}

}  // namespace
}  // namespace stopgap::remedy

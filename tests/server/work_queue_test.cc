// Tests for ExecutionQueue: bounded slots, worker execution, shutdown with a
// grace period (never-started and still-running executions are reported).
#include "server/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

namespace stopgap::server {
namespace {

// A gate the test opens; workers block on it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
  }
  void WaitForWaiters(int n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return waiting >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(ExecutionQueueTest, RunsEveryCommittedId) {
  std::mutex mu;
  std::set<QueuedId> ran;
  {
    ExecutionQueue q(3, 100, [&](QueuedId id) {
      std::lock_guard<std::mutex> l(mu);
      ran.insert(id);
    });
    for (QueuedId i = 1; i <= 50; ++i) {
      auto slot = q.Reserve();
      ASSERT_TRUE(slot.has_value());
      q.Commit(std::move(*slot), i);
    }
    // Wait until drained.
    for (int i = 0; i < 5000 && (q.depth() > 0 || q.running() > 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto r = q.Shutdown(std::chrono::seconds(5));
    EXPECT_TRUE(r.never_started.empty());
    EXPECT_TRUE(r.still_running.empty());
  }
  EXPECT_EQ(ran.size(), 50u);
}

TEST(ExecutionQueueTest, FullQueueRefusesReservationsAndReleasedSlotsComeBack) {
  Gate gate;
  ExecutionQueue q(1, 2, [&](QueuedId) { gate.Wait(); });
  auto s1 = q.Reserve();
  auto s2 = q.Reserve();
  ASSERT_TRUE(s1 && s2);
  EXPECT_FALSE(q.Reserve().has_value()) << "2 reserved of capacity 2";
  s2.reset();  // released without commit (e.g. the engine refused)
  auto s3 = q.Reserve();
  ASSERT_TRUE(s3.has_value());
  q.Commit(std::move(*s1), 1);
  gate.WaitForWaiters(1);  // id 1 is running: it no longer occupies the queue
  q.Commit(std::move(*s3), 2);
  EXPECT_EQ(q.depth(), 1u);
  EXPECT_EQ(q.running(), 1u);
  auto s4 = q.Reserve();
  EXPECT_TRUE(s4.has_value());
  EXPECT_FALSE(q.Reserve().has_value());
  gate.Open();
}

TEST(ExecutionQueueTest, ShutdownReportsQueuedAndStillRunning) {
  Gate gate;
  ExecutionQueue q(1, 10, [&](QueuedId) { gate.Wait(); });
  for (QueuedId i = 1; i <= 3; ++i) {
    auto s = q.Reserve();
    q.Commit(std::move(*s), i);
  }
  gate.WaitForWaiters(1);
  auto r = q.Shutdown(std::chrono::milliseconds(50));
  EXPECT_EQ(r.never_started, (std::vector<QueuedId>{2, 3}));
  EXPECT_EQ(r.still_running, (std::vector<QueuedId>{1}));
  EXPECT_FALSE(q.Reserve().has_value()) << "no new work after shutdown";
  gate.Open();  // the destructor joins the worker
}

TEST(ExecutionQueueTest, ShutdownWaitsForRunningWithinGrace) {
  std::atomic<bool> finished{false};
  ExecutionQueue q(1, 10, [&](QueuedId) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
  });
  auto s = q.Reserve();
  q.Commit(std::move(*s), 7);
  for (int i = 0; i < 1000 && q.running() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto r = q.Shutdown(std::chrono::seconds(5));
  EXPECT_TRUE(finished.load());
  EXPECT_TRUE(r.still_running.empty());
}

}  // namespace
}  // namespace stopgap::server

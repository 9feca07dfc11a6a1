// Tests for GroupSync: every waiter is covered by a sync that started after
// it arrived; concurrent waiters share syncs; errors reach the waiters.
#include "server/group_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace stopgap::server {
namespace {

TEST(GroupSyncTest, SingleWaiterSyncsOnce) {
  int calls = 0;
  GroupSync g([&] {
    ++calls;
    return Status::Ok();
  });
  EXPECT_TRUE(g.WaitDurable().ok());
  EXPECT_TRUE(g.WaitDurable().ok());
  EXPECT_EQ(calls, 2) << "each call needs a sync that began after it";
}

TEST(GroupSyncTest, ConcurrentWaitersShareSyncsAndAreCovered) {
  std::atomic<int> started{0};
  std::atomic<int> writes{0};        // "writes" committed before waiting
  std::atomic<int> durable_upto{0};  // writes covered by the last finished sync
  GroupSync g([&] {
    int covered = writes.load();
    ++started;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a slow fsync
    durable_upto = covered;
    return Status::Ok();
  });
  std::atomic<bool> violated{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        int mine = ++writes;
        ASSERT_TRUE(g.WaitDurable().ok());
        if (durable_upto.load() < mine) violated = true;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_FALSE(violated.load()) << "a waiter returned before its write was covered";
  EXPECT_LT(g.syncs(), 320u / 2) << "waiters should share syncs";
  EXPECT_GT(g.syncs(), 0u);
}

TEST(GroupSyncTest, ErrorsReachTheWaitersOfThatSync) {
  bool fail = true;
  GroupSync g([&] { return fail ? Internal("disk on fire") : Status::Ok(); });
  Status s = g.WaitDurable();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "disk on fire");
  fail = false;
  EXPECT_TRUE(g.WaitDurable().ok()) << "a later sync succeeds again";
}

}  // namespace
}  // namespace stopgap::server

namespace stopgap::server {
namespace {

TEST(GroupSyncTest, AfterDurableCallsBackOnceCoveredWithoutBlockingTheCaller) {
  std::atomic<int> writes{0};
  std::atomic<int> durable_upto{0};
  std::mutex gate;
  gate.lock();  // the first sync blocks until the test lets it go
  std::atomic<bool> first{true};
  GroupSync g([&] {
    int covered = writes.load();
    if (first.exchange(false)) {
      gate.lock();
      gate.unlock();
    }
    durable_upto = covered;
    return Status::Ok();
  });
  std::atomic<int> ok{0};
  std::atomic<bool> violated{false};
  for (int i = 0; i < 50; ++i) {
    int mine = ++writes;
    // Returns at once even while a sync is stuck.
    g.AfterDurable([&, mine](Status s) {
      if (!s.ok() || durable_upto.load() < mine) violated = true;
      ++ok;
    });
  }
  EXPECT_LT(ok.load(), 50) << "callbacks ran before their sync finished";
  gate.unlock();
  EXPECT_TRUE(g.WaitDurable().ok());
  EXPECT_EQ(ok.load(), 50);
  EXPECT_FALSE(violated.load()) << "a callback ran before a sync covered its write";
  EXPECT_LE(g.syncs(), 3u) << "callbacks queued during a sync share the next one";
}

TEST(GroupSyncTest, DestructorCompletesWhatIsQueued) {
  std::atomic<int> done{0};
  {
    GroupSync g([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return Status::Ok();
    });
    for (int i = 0; i < 10; ++i) g.AfterDurable([&](Status s) { done += s.ok() ? 1 : 100; });
  }
  EXPECT_EQ(done.load(), 10);
}

}  // namespace
}  // namespace stopgap::server

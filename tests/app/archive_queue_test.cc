// BundleArchiveQueue: bundles ship off the caller's thread, a failed upload
// is retried with backoff, a store that stays down loses nothing local, and
// Drain is bounded.
#include "app/archive_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace stopgap::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ArchiveQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stopgap-archive-queue-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/store");
    fs::create_directories(dir_ + "/bundles/1");
    std::ofstream(dir_ + "/bundles/1/manifest.json") << "{}";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<BundleArchiver> Archiver(const std::string& url) {
    remedy::ArchiveConfig cfg;
    cfg.url = url;
    auto a = BundleArchiver::Open(cfg);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(*a) : nullptr;
  }
  size_t StoredObjects() {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ + "/store")) n += e.is_regular_file();
    return n;
  }
  std::string dir_;
};

TEST_F(ArchiveQueueTest, ShipsOffTheCallersThread) {
  std::atomic<int> done{0};
  ArchiveQueueOptions o;
  o.on_done = [&](const ArchiveResult& r) {
    EXPECT_TRUE(r.ok) << r.error;
    ++done;
  };
  BundleArchiveQueue q(Archiver("file://" + dir_ + "/store"), o);
  remedy::ExecutionOutcome out;
  out.id = 1;
  out.bundle_dir = dir_ + "/bundles/1";
  q.OnExecutionFinished(remedy::Workaround{}, out);  // returns at once
  q.Drain(30s);
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(q.stats().shipped, 1);
  EXPECT_GE(StoredObjects(), 1u);
  EXPECT_TRUE(fs::exists(dir_ + "/bundles/1/manifest.json")) << "the local bundle is kept";
}

TEST_F(ArchiveQueueTest, ADeadStoreIsRetriedThenGivesUpKeepingTheBundle) {
  // The store's directory is a file: every upload fails.
  std::ofstream(dir_ + "/not-a-dir") << "x";
  ArchiveQueueOptions o;
  o.max_attempts = 3;
  o.first_retry = 10ms;
  std::atomic<int> attempts{0};
  o.on_done = [&](const ArchiveResult& r) {
    EXPECT_FALSE(r.ok);
    attempts = r.attempts;
  };
  BundleArchiveQueue q(Archiver("file://" + dir_ + "/not-a-dir/store"), o);
  q.Enqueue(1, dir_ + "/bundles/1");
  for (int i = 0; i < 500 && q.stats().failed == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(q.stats().failed, 1);
  EXPECT_EQ(q.stats().retries, 2);
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_TRUE(fs::exists(dir_ + "/bundles/1/manifest.json"));
}

TEST_F(ArchiveQueueTest, DrainIsBoundedAndCountsWhatItLeft) {
  std::ofstream(dir_ + "/not-a-dir") << "x";
  ArchiveQueueOptions o;
  o.max_attempts = 100;
  o.first_retry = 10s;  // the first job waits for its retry; Drain cuts the wait
  BundleArchiveQueue q(Archiver("file://" + dir_ + "/not-a-dir/store"), o);
  for (int i = 0; i < 5; ++i) q.Enqueue(i, dir_ + "/bundles/1");
  auto t0 = std::chrono::steady_clock::now();
  q.Drain(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ArchiveQueueStats s = q.stats();
  EXPECT_EQ(s.shipped, 0);
  EXPECT_EQ(s.failed + s.dropped, 5);
}

TEST_F(ArchiveQueueTest, AFullQueueDropsAndCounts) {
  std::ofstream(dir_ + "/not-a-dir") << "x";
  ArchiveQueueOptions o;
  o.capacity = 2;
  o.max_attempts = 100;
  o.first_retry = 10s;
  BundleArchiveQueue q(Archiver("file://" + dir_ + "/not-a-dir/store"), o);
  for (int i = 0; i < 10; ++i) q.Enqueue(i, dir_ + "/bundles/1");
  EXPECT_GE(q.stats().dropped, 7);
  q.Drain(0ms);
}

}  // namespace
}  // namespace stopgap::app

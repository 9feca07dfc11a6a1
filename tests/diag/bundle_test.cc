// Bundles: manifest.json exists (and is complete=false) before collection, its
// schema after Finish, tar.zst packing read back with libarchive, pruning by
// age with a ManualClock.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "diag/bundle.h"

namespace stopgap::diag {
namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("bundle-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  ManualClock clock_{std::chrono::system_clock::from_time_t(1800000000)};  // 2027-01-15
};

TEST_F(BundleTest, ManifestWrittenFirstThenCompleteWithSchema) {
  fs::path dir = root_ / NewBundleDirName(clock_);
  EXPECT_EQ(dir.filename().string().substr(0, 16), "20270115T080000Z");
  auto m = BundleManifest::Create(dir, clock_, {{"workaround", "nova-rpc"}, {"issue", "acme/x#1"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto j = ReadJson(dir / "manifest.json");
  EXPECT_EQ(j["complete"], false);
  EXPECT_TRUE(j["finished_at"].is_null());
  EXPECT_EQ((fs::status(dir / "manifest.json").permissions() & fs::perms::all),
            fs::perms::owner_read | fs::perms::owner_write);

  CollectorOutcome ok{"system",
                      true,
                      false,
                      false,
                      "",
                      std::chrono::milliseconds(12),
                      {"system/summary.txt"},
                      300,
                      {{"processes", 42}},
                      {}};
  CollectorOutcome bad{"process",
                       false,
                       true,
                       true,
                       "cut off at its time budget of 5s",
                       std::chrono::milliseconds(5000),
                       {},
                       0,
                       {},
                       {"thread 812: did not stop within 200 ms (state D); not captured"}};
  ASSERT_TRUE((*m)->Add(ok).ok());
  ASSERT_TRUE((*m)->Add(bad).ok());
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE((*m)->Finish().ok());

  j = ReadJson(dir / "manifest.json");
  EXPECT_EQ(j["schema"], "stopgap.bundle/2");
  EXPECT_EQ(j["version"], 2);
  EXPECT_TRUE(j["host"].is_string());
  EXPECT_EQ(j["created_at"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(j["finished_at"], "2027-01-15T08:00:06.000Z");
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["labels"]["workaround"], "nova-rpc");
  EXPECT_TRUE(j["execution"].is_null());
  // `stopgap diag` records one collect step holding every collector.
  ASSERT_EQ(j["steps"].size(), 1u);
  const auto& step = j["steps"][0];
  EXPECT_EQ(step["kind"], "collect");
  EXPECT_EQ(step["phase"], "diagnostics");
  EXPECT_EQ(step["argv"][0], "collect: [system, process]");
  EXPECT_EQ(step["outcome"], "timeout");
  ASSERT_EQ(step["collectors"].size(), 2u);
  const auto& c0 = step["collectors"][0];
  EXPECT_EQ(c0["name"], "system");
  EXPECT_EQ(c0["ok"], true);
  EXPECT_TRUE(c0["error"].is_null());
  EXPECT_EQ(c0["duration_ms"], 12);
  EXPECT_EQ(c0["bytes"], 300);
  EXPECT_EQ(c0["files"][0], "system/summary.txt");
  EXPECT_EQ(c0["metrics"]["processes"], 42);
  const auto& c1 = step["collectors"][1];
  EXPECT_EQ(c1["timed_out"], true);
  EXPECT_EQ(c1["truncated"], true);
  EXPECT_EQ(c1["error"], "cut off at its time budget of 5s");
  EXPECT_EQ(c1["skipped"][0], "thread 812: did not stop within 200 ms (state D); not captured");
  // Exactly the documented keys (docs/bundle-format.md).
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"schema", "version", "host", "created_at", "finished_at",
                                         "complete", "labels", "execution", "steps"}));
  std::set<std::string> skeys;
  for (auto it = step.begin(); it != step.end(); ++it) skeys.insert(it.key());
  EXPECT_EQ(skeys,
            (std::set<std::string>{"phase", "index", "kind", "argv", "outcome", "exit_code",
                                   "signal", "timed_out", "truncated", "started_at", "finished_at",
                                   "duration_ms", "files", "error", "collectors"}));
  std::set<std::string> ckeys;
  for (auto it = c0.begin(); it != c0.end(); ++it) ckeys.insert(it.key());
  EXPECT_EQ(ckeys, (std::set<std::string>{"name", "ok", "timed_out", "truncated", "error",
                                          "duration_ms", "bytes", "files", "metrics", "skipped"}));
}

TEST_F(BundleTest, PackIntoTarZstAndReadBack) {
  fs::path dir = root_ / "b1";
  auto m = BundleManifest::Create(dir, clock_);
  ASSERT_TRUE(m.ok());
  fs::create_directories(dir / "system");
  std::ofstream(dir / "system/summary.txt") << "kernel: Linux\n";
  fs::path out = root_ / "b1.tar.zst";
  ASSERT_TRUE(PackBundle(dir, out).ok());
  archive* a = archive_read_new();
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, out.c_str(), 65536), ARCHIVE_OK);
  std::map<std::string, std::string> entries;
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (!data.empty()) archive_read_data(a, data.data(), data.size());
    entries[archive_entry_pathname(e)] = data;
  }
  archive_read_free(a);
  EXPECT_TRUE(entries.count("b1/manifest.json"));
  EXPECT_EQ(entries["b1/system/summary.txt"], "kernel: Linux\n");
  EXPECT_FALSE(PackBundle(root_ / "missing", root_ / "x.tar.zst").ok());
}

TEST_F(BundleTest, PruneRemovesOnlyOldBundles) {
  auto make = [&](const std::string& name, int age_days) {
    fs::path d = root_ / name;
    auto m = BundleManifest::Create(d, clock_);
    ASSERT_TRUE(m.ok());
    time_t t = std::chrono::system_clock::to_time_t(clock_.Now()) - age_days * 86400;
    timeval tv[2] = {{t, 0}, {t, 0}};
    ::utimes((d / "manifest.json").c_str(), tv);
  };
  make("old", 40);
  make("new", 2);
  fs::create_directories(root_ / "not-a-bundle");  // no manifest: left alone
  std::ofstream(root_ / "old.tar.zst") << "x";
  time_t t = std::chrono::system_clock::to_time_t(clock_.Now()) - 50 * 86400;
  timeval tv[2] = {{t, 0}, {t, 0}};
  ::utimes((root_ / "old.tar.zst").c_str(), tv);

  auto removed = PruneBundles(root_, std::chrono::hours(24 * 30), clock_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_FALSE(fs::exists(root_ / "old"));
  EXPECT_FALSE(fs::exists(root_ / "old.tar.zst"));
  EXPECT_TRUE(fs::exists(root_ / "new"));
  EXPECT_TRUE(fs::exists(root_ / "not-a-bundle"));
  EXPECT_FALSE(PruneBundles(root_ / "nope", std::chrono::hours(1), clock_).ok());
}

}  // namespace
}  // namespace stopgap::diag

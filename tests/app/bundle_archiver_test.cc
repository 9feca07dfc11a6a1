// BundleArchiver keys: a recreated ledger starts its execution ids at 1
// again, so "bundles/<host>/1.tar.zst" used to be overwritten by an
// unrelated execution. Keys now carry the execution's created-at time and a
// per-archiver random id, and an existing key is never replaced.
#include "app/bundle_archiver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace stopgap::app {
namespace {

namespace fs = std::filesystem;

class BundleArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/archiver-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(root_); }
  // A bundle directory "<ledger>/1" whose manifest says when it was created.
  std::string Bundle(const std::string& ledger, const std::string& created_at) {
    fs::path d = root_ / ledger / "1";
    fs::create_directories(d);
    std::ofstream(d / "manifest.json")
        << R"({"execution_id": 1, "created_at": ")" << created_at << "\"}\n";
    return d.string();
  }
  size_t Archived() {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "archive")) {
      n += e.is_regular_file() && e.path().string().ends_with(".tar.zst");
    }
    return n;
  }
  fs::path root_;
};

TEST_F(BundleArchiverTest, SameExecutionIdFromARecreatedLedgerKeepsBoth) {
  remedy::ArchiveConfig cfg;
  cfg.url = "file://" + (root_ / "archive").string();
  auto a = BundleArchiver::Open(cfg);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto k1 = (*a)->Ship(Bundle("ledger-old", "2026-11-20T10:00:00Z"));
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  auto b = BundleArchiver::Open(cfg);  // the daemon restarted with a new ledger
  ASSERT_TRUE(b.ok());
  auto k2 = (*b)->Ship(Bundle("ledger-new", "2026-11-25T10:00:00Z"));
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  EXPECT_NE(*k1, *k2);
  EXPECT_NE(k1->find("20261120T100000Z"), std::string::npos) << *k1;
  EXPECT_EQ(Archived(), 2u);
  // The same bundle again (same created-at, same archiver): refused, not replaced.
  auto again = (*b)->Ship(root_ / "ledger-new" / "1");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_EQ(Archived(), 2u);
}

}  // namespace
}  // namespace stopgap::app

// Tests for migrate-layout over the file:// store: keys move between the
// layouts with their bytes and metadata, a run cut off between copy and
// delete is finished by the next, a different object at the target key is
// never overwritten, undated objects stay, and a dry run changes nothing.
#include "logship/migrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "logship/store/file_store.h"
#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::TempDir;
using testing::WriteText;

// Passes everything to the real store, but fails every Delete after `budget`:
// a run killed after its copies and before its deletes.
class CutOffStore final : public ObjectStore {
 public:
  CutOffStore(ObjectStore& real, int budget) : real_(real), budget_(budget) {}
  Result<UploadResult> Upload(const std::string& p, uint64_t n, const std::string& k,
                              const ObjectMeta& m) override {
    return real_.Upload(p, n, k, m);
  }
  Result<std::optional<ObjectInfo>> Stat(const std::string& k) override { return real_.Stat(k); }
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return real_.List(p); }
  Status Download(const std::string& k, net::ResponseSink& s) override {
    return real_.Download(k, s);
  }
  Status Copy(const ObjectInfo& a, const std::string& b) override { return real_.Copy(a, b); }
  Status Delete(const std::string& k) override {
    if (budget_-- <= 0) return Unavailable("cut off");
    return real_.Delete(k);
  }
  Result<std::string> LocalEtag(const std::string& p, uint64_t n) override {
    return real_.LocalEtag(p, n);
  }
  std::string Describe(const std::string& k) const override { return real_.Describe(k); }

 private:
  ObjectStore& real_;
  int budget_;
};

MigrateOptions Opt(Layout from, Layout to) {
  MigrateOptions o;
  o.from = from;
  o.to = to;
  return o;
}

std::set<std::string> Keys(ObjectStore& s) {
  std::set<std::string> out;
  Result<std::vector<ObjectInfo>> l = s.List("");
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  if (l.ok()) {
    for (const ObjectInfo& o : *l) out.insert(o.key);
  }
  return out;
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewFileStore(dir_ / "arch", StoreOptions{});
    for (int d = 1; d <= 6; ++d) {
      std::string name = "app.log-2026110" + std::to_string(d) + ".gz";
      std::string local = dir_ / ("src/" + name);
      WriteText(local, "day " + std::to_string(d));
      std::string key = ArchiveKey(Layout::kHost, "web1", "/var/log/" + name, {});
      ObjectMeta meta = ArchiveMeta("web1", "/var/log/" + name, std::nullopt, 5);
      ASSERT_TRUE(store_->Upload(local, 5, key, meta).ok());
    }
  }
  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(MigrateTest, HostToDateAndBack) {
  Result<MigrateReport> r = MigrateLayout(*store_, Opt(Layout::kHost, Layout::kDate));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->moved, 6u);
  EXPECT_EQ(r->failed, 0u);
  std::set<std::string> keys = Keys(*store_);
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_TRUE(keys.count("2026/11/03/web1/var/log/app.log-20261103.gz")) << *keys.begin();
  // Bytes and metadata came along.
  auto st = store_->Stat("2026/11/03/web1/var/log/app.log-20261103.gz");
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->size, 5u);
  EXPECT_EQ(MetaValue((*st)->meta, kMetaHost), "web1");

  r = MigrateLayout(*store_, Opt(Layout::kDate, Layout::kHost));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->moved, 6u);
  keys = Keys(*store_);
  EXPECT_TRUE(keys.count("web1/var/log/app.log-20261101.gz"));
  EXPECT_EQ(keys.size(), 6u);
}

TEST_F(MigrateTest, ACutOffRunIsFinishedByTheNext) {
  CutOffStore cut(*store_, 2);
  Result<MigrateReport> r = MigrateLayout(cut, [] {
    MigrateOptions o = Opt(Layout::kHost, Layout::kDate);
    o.parallel = 1;
    return o;
  }());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->moved, 2u);
  EXPECT_EQ(r->failed, 4u);
  EXPECT_EQ(Keys(*store_).size(), 10u);  // 4 copies whose originals are still there
  r = MigrateLayout(*store_, Opt(Layout::kHost, Layout::kDate));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->moved, 4u);
  EXPECT_EQ(r->resumed, 4u);
  EXPECT_EQ(r->in_target, 6u);  // 2 moved + the 4 copies left behind
  EXPECT_EQ(r->failed, 0u);
  std::set<std::string> keys = Keys(*store_);
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_TRUE(std::all_of(keys.begin(), keys.end(),
                          [](const std::string& k) { return k.starts_with("2026/11/"); }));
}

TEST_F(MigrateTest, ADifferentObjectAtTheTargetIsNeverOverwritten) {
  WriteText(dir_ / "other", "not the same bytes");
  ASSERT_TRUE(
      store_->Upload(dir_ / "other", 18, "2026/11/02/web1/var/log/app.log-20261102.gz").ok());
  Result<MigrateReport> r = MigrateLayout(*store_, Opt(Layout::kHost, Layout::kDate));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(r->moved, 5u);
  EXPECT_TRUE(Keys(*store_).count("web1/var/log/app.log-20261102.gz"));  // kept
  auto st = store_->Stat("2026/11/02/web1/var/log/app.log-20261102.gz");
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->size, 18u);
}

TEST_F(MigrateTest, UndatedStaysAndDryRunChangesNothing) {
  WriteText(dir_ / "junk", "x");
  ASSERT_TRUE(store_->Upload(dir_ / "junk", 1, "web1/var/log/app.log-old.gz").ok());
  std::set<std::string> before = Keys(*store_);
  std::vector<std::string> lines;
  Result<MigrateReport> r = MigrateLayout(*store_, [&] {
    MigrateOptions o = Opt(Layout::kHost, Layout::kDate);
    o.dry_run = true;
    o.progress = [&](const std::string& l) { lines.push_back(l); };
    return o;
  }());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->moved, 6u);
  EXPECT_EQ(r->undated, 1u);
  EXPECT_EQ(lines.size(), 7u);
  EXPECT_EQ(Keys(*store_), before);
  r = MigrateLayout(*store_, Opt(Layout::kHost, Layout::kDate));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->undated, 1u);
  EXPECT_TRUE(Keys(*store_).count("web1/var/log/app.log-old.gz"));
}

TEST(SameObjectTest, MultipartCopiesCompareByMetadata) {
  ObjectInfo a;
  a.key = "a";
  a.size = 10;
  a.etag = "abc-3";
  a.meta = {{kMetaPath, "/var/log/x"}, {kMetaDate, "2026-11-01T00:00:00"}};
  ObjectInfo b = a;
  b.etag = "def";
  EXPECT_TRUE(SameObject(a, b));
  b.meta[1].second = "2026-11-02T00:00:00";
  EXPECT_FALSE(SameObject(a, b));
  ObjectInfo c;
  c.key = "c";
  c.size = 10;
  c.etag = "abc";
  ObjectInfo d = c;
  d.etag = "abd";
  EXPECT_FALSE(SameObject(c, d));  // a single-part copy keeps its MD5
  d.etag = "abc";
  d.size = 11;
  EXPECT_FALSE(SameObject(c, d));
}

}  // namespace
}  // namespace stopgap::logship

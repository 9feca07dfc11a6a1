// Tests for the shipper above the store, with the real file:// store and a
// fault-injecting wrapper (leveldb-style): what is found, what is uploaded,
// that re-runs are no-ops, that failures keep local files, that deletion
// needs a verified record, and the object naming.
#include "logship/shipper.h"

#include <gtest/gtest.h>

#include "logship/catalog.h"
#include "logship/store/file_store.h"
#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::Exists;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

// Wraps a real store; fails uploads while `fail_uploads` is set.
class FaultyStore : public ObjectStore {
 public:
  explicit FaultyStore(ObjectStore& inner) : inner_(inner) {}
  Result<UploadResult> Upload(const std::string& p, uint64_t s, const std::string& k,
                              const ObjectMeta& m) override {
    ++uploads;
    if (fail_uploads) return Unavailable("injected: connection reset");
    if (deny) return PermissionDenied("injected: 403 SignatureDoesNotMatch");
    return inner_.Upload(p, s, k, m);
  }
  Result<std::optional<ObjectInfo>> Stat(const std::string& k) override {
    if (deny) return PermissionDenied("injected: 403 SignatureDoesNotMatch");
    return inner_.Stat(k);
  }
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return inner_.List(p); }
  Status Download(const std::string& k, net::ResponseSink& s) override {
    return inner_.Download(k, s);
  }
  Result<std::string> LocalEtag(const std::string& p, uint64_t s) override {
    return inner_.LocalEtag(p, s);
  }
  std::string Describe(const std::string& k) const override { return inner_.Describe(k); }
  bool fail_uploads = false;
  bool deny = false;
  int uploads = 0;

 private:
  ObjectStore& inner_;
};

class ShipperTest : public ::testing::Test {
 protected:
  ShipperTest()
      : clock_(WallTime(std::chrono::seconds(1764028800 + 12 * 3600))),  // 2025-11-25 12:00 UTC
        inner_(NewFileStore(dir_ / "archive", StoreOptions{})),
        store_(*inner_) {
    auto s = StateFile::Load(dir_ / "state/logship.state");
    state_ = std::move(*s);
    WriteText(dir_ / "log/app.log", "live\n");
    WriteText(dir_ / "log/app.log-20251122.gz", "gz-22");
    WriteText(dir_ / "log/app.log-20251123.gz", "gz-23");
    WriteText(dir_ / "log/app.log-20251124", "plain-24 (delaycompress)");
    WriteText(dir_ / "log/other.log-20251124.gz", "other");
    WriteText(dir_ / "log/other.log", "live other\n");
  }
  ShipOptions Options() {
    ShipOptions o;
    o.store_url = "file://" + (dir_ / "archive");
    o.hostname = "web1";
    o.quiet = true;
    o.parallel_files = 2;
    return o;
  }
  std::string ArchivedPath(const std::string& name) {
    return dir_ / ("archive/web1" + dir_.path() + "/log/" + name);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<ObjectStore> inner_;
  FaultyStore store_;
  std::unique_ptr<StateFile> state_;
};

TEST_F(ShipperTest, ObjectKeyHasHostAndAbsolutePath) {
  EXPECT_EQ(Shipper::ObjectKey("web1", "/var/log/nginx/access.log-20261125.gz"),
            "web1/var/log/nginx/access.log-20261125.gz");
}

TEST_F(ShipperTest, SweepUploadsCompressedRotationsOnly) {
  Shipper s(store_, *state_, clock_, Options());
  ShipReport r = s.Sweep({dir_ / "log/app.log "});  // logrotate's trailing space
  EXPECT_EQ(r.uploaded, 2);
  EXPECT_EQ(r.skipped, 1);  // the uncompressed (delaycompress) one
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(ReadText(ArchivedPath("app.log-20251122.gz")), "gz-22");
  EXPECT_EQ(ReadText(ArchivedPath("app.log-20251123.gz")), "gz-23");
  EXPECT_FALSE(Exists(ArchivedPath("app.log-20251124")));
  EXPECT_FALSE(Exists(ArchivedPath("app.log")));
  EXPECT_FALSE(Exists(ArchivedPath("other.log-20251124.gz")));
  EXPECT_EQ(state_->size(), 2u);
  EXPECT_TRUE(Exists(dir_ / "log/app.log-20251122.gz"));  // no deletion unless asked
}

TEST_F(ShipperTest, RerunIsANoOp) {
  Shipper s(store_, *state_, clock_, Options());
  ASSERT_EQ(s.Sweep({dir_ / "log/app.log"}).uploaded, 2);
  int uploads = store_.uploads;
  ShipReport again = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(again.uploaded, 0);
  EXPECT_EQ(again.already, 2);
  EXPECT_EQ(store_.uploads, uploads);
}

TEST_F(ShipperTest, LostStateIsRebuiltFromTheStoreWithoutUploading) {
  {
    Shipper s(store_, *state_, clock_, Options());
    ASSERT_EQ(s.Sweep({dir_ / "log/app.log"}).uploaded, 2);
  }
  auto fresh = StateFile::Load(dir_ / "state/other.state");
  Shipper s2(store_, **fresh, clock_, Options());
  int uploads = store_.uploads;
  ShipReport r = s2.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.already, 2);
  EXPECT_EQ(store_.uploads, uploads);
  EXPECT_EQ((*fresh)->size(), 2u);
}

TEST_F(ShipperTest, FailedUploadKeepsFileAndNextRunCompletes) {
  ShipOptions o = Options();
  o.delete_after_upload = true;
  Shipper s(store_, *state_, clock_, o);
  store_.fail_uploads = true;
  ShipReport r = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.deleted, 0);
  EXPECT_TRUE(Exists(dir_ / "log/app.log-20251122.gz"));
  EXPECT_EQ(state_->size(), 0u);
  store_.fail_uploads = false;
  r = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.uploaded, 2);
  EXPECT_EQ(r.deleted, 2);
  EXPECT_FALSE(Exists(dir_ / "log/app.log-20251122.gz"));
  EXPECT_TRUE(Exists(dir_ / "log/app.log-20251124"));  // skipped, so kept
  EXPECT_EQ(ReadText(ArchivedPath("app.log-20251122.gz")), "gz-22");
}

TEST_F(ShipperTest, DeniedCredentialsStopEarlyAndDeleteNothing) {
  ShipOptions o = Options();
  o.delete_after_upload = true;
  o.parallel_files = 1;
  Shipper s(store_, *state_, clock_, o);
  store_.deny = true;
  ShipReport r = s.Sweep({dir_ / "log/*.log"});
  EXPECT_EQ(r.failed, 1);  // stops after the first refusal
  EXPECT_EQ(r.deleted, 0);
  EXPECT_TRUE(Exists(dir_ / "log/app.log-20251122.gz"));
  EXPECT_TRUE(Exists(dir_ / "log/other.log-20251124.gz"));
}

TEST_F(ShipperTest, KeepDaysDeletesOnlyOldArchivedRotations) {
  ShipOptions o = Options();
  o.keep_days = 2;  // today is 2025-11-25: keep 23 and 24, delete 22
  Shipper s(store_, *state_, clock_, o);
  ShipReport r = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.uploaded, 2);
  EXPECT_EQ(r.deleted, 1);
  EXPECT_FALSE(Exists(dir_ / "log/app.log-20251122.gz"));
  EXPECT_TRUE(Exists(dir_ / "log/app.log-20251123.gz"));
}

TEST_F(ShipperTest, ChangedFileIsUploadedAgainAndNotDeletedOnStaleRecord) {
  Shipper s(store_, *state_, clock_, Options());
  ASSERT_EQ(s.Sweep({dir_ / "log/app.log"}).uploaded, 2);
  WriteText(dir_ / "log/app.log-20251123.gz", "gz-23 but different");
  ShipReport r = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.uploaded, 1);
  EXPECT_EQ(ReadText(ArchivedPath("app.log-20251123.gz")), "gz-23 but different");
}

TEST_F(ShipperTest, GlobsOlddirAndIncludeUncompressed) {
  WriteText(dir_ / "log/old/app.log-20251101.xz", "old-xz");
  ShipOptions o = Options();
  o.olddir = "old";
  o.include_uncompressed = true;
  Shipper s(store_, *state_, clock_, o);
  ShipReport r = s.Sweep({dir_ / "log/*.log " + dir_ / "log/missing.log "});
  EXPECT_EQ(r.uploaded, 5);  // 3 app + 1 other + 1 in olddir
  EXPECT_EQ(ReadText(dir_ / ("archive/web1" + dir_.path() + "/log/old/app.log-20251101.xz")),
            "old-xz");
}

TEST_F(ShipperTest, GlobFindsRotationsOfLiveLogsThatAreGone) {
  // logrotate without `create`: after rotation only the rotations exist.
  ::unlink((dir_ / "log/app.log").c_str());
  ::unlink((dir_ / "log/other.log").c_str());
  WriteText(dir_ / "log/notes.txt-20251124.gz", "not a .log");
  Shipper s(store_, *state_, clock_, Options());
  ShipReport r = s.Sweep({dir_ / "log/*.log "});
  EXPECT_EQ(r.uploaded, 3);  // app 22, app 23, other 24
  EXPECT_EQ(r.skipped, 1);
  EXPECT_FALSE(Exists(ArchivedPath("notes.txt-20251124.gz")));
}

TEST_F(ShipperTest, CompressionInProgressIsSkipped) {
  WriteText(dir_ / "log/app.log-20251124.gz", "half-written");
  ShipOptions o = Options();
  Shipper s(store_, *state_, clock_, o);
  ShipReport r = s.Sweep({dir_ / "log/app.log"});
  EXPECT_EQ(r.uploaded, 2);
  EXPECT_EQ(r.skipped, 2);
}

TEST_F(ShipperTest, UploadThenListAndFetchByDate) {
  Shipper s(store_, *state_, clock_, Options());
  ASSERT_EQ(s.Sweep({dir_ / "log/*.log"}).uploaded, 3);
  ArchiveFilter f;
  f.since = CivilDay{2025, 11, 23};
  Result<std::vector<ArchivedLog>> logs = ListArchive(*inner_, f);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);  // app 23 and other 24
  f.log = "app.log";
  logs = ListArchive(*inner_, f);
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].host, "web1");
  EXPECT_EQ((*logs)[0].path, dir_.path() + "/log/app.log-20251123.gz");
  f.log = dir_.path() + "/log/app.log";
  f.host = "web1";
  f.since.reset();
  f.until = CivilDay{2025, 11, 22};
  logs = ListArchive(*inner_, f);
  ASSERT_EQ(logs->size(), 1u);
  Result<std::string> got = FetchLog(*inner_, (*logs)[0], dir_ / "out", false);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ReadText(*got), "gz-22");
  // Never overwrites.
  EXPECT_EQ(FetchLog(*inner_, (*logs)[0], dir_ / "out", false).status().code(),
            StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace stopgap::logship

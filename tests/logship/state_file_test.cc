// Tests for the state file: round trip, 0600, atomic replace, corruption.
#include "logship/state_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::TempDir;

TEST(StateFileTest, MissingFileIsEmptyAndRecordsRoundTrip) {
  TempDir dir;
  std::string path = dir / "sub/state.json";
  Result<std::unique_ptr<StateFile>> s = StateFile::Load(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->size(), 0u);
  ArchivedFile f{
      "s3://b/p", "web1/var/log/a.log-20261125.gz", "/var/log/a.log-20261125.gz", 1234, 99,
      "abc",      "2026-11-25T00:00:00.000Z"};
  ASSERT_TRUE((*s)->Record(f).ok());

  struct stat sb;
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);

  Result<std::unique_ptr<StateFile>> again = StateFile::Load(path);
  ASSERT_TRUE(again.ok());
  ArchivedFile got;
  ASSERT_TRUE((*again)->Find("s3://b/p", f.key, &got));
  EXPECT_EQ(got.size, 1234u);
  EXPECT_EQ(got.mtime_ns, 99);
  EXPECT_EQ(got.etag, "abc");
  EXPECT_EQ(got.local_path, f.local_path);
  EXPECT_FALSE((*again)->Find("s3://b/other", f.key, &got));
}

TEST(StateFileTest, RecordReplacesAndLeavesNoTempFiles) {
  TempDir dir;
  std::string path = dir / "state.json";
  auto s = StateFile::Load(path);
  ASSERT_TRUE(s.ok());
  ArchivedFile f{"file:///x", "k", "/p", 1, 1, "e1", ""};
  ASSERT_TRUE((*s)->Record(f).ok());
  f.etag = "e2";
  ASSERT_TRUE((*s)->Record(f).ok());
  EXPECT_EQ((*s)->size(), 1u);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  auto again = StateFile::Load(path);
  ArchivedFile got;
  ASSERT_TRUE((*again)->Find("file:///x", "k", &got));
  EXPECT_EQ(got.etag, "e2");
}

TEST(StateFileTest, CorruptOrFutureFilesAreDataLoss) {
  TempDir dir;
  testing::WriteText(dir / "bad.json", "{\"version\":1,\"files\":[{\"store\":");
  auto bad = StateFile::Load(dir / "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos);
  testing::WriteText(dir / "v2.json", "{\"version\":2,\"files\":[]}");
  EXPECT_FALSE(StateFile::Load(dir / "v2.json").ok());
}

TEST(StateFileTest, LockIsExclusiveAcrossDescriptors) {
  TempDir dir;
  auto lock = StateLock::Acquire(dir / "state.json");
  ASSERT_TRUE(lock.ok());
  int fd = ::open((dir / "state.json.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
  lock->reset();
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ::close(fd);
}

}  // namespace
}  // namespace stopgap::logship

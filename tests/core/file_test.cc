#include "core/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

namespace stopgap {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/stopgap-file-test-XXXXXX";
  return mkdtemp(tmpl);
}

TEST(WriteFileAtomic, WritesWithMode0600AndReplaces) {
  std::string dir = TempDir();
  std::string p = dir + "/state.json";
  ASSERT_TRUE(WriteFileAtomic(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two").ok());
  auto r = ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "two");
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ReadFile, CapAndMissing) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/big", std::string(100, 'x')).ok());
  EXPECT_EQ(ReadFile(dir + "/big", 10).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFile(dir + "/nope").status().code(), StatusCode::kNotFound);
}

TEST(MakeDirs, CreatesNested) {
  std::string dir = TempDir() + "/a/b/c";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(MakeDirs(dir).ok());
  EXPECT_EQ(access(dir.c_str(), F_OK), 0);
}

// A symlink planted at the temp name WriteFileAtomic used to pick
// (path.tmp.<pid>) must not redirect the write to its target.
TEST(WriteFileAtomic, PlantedSymlinkAtOldTempNameLeavesVictimAlone) {
  std::string dir = TempDir();
  std::string victim = dir + "/victim";
  ASSERT_TRUE(WriteFileAtomic(victim, "precious").ok());
  std::string p = dir + "/state.json";
  std::string planted = p + ".tmp." + std::to_string(getpid());
  ASSERT_EQ(symlink(victim.c_str(), planted.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(p, "new state").ok());
  EXPECT_EQ(*ReadFile(victim), "precious");
  EXPECT_EQ(*ReadFile(p), "new state");
}

TEST(CreateNewFile, RefusesSymlinkAndExistingFile) {
  std::string dir = TempDir();
  std::string victim = dir + "/victim";
  ASSERT_TRUE(WriteFileAtomic(victim, "precious").ok());
  std::string link = dir + "/link";
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  EXPECT_EQ(CreateNewFile(link).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CreateNewFile(victim).status().code(), StatusCode::kAlreadyExists);
  // A dangling symlink is refused too (O_CREAT alone would create its target).
  std::string dangling = dir + "/dangling";
  ASSERT_EQ(symlink((dir + "/created-through-link").c_str(), dangling.c_str()), 0);
  EXPECT_FALSE(CreateNewFile(dangling).ok());
  EXPECT_NE(access((dir + "/created-through-link").c_str(), F_OK), 0);
  EXPECT_EQ(*ReadFile(victim), "precious");
  auto fd = CreateNewFile(dir + "/fresh", 0640);
  ASSERT_TRUE(fd.ok());
  close(*fd);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/fresh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(CreateTempFile, UniqueNames) {
  std::string dir = TempDir();
  auto a = CreateTempFile(dir + "/x.");
  auto b = CreateTempFile(dir + "/x.");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->path, b->path);
  close(a->fd);
  close(b->fd);
}

TEST(OpenRegularNoFollow, RefusesSymlinkFifoAndDirectory) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", "1").ok());
  ASSERT_EQ(symlink((dir + "/f").c_str(), (dir + "/l").c_str()), 0);
  ASSERT_EQ(mkfifo((dir + "/p").c_str(), 0600), 0);
  struct stat st {};
  auto ok = OpenRegularNoFollow(dir + "/f", &st);
  ASSERT_TRUE(ok.ok());
  close(*ok);
  EXPECT_EQ(OpenRegularNoFollow(dir + "/l", &st).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenRegularNoFollow(dir + "/p", &st).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenRegularNoFollow(dir, &st).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace stopgap

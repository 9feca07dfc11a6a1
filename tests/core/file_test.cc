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

}  // namespace
}  // namespace stopgap

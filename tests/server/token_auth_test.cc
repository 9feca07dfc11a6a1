// Tests for BearerToken: file handling (0600, generation, refusal of
// group-readable files) and header checks.
#include "server/token_auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"

namespace stopgap::server {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/stopgap-token-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(BearerTokenTest, AuthorizesOnlyTheExactToken) {
  BearerToken t = BearerToken::FromString("s3cr3t-token-0123456789");
  EXPECT_TRUE(t.Authorizes("Bearer s3cr3t-token-0123456789"));
  EXPECT_TRUE(t.Authorizes("bearer s3cr3t-token-0123456789 "));
  EXPECT_FALSE(t.Authorizes("Bearer s3cr3t-token-012345678"));
  EXPECT_FALSE(t.Authorizes("Bearer s3cr3t-token-01234567890"));
  EXPECT_FALSE(t.Authorizes("Basic s3cr3t-token-0123456789"));
  EXPECT_FALSE(t.Authorizes("s3cr3t-token-0123456789"));
  EXPECT_FALSE(t.Authorizes(""));
  EXPECT_FALSE(t.Authorizes("Bearer "));
}

TEST(BearerTokenTest, GeneratesA0600TokenOnFirstStartAndReadsItBack) {
  TempDir d;
  std::string path = d.path + "/sub/token";
  bool created = false;
  auto t = BearerToken::Load(path, /*create=*/true, &created);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 65u);  // 64 hex + newline
  EXPECT_TRUE(t->Authorizes("Bearer " + text->substr(0, 64)));
  bool again = true;
  auto t2 = BearerToken::Load(path, true, &again);
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(again) << "an existing token is kept";
  EXPECT_TRUE(t2->Authorizes("Bearer " + text->substr(0, 64)));
}

TEST(BearerTokenTest, RefusesMissingUnlessCreatingAndGroupReadable) {
  TempDir d;
  EXPECT_FALSE(BearerToken::Load(d.path + "/none", false).ok());
  EXPECT_FALSE(BearerToken::Load("", true).ok());
  std::string loose = d.path + "/loose";
  ASSERT_TRUE(WriteFileAtomic(loose, "0123456789abcdef0123\n", 0644).ok());
  auto r = BearerToken::Load(loose, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message().find("0123456789abcdef"), std::string::npos)
      << "the token must not appear in errors";
  std::string shortt = d.path + "/short";
  ASSERT_TRUE(WriteFileAtomic(shortt, "abc\n", 0600).ok());
  EXPECT_FALSE(BearerToken::Load(shortt, false).ok());
}

TEST(GenerateTokenTest, RandomHex) {
  auto a = GenerateToken();
  auto b = GenerateToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::server

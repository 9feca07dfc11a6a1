#include "core/log.h"

#include <gtest/gtest.h>

namespace stopgap {
namespace {

TEST(LooksLikeSecretName, MatchesSecretsOnly) {
  for (const char* s : {"OS_PASSWORD", "aws_secret_access_key", "GITHUB_TOKEN", "api_key",
                        "Authorization", "db_passwd"}) {
    EXPECT_TRUE(LooksLikeSecretName(s)) << s;
  }
  for (const char* s : {"PATH", "HOME", "user", "region"})
    EXPECT_FALSE(LooksLikeSecretName(s)) << s;
}

TEST(JsonEscape, EscapesControlAndQuotes) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

}  // namespace
}  // namespace stopgap

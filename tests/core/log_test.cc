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

TEST(ParseLogFormat, KnowsTheFourFormats) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("journal", &f));
  EXPECT_EQ(f, LogFormat::kJournal);
  EXPECT_TRUE(ParseLogFormat("auto", &f));
  EXPECT_EQ(f, LogFormat::kAuto);
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("syslog", &f));
}

TEST(JournalFieldName, UpperCaseAndSafe) {
  EXPECT_EQ(JournalFieldName("execution"), "EXECUTION");
  EXPECT_EQ(JournalFieldName("queue-depth.max"), "QUEUE_DEPTH_MAX");
  // Names journald interprets, or may not accept, get a prefix.
  EXPECT_EQ(JournalFieldName("message"), "STOPGAP_MESSAGE");
  EXPECT_EQ(JournalFieldName("priority"), "STOPGAP_PRIORITY");
  EXPECT_EQ(JournalFieldName("code_file"), "STOPGAP_CODE_FILE");
  EXPECT_EQ(JournalFieldName("_pid"), "STOPGAP__PID");
  EXPECT_EQ(JournalFieldName("2xx"), "STOPGAP_2XX");
  EXPECT_EQ(JournalFieldName(""), "STOPGAP_");
  EXPECT_EQ(JournalFieldName(std::string(100, 'a')).size(), 64u);
}

}  // namespace
}  // namespace stopgap

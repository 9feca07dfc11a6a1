// Unit tests for the pure /proc parsers (proc_parse.h) and the secret masking
// (redact.h). No processes, no files.
#include <gtest/gtest.h>

#include "diag/internal/proc_parse.h"
#include "diag/internal/redact.h"
#include "diag/internal/stacks.h"

namespace stopgap::diag::internal {
namespace {

TEST(ParseTaskStat, CommWithParenthesesAndSpaces) {
  std::string line =
      "4242 (we(ird) na me) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 9 0 0 20 0 3 0 5000 "
      "123456789 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  auto st = ParseTaskStat(line);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->comm, "we(ird) na me");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->utime, 17u);
  EXPECT_EQ(st->stime, 9u);
  EXPECT_EQ(st->num_threads, 3);
  EXPECT_EQ(st->starttime, 5000u);
  EXPECT_EQ(st->vsize, 123456789u);
  EXPECT_EQ(st->rss_pages, 321);
  EXPECT_EQ(st->processor, 1);
}

TEST(ParseTaskStat, RejectsTruncated) {
  EXPECT_FALSE(ParseTaskStat("12 (x) S 1 2 3").ok());
  EXPECT_FALSE(ParseTaskStat("garbage").ok());
  EXPECT_FALSE(ParseTaskStat("x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21").ok());
}

TEST(ParseKeyValueLines, MeminfoAndVmstat) {
  auto kv = ParseKeyValueLines("MemTotal:  16 kB\nbad line\nMemFree: 7 kB\n");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "MemTotal");
  EXPECT_EQ(ParseLeadingU64(kv[0].second), 16u);
  auto vm = ParseKeyValueLines("nr_free_pages 42\npgfault 7\n", ' ');
  ASSERT_EQ(vm.size(), 2u);
  EXPECT_EQ(vm[1].first, "pgfault");
  EXPECT_EQ(ParseLeadingU64(vm[1].second), 7u);
  EXPECT_FALSE(ParseLeadingU64("kB").has_value());
}

// The copied-stack bounds check must not wrap for a tiny stack base.
TEST(InCopiedStack, NoWrapForTinyBase) {
  EXPECT_TRUE(InCopiedStack(0x1000, 0x1000, 4096, 8));
  EXPECT_TRUE(InCopiedStack(0x1000 + 4088, 0x1000, 4096, 8));
  EXPECT_FALSE(InCopiedStack(0x1000 + 4089, 0x1000, 4096, 8));
  EXPECT_FALSE(InCopiedStack(0xfff, 0x1000, 4096, 8));
  // addr - base + 8 wraps to a small number when base < 8 and addr is near 2^64.
  EXPECT_FALSE(InCopiedStack(~uint64_t{0} - 3, 2, 4096, 8));
  EXPECT_FALSE(InCopiedStack(~uint64_t{0}, 0, 4096, 8));
  EXPECT_FALSE(InCopiedStack(0, 0, 4, 8));  // a copy shorter than one word
}

TEST(SplitNul, CmdlineShapes) {
  EXPECT_EQ(SplitNul(std::string("a\0b\0", 4)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitNul(std::string("a\0\0c", 4)), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_TRUE(SplitNul("").empty());
}

TEST(ParseMounts, OctalEscapes) {
  auto m = ParseMounts("/dev/sda1 /mnt/my\\040disk ext4 rw,relatime 0 0\nshort\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mountpoint, "/mnt/my disk");
  EXPECT_EQ(m[0].fstype, "ext4");
}

TEST(ParseSocketTable, Ipv4AndIpv6Rows) {
  std::string v4 =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000   0        0 "
      "4711 1 0000000000000000 100 0 0 10 0\n"
      "   1: not a row\n";
  size_t bad = 0;
  auto rows = ParseSocketTable(v4, &bad);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(rows[0].local, "127.0.0.1:8080");
  EXPECT_EQ(rows[0].state, 10);
  EXPECT_EQ(TcpStateName(rows[0].state), "LISTEN");
  EXPECT_EQ(rows[0].rx_queue, 3u);
  EXPECT_EQ(rows[0].inode, 4711u);
  std::string v6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0\n";
  rows = ParseSocketTable(v6);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].local, "[::1]:22");
}

TEST(ParseMaps, PathsWithSpacesAndAnonymous) {
  auto m = ParseMaps(
      "55d0c0000000-55d0c0021000 r-xp 00001000 08:01 1234   /usr/bin/my prog\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n"
      "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
      "zz-yy r-xp 0 0 0\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].start, 0x55d0c0000000u);
  EXPECT_EQ(m[0].path, "/usr/bin/my prog");
  EXPECT_EQ(m[1].path, "[stack]");
  EXPECT_EQ(m[2].path, "");
}

TEST(Redactor, EnvironmentEntries) {
  auto r = Redactor::Create({"*CUSTOM*", "re:^my_.*_cred$"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->MaskEnvEntry("DB_PASSWORD=hunter2"), "DB_PASSWORD=***");
  EXPECT_EQ(r->MaskEnvEntry("github_token=abc"), "github_token=***");
  EXPECT_EQ(r->MaskEnvEntry("X_CUSTOM_THING=zzz"), "X_CUSTOM_THING=***");
  EXPECT_EQ(r->MaskEnvEntry("MY_DB_CRED=zzz"), "MY_DB_CRED=***");
  EXPECT_EQ(r->MaskEnvEntry("HOME=/root"), "HOME=/root");
  EXPECT_EQ(r->MaskEnvEntry("DATABASE_URL=postgres://app:pw123@db:5432/x"),
            "DATABASE_URL=postgres://app:***@db:5432/x");
}

TEST(Redactor, ArgvForms) {
  auto r = Redactor::Create({});
  ASSERT_TRUE(r.ok());
  std::vector<std::string> argv = {"/usr/bin/svc",   "--password=hunter2", "--token",   "s3cr3t",
                                   "--verbose",      "API_KEY=k1",         "--api-key", "--next",
                                   "http://u:p@h/x", "--name=visible"};
  auto out = r->MaskArgv(argv);
  std::vector<std::string> want = {"/usr/bin/svc",     "--password=***", "--token",   "***",
                                   "--verbose",        "API_KEY=***",    "--api-key", "--next",
                                   "http://u:***@h/x", "--name=visible"};
  EXPECT_EQ(out, want);
}

// Forms the first version missed: MYSQL_PWD, mysql's -pSECRET, --pass, and
// a whole "Authorization: Bearer ..." header in one argument.
TEST(Redactor, MysqlPassAndHeaderForms) {
  auto r = Redactor::Create({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->MaskEnvEntry("MYSQL_PWD=hunter2"), "MYSQL_PWD=***");
  EXPECT_EQ(r->MaskEnvEntry("PWD=/root"), "PWD=/root");
  EXPECT_EQ(r->MaskEnvEntry("OLDPWD=/tmp"), "OLDPWD=/tmp");
  EXPECT_EQ(r->MaskEnvEntry("BYPASS=1"), "BYPASS=1");
  EXPECT_EQ(r->MaskEnvEntry("DB_PASS=x"), "DB_PASS=***");
  std::vector<std::string> argv = {"/usr/bin/mysql",
                                   "-uroot",
                                   "-pSECRET",
                                   "--pass",
                                   "hunter2",
                                   "-H",
                                   "Authorization: Bearer abc.def",
                                   "X-Auth-Token:tok123",
                                   "Content-Type: text/plain"};
  std::vector<std::string> want = {"/usr/bin/mysql",
                                   "-uroot",
                                   "-p***",
                                   "--pass",
                                   "***",
                                   "-H",
                                   "Authorization: Bearer ***",
                                   "X-Auth-Token:***",
                                   "Content-Type: text/plain"};
  EXPECT_EQ(r->MaskArgv(argv), want);
}

TEST(Redactor, BadRegexIsAnError) {
  auto r = Redactor::Create({"re:(unclosed"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(unclosed"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::diag::internal

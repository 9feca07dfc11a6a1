// GraphitePickle: the reference graphite backend's pickle bytes.
#include "statsd/graphite_pickle.h"

#include <gtest/gtest.h>

namespace stopgap::statsd {
namespace {

TEST(GraphitePickleTest, ByteForByteAsTheReference) {
  // What backends/graphite.js's Stats.toPickle() builds for these two metrics.
  std::string body =
      "(l(S'stats.a'\n(L1700000000L\nS'0.5'\ntta(S'stats_counts.a'\n(L1700000000L\nS'5'\ntta.";
  std::string want = std::string("\0\0\0", 3) + static_cast<char>(body.size()) + body;
  EXPECT_EQ(GraphitePickle("stats.a 0.5 1700000000\nstats_counts.a 5 1700000000\n"), want);
}

TEST(GraphitePickleTest, EmptyFlushAndNames) {
  EXPECT_EQ(GraphitePickle(""), std::string("\0\0\0\3(l.", 7));
  // A name with a space (keyNameSanitize off): value and timestamp are the last two fields.
  std::string p = GraphitePickle("a b 1 2\n");
  EXPECT_NE(p.find("(S'a b'\n(L2L\nS'1'\ntta"), std::string::npos);
}

TEST(GraphitePickleTest, NonAsciiCutLikeNode) {
  // The length counts UTF-16 units (é is 1, its UTF-8 is 2 bytes), and the
  // UTF-8 is written into a buffer of that many bytes: the tail is cut.
  std::string p = GraphitePickle("caf\xC3\xA9 1 2\n");
  std::string body = "(l(S'caf\xC3\xA9'\n(L2L\nS'1'\ntta.";
  size_t units = body.size() - 1;
  ASSERT_EQ(p.size(), 4 + units);
  EXPECT_EQ(static_cast<unsigned char>(p[3]), units);
  EXPECT_EQ(p.substr(4), body.substr(0, units));
}

}  // namespace
}  // namespace stopgap::statsd

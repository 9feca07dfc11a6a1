// Tests for the /proc/net/snmp + netstat parser: header-keyed parsing, kernels
// with different column orders, malformed input, and never-negative deltas.
#include "net/tcp_counters.h"

#include <gtest/gtest.h>

namespace stopgap::net {
namespace {

constexpr std::string_view kSnmp =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 2 64 1212\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets "
    "CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
    "Tcp: 1 200 120000 -1 14 2 0 0 3 1182 614 7 0 2 0\n"
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors\n"
    "Udp: 29 0 0 30 5\n";
constexpr std::string_view kNetstat =
    "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPTimeouts\n"
    "TcpExt: 0 4 5 6\n"
    "IpExt: InNoRoutes\n"
    "IpExt: 0\n";

TEST(TcpCountersTest, ParsesByHeaderNames) {
  Result<TcpCounters> c = ParseTcpCounters(kSnmp, kNetstat);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Get("Tcp", "RetransSegs"), 7);
  EXPECT_EQ(c->Get("Tcp", "OutSegs"), 614);
  EXPECT_EQ(c->Get("Tcp", "MaxConn"), -1);
  EXPECT_EQ(c->Get("Tcp", "CurrEstab"), 3);
  EXPECT_EQ(c->Get("TcpExt", "ListenDrops"), 5);
  EXPECT_EQ(c->Get("Udp", "RcvbufErrors"), 5);
  EXPECT_FALSE(c->Get("TcpExt", "TCPLostRetransmit").has_value());
  EXPECT_EQ(c->Section("TcpExt").size(), 4u);
}

TEST(TcpCountersTest, ColumnOrderDoesNotMatter) {
  Result<TcpCounters> c =
      ParseTcpCounters("Tcp: OutSegs InCsumErrors RetransSegs\nTcp: 100 1 9\n", "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Get("Tcp", "RetransSegs"), 9);
  EXPECT_EQ(c->Get("Tcp", "OutSegs"), 100);
}

TEST(TcpCountersTest, HugeCounterIsClampedNotRejected) {
  Result<TcpCounters> c = ParseTcpCounters("Tcp: InSegs\nTcp: 18446744073709551615\n", "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Get("Tcp", "InSegs"), INT64_MAX);
}

TEST(TcpCountersTest, RejectsMismatchedLines) {
  EXPECT_FALSE(ParseTcpCounters("Tcp: A B\nTcp: 1\n", "").ok());
  EXPECT_FALSE(ParseTcpCounters("Tcp: A B\nUdp: 1 2\n", "").ok());
  EXPECT_FALSE(ParseTcpCounters("Tcp: A B\n", "").ok());
  EXPECT_FALSE(ParseTcpCounters("Tcp: A\nTcp: x\n", "").ok());
  EXPECT_FALSE(ParseTcpCounters("garbage\n", "").ok());
  Result<TcpCounters> bad = ParseTcpCounters("", "TcpExt: A B\nTcpExt: 1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("TcpExt"), std::string::npos);
}

TEST(TcpCountersTest, DeltasNeverNegative) {
  EXPECT_EQ(CounterDelta(10, 15), 5u);
  EXPECT_EQ(CounterDelta(15, 10), 0u);  // went backwards (wrap/reset)
  EXPECT_EQ(CounterDelta(std::nullopt, 10), 0u);
  EXPECT_EQ(CounterDelta(10, std::nullopt), 0u);
}

TEST(TcpCountersTest, RetransmitRate) {
  Result<TcpCounters> a = ParseTcpCounters("Tcp: OutSegs RetransSegs\nTcp: 1000 10\n", "");
  Result<TcpCounters> b = ParseTcpCounters("Tcp: OutSegs RetransSegs\nTcp: 1400 12\n", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(RetransmitRate(*a, *b), 2.0 / 400.0);
  EXPECT_DOUBLE_EQ(RetransmitRate(*a, *a), 0.0);  // nothing sent
  EXPECT_DOUBLE_EQ(RetransmitRate(*b, *a), 0.0);  // backwards
}

TEST(TcpCountersTest, ReadsThisMachine) {
  Result<TcpCounters> c = ReadTcpCounters();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->Get("Tcp", "OutSegs").has_value());
  EXPECT_TRUE(c->Get("Tcp", "RetransSegs").has_value());
  EXPECT_FALSE(ReadTcpCounters("/nonexistent-proc").ok());
}

}  // namespace
}  // namespace stopgap::net

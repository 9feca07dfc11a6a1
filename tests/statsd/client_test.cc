// The StatsD client over a real loopback socket, MTU packing, tcpstats lines.
#include "statsd/client.h"

#include <gtest/gtest.h>

#include "net/udp.h"
#include "statsd/tcpstats.h"

namespace stopgap::statsd {
namespace {

TEST(ClientTest, PackLinesNeverSplitsAndRespectsMtu) {
  std::vector<std::string> lines = {"aaaa:1|c", "bbbb:2|c", "cccc:3|c", std::string(50, 'x')};
  std::vector<std::string> p = PackLines(lines, 20);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "aaaa:1|c\nbbbb:2|c");  // 17 bytes
  EXPECT_EQ(p[1], "cccc:3|c");
  EXPECT_EQ(p[2], std::string(50, 'x'));  // too long for any packet: alone
  EXPECT_EQ(PackLines(lines, 1000).size(), 1u);
  EXPECT_TRUE(PackLines({}, 100).empty());
}

TEST(ClientTest, FormatsLines) {
  EXPECT_EQ(FormatStatsdLine("a", 1, "c"), "a:1|c");
  EXPECT_EQ(FormatStatsdLine("a", 0.25, "ms", 0.5), "a:0.25|ms|@0.5");
  EXPECT_EQ(FormatStatsdLine("a", 1.0 / 3, "g"), "a:0.3333333333333333|g");
}

TEST(ClientTest, SendsPackedDatagrams) {
  Result<net::UdpSocket> rx = net::BindUdp("127.0.0.1:0", {.recv_timeout_ms = 2000});
  ASSERT_TRUE(rx.ok());
  Result<std::unique_ptr<StatsdClient>> c = StatsdClient::Create(
      {.address = rx->LocalAddress()->ToString(), .mtu = 100, .prefix = "app"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (int i = 0; i < 20; ++i) (*c)->Count("hits", i);
  (*c)->Gauge("neg", -5);
  (*c)->GaugeDelta("depth", 2);
  (*c)->Timing("t", 1.5);
  (*c)->Set("users", "bob");
  ASSERT_TRUE((*c)->Flush(2000));
  net::UdpReceiveBatch batch(64, 65536);
  std::string all;
  int packets = 0;
  while (true) {
    int n = batch.Receive(rx->fd());
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      EXPECT_LE(batch.Packet(i).size(), 100u);
      all += std::string(batch.Packet(i)) + "\n";
      ++packets;
    }
    if (all.find("app.users:bob|s") != std::string::npos) break;
  }
  EXPECT_NE(all.find("app.hits:0|c\n"), std::string::npos);
  EXPECT_NE(all.find("app.hits:19|c\n"), std::string::npos);
  EXPECT_NE(all.find("app.neg:0|g\napp.neg:-5|g\n"), std::string::npos);
  EXPECT_NE(all.find("app.depth:+2|g\n"), std::string::npos);
  EXPECT_NE(all.find("app.t:1.5|ms\n"), std::string::npos);
  EXPECT_LT(packets, 25);  // packed, not one line per datagram
  StatsdClientCounters k = (*c)->Counters();
  EXPECT_EQ(k.sent_lines, 25u);
  EXPECT_EQ(k.dropped_lines, 0u);
}

TEST(ClientTest, FullQueueDropsAndCounts) {
  Result<std::unique_ptr<StatsdClient>> c = StatsdClient::Create(
      {.address = "127.0.0.1:9", .queue_capacity = 4, .flush_interval_ms = 60000});
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 10; ++i) (*c)->Count("x");
  StatsdClientCounters k = (*c)->Counters();
  EXPECT_GE(k.dropped_lines, 1u);
}

TEST(TcpStatsTest, LinesFromTwoReadings) {
  Result<net::TcpCounters> a =
      net::ParseTcpCounters("Tcp: ActiveOpens CurrEstab OutSegs RetransSegs\nTcp: 10 3 1000 10\n",
                            "TcpExt: TCPTimeouts ListenDrops\nTcpExt: 5 7\n");
  Result<net::TcpCounters> b =
      net::ParseTcpCounters("Tcp: ActiveOpens CurrEstab OutSegs RetransSegs\nTcp: 12 4 1400 12\n",
                            "TcpExt: TCPTimeouts ListenDrops\nTcpExt: 4 9\n");
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::string> l = TcpStatsLines(*a, *b, "h.tcp");
  std::vector<std::string> want = {"h.tcp.ActiveOpens:2|c",        "h.tcp.CurrEstab:4|g",
                                   "h.tcp.OutSegs:400|c",          "h.tcp.RetransSegs:2|c",
                                   "h.tcp.TCPTimeouts:0|c",        "h.tcp.ListenDrops:2|c",
                                   "h.tcp.retransmit_rate:0.005|g"};
  EXPECT_EQ(l, want);
}

}  // namespace
}  // namespace stopgap::statsd

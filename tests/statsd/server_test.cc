// StatsdServer in-process: real UDP intake on port 0, a real TCP Graphite
// sink in the test, admin commands, and a Graphite outage (bounded buffer).
#include "statsd/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "statsd/internal/tcp.h"

namespace stopgap::statsd {
namespace {

// Accepts one connection and returns everything it sent.
std::string AcceptAll(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return "";
  int c = accept(listen_fd, nullptr, nullptr);
  if (c < 0) return "";
  int flags = fcntl(c, F_GETFL);
  fcntl(c, F_SETFL, flags & ~O_NONBLOCK);
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = recv(c, buf, sizeof buf, 0)) > 0) all.append(buf, static_cast<size_t>(n));
  close(c);
  return all;
}

StatsdConfig TestConfig(const std::string& graphite) {
  StatsdConfig c;
  c.udp = "127.0.0.1:0";
  c.admin = "127.0.0.1:0";
  c.graphite = graphite;
  c.receivers = 2;
  c.rcvbuf_bytes = 1 << 20;
  c.flush.flush_interval_ms = 3600 * 1000;  // flushes only when the test asks
  return c;
}

void WaitForPackets(StatsdServer* s, uint64_t n) {
  for (int i = 0; i < 500 && s->Totals().packets < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(ServerTest, UdpIntakeFlushesToGraphite) {
  Result<internal::Fd> sink = internal::TcpListen("127.0.0.1:0");
  ASSERT_TRUE(sink.ok());
  std::string gaddr = internal::LocalAddress(sink->get())->ToString();
  Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(TestConfig(gaddr));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<net::UdpSocket> tx = net::ConnectUdp((*s)->udp_address());
  ASSERT_TRUE(tx.ok());
  std::vector<std::string_view> pk = {"a:1|c\na:2|c\nbad", "t:5|ms\nt:7|ms", "g:3|g",
                                      "s:x|s\ns:y|s"};
  ASSERT_EQ(*net::SendBatch(tx->fd(), pk), pk.size());
  WaitForPackets(s->get(), 4);
  EXPECT_EQ((*s)->Totals().bad_lines, 1u);
  (*s)->FlushNow();
  std::string out = AcceptAll(sink->get());
  EXPECT_NE(out.find("stats_counts.a 3 "), std::string::npos) << out;
  EXPECT_NE(out.find("stats.timers.t.mean 6 "), std::string::npos);
  EXPECT_NE(out.find("stats.gauges.g 3 "), std::string::npos);
  EXPECT_NE(out.find("stats.sets.s.count 2 "), std::string::npos);
  EXPECT_NE(out.find("stats_counts.statsd.packets_received 4 "), std::string::npos);
  EXPECT_NE(out.find("stats_counts.statsd.bad_lines_seen 1 "), std::string::npos);
  (*s)->Stop(false);
}

TEST(ServerTest, AdminCommands) {
  Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(TestConfig(""));
  ASSERT_TRUE(s.ok());
  Result<net::UdpSocket> tx = net::ConnectUdp((*s)->udp_address());
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(net::SendBatch(tx->fd(), {"app.x:1|c\napp.y:1|c\nt:1|ms\ng:2|g"}).ok());
  WaitForPackets(s->get(), 1);
  bool close = false;
  EXPECT_EQ((*s)->HandleAdminLine("help", &close),
            "Commands: stats, counters, timers, gauges, delcounters, deltimers, delgauges, "
            "health, config, quit\n\n");
  EXPECT_EQ((*s)->HandleAdminLine("health", &close), "health: up\n");
  EXPECT_EQ((*s)->HandleAdminLine("health down", &close), "health: down\n");
  EXPECT_EQ((*s)->HandleAdminLine("health", &close), "health: down\n");
  EXPECT_EQ((*s)->HandleAdminLine("bogus", &close), "ERROR\n");
  std::string stats = (*s)->HandleAdminLine("stats", &close);
  EXPECT_EQ(stats.rfind("uptime: ", 0), 0u);
  EXPECT_NE(stats.find("messages.bad_lines_seen: 0\n"), std::string::npos);
  EXPECT_NE(stats.find("graphite.last_flush: "), std::string::npos);
  EXPECT_TRUE(stats.ends_with("END\n\n"));
  std::string counters = (*s)->HandleAdminLine("counters", &close);
  EXPECT_NE(counters.find("'app.x': 1"), std::string::npos) << counters;
  EXPECT_TRUE(counters.ends_with("\nEND\n\n"));
  EXPECT_NE((*s)->HandleAdminLine("gauges", &close).find("g: 2"), std::string::npos);
  std::string del = (*s)->HandleAdminLine("delcounters app.*", &close);
  EXPECT_NE(del.find("deleted: app.x\n"), std::string::npos);
  EXPECT_TRUE(del.ends_with("END\n\n"));
  EXPECT_EQ((*s)->HandleAdminLine("counters", &close).find("app.x"), std::string::npos);
  EXPECT_FALSE(close);
  (*s)->HandleAdminLine("quit", &close);
  EXPECT_TRUE(close);

  // And over TCP, as a client sees it.
  Result<internal::Fd> c = internal::TcpConnect((*s)->admin_address(), 2000);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(internal::WriteAll(c->get(), "health\nquit\n", 1000).ok());
  int flags = fcntl(c->get(), F_GETFL);
  fcntl(c->get(), F_SETFL, flags & ~O_NONBLOCK);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = recv(c->get(), buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(got, "health: down\n");
  (*s)->Stop(false);
}

TEST(ServerTest, GraphiteOutageIsBufferedBoundedAndCounted) {
  // A port with nothing listening.
  Result<internal::Fd> tmp = internal::TcpListen("127.0.0.1:0");
  ASSERT_TRUE(tmp.ok());
  std::string dead = internal::LocalAddress(tmp->get())->ToString();
  tmp->reset();
  StatsdConfig c = TestConfig(dead);
  c.graphite_buffer_bytes = 1;  // keeps only the newest flush
  Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(c);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 3; ++i) (*s)->FlushNow();
  GraphiteSenderCounters k = (*s)->SenderCounters();
  for (int i = 0; i < 200 && k.failures == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    k = (*s)->SenderCounters();
  }
  EXPECT_GE(k.failures, 1u);
  EXPECT_GT(k.dropped_lines, 0u);
  EXPECT_GT(k.queued_bytes, 0u);
  (*s)->Stop(false);
}

TEST(ServerTest, TcpIntakeTakesCompleteLines) {
  StatsdConfig c = TestConfig("");
  c.tcp = "127.0.0.1:0";
  Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(c);
  ASSERT_TRUE(s.ok());
  Result<internal::Fd> conn = internal::TcpConnect((*s)->tcp_address(), 2000);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(internal::WriteAll(conn->get(), "tc:1|c\ntc:2|c\ntc:4", 1000).ok());
  for (int i = 0; i < 500 && (*s)->Totals().lines < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*s)->Totals().lines, 2u);  // the unterminated "tc:4" waits for its newline
  ASSERT_TRUE(internal::WriteAll(conn->get(), "|c\n", 1000).ok());
  for (int i = 0; i < 500 && (*s)->Totals().lines < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool close = false;
  EXPECT_NE((*s)->HandleAdminLine("counters", &close).find("tc: 7"), std::string::npos);
  (*s)->Stop(false);
}

TEST(ServerTest, BadAddressIsAnError) {
  StatsdConfig c = TestConfig("");
  c.udp = "127.0.0.1:notaport";
  EXPECT_FALSE(StatsdServer::Start(c).ok());
}

}  // namespace
}  // namespace stopgap::statsd

namespace stopgap::statsd {
namespace {

TEST(ServerTest, ReloadAppliesFlushSettingsAndNamesTheRest) {
  Result<internal::Fd> sink = internal::TcpListen("127.0.0.1:0");
  ASSERT_TRUE(sink.ok());
  std::string gaddr = internal::LocalAddress(sink->get())->ToString();
  StatsdConfig c = TestConfig(gaddr);
  Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(c);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<net::UdpSocket> tx = net::ConnectUdp((*s)->udp_address());
  ASSERT_TRUE(tx.ok());
  std::vector<std::string_view> pk = {"t:1|ms\nt:2|ms\nt:3|ms\nt:4|ms"};
  ASSERT_EQ(*net::SendBatch(tx->fd(), pk), 1u);
  WaitForPackets(s->get(), 1);

  StatsdConfig next = c;
  next.flush.percentiles = {50};
  next.flush.naming.legacy_namespace = false;
  next.receivers = 5;                   // needs new threads: kept
  next.flush.flush_interval_ms = 1000;  // the schedule: kept
  std::vector<std::string> kept = (*s)->Reload(next);
  EXPECT_EQ(kept, (std::vector<std::string>{"receivers", "flush_interval"}));
  bool close = false;
  std::string conf = (*s)->HandleAdminLine("config", &close);
  EXPECT_NE(conf.find("percentThreshold: 50\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("flushInterval: 3600000\n"), std::string::npos) << conf;

  (*s)->FlushNow();
  std::string out = AcceptAll(sink->get());
  EXPECT_NE(out.find("stats.timers.t.upper_50 2 "), std::string::npos) << out;
  EXPECT_EQ(out.find("upper_90"), std::string::npos) << out;
  EXPECT_EQ(out.find("stats_counts."), std::string::npos) << out;  // legacy off now
  (*s)->Stop(false);
}

}  // namespace
}  // namespace stopgap::statsd

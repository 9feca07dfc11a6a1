// Tests for the UDP helpers over real loopback sockets (port 0): address
// parsing, SO_REUSEPORT, batched send and receive, truncation flags.
#include "net/udp.h"

#include <gtest/gtest.h>

namespace stopgap::net {
namespace {

TEST(UdpTest, ResolveHostPort) {
  Result<SocketAddress> a = ResolveHostPort("127.0.0.1:8125");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port(), 8125);
  EXPECT_EQ(a->ToString(), "127.0.0.1:8125");
  Result<SocketAddress> v6 = ResolveHostPort("[::1]:99");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "[::1]:99");
  EXPECT_FALSE(ResolveHostPort("127.0.0.1").ok());
  EXPECT_FALSE(ResolveHostPort("127.0.0.1:70000").ok());
  EXPECT_FALSE(ResolveHostPort("127.0.0.1:x").ok());
  EXPECT_FALSE(ResolveHostPort("[::1]99").ok());
}

TEST(UdpTest, BatchedSendAndReceive) {
  Result<UdpSocket> rx = BindUdp("127.0.0.1:0", {.rcvbuf_bytes = 1 << 20, .recv_timeout_ms = 2000});
  ASSERT_TRUE(rx.ok()) << rx.status().ToString();
  Result<SocketAddress> addr = rx->LocalAddress();
  ASSERT_TRUE(addr.ok());
  ASSERT_NE(addr->port(), 0);
  EXPECT_GT(rx->ReceiveBufferBytes(), 0);

  Result<UdpSocket> tx = ConnectUdp(*addr);
  ASSERT_TRUE(tx.ok());
  std::vector<std::string_view> payloads = {"a:1|c", "b:2|c\nc:3|ms", std::string_view("xyzxyz")};
  Result<size_t> sent = SendBatch(tx->fd(), payloads);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 3u);

  UdpReceiveBatch batch(8, 4);  // 4-byte buffers: longer datagrams are truncated
  std::vector<std::string> got;
  std::vector<bool> trunc;
  while (got.size() < 3) {
    int n = batch.Receive(rx->fd());
    ASSERT_GT(n, 0);
    for (int i = 0; i < n; ++i) {
      got.emplace_back(batch.Packet(i));
      trunc.push_back(batch.Truncated(i));
    }
  }
  EXPECT_EQ(got[0], "a:1|");
  EXPECT_TRUE(trunc[0]);
  EXPECT_EQ(got[1], "b:2|");
  EXPECT_EQ(got[2], "xyzx");
}

TEST(UdpTest, ReusePortAllowsTwoSockets) {
  Result<UdpSocket> a = BindUdp("127.0.0.1:0", {.reuse_port = true});
  ASSERT_TRUE(a.ok());
  Result<SocketAddress> addr = a->LocalAddress();
  ASSERT_TRUE(addr.ok());
  Result<UdpSocket> b = BindUdp(addr->ToString(), {.reuse_port = true});
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  Result<UdpSocket> c = BindUdp(addr->ToString(), {});
  EXPECT_FALSE(c.ok());
}

TEST(UdpTest, ReceiveTimesOutWithZero) {
  Result<UdpSocket> rx = BindUdp("127.0.0.1:0", {.recv_timeout_ms = 10});
  ASSERT_TRUE(rx.ok());
  UdpReceiveBatch batch(4, 1500);
  EXPECT_EQ(batch.Receive(rx->fd()), 0);
}

}  // namespace
}  // namespace stopgap::net

// internal::ReceiveBatch over a real loopback socket: datagrams that fit the
// compact slot, that spill into the overflow area (joined back intact), and
// that exceed max_packet_bytes (truncated and flagged).
#include "statsd/internal/receive_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/udp.h"

namespace stopgap::statsd {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

TEST(ReceiveBatchTest, InlineSpilledAndTruncatedDatagrams) {
  Result<net::UdpSocket> rx = net::BindUdp("127.0.0.1:0", {.recv_timeout_ms = 2000});
  ASSERT_TRUE(rx.ok()) << rx.status().ToString();
  Result<net::SocketAddress> addr = rx->LocalAddress();
  ASSERT_TRUE(addr.ok());
  Result<net::UdpSocket> tx = net::ConnectUdp(*addr);
  ASSERT_TRUE(tx.ok());
  const size_t kMax = 8192;
  const std::vector<size_t> sizes = {1, 2047, 2048, 2049, 5000, kMax, kMax + 1, 20000, 3};
  std::vector<std::string> sent;
  for (size_t n : sizes) sent.push_back(Pattern(n));
  std::vector<std::string_view> views(sent.begin(), sent.end());
  Result<size_t> n = net::SendBatch(tx->fd(), views);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, sent.size());

  internal::ReceiveBatch batch(4, kMax);  // smaller than the burst: several calls
  size_t got = 0;
  while (got < sent.size()) {
    int r = batch.Receive(rx->fd());
    ASSERT_GT(r, 0) << "timed out after " << got << " datagrams";
    for (int i = 0; i < r; ++i, ++got) {
      const std::string& want = sent[got];
      std::string_view p = batch.Packet(i);
      if (want.size() > kMax) {
        EXPECT_TRUE(batch.Truncated(i)) << want.size();
        EXPECT_EQ(p, std::string_view(want).substr(0, kMax)) << want.size();
      } else {
        EXPECT_FALSE(batch.Truncated(i)) << want.size();
        EXPECT_EQ(p, want) << want.size();
      }
    }
  }
}

TEST(ReceiveBatchTest, MaxBelowTheInlineSlot) {
  Result<net::UdpSocket> rx = net::BindUdp("127.0.0.1:0", {.recv_timeout_ms = 2000});
  ASSERT_TRUE(rx.ok());
  Result<net::UdpSocket> tx = net::ConnectUdp(*rx->LocalAddress());
  ASSERT_TRUE(tx.ok());
  std::string a = Pattern(600), b = Pattern(100);
  ASSERT_TRUE(net::SendBatch(tx->fd(), {a, b}).ok());
  internal::ReceiveBatch batch(8, 512);
  int got = 0;
  while (got < 2) {
    int r = batch.Receive(rx->fd());
    ASSERT_GT(r, 0);
    for (int i = 0; i < r; ++i, ++got) {
      if (got == 0) {
        EXPECT_TRUE(batch.Truncated(i));
        EXPECT_EQ(batch.Packet(i), a.substr(0, 512));
      } else {
        EXPECT_FALSE(batch.Truncated(i));
        EXPECT_EQ(batch.Packet(i), b);
      }
    }
  }
}

}  // namespace
}  // namespace stopgap::statsd

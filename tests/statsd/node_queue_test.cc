// internal::NodeQueue over real loopback sockets: the datagrams a node
// receives are exactly the greedy packing of the lines, byte for byte, with
// UDP GSO on (full datagrams padded to one length, runs as one message),
// without it, after the socket refused GSO (SO_NO_CHECK makes the kernel answer EINVAL to a GSO
// send: the fallback), and when a flush comes while a datagram is still
// being packed. Also internal::ReceiveBatch's UDP_GRO side: a GSO message
// into a socket with UDP_GRO on arrives as one packet with its segment size.
#include "statsd/internal/node_queue.h"

#include <gtest/gtest.h>
#include <netinet/udp.h>

#include <string>
#include <vector>

#include "net/udp.h"
#include "statsd/internal/receive_batch.h"

namespace stopgap::statsd {
namespace {

struct Pair {
  net::UdpSocket rx, tx;
};

Pair Connected() {
  Result<net::UdpSocket> rx =
      net::BindUdp("127.0.0.1:0", {.rcvbuf_bytes = 8 << 20, .recv_timeout_ms = 300});
  EXPECT_TRUE(rx.ok()) << rx.status().ToString();
  Result<net::SocketAddress> addr = rx->LocalAddress();
  EXPECT_TRUE(addr.ok());
  Result<net::UdpSocket> tx = net::ConnectUdp(*addr, {.sndbuf_bytes = 4 << 20});
  EXPECT_TRUE(tx.ok());
  return {std::move(*rx), std::move(*tx)};
}

// Every datagram waiting on fd, in order, until the socket stays empty.
std::vector<std::string> ReceiveAll(int fd) {
  std::vector<std::string> got;
  std::vector<char> buf(65536);
  while (true) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) return got;
    got.emplace_back(buf.data(), static_cast<size_t>(n));
  }
}

// The greedy packing NodeQueue promises: lines joined by '\n' up to mtu bytes;
// with `pad` (GSO on) a datagram closed because the next line did not fit is
// padded to mtu bytes with '\n'.
std::vector<std::string> Packed(const std::vector<std::string>& lines, size_t mtu, bool pad) {
  std::vector<std::string> out;
  std::string cur;
  for (const std::string& l : lines) {
    if (!cur.empty() && cur.size() + 1 + l.size() > mtu) {
      if (pad && l.size() <= mtu) cur.resize(mtu, '\n');
      out.push_back(cur);
      cur.clear();
    }
    if (!cur.empty()) cur += '\n';
    cur += l;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// count lines "m.<i>:<i>|c", equal lengths when `equal`, else 10..40 bytes.
std::vector<std::string> Lines(size_t count, bool equal) {
  std::vector<std::string> v;
  for (size_t i = 0; i < count; ++i) {
    std::string name = "m." + std::to_string(1000 + i);
    if (!equal) name += std::string(i * 7 % 31, 'x');
    v.push_back(name + ":1|c");
  }
  return v;
}

uint64_t SendAll(internal::NodeQueue* q, const std::vector<std::string>& lines, uint64_t* sent) {
  for (const std::string& l : lines) q->Add(l);
  q->Close();
  q->Flush();
  uint64_t refused = 0;
  q->TakeCounts(sent, &refused);
  return refused;
}

TEST(NodeQueueTest, GsoRunsArriveAsTheSameDatagrams) {
  for (bool equal : {true, false}) {
    Pair p = Connected();
    internal::NodeQueue q(p.tx.fd(), 200, /*gso=*/true);
    // 600 lines: more than kQueued datagrams, so Close flushes on its own too.
    const std::vector<std::string> lines = Lines(600, equal);
    uint64_t sent = 0;
    EXPECT_EQ(SendAll(&q, lines, &sent), 0u);
    const std::vector<std::string> want = Packed(lines, 200, /*pad=*/true);
    EXPECT_EQ(ReceiveAll(p.rx.fd()), want) << "equal=" << equal;
    EXPECT_EQ(sent, want.size());
    EXPECT_EQ(q.gso_fallbacks(), 0u);
    // Full datagrams are padded to one length, so lines of varied length too
    // go as GSO runs: many datagrams a message.
    EXPECT_LT(q.messages() * 10, want.size()) << q.messages() << " messages, equal=" << equal;
  }
}

// What a node makes of a padded datagram: the same lines, the padding read as
// empty lines and skipped (as the reference's stats.js does).
TEST(NodeQueueTest, PaddingIsOnlyEmptyLines) {
  const std::vector<std::string> lines = Lines(600, false);
  std::vector<std::string> back;
  for (const std::string& d : Packed(lines, 200, /*pad=*/true)) {
    EXPECT_LE(d.size(), 200u);
    size_t start = 0;
    while (start <= d.size()) {
      size_t end = d.find('\n', start);
      if (end == std::string::npos) end = d.size();
      if (end > start) back.push_back(d.substr(start, end - start));
      start = end + 1;
    }
  }
  EXPECT_EQ(back, lines);
}

TEST(NodeQueueTest, WithoutGsoOneMessageADatagram) {
  Pair p = Connected();
  internal::NodeQueue q(p.tx.fd(), 200, /*gso=*/false);
  const std::vector<std::string> lines = Lines(300, true);
  uint64_t sent = 0;
  SendAll(&q, lines, &sent);
  const std::vector<std::string> want = Packed(lines, 200, /*pad=*/false);
  EXPECT_EQ(ReceiveAll(p.rx.fd()), want);
  EXPECT_EQ(q.messages(), want.size());
}

TEST(NodeQueueTest, FallsBackWhenTheSocketRefusesGso) {
  Pair p = Connected();
  int one = 1;  // UDP without checksums: the kernel refuses GSO with EINVAL
  ASSERT_EQ(::setsockopt(p.tx.fd(), SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
  internal::NodeQueue q(p.tx.fd(), 200, /*gso=*/true);
  const std::vector<std::string> lines = Lines(400, true);
  uint64_t sent = 0;
  EXPECT_EQ(SendAll(&q, lines, &sent), 0u);
  // Packed (and padded) while GSO was on; refused at the first send.
  const std::vector<std::string> want = Packed(lines, 200, /*pad=*/true);
  EXPECT_EQ(ReceiveAll(p.rx.fd()), want);
  EXPECT_EQ(sent, want.size());
  EXPECT_EQ(q.gso_fallbacks(), 1u);
  EXPECT_FALSE(q.gso());
}

// A flush while a datagram is being packed (the proxy flushes after every
// receive batch and keeps packing while batches come full): the lines of that
// datagram so far must survive into it.
TEST(NodeQueueTest, FlushWhilePackingKeepsThePartialDatagram) {
  for (bool gso : {true, false}) {
    Pair p = Connected();
    internal::NodeQueue q(p.tx.fd(), 200, gso);
    const std::vector<std::string> lines = Lines(90, false);
    for (size_t i = 0; i < lines.size(); ++i) {
      q.Add(lines[i]);
      if (i % 7 == 6) q.Flush();
    }
    q.Close();
    q.Flush();
    EXPECT_EQ(ReceiveAll(p.rx.fd()), Packed(lines, 200, gso)) << "gso=" << gso;
  }
}

TEST(NodeQueueTest, LineLongerThanMtuGoesAlone) {
  Pair p = Connected();
  internal::NodeQueue q(p.tx.fd(), 100, true);
  const std::string big = "big:" + std::string(150, '9') + "|c";
  uint64_t sent = 0;
  SendAll(&q, {"a:1|c", big, "b:1|c"}, &sent);
  EXPECT_EQ(ReceiveAll(p.rx.fd()), (std::vector<std::string>{"a:1|c", big, "b:1|c"}));
  EXPECT_EQ(sent, 3u);
}

TEST(ReceiveBatchGroTest, CoalescedPacketCarriesItsSegmentSize) {
  Pair p = Connected();
  int one = 1;
  ASSERT_EQ(::setsockopt(p.rx.fd(), SOL_UDP, UDP_GRO, &one, sizeof one), 0);
  internal::NodeQueue q(p.tx.fd(), 200, true);
  const std::vector<std::string> lines = Lines(100, true);
  uint64_t sent = 0;
  SendAll(&q, lines, &sent);
  const std::vector<std::string> want = Packed(lines, 200, /*pad=*/true);
  internal::ReceiveBatch batch(8, 65536, /*gro=*/true);
  std::vector<std::string> got;
  bool coalesced = false;
  for (int n; (n = batch.Receive(p.rx.fd())) > 0;) {
    for (int i = 0; i < n; ++i) {
      std::string_view pkt = batch.Packet(i);
      size_t seg = batch.SegmentSize(i);
      coalesced |= seg > 0 && pkt.size() > seg;
      if (seg == 0) seg = pkt.size();
      for (size_t off = 0; off < pkt.size(); off += seg) got.emplace_back(pkt.substr(off, seg));
    }
  }
  EXPECT_TRUE(coalesced);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace stopgap::statsd

// NodeQueue: the datagrams `stopgap statsd proxy` packs for one node. Lines
// are packed into datagrams of at most `mtu` bytes in one flat buffer (up to
// kQueued datagrams, their iovecs prepared once) and sent by Flush with one
// sendmmsg. With UDP GSO on, consecutive datagrams of equal length (and one
// shorter datagram after them) go as one message with a UDP_SEGMENT cmsg:
// the kernel cuts it back into exactly those datagrams, so a node receives
// the same datagrams byte for byte, for one pass down the stack instead of
// one per datagram. With GSO, a datagram closed because the next line did
// not fit is padded to `mtu` bytes with '\n' (empty lines, which StatsD
// servers skip), so that lines of varied length still make equal-length
// runs. A socket that refuses GSO (EIO, EINVAL, ENOPROTOOPT,
// EOPNOTSUPP, EMSGSIZE: no checksum offload, a path MTU below the segment, an
// old kernel) gets the refused datagrams again without it, and GSO stays off
// for that queue (counted by gso_fallbacks()).
//
//   NodeQueue q(fd, 1432, /*gso=*/true);
//   q.Add("a:1|c"); q.Add("b:2|c"); q.Close(); q.Flush();
//   uint64_t sent = 0, refused = 0; q.TakeCounts(&sent, &refused);
//
// Thread safety: one owner thread. Nothing is allocated per line or datagram.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace stopgap::statsd::internal {

class NodeQueue {
 public:
  static constexpr size_t kQueued = 64;
  // One GSO message: at most this many payload bytes (an IPv4 or IPv6 UDP
  // datagram's limit) and kQueued segments (the kernel allows 64 or more).
  static constexpr size_t kMaxGsoBytes = 65507;

  NodeQueue(int fd, size_t mtu, bool gso);
  NodeQueue(NodeQueue&&) = default;

  // Appends one line (without its '\n'), joined to the previous one by '\n'.
  // A line longer than mtu is sent alone at once, as proxy.js would.
  void Add(std::string_view line);
  // Ends the datagram being packed, if any (sent by the next Flush).
  void Close();
  // Sends the finished datagrams.
  void Flush();
  bool packing() const { return used_ > 0; }
  bool gso() const { return gso_; }
  // Datagrams sent and refused since the last call.
  void TakeCounts(uint64_t* sent, uint64_t* refused);
  // 1 once the socket refused GSO (and this queue went on without it).
  uint64_t gso_fallbacks() const { return fallbacks_; }
  // Messages handed to the kernel (a GSO message carries several datagrams).
  uint64_t messages() const { return messages_; }

 private:
  // Builds msgs_[0..) for datagrams [from, ready_), grouping equal-length runs
  // when gso_; returns the message count; first_[m] = first datagram of m.
  size_t BuildMessages(size_t from);
  static bool GsoRefused(int err);

  int fd_;
  size_t mtu_;
  bool gso_;
  std::unique_ptr<char[]> buf_;
  std::vector<::iovec> iovs_;
  std::vector<::mmsghdr> msgs_;
  std::vector<uint16_t> first_;  // per message: its first datagram (kQueued + 1 entries)
  union Control {                // per message: one UDP_SEGMENT cmsg
    ::cmsghdr header;
    char bytes[CMSG_SPACE(sizeof(uint16_t))];
  };
  std::vector<Control> control_;
  size_t ready_ = 0;  // finished datagrams
  size_t used_ = 0;   // bytes of datagram ready_, being packed
  uint64_t sent_ = 0, attempted_ = 0, fallbacks_ = 0, messages_ = 0;
};

}  // namespace stopgap::statsd::internal

// ReceiveBatch: recvmmsg buffers laid out for parsing right after the copy.
// Each datagram's first kInlineBytes land in a compact slot (slots 2 KiB +
// 64 bytes apart, so a batch stays within L2 and does not alias one cache
// set the way 64 KiB-strided buffers do); only a longer datagram spills into
// its own overflow area and is joined on access. Datagrams longer than
// max_packet_bytes are truncated and flagged.
//
// With `gro` (for a socket with UDP_GRO on) each message also carries the
// kernel's UDP_GRO cmsg: a received packet may then be several datagrams of
// SegmentSize(i) bytes each (the last one shorter), coalesced by the kernel.
//
// Thread safety: one owner thread. A view from Packet(i) is valid until the
// next Packet() or Receive() call.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stopgap::statsd::internal {

class ReceiveBatch {
 public:
  static constexpr size_t kInlineBytes = 2048;

  ReceiveBatch(int count, size_t max_packet_bytes, bool gro = false);
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  // One recvmmsg(MSG_WAITFORONE): packets received (>= 1), 0 on
  // timeout/EAGAIN/EINTR, or -errno on another error.
  int Receive(int fd);
  std::string_view Packet(int i);
  bool Truncated(int i) const;
  // The datagram size of a coalesced packet (UDP_GRO cmsg), 0 for one datagram.
  size_t SegmentSize(int i);
  int capacity() const { return count_; }

 private:
  static constexpr size_t kStride = kInlineBytes + 64;
  int count_;
  size_t inline_bytes_;    // min(kInlineBytes, max_packet_bytes)
  size_t overflow_bytes_;  // max_packet_bytes - inline_bytes_
  std::vector<char> inline_;
  std::unique_ptr<char[]> overflow_;  // not zeroed: its pages stay untouched until used
  std::vector<::mmsghdr> msgs_;
  std::vector<::iovec> iovs_;  // two per message: inline, overflow
  std::string joined_;
  union Control {  // per message, with gro: room for the UDP_GRO cmsg
    ::cmsghdr header;
    char bytes[CMSG_SPACE(sizeof(int))];
  };
  std::vector<Control> control_;
};

}  // namespace stopgap::statsd::internal

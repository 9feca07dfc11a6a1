// ReceiveBatch: compact recvmmsg slots with per-datagram overflow areas.
// Single owner thread.
#include "statsd/internal/receive_batch.h"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

namespace stopgap::statsd::internal {

ReceiveBatch::ReceiveBatch(int count, size_t max_packet_bytes, bool gro)
    : count_(count > 0 ? count : 1),
      inline_bytes_(max_packet_bytes < kInlineBytes ? max_packet_bytes : kInlineBytes),
      overflow_bytes_(max_packet_bytes - inline_bytes_),
      inline_(static_cast<size_t>(count_) * kStride),
      overflow_(new char[static_cast<size_t>(count_) * overflow_bytes_ + 1]),
      msgs_(static_cast<size_t>(count_)),
      iovs_(static_cast<size_t>(count_) * 2),
      control_(gro ? static_cast<size_t>(count_) : 0) {
  for (size_t i = 0; i < static_cast<size_t>(count_); ++i) {
    iovs_[2 * i].iov_base = inline_.data() + i * kStride;
    iovs_[2 * i].iov_len = inline_bytes_;
    iovs_[2 * i + 1].iov_base = overflow_.get() + i * overflow_bytes_;
    iovs_[2 * i + 1].iov_len = overflow_bytes_;
    std::memset(&msgs_[i], 0, sizeof(::mmsghdr));
    msgs_[i].msg_hdr.msg_iov = &iovs_[2 * i];
    msgs_[i].msg_hdr.msg_iovlen = overflow_bytes_ > 0 ? 2 : 1;
  }
}

int ReceiveBatch::Receive(int fd) {
  for (size_t i = 0; i < msgs_.size(); ++i) {
    msgs_[i].msg_hdr.msg_flags = 0;
    if (!control_.empty()) {
      msgs_[i].msg_hdr.msg_control = &control_[i];
      msgs_[i].msg_hdr.msg_controllen = sizeof(Control);
    }
  }
  int n = ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(count_), MSG_WAITFORONE, nullptr);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -errno;
  }
  return n;
}

std::string_view ReceiveBatch::Packet(int i) {
  size_t k = static_cast<size_t>(i);
  size_t len = msgs_[k].msg_len;
  const char* first = inline_.data() + k * kStride;
  if (len <= inline_bytes_) return {first, len};
  size_t rest = len - inline_bytes_;
  if (rest > overflow_bytes_) rest = overflow_bytes_;
  joined_.assign(first, inline_bytes_);
  joined_.append(overflow_.get() + k * overflow_bytes_, rest);
  return joined_;
}

bool ReceiveBatch::Truncated(int i) const {
  return (msgs_[static_cast<size_t>(i)].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

size_t ReceiveBatch::SegmentSize(int i) {
  if (control_.empty()) return 0;
  ::msghdr& h = msgs_[static_cast<size_t>(i)].msg_hdr;
  for (::cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<size_t>(size) : 0;
    }
  }
  return 0;
}

}  // namespace stopgap::statsd::internal

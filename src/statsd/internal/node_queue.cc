// NodeQueue: per-node datagram packing, sent with sendmmsg and UDP GSO.
#include "statsd/internal/node_queue.h"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

namespace stopgap::statsd::internal {

NodeQueue::NodeQueue(int fd, size_t mtu, bool gso)
    : fd_(fd),
      mtu_(mtu),
      gso_(gso),
      buf_(new char[kQueued * mtu]),
      iovs_(kQueued),
      msgs_(kQueued),
      first_(kQueued + 1),
      control_(kQueued) {
  for (size_t i = 0; i < kQueued; ++i) {
    iovs_[i].iov_base = buf_.get() + i * mtu_;
    std::memset(&msgs_[i], 0, sizeof(::mmsghdr));
    std::memset(&control_[i], 0, sizeof(Control));
    ::cmsghdr* c = &control_[i].header;
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  }
}

void NodeQueue::Add(std::string_view line) {
  if (used_ > 0 && used_ + 1 + line.size() > mtu_) {
    // Full: with GSO, padded to mtu with empty lines (every StatsD server
    // skips them, the reference included), so that full datagrams share one
    // length and go as GSO runs whatever the lengths of their lines.
    if (gso_ && line.size() <= mtu_) {
      std::memset(buf_.get() + ready_ * mtu_ + used_, '\n', mtu_ - used_);
      used_ = mtu_;
    }
    Close();
  }
  if (line.size() > mtu_) {  // longer than a datagram: alone, as proxy.js would
    Flush();
    ++attempted_;
    ++messages_;
    if (::send(fd_, line.data(), line.size(), MSG_DONTWAIT) >= 0) ++sent_;
    return;
  }
  char* d = buf_.get() + ready_ * mtu_ + used_;
  if (used_ > 0) {
    *d++ = '\n';
    ++used_;
  }
  std::memcpy(d, line.data(), line.size());
  used_ += line.size();
}

void NodeQueue::Close() {
  if (used_ == 0) return;
  iovs_[ready_].iov_len = used_;
  ++ready_;
  used_ = 0;
  if (ready_ == kQueued) Flush();
}

size_t NodeQueue::BuildMessages(size_t from) {
  size_t m = 0;
  for (size_t i = from; i < ready_; ++m) {
    const size_t seg = iovs_[i].iov_len;
    size_t j = i + 1;
    if (gso_) {
      // A run of equal lengths, then at most one shorter datagram: the
      // kernel cuts a GSO message every `seg` bytes, the last piece short.
      while (j < ready_ && iovs_[j].iov_len == seg && (j - i + 1) * seg <= kMaxGsoBytes) ++j;
      if (j < ready_ && iovs_[j].iov_len < seg && (j - i) * seg + iovs_[j].iov_len <= kMaxGsoBytes)
        ++j;
    }
    ::msghdr& h = msgs_[m].msg_hdr;
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = j - i;
    if (j - i > 1) {
      const uint16_t size = static_cast<uint16_t>(seg);
      std::memcpy(CMSG_DATA(&control_[m].header), &size, sizeof size);
      h.msg_control = &control_[m];
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    } else {
      h.msg_control = nullptr;
      h.msg_controllen = 0;
    }
    first_[m] = static_cast<uint16_t>(i);
    i = j;
  }
  first_[m] = static_cast<uint16_t>(ready_);
  return m;
}

bool NodeQueue::GsoRefused(int err) {
  return err == EIO || err == EINVAL || err == ENOPROTOOPT || err == EOPNOTSUPP || err == EMSGSIZE;
}

// A message the kernel refuses for another reason (full socket buffer, an
// ECONNREFUSED left by an earlier datagram to a dead node) is skipped, not
// retried.
void NodeQueue::Flush() {
  if (ready_ == 0) return;
  size_t count = BuildMessages(0);
  size_t m = 0;
  while (m < count) {
    int r = ::sendmmsg(fd_, &msgs_[m], static_cast<unsigned>(count - m), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      sent_ += first_[m + static_cast<size_t>(r)] - first_[m];
      messages_ += static_cast<uint64_t>(r);
      m += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && msgs_[m].msg_hdr.msg_iovlen > 1 && GsoRefused(errno)) {
      gso_ = false;  // this message and the rest again, one datagram a message
      ++fallbacks_;
      count = BuildMessages(first_[m]);
      m = 0;
      continue;
    }
    ++m;
  }
  attempted_ += ready_;
  // The datagram being packed moves to the first slot, where Add goes on.
  if (used_ > 0) std::memmove(buf_.get(), buf_.get() + ready_ * mtu_, used_);
  ready_ = 0;
}

void NodeQueue::TakeCounts(uint64_t* sent, uint64_t* refused) {
  *sent += sent_;
  *refused += attempted_ - sent_;
  sent_ = attempted_ = 0;
}

}  // namespace stopgap::statsd::internal

// UDP socket helpers over POSIX: getaddrinfo, setsockopt, recvmmsg, sendmmsg.
// No shared state; see udp.h for the threading contract.
#include "net/udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace stopgap::net {

uint16_t SocketAddress::port() const {
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::ToString() const {
  char host[INET6_ADDRSTRLEN] = {0};
  if (storage.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, host,
              sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  if (storage.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, host,
              sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(port());
  }
  return "?";
}

Result<SocketAddress> ResolveHostPort(std::string_view host_port, int socktype) {
  std::string host;
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return InvalidArgument("address \"" + std::string(host_port) + "\": expected [v6]:port");
    }
    host = std::string(host_port.substr(1, close - 1));
    port_text = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("address \"" + std::string(host_port) + "\": expected host:port");
    }
    host = std::string(host_port.substr(0, colon));
    port_text = host_port.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("address \"" + std::string(host_port) + "\": bad port");
  }
  if (host.empty()) host = "0.0.0.0";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::string(port_text).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return InvalidArgument("address \"" + std::string(host_port) + "\": " + gai_strerror(rc));
  }
  SocketAddress out;
  std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = res->ai_addrlen;
  freeaddrinfo(res);
  return out;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<SocketAddress> UdpSocket::LocalAddress() const {
  SocketAddress a;
  a.len = sizeof a.storage;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a.storage), &a.len) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  return a;
}

int UdpSocket::ReceiveBufferBytes() const {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &v, &l) != 0) return -1;
  return v;
}

namespace {

Result<UdpSocket> MakeSocket(int family, const UdpOptions& opts) {
  int flags = SOCK_DGRAM | SOCK_CLOEXEC | (opts.nonblocking ? SOCK_NONBLOCK : 0);
  int fd = ::socket(family, flags, 0);
  if (fd < 0) return ErrnoStatus("socket", errno);
  UdpSocket s(fd);
  int one = 1;
  if (opts.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return ErrnoStatus("setsockopt SO_REUSEPORT", errno);
  }
  if (opts.rcvbuf_bytes > 0) {
    // Try the privileged FORCE variant first (root may exceed rmem_max), then the plain one.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &opts.rcvbuf_bytes, sizeof(int)) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts.rcvbuf_bytes, sizeof(int)) != 0) {
      return ErrnoStatus("setsockopt SO_RCVBUF", errno);
    }
  }
  if (opts.sndbuf_bytes > 0) {
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &opts.sndbuf_bytes, sizeof(int)) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &opts.sndbuf_bytes, sizeof(int)) != 0) {
      return ErrnoStatus("setsockopt SO_SNDBUF", errno);
    }
  }
  if (opts.recv_timeout_ms > 0) {
    timeval tv{opts.recv_timeout_ms / 1000, (opts.recv_timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
      return ErrnoStatus("setsockopt SO_RCVTIMEO", errno);
    }
  }
  return s;
}

}  // namespace

Result<UdpSocket> BindUdp(std::string_view host_port, const UdpOptions& opts) {
  Result<SocketAddress> addr = ResolveHostPort(host_port, SOCK_DGRAM);
  if (!addr.ok()) return addr.status();
  Result<UdpSocket> s = MakeSocket(addr->family(), opts);
  if (!s.ok()) return s.status();
  if (::bind(s->fd(), reinterpret_cast<const sockaddr*>(&addr->storage), addr->len) != 0) {
    return ErrnoStatus("bind udp " + std::string(host_port), errno);
  }
  return s;
}

Result<UdpSocket> ConnectUdp(const SocketAddress& dest, const UdpOptions& opts) {
  Result<UdpSocket> s = MakeSocket(dest.family(), opts);
  if (!s.ok()) return s.status();
  if (::connect(s->fd(), reinterpret_cast<const sockaddr*>(&dest.storage), dest.len) != 0) {
    return ErrnoStatus("connect udp " + dest.ToString(), errno);
  }
  return s;
}

UdpReceiveBatch::UdpReceiveBatch(int count, size_t packet_bytes)
    : count_(count > 0 ? count : 1),
      packet_bytes_(packet_bytes),
      buf_(static_cast<size_t>(count_) * packet_bytes),
      msgs_(static_cast<size_t>(count_)),
      iovs_(static_cast<size_t>(count_)) {
  for (int i = 0; i < count_; ++i) {
    iovs_[i].iov_base = buf_.data() + static_cast<size_t>(i) * packet_bytes_;
    iovs_[i].iov_len = packet_bytes_;
    std::memset(&msgs_[i], 0, sizeof(::mmsghdr));
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

int UdpReceiveBatch::Receive(int fd) {
  for (int i = 0; i < count_; ++i) msgs_[i].msg_hdr.msg_flags = 0;
  int n = ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(count_), MSG_WAITFORONE, nullptr);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -errno;
  }
  return n;
}

std::string_view UdpReceiveBatch::Packet(int i) const {
  size_t len = msgs_[i].msg_len;
  if (len > packet_bytes_) len = packet_bytes_;
  return {buf_.data() + static_cast<size_t>(i) * packet_bytes_, len};
}

bool UdpReceiveBatch::Truncated(int i) const {
  return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

Result<size_t> SendBatch(int fd, const std::vector<std::string_view>& payloads) {
  size_t sent = 0;
  constexpr size_t kChunk = 64;
  ::mmsghdr msgs[kChunk];
  ::iovec iovs[kChunk];
  while (sent < payloads.size()) {
    size_t n = std::min(kChunk, payloads.size() - sent);
    for (size_t i = 0; i < n; ++i) {
      iovs[i].iov_base = const_cast<char*>(payloads[sent + i].data());
      iovs[i].iov_len = payloads[sent + i].size();
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = ::sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (sent > 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
      return ErrnoStatus("sendmmsg", errno);
    }
    sent += static_cast<size_t>(r);
    if (static_cast<size_t>(r) < n) break;
  }
  return sent;
}

}  // namespace stopgap::net

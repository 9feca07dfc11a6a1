// UDP sockets for StatsD intake and senders: "host:port" resolution, bind with
// SO_REUSEPORT / SO_RCVBUF, batched receive (recvmmsg) and send (sendmmsg).
//
//   Result<UdpSocket> s = BindUdp("127.0.0.1:0", {.reuse_port = true});
//   UdpReceiveBatch batch(64, 65536);
//   int n = batch.Receive(s->fd());   // batch.Packet(i) for i < n
//
// Thread safety: a UdpSocket may be used by one receiving thread at a time; a
// UdpReceiveBatch belongs to one thread. Free functions are thread-safe.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::net {

// A resolved IPv4/IPv6 socket address.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  std::string ToString() const;  // "127.0.0.1:8125", "[::1]:8125"
};

// Resolves "host:port" or "[v6]:port" numerically or by name (first result).
// Port 0 is allowed (bind to any free port).
Result<SocketAddress> ResolveHostPort(std::string_view host_port, int socktype = SOCK_DGRAM);

struct UdpOptions {
  bool reuse_port = false;   // SO_REUSEPORT: several sockets share one port
  int rcvbuf_bytes = 0;      // SO_RCVBUF request (0 = system default); capped by rmem_max
  int sndbuf_bytes = 0;      // SO_SNDBUF request (0 = system default)
  bool nonblocking = false;  // O_NONBLOCK
  int recv_timeout_ms = 0;   // SO_RCVTIMEO (0 = block forever)
};

// An owned UDP socket (closed on destruction; movable).
class UdpSocket {
 public:
  UdpSocket() = default;
  explicit UdpSocket(int fd) : fd_(fd) {}
  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // The address the socket is bound to (after port 0 resolution).
  Result<SocketAddress> LocalAddress() const;
  // The effective SO_RCVBUF (the kernel doubles what was asked, up to rmem_max).
  int ReceiveBufferBytes() const;

 private:
  int fd_ = -1;
};

// Binds a UDP socket to host:port with the options.
Result<UdpSocket> BindUdp(std::string_view host_port, const UdpOptions& opts = {});
// An unbound UDP socket of the family of `dest`, connect()ed to it (send-only use).
Result<UdpSocket> ConnectUdp(const SocketAddress& dest, const UdpOptions& opts = {});

// Pre-allocated buffers for recvmmsg: `count` packets of up to `packet_bytes`.
// A datagram longer than packet_bytes is truncated and flagged (Truncated(i)).
class UdpReceiveBatch {
 public:
  UdpReceiveBatch(int count, size_t packet_bytes);
  UdpReceiveBatch(const UdpReceiveBatch&) = delete;
  UdpReceiveBatch& operator=(const UdpReceiveBatch&) = delete;

  // One recvmmsg(MSG_WAITFORONE): returns packets received (>= 1), 0 on
  // timeout/EAGAIN/EINTR, or -errno on another error.
  int Receive(int fd);
  std::string_view Packet(int i) const;
  bool Truncated(int i) const;
  int capacity() const { return count_; }

 private:
  int count_;
  size_t packet_bytes_;
  std::vector<char> buf_;
  std::vector<::mmsghdr> msgs_;
  std::vector<::iovec> iovs_;
};

// Sends each payload as one datagram on a connected socket, batched with
// sendmmsg. Returns the number sent (may be fewer than asked on EAGAIN/ENOBUFS),
// or an error when nothing could be sent.
Result<size_t> SendBatch(int fd, const std::vector<std::string_view>& payloads);

}  // namespace stopgap::net

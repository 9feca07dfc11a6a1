// Small TCP helpers for the statsd server: listen, connect with a timeout,
// write-all, and a poll(2) loop serving line-oriented clients (admin
// interface, TCP intake).
//
// Thread safety: functions are thread-safe; a LineServer runs on one thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/udp.h"

namespace stopgap::statsd::internal {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

Result<Fd> TcpListen(std::string_view host_port, int backlog = 64);
Result<Fd> TcpConnect(const net::SocketAddress& addr, int timeout_ms);
Status WriteAll(int fd, std::string_view data, int timeout_ms);
// After shutdown(fd, SHUT_WR): waits for the peer to close its side too (EOF),
// which a Graphite receiver does after it has read everything before our
// FIN. A reset (or any read error) means the payload may never have been
// read: an error, so the sender keeps it. No close within timeout_ms is
// taken as delivered (a receiver may keep half-closed connections open).
Status AwaitPeerClose(int fd, int timeout_ms);
Result<net::SocketAddress> LocalAddress(int fd);

// Serves clients of one listening socket until `stop`. For each read, the
// handler gets the connection's accumulated input; it consumes what it used,
// appends any reply, and returns false to close the connection.
class LineServer {
 public:
  using Handler = std::function<bool(std::string* input, std::string* reply)>;
  LineServer(Fd listen_fd, Handler handler)
      : listen_(std::move(listen_fd)), handler_(std::move(handler)) {}
  void Run(const std::atomic<bool>& stop);
  int fd() const { return listen_.get(); }

 private:
  Fd listen_;
  Handler handler_;
};

}  // namespace stopgap::statsd::internal

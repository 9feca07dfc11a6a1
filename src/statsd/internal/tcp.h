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
  // The same with a connection id (unique per accepted client, never reused).
  using ConnHandler = std::function<bool(uint64_t conn, std::string* input, std::string* reply)>;
  struct Options {
    size_t max_input = 1u << 20;  // unconsumed input past this closes the connection
    int poll_ms = 200;            // how often `outgoing` is asked
    // Called every poll round for each client: bytes to write to it now.
    std::function<void(uint64_t conn, std::string* out)> outgoing;
    std::function<void(uint64_t conn)> closed;  // after the client is gone
  };
  LineServer(Fd listen_fd, Handler handler)
      : listen_(std::move(listen_fd)),
        handler_([h = std::move(handler)](uint64_t, std::string* in, std::string* reply) {
          return h(in, reply);
        }) {}
  LineServer(Fd listen_fd, ConnHandler handler, Options opts)
      : listen_(std::move(listen_fd)), handler_(std::move(handler)), opts_(std::move(opts)) {}
  void Run(const std::atomic<bool>& stop);
  int fd() const { return listen_.get(); }

 private:
  Fd listen_;
  ConnHandler handler_;
  Options opts_;
};

}  // namespace stopgap::statsd::internal

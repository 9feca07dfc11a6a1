// TCP helpers over POSIX sockets and poll(2). See tcp.h.
#include "statsd/internal/tcp.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

namespace stopgap::statsd::internal {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
Fd::~Fd() { reset(); }
void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Fd> TcpListen(std::string_view host_port, int backlog) {
  Result<net::SocketAddress> a = net::ResolveHostPort(host_port, SOCK_STREAM);
  if (!a.ok()) return a.status();
  Fd fd(::socket(a->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return ErrnoStatus("socket", errno);
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a->storage), a->len) != 0) {
    return ErrnoStatus("bind tcp " + std::string(host_port), errno);
  }
  if (::listen(fd.get(), backlog) != 0) return ErrnoStatus("listen", errno);
  return fd;
}

Result<Fd> TcpConnect(const net::SocketAddress& addr, int timeout_ms) {
  Fd fd(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return ErrnoStatus("socket", errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus("connect " + addr.ToString(), errno);
    pollfd p{fd.get(), POLLOUT, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r == 0) return DeadlineExceeded("connect " + addr.ToString() + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (r < 0 || err != 0) return ErrnoStatus("connect " + addr.ToString(), r < 0 ? errno : err);
  }
  return fd;
}

Status WriteAll(int fd, std::string_view data, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return DeadlineExceeded("write timed out");
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left));
      continue;
    }
    return ErrnoStatus("write", errno);
  }
  return Status::Ok();
}

Status AwaitPeerClose(int fd, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return Status::Ok();  // the peer read everything and closed
    if (n > 0) continue;              // a receiver's chatter: ignored
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return ErrnoStatus("the receiver closed the connection before reading the flush", errno);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return Status::Ok();
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
  }
}

Result<net::SocketAddress> LocalAddress(int fd) {
  net::SocketAddress a;
  a.len = sizeof a.storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.len) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  return a;
}

void LineServer::Run(const std::atomic<bool>& stop) {
  struct Client {
    Fd fd;
    uint64_t id;
    std::string input;
  };
  std::vector<Client> clients;
  std::vector<pollfd> pfds;
  uint64_t next_id = 1;
  char buf[65536];
  std::string out;
  while (!stop.load(std::memory_order_relaxed)) {
    pfds.clear();
    pfds.push_back({listen_.get(), POLLIN, 0});
    for (const Client& c : clients) pfds.push_back({c.fd.get(), POLLIN, 0});
    int r = ::poll(pfds.data(), pfds.size(), opts_.poll_ms);
    std::vector<size_t> dead;
    if (opts_.outgoing) {
      for (size_t i = 0; i < clients.size(); ++i) {
        out.clear();
        opts_.outgoing(clients[i].id, &out);
        if (!out.empty() && !WriteAll(clients[i].fd.get(), out, 5000).ok()) dead.push_back(i);
      }
    }
    if (r > 0 && (pfds[0].revents & POLLIN)) {
      int cfd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (cfd >= 0 && clients.size() < 256) {
        clients.push_back(Client{Fd(cfd), next_id++, {}});
      } else if (cfd >= 0) {
        ::close(cfd);  // too many clients
      }
    }
    for (size_t i = 1; r > 0 && i < pfds.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Client& c = clients[i - 1];
      ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      bool keep = n > 0;
      if (n > 0) {
        c.input.append(buf, static_cast<size_t>(n));
        std::string reply;
        keep = handler_(c.id, &c.input, &reply);
        if (!reply.empty() && !WriteAll(c.fd.get(), reply, 5000).ok()) keep = false;
        if (c.input.size() > opts_.max_input) keep = false;  // e.g. a line longer than 1 MiB
      }
      if (!keep && std::find(dead.begin(), dead.end(), i - 1) == dead.end()) dead.push_back(i - 1);
    }
    std::sort(dead.begin(), dead.end());
    for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
      uint64_t id = clients[*it].id;
      clients.erase(clients.begin() + static_cast<long>(*it));
      if (opts_.closed) opts_.closed(id);
    }
  }
}

}  // namespace stopgap::statsd::internal

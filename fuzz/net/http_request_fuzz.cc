// libFuzzer target: the HTTP front door (net::HttpServer over Beast) fed raw
// bytes from a loopback client, one connection per input: request lines,
// headers, chunked and Content-Length bodies, pipelined requests, garbage.
// Invariants: the server never crashes or hangs (it answers or closes within
// its deadlines once the client half-closes); every answer is an HTTP/1.1
// status line with a status the server may send; a handler never sees a body
// over the cap; a request the pre-body check refuses never reaches a handler.
// Threading: the server runs on its own io and handler threads, started once.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_server.h"

namespace {

constexpr size_t kMaxBody = 4096;

stopgap::net::HttpServer& Server() {
  static std::unique_ptr<stopgap::net::HttpServer> server = [] {
    stopgap::net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.max_body_bytes = kMaxBody;
    o.max_header_bytes = 2048;
    o.max_header_count = 20;
    o.header_timeout = stopgap::Duration{500};
    o.request_timeout = stopgap::Duration{1000};
    o.write_timeout = stopgap::Duration{1000};
    o.keep_alive_timeout = stopgap::Duration{500};
    o.handler_threads = 2;
    auto s = std::make_unique<stopgap::net::HttpServer>(o);
    auto echo = [](const stopgap::net::HttpServerRequest& r) {
      if (r.body.size() > kMaxBody) {
        std::fprintf(stderr, "handler saw a %zu-byte body over the %zu cap\n", r.body.size(),
                     kMaxBody);
        std::abort();
      }
      if (!r.Header("X-Deny").empty()) {
        std::fprintf(stderr, "a request the pre-body check refuses reached a handler\n");
        std::abort();
      }
      return stopgap::net::HttpServerResponse{
          200, "text/plain", std::to_string(r.body.size()) + "\n", {}};
    };
    s->Handle("GET", "/healthz", echo);
    s->Handle("POST", "/api/v1/alerts", echo);
    s->Handle("GET", "/api/v1/executions/([0-9]+)", echo);
    s->SetPreBodyCheck([](const stopgap::net::HttpServerRequest& r)
                           -> std::optional<stopgap::net::HttpServerResponse> {
      if (!r.Header("X-Deny").empty()) {
        return stopgap::net::HttpServerResponse{401, "application/json", "{}\n", {}};
      }
      return std::nullopt;
    });
    if (!s->Start().ok()) std::abort();
    return s;
  }();
  return *server;
}

bool AllowedStatus(int status) {
  switch (status) {
    case 100:
    case 200:
    case 400:
    case 401:
    case 404:
    case 413:
    case 415:
    case 431:
    case 503:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int port = Server().port();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return 0;
  }
  // The server may close before reading everything (a refusal): a write error
  // then is expected, not a finding.
  size_t off = 0;
  while (off < size) {
    ssize_t n = ::send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  // The request deadline is 1 s: past 5 s without an answer or a close, the
  // server is hanging on this input.
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        std::fprintf(stderr, "server neither answered nor closed within 5 s\n");
        std::abort();
      }
      break;  // reset by the server: allowed after a refusal
    }
    answer.append(buf, static_cast<size_t>(n));
    if (answer.size() > (1u << 20)) break;
  }
  ::close(fd);
  // Every status line in the answer (pipelined requests get several).
  std::string_view rest = answer;
  while (!rest.empty()) {
    if (rest.substr(0, 9) != "HTTP/1.1 " || rest.size() < 12) {
      std::fprintf(stderr, "not an HTTP/1.1 status line: %.40s\n", std::string(rest).c_str());
      std::abort();
    }
    int status = std::atoi(std::string(rest.substr(9, 3)).c_str());
    if (!AllowedStatus(status)) {
      std::fprintf(stderr, "unexpected status %d\n", status);
      std::abort();
    }
    size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) break;
    std::string_view head = rest.substr(0, end);
    rest = rest.substr(end + 4);
    if (status == 100) continue;
    size_t cl = head.find("Content-Length: ");
    if (cl == std::string_view::npos) cl = head.find("content-length: ");
    if (cl == std::string_view::npos) break;
    size_t len = std::strtoul(std::string(head.substr(cl + 16, 12)).c_str(), nullptr, 10);
    if (len > rest.size()) break;
    rest = rest.substr(len);
  }
  return 0;
}

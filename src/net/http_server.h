// HttpServer: stopgap's HTTP/1.1 front door, event-driven on Boost.Beast/Asio,
// built for hostile clients. A few io threads multiplex every connection (a
// slow or idle client holds a socket and a few KiB, never a thread); handlers
// run on a small separate pool, so a handler that blocks briefly (a ledger
// write and fsync) does not stall the io threads. Every resource a client can
// hold is capped by an option below: header bytes and count, body bytes
// (Content-Length and chunked alike, enforced while reading), time to send
// the headers and the whole request, idle keep-alive time, connections per
// client address and in total. A pre-body check (SetPreBodyCheck) sees the
// parsed headers before any body byte is read: authentication refuses there.
//
//   net::HttpServer http({.listen = "127.0.0.1:0"});
//   http.Handle("GET", "/healthz", [](const net::HttpServerRequest&) {
//     return net::HttpServerResponse{200, "text/plain", "ok\n"};
//   });
//   if (Status s = http.Start(); !s.ok()) return s;   // binds, then serves on its threads
//   int port = http.port();
//   ...
//   http.Stop();                                      // stops accepting, drains, joins
//
// Patterns are ECMAScript regular expressions over the whole (decoded) path;
// capture groups land in HttpServerRequest::path_params. A pattern without
// regex syntax is compared as a string, and a regex's literal prefix is
// checked before the regex runs (routing costs no regex for most requests). Handlers that throw
// answer 500. Refusals are JSON {"error": "..."}: 400 bad request, 404 no
// route, 413 body over max_body_bytes, 415 any Content-Encoding on a request
// body (or a Transfer-Encoding other than chunked), 431 header caps.
// Connections over a cap are accepted and closed (a plain-HTTP one first gets
// a 503 written without waiting).
//
// Thread safety: register handlers and the pre-body check before Start().
// Handlers and the pre-body check run concurrently (handler pool and io
// threads respectively) and must be thread-safe; the pre-body check runs on an
// io thread and must not block. Stop() may be called from any thread (not
// from a handler); it is idempotent. Stop() closes every stream at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::net {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9470";  // "host:port"; port 0 picks a free port
  std::string tls_cert_file;              // both set: HTTPS (OpenSSL)
  std::string tls_key_file;
  // Request body cap, Content-Length or chunked: 413 as soon as it is passed
  // (a Content-Length over it is refused before any body byte is read).
  size_t max_body_bytes = 1 << 20;
  // Request line plus header fields, in bytes; beyond it: 431.
  size_t max_header_bytes = 16 << 10;
  // Header fields per request; beyond it: 431.
  size_t max_header_count = 100;
  // From a new connection (or the first byte of a kept-alive one's next
  // request) until the headers are complete; then the connection is closed.
  // Bounds slowloris: a trickle of header lines cannot hold a socket longer.
  Duration header_timeout{10'000};
  // From the first byte of a request until its body is read completely; then
  // the connection is closed. Bounds a slow body.
  Duration request_timeout{30'000};
  // Time to write one response; a client that does not read is dropped.
  Duration write_timeout{5'000};
  // Idle time between requests before a kept-alive connection closes.
  Duration keep_alive_timeout{5'000};
  size_t keep_alive_max_requests = 10'000;  // requests per connection, then close
  // Open connections from one client address (IPv4 address or IPv6 address);
  // more are accepted and closed at once (503 on plain HTTP).
  size_t max_connections_per_address = 64;
  // Open connections in total; more are accepted and closed at once (503).
  size_t max_connections = 4096;
  // Bytes a stream may have waiting for a slow client; beyond it, closed.
  size_t max_stream_buffer_bytes = 1 << 20;
  int threads = 2;            // io threads (parsing, TLS, timers); not per connection
  int handler_threads = 16;   // handler pool: handlers may block briefly (fsync)
  int listen_backlog = 1024;  // pending connections the kernel queues (SOMAXCONN caps it)
};

struct HttpServerRequest {
  std::string method;
  std::string path;
  std::vector<std::string> path_params;                      // regex captures
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string remote_addr;
  // Set by the pre-body check when it lets the request through (e.g. the
  // name of the token that authenticated), so a handler need not run the
  // same check again; `pre_checked` says the check ran and passed.
  std::string principal;
  bool pre_checked = false;
  // When the request's header had been read (for latency metrics).
  std::chrono::steady_clock::time_point received;

  // First header / query parameter with that name (headers case-insensitive), or "".
  std::string Header(std::string_view name) const;
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

// Answers one request, from any thread, once: later calls are ignored. If
// every copy is dropped without answering, the client gets a 500 (a handler
// cannot leave a connection hanging). Copyable; cheap to move.
class HttpResponder {
 public:
  struct State;
  explicit HttpResponder(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void operator()(HttpServerResponse response) const;

 private:
  std::shared_ptr<State> state_;
};
// A handler that answers later, e.g. once a group fsync covers its writes,
// without holding a handler thread meanwhile. The request stays valid until
// the responder is called.
using HttpAsyncHandler = std::function<void(const HttpServerRequest&, HttpResponder)>;
// A response that stays open and is written piece by piece (server-sent
// events): see HttpServer::HandleStream. Copyable handle; the connection is
// owned by the server, so holding a stream holds no thread and no socket
// beyond the connection itself.
class HttpStream {
 public:
  struct State;
  explicit HttpStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  // Queues `bytes` for the client, from any thread, without blocking. False
  // once the stream is closed: the client left, a write failed or took longer
  // than write_timeout, more than max_stream_buffer_bytes waited, Close(), or
  // Stop(). A closed stream stays closed: drop it.
  bool Write(std::string bytes) const;
  // Closes the connection after what is queued has been written.
  void Close() const;
  bool closed() const;

 private:
  std::shared_ptr<State> state_;
};
// Runs on the handler pool. A response answers the request as usual (e.g. a
// refusal); nullopt starts the stream: "200", the route's content type and
// `Cache-Control: no-store` are sent, then whatever is written to the stream
// (writes made before returning are sent after the head), until either side
// closes. A streaming connection counts against the connection caps.
using HttpStreamHandler =
    std::function<std::optional<HttpServerResponse>(const HttpServerRequest&, HttpStream)>;

// Called with the request's method, path, path_params, query, headers and
// remote_addr (body empty) before any body byte is read. A response refuses
// the request: it is sent and the connection closed, the body never read.
// nullopt lets it through (the server then sets pre_checked); the check may
// set `principal` for the handler.
using HttpPreBodyCheck = std::function<std::optional<HttpServerResponse>(HttpServerRequest&)>;

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // method is "GET", "POST", "PUT", "DELETE". Register before Start().
  void Handle(std::string_view method, std::string pattern, HttpHandler handler);
  // The same, for a handler that answers through its responder.
  void HandleAsync(std::string_view method, std::string pattern, HttpAsyncHandler handler);
  // A streaming route (GET only), e.g. "text/event-stream". Before Start().
  void HandleStream(std::string pattern, std::string content_type, HttpStreamHandler handler);
  // The gate for routed requests (unrouted ones get 404 first). Before Start().
  void SetPreBodyCheck(HttpPreBodyCheck check);

  // Runs `bytes`, all that one client sent on a connection before closing
  // its side, through what a connection does (the parser, every cap, the
  // Content-Encoding and Transfer-Encoding refusals, routing, the pre-body
  // check, the body read, the handler, keep-alive), in the calling thread:
  // no socket, no thread, no deadline. The statuses answered, in order.
  // For the in-process fuzz target (fuzz/net/http_parse_fuzz.cc); the routes
  // and the check must be set; Start() is not needed.
  std::vector<int> ServeBytes(std::string_view bytes);

  // Loads TLS material, binds and starts serving on background threads.
  // Fails (and serves nothing) on a bad address, a busy port, bad TLS files or
  // a bad route pattern.
  Status Start();
  // The bound port (after Start()).
  int port() const { return port_; }
  bool tls() const;
  // Closes the listener and idle (or still-sending-headers) connections at
  // once; requests already being read or handled finish and get their answer,
  // then their connections close. Joins the threads.
  void Stop();

 private:
  struct Impl;
  HttpServerOptions options_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Splits "host:port" / "[v6]:port" (port required, 0..65535).
Result<std::pair<std::string, int>> SplitHostPort(std::string_view listen);

}  // namespace stopgap::net

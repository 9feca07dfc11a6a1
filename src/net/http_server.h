// HttpServer: a thin wrapper over cpp-httplib 0.11 for stopgap's daemons. It
// adds what a production listener needs and the library leaves to the caller:
// request body and header-time limits, keep-alive settings, TCP_NODELAY, an
// optional TLS certificate/key, a bounded connection thread pool, port 0, and
// handlers that never throw across the library (exceptions become 500s).
//
//   net::HttpServer http({.listen = "127.0.0.1:0"});
//   http.Handle("GET", "/healthz", [](const net::HttpServerRequest&) {
//     return net::HttpServerResponse{200, "text/plain", "ok\n"};
//   });
//   if (Status s = http.Start(); !s.ok()) return s;   // binds, then serves on a thread
//   int port = http.port();
//   ...
//   http.Stop();                                      // stops accepting, joins
//
// Patterns are ECMAScript regular expressions over the path; capture groups
// land in HttpServerRequest::path_params.
//
// Thread safety: register handlers before Start(). Handlers run concurrently
// on the connection threads and must be thread-safe. Stop() may be called from
// any thread (not from a handler); it is idempotent.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::net {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9470";  // "host:port"; port 0 picks a free port
  std::string tls_cert_file;              // both set: HTTPS
  std::string tls_key_file;
  size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  Duration read_timeout{5'000};     // per read of headers/body
  Duration write_timeout{5'000};
  Duration keep_alive_timeout{5'000};       // idle time before a kept-alive connection closes
  size_t keep_alive_max_requests = 10'000;  // requests per connection
  int threads = 32;           // connection threads (a kept-alive connection holds one)
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

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // method is "GET", "POST", "PUT", "DELETE". Register before Start().
  void Handle(std::string_view method, std::string pattern, HttpHandler handler);

  // Loads TLS material, binds and starts serving on a background thread.
  // Fails (and serves nothing) on a bad address, a busy port, or bad TLS files.
  Status Start();
  // The bound port (after Start()).
  int port() const { return port_; }
  bool tls() const;
  // Stops accepting; in-flight requests finish; kept-alive connections close
  // after their current request. Joins the serving thread.
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

// libFuzzer target: the HTTP front door (net::HttpServer) in process. The
// bytes are what one client sent on a connection before closing its side;
// HttpServer::ServeBytes runs them through what a served connection does
// (Beast's parser, the header and body caps, the Content-Encoding and
// Transfer-Encoding refusals, routing, the pre-body check, the body read,
// handlers, keep-alive and pipelining) without a socket, a thread or a
// timer, so it runs at parser speed. The loopback target (http_request)
// drives the same code through a real socket, with the deadlines.
// Invariants: every answer has a status the server may send; a refusal is the
// connection's last answer; the pre-body check never sees a body; a handler
// never sees a body over the cap, a coded (Content-Encoding) body, a
// Transfer-Encoding other than chunked, or a request the check refused; each
// 200 is one handler call.
#include <strings.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_server.h"

namespace {

using stopgap::net::HttpServer;
using stopgap::net::HttpServerRequest;
using stopgap::net::HttpServerResponse;

constexpr size_t kMaxBody = 4096;
size_t handled = 0;  // handler calls for the current input

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

HttpServer& Server() {
  static std::unique_ptr<HttpServer> server = [] {
    stopgap::net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.max_body_bytes = kMaxBody;
    o.max_header_bytes = 2048;
    o.max_header_count = 20;
    o.keep_alive_max_requests = 8;
    auto s = std::make_unique<HttpServer>(o);
    auto echo = [](const HttpServerRequest& r) {
      ++handled;
      if (r.body.size() > kMaxBody) Fail("a handler saw a body over the cap");
      if (!r.Header("X-Deny").empty()) Fail("a request the pre-body check refuses was handled");
      if (!r.body.empty() && !r.Header("Content-Encoding").empty()) {
        Fail("a handler saw a Content-Encoding body");
      }
      std::string te = r.Header("Transfer-Encoding");
      if (!te.empty() && strcasecmp(te.c_str(), "chunked") != 0) {
        Fail("a handler saw a Transfer-Encoding other than chunked");
      }
      return HttpServerResponse{200, "text/plain", std::to_string(r.body.size()) + "\n", {}};
    };
    s->Handle("GET", "/healthz", echo);
    s->Handle("POST", "/api/v1/alerts", echo);
    s->Handle("PUT", "/api/v1/silences/([a-z0-9-]+)", echo);
    s->Handle("GET", "/api/v1/executions/([0-9]+)", echo);
    s->SetPreBodyCheck([](const HttpServerRequest& r) -> std::optional<HttpServerResponse> {
      if (!r.body.empty()) Fail("the pre-body check saw a body");
      if (!r.Header("X-Deny").empty()) {
        return HttpServerResponse{401, "application/json", "{}\n", {}};
      }
      return std::nullopt;
    });
    return s;
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  handled = 0;
  std::vector<int> statuses =
      Server().ServeBytes(std::string_view(reinterpret_cast<const char*>(data), size));
  size_t ok = 0;
  for (size_t i = 0; i < statuses.size(); ++i) {
    switch (statuses[i]) {
      case 200:
        ++ok;
        break;
      case 100:
      case 404:
        break;
      case 400:
      case 401:
      case 413:
      case 415:
      case 431:
        if (i + 1 != statuses.size()) Fail("an answer followed a refusal");
        break;
      default:
        std::fprintf(stderr, "unexpected status %d\n", statuses[i]);
        std::abort();
    }
  }
  if (ok != handled) Fail("200s and handler calls differ");
  return 0;
}

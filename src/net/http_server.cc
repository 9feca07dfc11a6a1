// HttpServer over cpp-httplib: option mapping, TLS setup, handler adaptation
// (library types stay in this file), and the serving thread.
//
// Threading: httplib runs each connection on a thread of its ThreadPool; the
// listen loop runs on serve_thread. Stop() closes the listening socket and joins.
#include "net/http_server.h"

#include <httplib.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <thread>

#include "core/log.h"

namespace stopgap::net {

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> server;
  std::thread serve_thread;
  struct Route {
    std::string method, pattern;
    HttpHandler handler;
  };
  std::vector<Route> routes;
  bool started = false;
};

namespace {

HttpServerRequest Convert(const httplib::Request& in) {
  HttpServerRequest out;
  out.method = in.method;
  out.path = in.path;
  for (size_t i = 1; i < in.matches.size(); ++i) out.path_params.push_back(in.matches[i].str());
  for (const auto& [k, v] : in.params) out.query.emplace_back(k, v);
  for (const auto& [k, v] : in.headers) out.headers.emplace_back(k, v);
  out.body = in.body;
  out.remote_addr = in.remote_addr;
  return out;
}

void Apply(const HttpServerResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [k, v] : in.headers) out.set_header(k, v);
  out.set_content(in.body, in.content_type);
}

httplib::Server::Handler Adapt(HttpHandler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    HttpServerResponse r;
    try {
      r = handler(Convert(req));
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "http handler threw", {{"path", req.path}, {"error", e.what()}});
      r = {500,
           "application/json",
           R"({"error":"internal error"})"
           "\n",
           {}};
    }
    Apply(r, res);
  };
}

}  // namespace

std::string HttpServerRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

std::string HttpServerRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}

bool HttpServerRequest::HasQuery(std::string_view name) const {
  for (const auto& kv : query) {
    if (kv.first == name) return true;
  }
  return false;
}

Result<std::pair<std::string, int>> SplitHostPort(std::string_view listen) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("listen address '" + std::string(listen) + "': " + std::string(why));
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return bad("expected host:port");
  std::string_view host = listen.substr(0, colon);
  std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 hosts need brackets: [::1]:9470");
  }
  if (host.empty()) return bad("missing host");
  int port = -1;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return bad("port must be 0..65535");
  }
  return std::make_pair(std::string(host), port);
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string_view method, std::string pattern, HttpHandler handler) {
  impl_->routes.push_back({std::string(method), std::move(pattern), std::move(handler)});
}

bool HttpServer::tls() const {
  return !options_.tls_cert_file.empty() && !options_.tls_key_file.empty();
}

Status HttpServer::Start() {
  if (impl_->started) return FailedPrecondition("http server already started");
  auto hp = SplitHostPort(options_.listen);
  if (!hp.ok()) return hp.status();
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate and a key file");
  }
  if (tls()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return InvalidArgument("cannot load TLS certificate '" + options_.tls_cert_file +
                             "' / key '" + options_.tls_key_file + "'");
    }
    impl_->server = std::move(ssl);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& s = *impl_->server;
  int threads = options_.threads > 0 ? options_.threads : 1;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options_.max_body_bytes);
  auto usec = [](Duration d) { return std::chrono::microseconds(d); };
  s.set_read_timeout(usec(options_.read_timeout));
  s.set_write_timeout(usec(options_.write_timeout));
  s.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.keep_alive_timeout).count()));
  s.set_keep_alive_max_count(options_.keep_alive_max_requests);
  s.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second daemon
  // bind the same port and silently take half the alerts: SO_REUSEADDR only.
  // The callback also remembers the listening socket: see the listen() below.
  int listen_fd = -1;
  s.set_socket_options([&listen_fd](socket_t fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = fd;
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"error":"internal error"})"
                        "\n",
                        "application/json");
      });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string reason = res.status == 404   ? "not found"
                         : res.status == 413 ? "request body too large"
                         : res.status == 400 ? "bad request"
                                             : "error";
    res.set_content("{\"error\":\"" + reason + "\"}\n", "application/json");
  });
  for (auto& r : impl_->routes) {
    auto h = Adapt(r.handler);
    if (r.method == "GET") {
      s.Get(r.pattern, h);
    } else if (r.method == "POST") {
      s.Post(r.pattern, h);
    } else if (r.method == "PUT") {
      s.Put(r.pattern, h);
    } else if (r.method == "DELETE") {
      s.Delete(r.pattern, h);
    } else {
      return InvalidArgument("unsupported HTTP method " + r.method);
    }
  }
  const auto& [host, port] = *hp;
  if (port == 0) {
    port_ = s.bind_to_any_port(host);
    if (port_ < 0) return Unavailable("cannot bind " + options_.listen);
  } else {
    if (!s.bind_to_port(host, port)) {
      return Unavailable("cannot bind " + options_.listen + " (address in use or not local?)");
    }
    port_ = port;
  }
  // cpp-httplib 0.11 listens with a compiled-in backlog of 5: a burst of
  // connects (Alertmanager opening several at once) overflows it and the
  // client waits a whole SYN retransmit (1 s). listen() on a listening socket
  // only raises its backlog on Linux.
  if (listen_fd >= 0 && ::listen(listen_fd, options_.listen_backlog) != 0) {
    return ErrnoStatus("listen " + options_.listen, errno);
  }
  s.set_socket_options([](socket_t) {});  // listen_fd goes out of scope
  impl_->started = true;
  impl_->serve_thread = std::thread([&s] { s.listen_after_bind(); });
  // stop() is a no-op until the listen loop runs: wait for it (bounded).
  for (int i = 0; i < 5000 && !s.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->started) return;
  impl_->server->stop();
  if (impl_->serve_thread.joinable()) impl_->serve_thread.join();
  impl_->started = false;
}

}  // namespace stopgap::net

// Tests for net::HttpServer against a real loopback socket (port 0), with
// cpp-httplib's client as the peer (routing, limits, keep-alive, errors, TLS)
// and raw sockets as the hostile one (chunked and encoded bodies, the pre-body
// gate, header caps, slowloris, connection caps, Stop() with idle clients).
#include "net/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stopgap::net {
namespace {

HttpServerOptions Local() {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 4;
  return o;
}

TEST(SplitHostPortTest, ParsesAndRejects) {
  auto a = SplitHostPort("127.0.0.1:9470");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 9470);
  auto b = SplitHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  EXPECT_FALSE(SplitHostPort("127.0.0.1").ok());
  EXPECT_FALSE(SplitHostPort("127.0.0.1:70000").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
  EXPECT_FALSE(SplitHostPort("::1:80").ok());
  EXPECT_FALSE(SplitHostPort("h:8x").ok());
}

TEST(HttpServerTest, RoutesWithParamsQueryHeadersAndBody) {
  HttpServer http(Local());
  http.Handle("POST", R"(/items/([a-z0-9-]+)/run)", [](const HttpServerRequest& r) {
    HttpServerResponse out;
    out.status = 202;
    out.body =
        r.path_params.at(0) + "|" + r.Query("limit") + "|" + r.Header("x-TOKEN") + "|" + r.body;
    out.headers.emplace_back("Retry-After", "3");
    return out;
  });
  ASSERT_TRUE(http.Start().ok());
  ASSERT_GT(http.port(), 0);
  httplib::Client c("127.0.0.1", http.port());
  auto res = c.Post("/items/ab-1/run?limit=5", {{"X-Token", "t"}}, "hello", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  EXPECT_EQ(res->body, "ab-1|5|t|hello");
  EXPECT_EQ(res->get_header_value("Retry-After"), "3");
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
}

TEST(HttpServerTest, UnknownPathIs404WithJsonBody) {
  HttpServer http(Local());
  http.Handle("GET", "/healthz", [](const HttpServerRequest&) {
    return HttpServerResponse{200, "text/plain", "ok\n", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  auto res = c.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("not found"), std::string::npos);
  auto ok = c.Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "ok\n");
}

TEST(HttpServerTest, BodyOverLimitIs413AndHandlerNotCalled) {
  HttpServerOptions o = Local();
  o.max_body_bytes = 1000;
  HttpServer http(o);
  std::atomic<int> calls{0};
  http.Handle("POST", "/in", [&](const HttpServerRequest&) {
    ++calls;
    return HttpServerResponse{};
  });
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  auto big = c.Post("/in", std::string(5000, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto small = c.Post("/in", std::string(10, 'x'), "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  HttpServer http(Local());
  http.Handle("GET", "/boom", [](const HttpServerRequest&) -> HttpServerResponse {
    throw std::runtime_error("x");
  });
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  auto res = c.Get("/boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
}

TEST(HttpServerTest, KeepAliveReusesOneConnection) {
  HttpServer http(Local());
  std::mutex mu;
  std::set<std::string> peers;
  http.Handle("GET", "/who", [&](const HttpServerRequest& r) {
    std::lock_guard<std::mutex> l(mu);
    peers.insert(r.remote_addr);
    return HttpServerResponse{200, "text/plain", "x", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  c.set_keep_alive(true);
  int local_ports = 0;
  std::set<int> ports;
  c.set_socket_options([&](int fd) { ++local_ports; });
  for (int i = 0; i < 50; ++i) {
    auto res = c.Get("/who");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
  }
  EXPECT_EQ(local_ports, 1) << "50 requests should share one kept-alive connection";
}

TEST(HttpServerTest, BusyPortFailsToStart) {
  HttpServer a(Local());
  ASSERT_TRUE(a.Start().ok());
  HttpServerOptions o = Local();
  o.listen = "127.0.0.1:" + std::to_string(a.port());
  HttpServer b(o);
  Status s = b.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(a.port())), std::string::npos);
}

TEST(HttpServerTest, StopIsIdempotentAndRefusesNewConnections) {
  HttpServer http(Local());
  http.Handle("GET", "/x", [](const HttpServerRequest&) { return HttpServerResponse{}; });
  ASSERT_TRUE(http.Start().ok());
  int port = http.port();
  http.Stop();
  http.Stop();
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  EXPECT_FALSE(c.Get("/x"));
}

// A self-signed certificate for 127.0.0.1, written to temp files.
struct TempCert {
  std::string dir, cert, key;
  TempCert() {
    char tmpl[] = "/tmp/stopgap-tls-XXXXXX";
    dir = mkdtemp(tmpl);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    EVP_PKEY* pkey = EVP_RSA_gen(2048);
    X509* x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
  ~TempCert() { std::filesystem::remove_all(dir); }
};

TEST(HttpServerTest, ServesHttpsWithCertAndKey) {
  TempCert tc;
  HttpServerOptions o = Local();
  o.tls_cert_file = tc.cert;
  o.tls_key_file = tc.key;
  HttpServer http(o);
  http.Handle("GET", "/healthz", [](const HttpServerRequest&) {
    return HttpServerResponse{200, "text/plain", "ok\n", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  EXPECT_TRUE(http.tls());
  httplib::SSLClient c("127.0.0.1", http.port());
  c.enable_server_certificate_verification(false);
  auto res = c.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "ok\n");
  httplib::Client plain("127.0.0.1", http.port());
  plain.set_read_timeout(2, 0);
  auto bad = plain.Get("/healthz");
  EXPECT_TRUE(!bad || bad->status != 200);
}

TEST(HttpServerTest, BadTlsFilesFailToStart) {
  HttpServerOptions o = Local();
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  HttpServer http(o);
  EXPECT_FALSE(http.Start().ok());
  HttpServerOptions half = Local();
  half.tls_cert_file = "/x";
  HttpServer h2(half);
  EXPECT_FALSE(h2.Start().ok());
}

// ---- Hostile clients over raw sockets ----

using SteadyClock = std::chrono::steady_clock;

// A blocking TCP connection to 127.0.0.1:port, from source address `from`.
int Connect(int port, const char* from = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, from, &src.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads one response (headers, then Content-Length bytes) within timeout_ms.
// "" on timeout or a close before any byte; "CLOSED" kept out of the text.
std::string ReadResponse(int fd, int timeout_ms) {
  std::string in;
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (SteadyClock::now() < deadline) {
    size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = in.find("Content-Length: ");
      size_t want = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= end + 4 + want) return in;
    }
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
            .count());
    if (poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return in;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

// True once the server has closed fd (EOF or reset) within timeout_ms; bytes
// that arrive first are skipped.
bool ClosedWithin(int fd, int timeout_ms) {
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (SteadyClock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    if (recv(fd, buf, sizeof buf, 0) <= 0) return true;
  }
  return false;
}

// Sends `head`, then a chunked body of up to `total` bytes in 64 KiB chunks,
// while watching for an early answer. Stops at the answer, an error or
// total; returns the answer ("" if none) and how many body bytes left.
struct Pumped {
  std::string response;
  size_t body_sent = 0;
};
Pumped PumpChunked(int fd, const std::string& head, size_t total, int timeout_ms) {
  Pumped out;
  EXPECT_TRUE(SendAll(fd, head));
  std::string chunk = "10000\r\n" + std::string(1 << 16, 'a') + "\r\n";
  std::string_view pending;
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  bool send_open = true;
  while (SteadyClock::now() < deadline) {
    if (send_open && pending.empty() && out.body_sent < total) pending = chunk;
    pollfd p{fd, static_cast<short>(POLLIN | (send_open && !pending.empty() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 50) <= 0) continue;
    if (p.revents & POLLIN) {
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.response.append(buf, static_cast<size_t>(n));
      if (out.response.find("\r\n\r\n") != std::string::npos) break;
      continue;
    }
    if (p.revents & (POLLERR | POLLHUP)) send_open = false;
    if (p.revents & POLLOUT) {
      ssize_t n = send(fd, pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) {
        send_open = false;
        continue;
      }
      pending.remove_prefix(static_cast<size_t>(n));
      if (pending.empty()) out.body_sent += 1 << 16;
    }
  }
  if (out.response.find("\r\n\r\n") == std::string::npos) {
    out.response += ReadResponse(fd, 1000);
  }
  return out;
}

TEST(HttpServerHostileTest, ChunkedBodyOverCapIs413WithoutReadingOn) {
  HttpServerOptions o = Local();
  o.max_body_bytes = 64 << 10;
  HttpServer http(o);
  std::atomic<int> calls{0};
  http.Handle("POST", "/in", [&](const HttpServerRequest&) {
    ++calls;
    return HttpServerResponse{};
  });
  ASSERT_TRUE(http.Start().ok());
  int fd = Connect(http.port());
  ASSERT_GE(fd, 0);
  Pumped p = PumpChunked(fd, "POST /in HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                         64 << 20, 20'000);
  close(fd);
  EXPECT_EQ(StatusOf(p.response), 413) << p.response;
  EXPECT_EQ(calls.load(), 0);
  // The server stopped reading at the cap: only what loopback buffers hold
  // got out of the client, not the 64 MiB.
  EXPECT_LT(p.body_sent, size_t{16} << 20);
}

TEST(HttpServerHostileTest, ContentEncodingIs415BeforeTheBody) {
  HttpServer http(Local());
  std::atomic<int> calls{0};
  http.Handle("POST", "/in", [&](const HttpServerRequest&) {
    ++calls;
    return HttpServerResponse{};
  });
  ASSERT_TRUE(http.Start().ok());
  int fd = Connect(http.port());
  ASSERT_GE(fd, 0);
  // Headers only: the answer must come without the 65,536 body bytes.
  ASSERT_TRUE(SendAll(fd,
                      "POST /in HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
                      "Content-Length: 65536\r\n\r\n"));
  std::string r = ReadResponse(fd, 2000);
  close(fd);
  EXPECT_EQ(StatusOf(r), 415) << r;
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerHostileTest, PreBodyGateRefusesWhileTheBodyIsStillComing) {
  HttpServerOptions o = Local();
  o.max_body_bytes = 32 << 20;
  HttpServer http(o);
  std::atomic<int> calls{0}, gate_calls{0};
  std::mutex mu;
  HttpServerRequest seen;
  http.Handle("POST", R"(/api/([a-z]+))", [&](const HttpServerRequest& r) {
    ++calls;
    return HttpServerResponse{202, "text/plain", std::to_string(r.body.size()), {}};
  });
  http.SetPreBodyCheck([&](const HttpServerRequest& r) -> std::optional<HttpServerResponse> {
    ++gate_calls;
    {
      std::lock_guard<std::mutex> l(mu);
      seen = r;
    }
    if (r.Header("Authorization") != "Bearer good") {
      return HttpServerResponse{401, "application/json", "{\"error\":\"unauthorized\"}\n", {}};
    }
    return std::nullopt;
  });
  ASSERT_TRUE(http.Start().ok());

  int fd = Connect(http.port());
  ASSERT_GE(fd, 0);
  Pumped p = PumpChunked(fd,
                         "POST /api/alerts?x=1 HTTP/1.1\r\nHost: t\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
                         size_t{256} << 20, 20'000);
  close(fd);
  EXPECT_EQ(StatusOf(p.response), 401) << p.response;
  EXPECT_EQ(calls.load(), 0);
  // Refused while still sending: far less than the cap left the client.
  EXPECT_LT(p.body_sent, o.max_body_bytes / 2);
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/api/alerts");
    ASSERT_EQ(seen.path_params.size(), 1u);
    EXPECT_EQ(seen.path_params[0], "alerts");
    EXPECT_EQ(seen.Query("x"), "1");
    EXPECT_EQ(seen.remote_addr, "127.0.0.1");
    EXPECT_TRUE(seen.body.empty());
  }

  // With the token the body is read and handled; unknown paths are 404
  // without asking the gate.
  httplib::Client c("127.0.0.1", http.port());
  auto ok = c.Post("/api/alerts", {{"Authorization", "Bearer good"}}, std::string(5000, 'x'),
                   "text/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
  EXPECT_EQ(ok->body, "5000");
  int before = gate_calls.load();
  auto missing = c.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(gate_calls.load(), before);
}

TEST(HttpServerHostileTest, HeaderCountAndSizeCapsAre431) {
  HttpServer http(Local());  // defaults: 100 fields, 16 KiB
  std::atomic<int> calls{0};
  http.Handle("GET", "/x", [&](const HttpServerRequest&) {
    ++calls;
    return HttpServerResponse{};
  });
  ASSERT_TRUE(http.Start().ok());
  std::string many = "GET /x HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 150; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  int a = Connect(http.port());
  ASSERT_TRUE(SendAll(a, many));
  std::string ra = ReadResponse(a, 2000);
  close(a);
  EXPECT_EQ(StatusOf(ra), 431) << ra;

  int b = Connect(http.port());
  // The server may answer (and close) before all 20 KiB are sent.
  (void)SendAll(b,
                "GET /x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20 << 10, 'b') + "\r\n\r\n");
  std::string rb = ReadResponse(b, 2000);
  close(b);
  EXPECT_EQ(StatusOf(rb), 431) << rb;
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerHostileTest, HeaderDeadlineClosesSlowlorisAndOthersAreServed) {
  HttpServerOptions o = Local();
  o.threads = 1;
  o.header_timeout = std::chrono::milliseconds(500);
  HttpServer http(o);
  http.Handle("GET", "/healthz", [](const HttpServerRequest&) {
    return HttpServerResponse{200, "text/plain", "ok\n", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    int fd = Connect(http.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /healthz HTTP/1.1\r\n"));
    slow.push_back(fd);
  }
  // While they trickle, a normal client is answered at once.
  auto t0 = SteadyClock::now();
  int fast = Connect(http.port());
  ASSERT_TRUE(SendAll(fast, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(StatusOf(ReadResponse(fast, 2000)), 200);
  EXPECT_LT(SteadyClock::now() - t0, std::chrono::milliseconds(300));
  close(fast);
  // One header line every 100 ms never completes: closed by the deadline.
  bool closed = false;
  t0 = SteadyClock::now();
  for (int i = 0; i < 50 && !closed; ++i) {
    for (int fd : slow) {
      if (!SendAll(fd, "X-Slow-" + std::to_string(i) + ": 1\r\n")) closed = true;
    }
    if (ClosedWithin(slow[0], 100)) closed = true;
  }
  auto took = SteadyClock::now() - t0;
  EXPECT_TRUE(closed);
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  for (int fd : slow) {
    EXPECT_TRUE(ClosedWithin(fd, 1000));
    close(fd);
  }
}

TEST(HttpServerHostileTest, ConnectionsPerAddressAreCapped) {
  HttpServerOptions o = Local();
  o.max_connections_per_address = 4;
  HttpServer http(o);
  http.Handle("GET", "/healthz", [](const HttpServerRequest&) {
    return HttpServerResponse{200, "text/plain", "ok\n", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(Connect(http.port()));
  for (int fd : held) ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all accepted
  int fifth = Connect(http.port());
  ASSERT_GE(fifth, 0);
  std::string r = ReadResponse(fifth, 2000);
  EXPECT_EQ(StatusOf(r), 503) << r;
  EXPECT_TRUE(ClosedWithin(fifth, 1000));
  close(fifth);
  // Another address is not starved.
  int other = Connect(http.port(), "127.0.0.2");
  ASSERT_GE(other, 0);
  ASSERT_TRUE(SendAll(other, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(StatusOf(ReadResponse(other, 2000)), 200);
  close(other);
  // A slot freed is a slot again.
  close(held.back());
  held.pop_back();
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int fd = Connect(http.port());
    if (SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")) {
      status = StatusOf(ReadResponse(fd, 1000));
    }
    close(fd);
  }
  EXPECT_EQ(status, 200);
  for (int fd : held) close(fd);
}

TEST(HttpServerHostileTest, StopWithIdleKeptAliveConnectionsIsPrompt) {
  HttpServerOptions o = Local();
  o.keep_alive_timeout = std::chrono::seconds(30);
  HttpServer http(o);
  http.Handle("GET", "/healthz", [](const HttpServerRequest&) {
    return HttpServerResponse{200, "text/plain", "ok\n", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) {
    int fd = Connect(http.port());
    ASSERT_TRUE(SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(StatusOf(ReadResponse(fd, 2000)), 200);
    idle.push_back(fd);
  }
  int half = Connect(http.port());  // and one still sending its headers
  ASSERT_TRUE(SendAll(half, "GET /healthz HTTP/1.1\r\n"));
  auto t0 = SteadyClock::now();
  http.Stop();
  EXPECT_LT(SteadyClock::now() - t0, std::chrono::milliseconds(1000));
  for (int fd : idle) {
    EXPECT_TRUE(ClosedWithin(fd, 500));
    close(fd);
  }
  close(half);
}

TEST(HttpServerHostileTest, StopLetsAnInFlightRequestFinish) {
  HttpServer http(Local());
  std::atomic<bool> entered{false};
  http.Handle("GET", "/slow", [&](const HttpServerRequest&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return HttpServerResponse{200, "text/plain", "done", {}};
  });
  ASSERT_TRUE(http.Start().ok());
  int fd = Connect(http.port());
  ASSERT_TRUE(SendAll(fd, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (int i = 0; i < 200 && !entered; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread stopper([&] { http.Stop(); });
  std::string r = ReadResponse(fd, 3000);
  stopper.join();
  close(fd);
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
}

TEST(HttpServerHostileTest, ExpectContinueGetsContinueThenTheAnswer) {
  HttpServer http(Local());
  http.Handle("POST", "/in", [](const HttpServerRequest& r) {
    return HttpServerResponse{200, "text/plain", r.body, {}};
  });
  ASSERT_TRUE(http.Start().ok());
  int fd = Connect(http.port());
  ASSERT_TRUE(SendAll(fd,
                      "POST /in HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                      "Content-Length: 5\r\n\r\n"));
  std::string cont = ReadResponse(fd, 2000);
  EXPECT_EQ(cont.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << cont;
  ASSERT_TRUE(SendAll(fd, "hello"));
  std::string r = ReadResponse(fd, 2000);
  close(fd);
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_EQ(r.substr(r.size() - 5), "hello");
}

}  // namespace
}  // namespace stopgap::net

namespace stopgap::net {
namespace {

// Every status line a connection answered with (after the client sent all
// of `bytes` and closed its side), in order.
std::vector<int> StatusesOverSocket(int port, std::string_view bytes) {
  int fd = Connect(port);
  EXPECT_GE(fd, 0);
  SendAll(fd, bytes);
  shutdown(fd, SHUT_WR);
  std::string in;
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  std::vector<int> out;
  for (size_t at = in.find("HTTP/1.1 "); at != std::string::npos;
       at = in.find("HTTP/1.1 ", at + 1)) {
    out.push_back(std::stoi(in.substr(at + 9, 3)));
  }
  return out;
}

// ServeBytes (the in-process fuzz target's driver) answers what a real
// connection answers, for the fuzz seeds' kinds of input.
TEST(HttpServerServeBytesTest, AnswersAsAConnectionDoes) {
  auto make = [] {
    HttpServerOptions o = Local();
    o.max_body_bytes = 16;
    o.max_header_count = 5;
    o.keep_alive_max_requests = 3;
    auto s = std::make_unique<HttpServer>(o);
    auto echo = [](const HttpServerRequest& r) {
      return HttpServerResponse{r.body == "boom" ? 500 : 200, "text/plain", r.body, {}};
    };
    s->Handle("GET", "/healthz", echo);
    s->Handle("POST", "/in", echo);
    s->Handle("GET", "/items/([0-9]+)", echo);
    s->SetPreBodyCheck([](const HttpServerRequest& r) -> std::optional<HttpServerResponse> {
      if (!r.Header("X-Deny").empty()) return HttpServerResponse{401, "text/plain", "no", {}};
      return std::nullopt;
    });
    return s;
  };
  auto served = make();
  ASSERT_TRUE(served->Start().ok());
  auto local = make();
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<std::pair<std::string, std::vector<int>>> cases = {
      {get, {200}},
      {get + get + "GET /items/7?x=%41 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get,
       {200, 200, 200}},
      {get + get + get + get, {200, 200, 200}},  // keep_alive_max_requests
      {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + get, {404, 200}},
      {"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab" + get, {404}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get, {200, 200}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nboom", {500}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       {200}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n10\r\n0123456789abcdef\r\n"
       "1\r\nx\r\n0\r\n\r\n",
       {413}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", {413}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nzz",
       {415}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", {415}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\nContent-Length: 2\r\n\r\nab", {401}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
       {100, 200}},
      {"GET /healthz HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n", {431}},
      {"GET /healthz HTTP/1.1\r\nHost: " + std::string(20 << 10, 'h') + "\r\n\r\n", {431}},
      {"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", {}},  // FIN mid-body
      {"GET /healthz HTTP/1.1\r\nHost: x\r\n", {}},                          // FIN mid-header
      {"\x01\x02 garbage\r\n\r\n", {400}},
  };
  for (const auto& [bytes, want] : cases) {
    SCOPED_TRACE(bytes.substr(0, 80));
    EXPECT_EQ(StatusesOverSocket(served->port(), bytes), want);
    EXPECT_EQ(local->ServeBytes(bytes), want);
  }
  served->Stop();
}

TEST(HttpServerAsyncTest, AnswersFromAnotherThreadLaterAndDroppedResponderIs500) {
  HttpServer http(Local());
  std::vector<std::thread> later;
  std::mutex mu;
  http.HandleAsync("POST", "/later", [&](const HttpServerRequest& r, HttpResponder respond) {
    std::string body = r.body;  // the request is valid until the answer
    std::lock_guard<std::mutex> l(mu);
    later.emplace_back([respond, body] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      respond({202, "text/plain", "done " + body, {}});
      respond({500, "text/plain", "a second answer is ignored", {}});
    });
  });
  http.HandleAsync("GET", "/dropped", [](const HttpServerRequest&, HttpResponder) {});
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  auto r = c.Post("/later", "x1", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->body, "done x1");
  auto d = c.Get("/dropped");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 500) << "a handler that never answers must not hang the client";
  http.Stop();
  std::lock_guard<std::mutex> l(mu);
  for (auto& t : later) t.join();
}

// A handler sees what the pre-body check set (pre_checked, principal), so it
// need not run the same check again; a request the check refuses never
// reaches it.
TEST(HttpServerAsyncTest, HandlerSeesThePreBodyVerdict) {
  HttpServer http(Local());
  std::atomic<int> calls{0};
  http.HandleAsync("POST", "/inline", [&](const HttpServerRequest& r, HttpResponder respond) {
    ++calls;
    respond({202,
             "text/plain",
             r.body + " as " + r.principal + (r.pre_checked ? " checked" : " unchecked"),
             {}});
  });
  http.SetPreBodyCheck([](HttpServerRequest& r) -> std::optional<HttpServerResponse> {
    if (r.Header("Authorization") != "Bearer good") {
      return HttpServerResponse{401, "application/json", "{\"error\":\"unauthorized\"}\n", {}};
    }
    r.principal = "alice";
    return std::nullopt;
  });
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  c.set_read_timeout(5, 0);
  auto r = c.Post("/inline", {{"Authorization", "Bearer good"}}, "x1", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->body, "x1 as alice checked");
  auto refused = c.Post("/inline", {{"Authorization", "Bearer bad"}}, "x2", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(calls.load(), 1);
  http.Stop();
}

TEST(HttpServerRoutingTest, LiteralAndPrefixedRoutesMatchLikeTheirRegex) {
  HttpServer http(Local());
  auto named = [](std::string name) {
    return [name](const HttpServerRequest& r) {
      std::string p = name;
      for (const auto& s : r.path_params) p += ":" + s;
      return HttpServerResponse{200, "text/plain", p, {}};
    };
  };
  http.Handle("GET", "/a/b", named("literal"));
  http.Handle("GET", "/opt/?", named("optional-slash"));
  http.Handle("GET", "/n([0-9]+)", named("num"));
  http.Handle("GET", "/x|/y", named("alternation"));
  http.Handle("GET", "/a/b.c", named("dot"));
  ASSERT_TRUE(http.Start().ok());
  httplib::Client c("127.0.0.1", http.port());
  auto body = [&](const char* path) {
    auto r = c.Get(path);
    return r ? std::to_string(r->status) + " " + r->body : std::string("no answer");
  };
  EXPECT_EQ(body("/a/b"), "200 literal");
  EXPECT_EQ(body("/opt"), "200 optional-slash") << "`?` makes the byte before it optional";
  EXPECT_EQ(body("/opt/"), "200 optional-slash");
  EXPECT_EQ(body("/n42"), "200 num:42");
  EXPECT_EQ(body("/y"), "200 alternation") << "no prefix may be assumed across `|`";
  EXPECT_EQ(body("/a/bxc"), "200 dot");
  EXPECT_EQ(body("/a/bc").substr(0, 3), "404");
  EXPECT_EQ(body("/a/b/").substr(0, 3), "404");
}

}  // namespace
}  // namespace stopgap::net

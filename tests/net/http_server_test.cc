// Tests for net::HttpServer against a real loopback socket (port 0), with
// cpp-httplib's client as the peer: routing, limits, keep-alive, errors, TLS.
#include "net/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>

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

}  // namespace
}  // namespace stopgap::net

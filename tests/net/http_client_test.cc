// Tests for HttpClient against a real in-process HTTP server (cpp-httplib on
// 127.0.0.1, port 0): bodies both ways, headers, retries on 5xx (not 4xx),
// streaming a file range with an observer, streaming into a sink, reuse.
#include "net/http_client.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

namespace stopgap::net {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Reply", "yes");
      res.set_content("hi " + req.get_header_value("X-Name"), "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.body, "application/json");
    });
    server_.Put("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
      if (++flaky_calls_ < 3) {
        res.status = 503;
        return;
      }
      res.set_content("ok", "text/plain");
    });
    server_.Get("/missing", [this](const httplib::Request&, httplib::Response& res) {
      ++missing_calls_;
      res.status = 404;
      res.set_content("nope", "text/plain");
    });
    server_.Get("/always500", [this](const httplib::Request&, httplib::Response& res) {
      ++fail_calls_;
      res.status = 500;
    });
    server_.Get("/throttled", [this](const httplib::Request&, httplib::Response& res) {
      if (++throttled_calls_ < 2) {
        res.status = 429;
        res.set_header("Retry-After", throttle_after_);
        return;
      }
      res.set_content("ok", "text/plain");
    });
    server_.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3u << 20, 'x'), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  HttpClientOptions FastRetries() {
    HttpClientOptions o;
    o.sleep = [this](Duration d) { sleeps_.push_back(d); };
    return o;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> flaky_calls_{0}, missing_calls_{0}, fail_calls_{0}, throttled_calls_{0};
  std::string throttle_after_ = "3";
  std::vector<Duration> sleeps_;
};

TEST_F(HttpClientTest, GetSendsHeadersAndReadsResponseHeaders) {
  HttpClient http(FastRetries());
  Result<HttpResponse> r = http.Get(Url("/hello"), {{"X-Name", "bob"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi bob");
  EXPECT_EQ(r->Header("x-reply"), "yes");
  EXPECT_EQ(r->Header("X-REPLY"), "yes");
  EXPECT_EQ(r->Header("absent"), "");
}

TEST_F(HttpClientTest, PostAndPutCarryBodies) {
  HttpClient http(FastRetries());
  Result<HttpResponse> p =
      http.Post(Url("/echo"), R"({"a":1})", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 201);
  EXPECT_EQ(p->body, R"({"a":1})");
  Result<HttpResponse> u = http.Put(Url("/echo"), "put-body");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->body, "put-body");
}

TEST_F(HttpClientTest, RetriesServerErrorsWithGrowingBackoff) {
  HttpClient http(FastRetries());
  Result<HttpResponse> r = http.Get(Url("/flaky"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 3);
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_GE(sleeps_[0].count(), 100);
  EXPECT_LE(sleeps_[0].count(), 200);
  EXPECT_GE(sleeps_[1].count(), 200);
  EXPECT_LE(sleeps_[1].count(), 400);
}

TEST_F(HttpClientTest, NeverRetriesClientErrors) {
  HttpClient http(FastRetries());
  Result<HttpResponse> r = http.Get(Url("/missing"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "nope");
  EXPECT_EQ(missing_calls_.load(), 1);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(HttpClientTest, A429IsTheCallersUnlessRetryThrottled) {
  HttpClient plain(FastRetries());
  Result<HttpResponse> r = plain.Get(Url("/throttled"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);  // the tracker paces itself on these
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(HttpClientTest, RetryThrottledWaitsTheRetryAfter) {
  HttpClientOptions o = FastRetries();
  o.retry_throttled = true;
  HttpClient http(o);
  Result<HttpResponse> r = http.Get(Url("/throttled"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 2);
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_EQ(sleeps_[0].count(), 3000);
}

TEST_F(HttpClientTest, RetryThrottledLeavesALongRetryAfterToTheCaller) {
  throttle_after_ = "3600";
  HttpClientOptions o = FastRetries();
  o.retry_throttled = true;
  HttpClient http(o);
  Result<HttpResponse> r = http.Get(Url("/throttled"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(throttled_calls_.load(), 1);
}

TEST_F(HttpClientTest, GivesUpAfterMaxAttemptsAndReturnsLastAnswer) {
  HttpClientOptions o = FastRetries();
  o.max_attempts = 3;
  HttpClient http(o);
  Result<HttpResponse> r = http.Get(Url("/always500"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(fail_calls_.load(), 3);
}

TEST_F(HttpClientTest, ConnectionRefusedIsAnErrorAfterRetries) {
  HttpClientOptions o = FastRetries();
  o.max_attempts = 2;
  HttpClient http(o);
  server_.stop();
  Result<HttpResponse> r = http.Get(Url("/hello"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(sleeps_.size(), 1u);
}

TEST_F(HttpClientTest, StreamsFileRangeAndObservesEveryByte) {
  char path[] = "/tmp/http_client_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string content;
  for (int i = 0; i < 300000; ++i) content.push_back(static_cast<char>('a' + i % 26));
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);

  HttpClient http(FastRetries());
  HttpRequest req;
  req.method = "PUT";
  req.url = Url("/echo");
  req.body_file = path;
  req.body_offset = 1000;
  req.body_length = 200000;
  std::string observed;
  int restarts = 0;
  req.body_observer = [&](std::string_view s) { observed.append(s); };
  req.body_restart = [&] {
    observed.clear();
    ++restarts;
  };
  Result<HttpResponse> r = http.Send(req);
  unlink(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, content.substr(1000, 200000));
  EXPECT_EQ(observed, content.substr(1000, 200000));
  EXPECT_EQ(restarts, 1);
}

class StringSink : public ResponseSink {
 public:
  Status Write(std::string_view chunk) override {
    data.append(chunk);
    return Status::Ok();
  }
  Status Reset() override {
    data.clear();
    ++resets;
    return Status::Ok();
  }
  std::string data;
  int resets = 0;
};

TEST_F(HttpClientTest, SinkGetsSuccessBodiesOnlyAndIsResetOnRetry) {
  HttpClient http(FastRetries());
  StringSink sink;
  HttpRequest req;
  req.url = Url("/flaky");
  req.sink = &sink;
  Result<HttpResponse> r = http.Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sink.data, "ok");
  EXPECT_EQ(sink.resets, 2);
  EXPECT_TRUE(r->body.empty());

  StringSink sink2;
  req.url = Url("/missing");
  req.sink = &sink2;
  r = http.Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(sink2.data, "");
  EXPECT_EQ(r->body, "nope");
}

// Without a sink the body is held in memory: past max_response_bytes the
// request fails instead of growing without bound.
TEST_F(HttpClientTest, InMemoryBodyIsCapped) {
  HttpClientOptions o = FastRetries();
  o.max_response_bytes = 1u << 20;
  HttpClient http(o);
  Result<HttpResponse> r = http.Get(Url("/huge"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("larger than 1048576"), std::string::npos)
      << r.status().message();
  o.max_response_bytes = 4u << 20;
  HttpClient roomy(o);
  r = roomy.Get(Url("/huge"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body.size(), 3u << 20);
}

TEST(UrlEncodeTest, EncodesReservedCharacters) {
  EXPECT_EQ(UrlEncode("a b/c~d"), "a%20b%2Fc~d");
  EXPECT_EQ(UrlEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UrlEncode("x=1&y"), "x%3D1%26y");
}

}  // namespace
}  // namespace stopgap::net

// Server-sent events end to end over a real HttpServer streaming route and
// raw sockets: the frame format, the first "retry:" line, events reaching
// every subscriber, the ": ping" heartbeat, the subscriber cap (503), a
// client that leaves being dropped, and Stop() closing open streams at once.
#include "server/event_bus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "net/http_server.h"

namespace stopgap::server {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

TEST(SseFrame, OneDataLinePerLineAndABlankLineAfter) {
  EXPECT_EQ(SseFrame("execution", R"({"id":1})"), "event: execution\ndata: {\"id\":1}\n\n");
  EXPECT_EQ(SseFrame("alert", "a\nb\r\nc\rd"),
            "event: alert\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(SseFrame("x", ""), "event: x\ndata: \n\n");
  // A line break in the name cannot start a field of its own.
  EXPECT_EQ(SseFrame("x\ndata: forged", "y"), "event: x\ndata: y\n\n");
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
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

// Reads into *in until it holds `want` or the deadline; false on timeout.
// *closed is set when the server closed the connection.
bool ReadUntil(int fd, std::string* in, std::string_view want, int timeout_ms,
               bool* closed = nullptr) {
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (in->find(want) == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      return in->find(want) != std::string::npos;
    }
    in->append(buf, static_cast<size_t>(n));
  }
  return true;
}

class EventStreamTest : public ::testing::Test {
 protected:
  void StartServer(EventBusOptions bus_options) {
    bus_ = std::make_unique<EventBus>(bus_options);
    net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    http_ = std::make_unique<net::HttpServer>(o);
    http_->HandleStream("/events", "text/event-stream",
                        [this](const net::HttpServerRequest&,
                               net::HttpStream s) -> std::optional<net::HttpServerResponse> {
                          Status st = bus_->Subscribe(s);
                          if (st.ok()) return std::nullopt;
                          return net::HttpServerResponse{503, "application/json", st.message(), {}};
                        });
    ASSERT_TRUE(http_->Start().ok());
    bus_->Start();
  }
  int Subscribe() {
    int fd = Connect(http_->port());
    EXPECT_GE(fd, 0);
    const std::string req = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    EXPECT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    return fd;
  }
  void TearDown() override {
    if (bus_) bus_->Close();
    if (http_) http_->Stop();
  }
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<net::HttpServer> http_;
};

TEST_F(EventStreamTest, SubscribersGetTheHeadThenEveryEvent) {
  StartServer({.max_subscribers = 4, .heartbeat = 1h});
  std::string a, b;
  int fa = Subscribe();
  int fb = Subscribe();
  ASSERT_TRUE(ReadUntil(fa, &a, "retry: 3000\n\n", 5000)) << a;
  ASSERT_TRUE(ReadUntil(fb, &b, "retry: 3000\n\n", 5000)) << b;
  EXPECT_EQ(a.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << a;
  EXPECT_NE(a.find("Content-Type: text/event-stream\r\n"), std::string::npos) << a;
  EXPECT_NE(a.find("Cache-Control: no-store\r\n"), std::string::npos) << a;
  EXPECT_EQ(a.find("Content-Length"), std::string::npos) << a;
  EXPECT_EQ(bus_->subscribers(), 2u);
  bus_->Publish("execution", R"({"id":7,"state":"matched"})");
  const std::string frame = "event: execution\ndata: {\"id\":7,\"state\":\"matched\"}\n\n";
  EXPECT_TRUE(ReadUntil(fa, &a, frame, 5000)) << a;
  EXPECT_TRUE(ReadUntil(fb, &b, frame, 5000)) << b;
  // One leaves: the next publish drops it, the other still gets events.
  close(fa);
  auto deadline = SteadyClock::now() + 5s;
  while (bus_->subscribers() != 1 && SteadyClock::now() < deadline) {
    bus_->Publish("execution", "{}");
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(bus_->subscribers(), 1u);
  bus_->Publish("alert", "last");
  EXPECT_TRUE(ReadUntil(fb, &b, "event: alert\ndata: last\n\n", 5000)) << b;
  close(fb);
}

TEST_F(EventStreamTest, HeartbeatCommentsKeepTheStreamAlive) {
  StartServer({.max_subscribers = 4, .heartbeat = 50ms});
  std::string in;
  int fd = Subscribe();
  ASSERT_TRUE(ReadUntil(fd, &in, "retry: 3000\n\n", 5000)) << in;
  EXPECT_TRUE(ReadUntil(fd, &in, "\n: ping\n\n", 5000)) << in;
  close(fd);
}

TEST_F(EventStreamTest, SubscribersPastTheCapGet503) {
  StartServer({.max_subscribers = 1, .heartbeat = 1h});
  std::string first, second;
  int f1 = Subscribe();
  ASSERT_TRUE(ReadUntil(f1, &first, "retry: 3000\n\n", 5000)) << first;
  int f2 = Subscribe();
  bool closed = false;
  ReadUntil(f2, &second, "\r\n\r\n", 5000, &closed);
  EXPECT_EQ(second.rfind("HTTP/1.1 503", 0), 0u) << second;
  close(f2);
  close(f1);
}

TEST_F(EventStreamTest, StopClosesOpenStreamsAtOnce) {
  StartServer({.max_subscribers = 4, .heartbeat = 1h});
  std::string in;
  int fd = Subscribe();
  ASSERT_TRUE(ReadUntil(fd, &in, "retry: 3000\n\n", 5000)) << in;
  const auto start = SteadyClock::now();
  http_->Stop();  // without the bus closing first: the server closes streams itself
  EXPECT_LT(SteadyClock::now() - start, 3s);
  bool closed = false;
  ReadUntil(fd, &in, "never arrives", 3000, &closed);
  EXPECT_TRUE(closed);
  bus_->Publish("x", "y");
  EXPECT_EQ(bus_->subscribers(), 0u);
  close(fd);
}

}  // namespace
}  // namespace stopgap::server

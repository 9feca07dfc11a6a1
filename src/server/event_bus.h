// EventBus: the daemon's live updates, GET /api/v1/events (server-sent
// events). Subscribers are HTTP streams (net::HttpStream): a write queues
// bytes on the connection's io strand and never blocks, so a subscriber holds
// no thread. Publish() frames one event and writes it to every subscriber;
// streams that closed (client gone, too slow, Stop()) are dropped. One
// heartbeat thread writes ": ping" every `heartbeat` so proxies and clients
// see a live connection. Subscribers are capped (max_subscribers), below the
// HTTP server's connection caps.
//
//   EventBus bus({.max_subscribers = 32});
//   bus.Start();
//   bus.Subscribe(stream);                        // from the route's handler
//   bus.Publish("execution", ExecutionJson(e, false).dump());
//   bus.Close();                                  // before the HTTP server stops
//
// Thread safety: every method from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "net/http_server.h"

namespace stopgap::server {

// One server-sent event: "event: NAME\n" then one "data: " line per line of
// `data` ("\r\n", "\r" and "\n" all end a line), then a blank line. NAME is
// cut at the first line break.
std::string SseFrame(std::string_view event, std::string_view data);

struct EventBusOptions {
  size_t max_subscribers = 32;
  Duration heartbeat = std::chrono::seconds(15);
};

class EventBus {
 public:
  explicit EventBus(EventBusOptions options = {});
  ~EventBus();  // Close()
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Starts the heartbeat thread.
  void Start();
  // Adds a subscriber and writes it "retry: 3000" (EventSource's reconnect
  // delay). kResourceExhausted at max_subscribers, kUnavailable once closed.
  Status Subscribe(net::HttpStream stream);
  void Publish(std::string_view event, std::string_view data);
  // Cheap: publishers skip building an event nobody would get.
  bool has_subscribers() const;
  size_t subscribers() const;
  // Closes every stream, stops the heartbeat; later Subscribe()s fail.
  void Close();

 private:
  void WriteAll(const std::string& bytes);
  void Heartbeat();

  const EventBusOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::HttpStream> streams_;
  bool closed_ = false;
  std::thread heartbeat_;
};

}  // namespace stopgap::server

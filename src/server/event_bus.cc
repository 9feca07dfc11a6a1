// EventBus and the server-sent-events framing; see event_bus.h.
//
// Threading: mu_ guards the subscriber list; writes to streams only queue
// bytes (net::HttpStream::Write never blocks), so they happen under mu_.
#include "server/event_bus.h"

#include <algorithm>

namespace stopgap::server {

std::string SseFrame(std::string_view event, std::string_view data) {
  std::string out = "event: ";
  out += event.substr(0, event.find_first_of("\r\n"));
  out += "\n";
  size_t start = 0;
  for (;;) {
    size_t end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += "\n";
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out += "\n";
  return out;
}

EventBus::EventBus(EventBusOptions options) : options_(options) {}

EventBus::~EventBus() { Close(); }

void EventBus::Start() {
  std::lock_guard lock(mu_);
  if (heartbeat_.joinable() || closed_) return;
  heartbeat_ = std::thread([this] { Heartbeat(); });
}

Status EventBus::Subscribe(net::HttpStream stream) {
  std::lock_guard lock(mu_);
  if (closed_) return Unavailable("shutting down");
  std::erase_if(streams_, [](const net::HttpStream& s) { return s.closed(); });
  if (streams_.size() >= options_.max_subscribers) {
    return ResourceExhausted("too many event subscribers (" +
                             std::to_string(options_.max_subscribers) + "); retry later");
  }
  if (!stream.Write("retry: 3000\n\n")) return Unavailable("the client left");
  streams_.push_back(std::move(stream));
  return Status::Ok();
}

void EventBus::WriteAll(const std::string& bytes) {
  std::lock_guard lock(mu_);
  std::erase_if(streams_, [&bytes](const net::HttpStream& s) { return !s.Write(bytes); });
}

void EventBus::Publish(std::string_view event, std::string_view data) {
  if (!has_subscribers()) return;
  WriteAll(SseFrame(event, data));
}

bool EventBus::has_subscribers() const {
  std::lock_guard lock(mu_);
  return !streams_.empty();
}

size_t EventBus::subscribers() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(streams_.begin(), streams_.end(),
                                           [](const net::HttpStream& s) { return !s.closed(); }));
}

void EventBus::Heartbeat() {
  std::unique_lock lock(mu_);
  while (!closed_) {
    if (cv_.wait_for(lock, options_.heartbeat, [this] { return closed_; })) break;
    std::erase_if(streams_, [](const net::HttpStream& s) { return !s.Write(": ping\n\n"); });
  }
}

void EventBus::Close() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (const net::HttpStream& s : streams_) s.Close();
    streams_.clear();
    t = std::move(heartbeat_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

}  // namespace stopgap::server

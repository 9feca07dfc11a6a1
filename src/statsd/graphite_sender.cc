// GraphiteSender thread: pop, connect, write, close; backoff on failure.
#include "statsd/graphite_sender.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "statsd/internal/tcp.h"

namespace stopgap::statsd {
namespace {
int64_t UnixSeconds() {
  using namespace std::chrono;
  return (duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() + 500) / 1000;
}
int64_t MonoMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

GraphiteSender::GraphiteSender(net::SocketAddress addr, size_t max_buffer_bytes,
                               int64_t startup_time)
    : addr_(addr), max_bytes_(max_buffer_bytes) {
  stats_.last_flush = startup_time;
  thread_ = std::thread([this] { Run(); });
}

GraphiteSender::~GraphiteSender() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GraphiteSender::Enqueue(std::string payload, size_t lines) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    counters_.queued_bytes += payload.size();
    queue_.push_back(Item{std::move(payload), lines});
    // Keep at least the newest payload; drop the oldest beyond the cap.
    while (counters_.queued_bytes > max_bytes_ && queue_.size() > 1) {
      counters_.dropped_lines += queue_.front().lines;
      counters_.queued_bytes -= queue_.front().payload.size();
      queue_.pop_front();
      Log(LogLevel::kWarn, "graphite buffer full: dropped the oldest flush",
          {{"dropped_lines_total", std::to_string(counters_.dropped_lines)}});
    }
  }
  cv_.notify_all();
}

bool GraphiteSender::Drain(int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  kick_ = true;
  cv_.notify_all();
  return drained_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                           [&] { return queue_.empty() && !busy_; });
}

GraphiteStats GraphiteSender::Stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

GraphiteSenderCounters GraphiteSender::Counters() const {
  std::lock_guard<std::mutex> lk(mu_);
  return counters_;
}

void GraphiteSender::Kick() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    kick_ = true;
  }
  cv_.notify_all();
}

void GraphiteSender::Run() {
  int backoff_ms = 0;
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    if (backoff_ms > 0) {
      cv_.wait_for(lk, std::chrono::milliseconds(backoff_ms), [&] { return stop_ || kick_; });
      kick_ = false;
      if (stop_) return;
      if (queue_.empty()) continue;
    }
    // Send the front without holding the lock; it goes back on failure.
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lk.unlock();
    int64_t start = MonoMs();
    Status st = Status::Ok();
    Result<internal::Fd> fd = internal::TcpConnect(addr_, 5000);
    if (!fd.ok()) {
      st = fd.status();
    } else {
      st = internal::WriteAll(fd->get(), item.payload, 30000);
      // Written is not received: a receiver that resets the connection
      // (a dying carbon, a relay in between) has not read it.
      if (st.ok()) {
        ::shutdown(fd->get(), SHUT_WR);
        st = internal::AwaitPeerClose(fd->get(), 2000);
      }
    }
    int64_t took = MonoMs() - start;
    lk.lock();
    busy_ = false;
    if (st.ok()) {
      counters_.queued_bytes -= item.payload.size();
      ++counters_.sent_payloads;
      counters_.sent_lines += item.lines;
      stats_.flush_time = took;
      stats_.flush_length = static_cast<int64_t>(item.payload.size());
      stats_.last_flush = UnixSeconds();
      backoff_ms = 0;
    } else {
      queue_.push_front(std::move(item));
      while (counters_.queued_bytes > max_bytes_ && queue_.size() > 1) {
        counters_.dropped_lines += queue_.front().lines;
        counters_.queued_bytes -= queue_.front().payload.size();
        queue_.pop_front();
      }
      ++counters_.failures;
      stats_.last_exception = UnixSeconds();
      backoff_ms = backoff_ms == 0 ? 200 : std::min(backoff_ms * 2, 30000);
      Log(LogLevel::kWarn, "graphite send failed; will retry",
          {{"graphite", addr_.ToString()},
           {"error", st.message()},
           {"retry_ms", std::to_string(backoff_ms)}});
    }
    if (queue_.empty()) drained_.notify_all();
  }
}

}  // namespace stopgap::statsd

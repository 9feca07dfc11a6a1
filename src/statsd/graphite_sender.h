// GraphiteSender: delivers flush payloads to carbon's plaintext port over TCP
// from its own thread. One connection per payload, as the reference does.
// While Graphite is down, payloads wait in a bounded buffer (oldest dropped
// first, dropped lines counted) and connects retry with exponential backoff.
//
// Thread safety: Enqueue/Stats/Drain may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "net/udp.h"
#include "statsd/metric_store.h"

namespace stopgap::statsd {

struct GraphiteSenderCounters {
  uint64_t sent_payloads = 0;
  uint64_t sent_lines = 0;
  uint64_t dropped_lines = 0;  // discarded because the buffer was full
  uint64_t failures = 0;       // failed connects or writes
  size_t queued_bytes = 0;
};

class GraphiteSender {
 public:
  GraphiteSender(net::SocketAddress addr, size_t max_buffer_bytes, int64_t startup_time);
  ~GraphiteSender();
  GraphiteSender(const GraphiteSender&) = delete;
  GraphiteSender& operator=(const GraphiteSender&) = delete;

  void Enqueue(std::string payload, size_t lines);
  // Waits until everything queued was sent or the timeout passed; true if empty.
  bool Drain(int timeout_ms);
  GraphiteStats Stats() const;
  GraphiteSenderCounters Counters() const;
  // Retry now (SIGHUP): cut the current backoff short.
  void Kick();

 private:
  void Run();

  const net::SocketAddress addr_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  struct Item {
    std::string payload;
    size_t lines;
  };
  std::deque<Item> queue_;
  bool stop_ = false;
  bool kick_ = false;
  bool busy_ = false;
  GraphiteStats stats_;
  GraphiteSenderCounters counters_;
  std::thread thread_;
};

}  // namespace stopgap::statsd

// StatsdClient: the StatsD client library stopgap uses for its own metrics
// (`stopgap serve`) and for `stopgap tcpstats`. Calls never block on the
// network: lines go into a bounded queue (full -> the line is dropped and
// counted) that a background thread drains, packing as many whole lines into
// each UDP datagram as the MTU allows (never splitting a line) and sending
// them with sendmmsg.
//
//   Result<std::unique_ptr<StatsdClient>> c = StatsdClient::Create({.address = "127.0.0.1:8125"});
//   (*c)->Count("remedy.runs", 1);  (*c)->Gauge("queue.depth", 3);  (*c)->Timing("step", 12.5);
//   (*c)->Flush(1000);  // optional: send what is queued now and wait for it
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "net/udp.h"

namespace stopgap::statsd {

struct StatsdClientOptions {
  std::string address = "127.0.0.1:8125";
  size_t mtu = 1432;              // payload bytes per datagram
  std::string prefix = "";        // prepended to every name ("" or "app." style, dot added)
  size_t queue_capacity = 65536;  // lines; more are dropped and counted
  int flush_interval_ms = 200;    // the sender wakes at least this often
};

struct StatsdClientCounters {
  uint64_t queued_lines = 0;
  uint64_t sent_lines = 0;
  uint64_t sent_packets = 0;
  uint64_t dropped_lines = 0;  // queue full or send error
};

// Packs lines (no '\n' inside) into payloads of at most mtu bytes joined by
// '\n', in order, never splitting a line; a line longer than mtu goes alone.
std::vector<std::string> PackLines(const std::vector<std::string>& lines, size_t mtu);

// Formats "name:value|type[|@rate]" with JS-compatible number formatting.
std::string FormatStatsdLine(std::string_view name, double value, std::string_view type,
                             double sample_rate = 1);

class StatsdClient {
 public:
  static Result<std::unique_ptr<StatsdClient>> Create(StatsdClientOptions options);
  ~StatsdClient();  // sends what is queued (up to 1 s), then stops
  StatsdClient(const StatsdClient&) = delete;
  StatsdClient& operator=(const StatsdClient&) = delete;

  void Count(std::string_view name, double value = 1, double sample_rate = 1);
  void Gauge(std::string_view name, double value);
  void GaugeDelta(std::string_view name, double delta);  // "+N"/"-N"
  void Timing(std::string_view name, double ms);
  void Set(std::string_view name, std::string_view member);
  // A complete line "name:value|type..." (prefix still applied).
  void Send(std::string_view line_without_prefix);

  // Sends everything queued now; true when it was sent within timeout_ms.
  bool Flush(int timeout_ms);
  StatsdClientCounters Counters() const;

 private:
  StatsdClient(StatsdClientOptions options, net::UdpSocket socket);
  void Enqueue(std::string line);
  void Run();
  void SendBatch(std::vector<std::string>& lines);

  const StatsdClientOptions options_;
  net::UdpSocket socket_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable sent_cv_;
  std::vector<std::string> queue_;
  bool stop_ = false;
  bool flush_requested_ = false;
  uint64_t enqueued_seq_ = 0;  // lines ever accepted
  uint64_t done_seq_ = 0;      // lines ever sent or dropped by the sender
  StatsdClientCounters counters_;
  std::thread thread_;
};

}  // namespace stopgap::statsd

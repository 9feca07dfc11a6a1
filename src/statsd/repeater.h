// Repeater: the reference's backends/repeater.js. Every packet the server
// receives (UDP datagrams and TCP-intake packets, good lines or bad) is
// forwarded unchanged to each target StatsD server: over UDP one datagram per
// packet (sendmmsg per receive batch, non-blocking: a full socket buffer drops
// and counts), or over TCP as the packet plus "\n" (as repeater.js writes it)
// on one persistent connection per target, written by the repeater's own
// thread from a bounded buffer (oldest data dropped and counted while a
// target is down; reconnect with backoff).
//
//   Result<std::unique_ptr<Repeater>> r = Repeater::Start({"10.0.0.2:8125"}, kUdp4);
//   RepeatBatch b;  b.Add(packet) ...;  (*r)->Send(b);  b.Clear();
//
// Thread safety: Send and Counters may be called from any thread (receive
// threads each own a RepeatBatch).
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
#include "statsd/config.h"
#include "statsd/internal/tcp.h"

namespace stopgap::statsd {

// One receive batch's packets, copied (views into a receive buffer do not
// outlive the next receive).
class RepeatBatch {
 public:
  void Add(std::string_view packet) {
    ends_.push_back(bytes_.size() + packet.size());
    bytes_.append(packet);
  }
  bool empty() const { return ends_.empty(); }
  size_t size() const { return ends_.size(); }
  std::string_view Packet(size_t i) const {
    size_t start = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(start, ends_[i] - start);
  }
  void Clear() {
    bytes_.clear();
    ends_.clear();
  }

 private:
  std::string bytes_;
  std::vector<size_t> ends_;
};

struct RepeaterCounters {
  uint64_t packets = 0;   // packets forwarded (each target counts once)
  uint64_t dropped = 0;   // packets not forwarded (full socket buffer, target down, buffer cap)
  uint64_t failures = 0;  // failed connects or writes (TCP)
};

class Repeater {
 public:
  // Resolves every target now (errors name the target).
  static Result<std::unique_ptr<Repeater>> Start(const std::vector<std::string>& targets,
                                                 RepeaterProtocol protocol,
                                                 size_t tcp_buffer_bytes = 64u << 20);
  ~Repeater();
  Repeater(const Repeater&) = delete;
  Repeater& operator=(const Repeater&) = delete;

  void Send(const RepeatBatch& batch);
  RepeaterCounters Counters() const;
  // Waits up to timeout_ms for TCP data to be written; true when nothing is pending.
  bool Drain(int timeout_ms);

 private:
  struct TcpTarget {
    net::SocketAddress addr;
    internal::Fd fd;
    std::string pending;  // bytes not yet written to this target
    int64_t retry_at_ms = 0;
    int backoff_ms = 0;
  };
  Repeater() = default;
  void TcpLoop();

  RepeaterProtocol protocol_ = RepeaterProtocol::kUdp4;
  std::vector<net::UdpSocket> udp_;
  std::atomic<uint64_t> udp_packets_{0}, udp_dropped_{0};

  size_t tcp_cap_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::string queued_;  // packets + "\n" not yet handed to the targets
  uint64_t queued_packets_ = 0;
  bool stop_ = false;
  bool busy_ = false;
  RepeaterCounters tcp_counters_;
  std::vector<TcpTarget> tcp_;
  std::thread thread_;
};

}  // namespace stopgap::statsd

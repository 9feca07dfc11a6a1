// Forwarder: the local node's side of global aggregation. Each flush hands it
// one encoded interval frame (statsd/forward.h); its own thread writes the
// frames in order over one TCP connection to the global node and keeps every
// frame until the global node acks its sequence as flushed. While the global
// node is down or slow, frames wait in a bounded buffer (bytes and intervals;
// the oldest dropped and counted); connects retry with backoff (100 ms
// doubling to 2 s), and after a reconnect every unacked frame is sent again
// (the global node skips sequences it already merged).
//
// Thread safety: Enqueue, Counters and Drain may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "net/udp.h"
#include "statsd/internal/tcp.h"

namespace stopgap::statsd {

struct ForwarderCounters {
  uint64_t intervals_sent = 0;     // frames written for the first time
  uint64_t intervals_resent = 0;   // frames written again after a reconnect
  uint64_t intervals_acked = 0;    // frames the global node acked as flushed
  uint64_t intervals_dropped = 0;  // frames dropped by the buffer cap before being sent
  uint64_t bytes_dropped = 0;
  // Frames sent but dropped by the cap before their ack: lost only if the
  // global node dies before its next flush (the buffer is smaller than a
  // global interval's worth of local intervals).
  uint64_t intervals_evicted_unacked = 0;
  uint64_t bytes_sent = 0;
  uint64_t connects = 0;
  uint64_t failures = 0;  // failed connects, writes, lost connections
  size_t queued_bytes = 0;
  size_t queued_intervals = 0;
};

class Forwarder {
 public:
  // Resolves target now; the first connect happens on the thread.
  static Result<std::unique_ptr<Forwarder>> Start(const std::string& target, uint64_t session,
                                                  size_t cap_bytes, size_t cap_intervals);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void Enqueue(uint64_t seq, std::string frame);
  ForwarderCounters Counters() const;
  // Waits up to timeout_ms until every queued frame was written once.
  bool Drain(int timeout_ms);

 private:
  struct Frame {
    uint64_t seq;
    std::shared_ptr<const std::string> bytes;
  };
  Forwarder() = default;
  void Run();
  void Disconnect();          // mu_ held
  void ReadAcks();            // mu_ held
  const Frame* NextUnsent();  // mu_ held

  net::SocketAddress addr_;
  uint64_t session_ = 0;
  size_t cap_bytes_ = 0, cap_intervals_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<Frame> queue_;    // unacked frames, oldest first
  uint64_t written_seq_ = 0;   // highest seq written on the current connection
  uint64_t max_sent_seq_ = 0;  // highest seq ever written (resends are counted apart)
  internal::Fd fd_;
  std::string acks_;  // partial ack bytes read
  int64_t retry_at_ms_ = 0;
  int backoff_ms_ = 0;
  bool stop_ = false;
  bool warned_ = false;  // this outage was logged
  ForwarderCounters counters_;
  std::thread thread_;
};

}  // namespace stopgap::statsd

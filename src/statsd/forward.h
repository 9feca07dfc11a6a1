// The forward wire format between `stopgap statsd --forward-to` (a local
// node) and `stopgap statsd --global-listen` (the global node): one frame per
// local flush interval carrying that interval's aggregates (counter sums,
// gauges with their write time, timers as exact values or a TimerSketch, sets
// as exact members or a HyperLogLog), zstd-compressed behind a 16-byte
// versioned header; the global node answers each frame with a 20-byte ack of
// the highest sequence it has flushed to Graphite for that node. Layout and
// limits: docs/statsd.md, "Global aggregation".
//
//   ForwardEncoder e({node, session, seq, time_ms, interval_ms});
//   e.Counter("a", 3); ...;  std::string frame = e.Finish();
//   Result<size_t> n = ForwardFrameSize(buf);   // 0: need more bytes
//   Result<ForwardInterval> iv = DecodeForwardFrame(buf.substr(0, *n));
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "statsd/hll.h"
#include "statsd/timer_sketch.h"

namespace stopgap::statsd {

inline constexpr uint8_t kForwardVersion = 1;
inline constexpr size_t kForwardHeaderBytes = 16;
inline constexpr size_t kForwardAckBytes = 20;
inline constexpr size_t kForwardMaxCompressed = 256u << 20;  // per frame
inline constexpr size_t kForwardMaxRaw = 1024u << 20;
inline constexpr size_t kForwardMaxName = 64u << 10;
inline constexpr size_t kForwardMaxNodeId = 255;

struct ForwardHeader {
  std::string node_id;   // --node-id: unique per local node
  uint64_t session = 0;  // random per local process start
  uint64_t seq = 0;      // 1, 2, ... per interval of that session
  int64_t time_ms = 0;   // unix ms of the local flush
  int64_t interval_ms = 0;
};

struct ForwardGauge {
  std::string_view name;
  double value = 0;
  int64_t ts_ms = 0;  // unix ms of the last write on the local node
};
struct ForwardTimer {
  std::string_view name;
  double count = 0;                     // sum of 1/sample-rate
  std::vector<double> values;           // exact (no sketch)
  std::unique_ptr<TimerSketch> sketch;  // or a sketch
};
struct ForwardSet {
  std::string_view name;
  std::vector<std::string_view> members;  // exact (no hll)
  std::unique_ptr<Hll> hll;               // or a HyperLogLog
};

// A decoded frame; names and members are views into `payload`.
struct ForwardInterval {
  ForwardHeader header;
  std::unique_ptr<std::string> payload;
  std::vector<std::pair<std::string_view, double>> counters;
  std::vector<ForwardGauge> gauges;
  std::vector<ForwardTimer> timers;
  std::vector<ForwardSet> sets;
  size_t compressed_bytes = 0;
};

class ForwardEncoder {
 public:
  explicit ForwardEncoder(ForwardHeader h) : h_(std::move(h)) {}
  void Counter(std::string_view name, double sum);
  void Gauge(std::string_view name, double value, int64_t ts_ms);
  void TimerExact(std::string_view name, double count, const std::vector<double>& values);
  void TimerSketched(std::string_view name, double count, const TimerSketch& sketch);
  void SetExact(std::string_view name, const std::vector<std::string_view>& members);
  void SetHll(std::string_view name, const Hll& hll);
  size_t names() const { return n_[0] + n_[1] + n_[2] + n_[3]; }
  // The whole frame: header + zstd(payload). zstd level 1 by default.
  std::string Finish(int zstd_level = 1) const;

 private:
  ForwardHeader h_;
  std::string sec_[4];  // counters, gauges, timers, sets
  uint64_t n_[4] = {};
};

// Bytes of the frame at the start of buf: 0 when the header or body is not
// complete yet; an error when the header is not a version-1 forward frame or
// announces more than the limits.
Result<size_t> ForwardFrameSize(std::string_view buf);
// Decodes one whole frame (header included).
Result<ForwardInterval> DecodeForwardFrame(std::string_view frame);
// Decodes the uncompressed payload (for tests and the fuzzer).
Result<ForwardInterval> DecodeForwardPayload(std::string payload);

// Ack: "SGAK" + session (u64 LE) + seq (u64 LE): every interval of that
// session up to seq is in a flush handed to Graphite.
std::string EncodeForwardAck(uint64_t session, uint64_t seq);
// One ack at the start of buf (kForwardAckBytes); nullopt when bad magic.
std::optional<std::pair<uint64_t, uint64_t>> DecodeForwardAck(std::string_view buf);

}  // namespace stopgap::statsd

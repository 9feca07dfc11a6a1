// IntervalTable: one receive thread's aggregation of one flush interval
// (statsite-style: the flusher swaps a thread's live table for a spare and
// merges the old one, so intake never waits for a flush). Names are interned
// per table and kept across intervals, so a known name costs one hash lookup
// and no allocation.
//
// Thread safety: none; the owning receive thread or, after a swap, the flusher.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "statsd/config.h"
#include "statsd/internal/name_map.h"
#include "statsd/line_parser.h"
#include "statsd/timer_sketch.h"

namespace stopgap::statsd {

struct CounterCell {
  double value = 0;
  bool touched = false;
};
struct TimerCell {
  std::vector<double> values;           // exact, until more than timer_exact_max
  std::unique_ptr<TimerSketch> sketch;  // then every value goes here
  double count = 0;                     // sum of 1/rate
  bool touched = false;
};
// A gauge seen in this interval. `absolute`: a plain value was set, so the
// result no longer depends on the value before the interval; `leading_deltas`:
// +/- values that arrived before any absolute one (applied at merge, in order,
// with the reference's rule: a delta moves only a non-zero gauge).
struct GaugeCell {
  double value = 0;
  int64_t ts_ms = 0;  // the table's clock at the last write (set_clock_ms)
  bool absolute = false;
  bool touched = false;
  std::vector<double> leading_deltas;
};
struct SetCell {
  uint32_t name_len = 0;  // key is name + '\0' + member
  bool touched = false;
};

// Internal counts of one interval (become statsd.* counters and admin stats).
struct IntakeCounts {
  uint64_t packets = 0;        // statsd.packets_received
  uint64_t lines = 0;          // statsd.metrics_received (non-empty lines)
  uint64_t bad_lines = 0;      // statsd.bad_lines_seen
  uint64_t events = 0;         // DogStatsD events/service checks (--dogstatsd)
  uint64_t oversized = 0;      // packets longer than the receive buffer (truncated, skipped)
  uint64_t names_dropped = 0;  // samples of new names refused by the table's name cap
  void Add(const IntakeCounts& o) {
    names_dropped += o.names_dropped;
    packets += o.packets;
    lines += o.lines;
    bad_lines += o.bad_lines;
    events += o.events;
    oversized += o.oversized;
  }
};

class IntervalTable {
 public:
  // Parses and aggregates every line of one packet.
  void AddPacket(std::string_view packet, const ParseOptions& opts);
  void AddSample(std::string_view key, const MetricSample& s);
  // One non-empty line through the full parser (counted in lines already).
  void AddLine(std::string_view line, const ParseOptions& opts);

  // Timers with more samples than this switch to a TimerSketch (0: never).
  void set_timer_exact_max(uint64_t n) { timer_exact_max_ = n; }
  // Distinct names (and set members) the table holds at most; a sample of a
  // new name past it is dropped and counted in counts().names_dropped.
  void set_max_names(uint64_t n) {
    max_names_ = n;
    full_ = Names() >= max_names_;
  }

  // The wall clock (unix ms) stamped on gauge writes; the receive loop sets
  // it once per batch (a coarse clock: the forwarded gauges' write times).
  void set_clock_ms(int64_t ms) { clock_ms_ = ms; }

  IntakeCounts& counts() { return counts_; }
  const IntakeCounts& counts() const { return counts_; }

  // For the merge: the entries touched this interval.
  internal::NameMap<CounterCell>& counters() { return counters_; }
  internal::NameMap<TimerCell>& timers() { return timers_; }
  internal::NameMap<GaugeCell>& gauges() { return gauges_; }
  internal::NameMap<SetCell>& sets() { return sets_; }
  const std::vector<uint32_t>& touched_counters() const { return touched_counters_; }
  const std::vector<uint32_t>& touched_timers() const { return touched_timers_; }
  const std::vector<uint32_t>& touched_gauges() const { return touched_gauges_; }
  const std::vector<uint32_t>& touched_sets() const { return touched_sets_; }

  // Distinct names held (set members count one each), at most the cap.
  size_t name_count() const { return Names(); }

  // Zeroes what was touched (keeping interned names), or drops the names too
  // when most of them went idle.
  void Reset();
  size_t MemoryBytes() const;

 private:
  internal::NameMap<CounterCell> counters_;
  internal::NameMap<TimerCell> timers_;
  internal::NameMap<GaugeCell> gauges_;
  internal::NameMap<SetCell> sets_;
  std::vector<uint32_t> touched_counters_, touched_timers_, touched_gauges_, touched_sets_;
  void AddTimerValue(TimerCell& c, double v);
  size_t Names() const { return counters_.size() + timers_.size() + gauges_.size() + sets_.size(); }
  // Touch: the cell of `key`, inserted if there is room; nullptr (counted) if not.
  template <typename Cell>
  Cell* Touch(internal::NameMap<Cell>& map, std::vector<uint32_t>& touched, std::string_view key,
              uint64_t hash);
  uint64_t max_names_ = FlushConfig{}.max_names;
  bool full_ = false;  // Names() >= max_names_

  IntakeCounts counts_;
  int64_t clock_ms_ = 0;
  uint64_t timer_exact_max_ = FlushConfig{}.timer_exact_max;
  ParseScratch scratch_;
  ParsedLine line_;
  std::string set_key_;
};

}  // namespace stopgap::statsd

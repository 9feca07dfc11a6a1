// MetricStore: the server-wide state the flusher owns. Per-thread interval
// tables are merged in; Flush() renders the Graphite plaintext payload exactly
// as the reference's graphite backend does (names, timer statistics, number
// formatting, internal statsd.* metrics) and then clears per the delete*
// settings. The admin interface reads and deletes from it.
//
// Thread safety: none; the server guards it with one mutex (flusher + admin).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "statsd/config.h"
#include "statsd/forward.h"
#include "statsd/hll.h"
#include "statsd/interval_table.h"
#include "statsd/prometheus.h"

namespace stopgap::statsd {

// The graphite backend's own stats, reported with each flush (values of the
// previous flush, as the reference does).
struct GraphiteStats {
  int64_t last_flush = 0;      // unix seconds
  int64_t last_exception = 0;  // unix seconds of the last failed send (0: never)
  int64_t flush_time = 0;      // ms spent writing the last payload
  int64_t flush_length = 0;    // bytes of the last payload
};

struct FlushOutput {
  std::string payload;  // "name value ts\n" lines
  size_t lines = 0;
  size_t num_stats = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const;
};

class MetricStore {
 public:
  explicit MetricStore(FlushConfig cfg);

  // Adds one interval table (and its intake counts) into the store.
  void Merge(const IntervalTable& t);
  // Renders the flush for unix time ts_seconds and clears per config.
  // now_ms() supplies the millisecond clock for processing_time/calculationtime.
  FlushOutput Flush(int64_t ts_seconds, const GraphiteStats& graphite,
                    const std::function<int64_t()>& now_ms);

  // Global aggregation. EncodeForward writes this interval's aggregates (call
  // before Flush): counters with a non-zero sum, gauges written this
  // interval with their write time, timers as exact values (up to
  // timer_exact_values) or a TimerSketch, sets as members (up to
  // cfg.set_exact_max) or a HyperLogLog. The server's own statsd.* counters
  // stay local. MergeForward adds a decoded interval from a local node:
  // counters add, gauges keep the latest write, timers and sets merge.
  void EncodeForward(ForwardEncoder* enc, uint64_t timer_exact_values) const;
  void MergeForward(const ForwardInterval& iv);

  // Feeds the merged interval (call before Flush, which clears it) to the
  // Prometheus view: counters, gauges, sets, timers with the quantiles 0.5
  // and each positive percentile / 100.
  void Export(PrometheusView* view);

  // Admin interface.
  std::string InspectCounters() const;
  std::string InspectTimers() const;
  std::string InspectGauges() const;
  enum class Kind { kCounters, kTimers, kGauges };
  // delete_stats: "name" or "prefix.*"; the reply lines ("deleted: x", "metric x not found").
  std::string Delete(Kind kind, const std::vector<std::string>& patterns);

  const FlushConfig& config() const { return cfg_; }
  void set_config(FlushConfig cfg);
  size_t name_count() const;
  uint64_t names_dropped() const { return names_dropped_; }  // since start
  const IntakeCounts& totals() const { return totals_; }     // since start

 private:
  struct TimerState {
    std::vector<double> values;           // exact (sorted at flush)
    std::unique_ptr<TimerSketch> sketch;  // past cfg_.timer_exact_max values
    double count = 0;
  };
  struct GaugeState {
    double value = 0;
    int ttl = -1;        // -1: not subject to deleteGauges
    int64_t ts_ms = 0;   // unix ms of the last write (forwarding: latest write wins)
    bool fresh = false;  // written since the last flush
  };
  // Exact members, or a HyperLogLog once a forwarded set passed set_exact_max.
  struct SetState {
    std::unordered_set<std::string> members;
    std::unique_ptr<Hll> hll;
    double Count() const;
    void ToHll();
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  void RenderTimer(std::string_view key, TimerState& t, std::string_view ts, FlushOutput* out);
  void RenderSketchTimer(std::string_view key, const TimerState& t, std::string_view ts,
                         FlushOutput* out);
  void RenderHistogram(std::string_view key, std::string_view ts, FlushOutput* out,
                       const std::function<double(double)>& count_below, double count);
  void AppendName(std::string* out, const std::string& ns_prefix, std::string_view key,
                  std::string_view extra1 = {}, std::string_view extra2 = {});
  void AppendLine(FlushOutput* out, const std::string& ns_prefix, std::string_view key,
                  std::string_view extra1, std::string_view extra2, double value,
                  std::string_view ts);
  void ComputeNames();
  // The timer entry to merge into; nullptr when over max_names.
  TimerState* TimerFor(std::string_view name);
  void TimerToSketch(TimerState* st);
  // False (and the drop counted) when a new name would pass cfg_.max_names.
  bool RoomForNewName();

  FlushConfig cfg_;
  size_t set_members_ = 0;      // members across all sets
  uint64_t names_dropped_ = 0;  // since start
  uint64_t dropped_unflushed_ = 0;
  Map<double> counters_;
  Map<TimerState> timers_;
  Map<GaugeState> gauges_;
  Map<SetState> sets_;
  IntakeCounts totals_;
  int64_t old_timestamp_ = 0;

  // Precomputed name parts.
  std::string suffix_;  // "" or "." + global_suffix
  std::string ns_counter_, ns_counts_, ns_timer_, ns_gauge_, ns_set_, ns_global_;
  std::string bad_lines_name_, packets_name_, metrics_name_, lag_name_, names_dropped_name_;
  struct PctNames {
    double pct;
    std::string count, mean, bound, sum, sum_squares;
    bool keep_count, keep_mean, keep_bound, keep_sum, keep_sum_squares;
  };
  std::vector<PctNames> pct_names_;
  bool keep_[9] = {};  // std upper lower count count_ps sum sum_squares mean median
  bool keep_histogram_ = true;
  std::vector<double> cumul_, cumul_sq_;  // flush scratch
};

}  // namespace stopgap::statsd

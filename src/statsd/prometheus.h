// PrometheusView: `stopgap statsd --prometheus ADDR` serves GET /metrics in
// the Prometheus text exposition format (0.0.4), in the spirit of
// statsd_exporter. The flusher feeds it each interval's merged metrics;
// Publish() renders the text that scrapes then read. The mapping (docs/statsd.md):
//   name: every character outside [a-zA-Z0-9_:] becomes `_` (so `.` and `-`
//         do), a leading digit gets a `_` in front;
//   tags: `name;k=v` (DogStatsD `|#k:v`) become labels k="v" (label names
//         sanitised the same way, without `:`; a tag without a value is
//         dropped; a repeated label keeps its first value);
//   counter -> counter `<name>_total`, cumulative since start;
//   gauge   -> gauge `<name>`, the last value;
//   set     -> gauge `<name>`, distinct members in the last interval;
//   timer   -> summary `<name>` in seconds (statsd ms / 1000): quantiles 0.5
//              and each positive percentThreshold/100 over the last interval
//              (NaN after an interval without samples), `_sum` and `_count`
//              cumulative since start.
// A name already used by another type is skipped (counted as a conflict),
// and series past max_series are not added (counted).
//
// Thread safety: Observe*/Publish from the flusher only; Text() from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgap::statsd {

// Splits a statsd key ("a.b;k=v;t") into a Prometheus metric name and label
// text (`k="v"`, comma-separated, escaped). False when no name is left.
bool PrometheusName(std::string_view key, std::string* name, std::string* labels);

class PrometheusView {
 public:
  explicit PrometheusView(uint64_t max_series) : max_series_(max_series) {}

  void ObserveCounter(std::string_view key, double interval_count);
  void ObserveGauge(std::string_view key, double value);
  void ObserveSet(std::string_view key, double distinct);
  // quantiles: {phi, value in ms}; count: samples (sample rates applied);
  // sum_ms: the sum of the values.
  void ObserveTimer(std::string_view key, double count, double sum_ms,
                    const std::vector<std::pair<double, double>>& quantiles);
  // Renders what the next scrapes read.
  void Publish();
  std::string Text() const;

  uint64_t conflicts() const { return conflicts_; }
  uint64_t series_dropped() const { return series_dropped_; }

 private:
  enum class Type { kCounter, kGauge, kSummary };
  struct Series {
    double value = 0;  // counter total, gauge value
    double sum = 0, count = 0;
    std::vector<std::pair<double, double>> quantiles;  // seconds
  };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series;  // by label text
  };
  Series* Find(std::string_view key, Type type, std::string_view help);

  const uint64_t max_series_;
  uint64_t series_ = 0;
  uint64_t conflicts_ = 0;
  uint64_t series_dropped_ = 0;
  std::map<std::string, Family, std::less<>> families_;
  mutable std::mutex mu_;
  std::string text_;  // guarded by mu_
};

}  // namespace stopgap::statsd

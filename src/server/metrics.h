// MetricsRegistry: counters, gauges and histograms with labels, rendered in
// the Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
//   MetricsRegistry m;
//   m.Describe("stopgap_alerts_received_total", MetricType::kCounter, "Alerts received.");
//   m.Add("stopgap_alerts_received_total", {{"source", "alertmanager"}});
//   m.Observe("stopgap_step_duration_seconds", {{"step", "action"}}, 0.42);
//   std::string text = m.RenderPrometheus();
//
// A family must be described before use (an undescribed name is ignored and
// counted in stopgap_metrics_undescribed_total, never a crash). Label values
// are escaped; series are rendered sorted.
//
// Thread safety: all methods are thread-safe (one mutex; updates are short).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgap::server {

enum class MetricType { kCounter, kGauge, kHistogram };

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  // Default histogram buckets (seconds): 5ms .. 5min.
  static std::vector<double> DefaultBuckets();

  void Describe(std::string name, MetricType type, std::string help,
                std::vector<double> buckets = DefaultBuckets());
  void Add(std::string_view name, const MetricLabels& labels = {}, double delta = 1);
  void Set(std::string_view name, const MetricLabels& labels, double value);
  // Drops every series of a gauge family (before re-setting a snapshot).
  void ClearFamily(std::string_view name);
  void Observe(std::string_view name, const MetricLabels& labels, double value);

  // Current value of a counter/gauge series (0 when absent); for tests and the UI.
  double Value(std::string_view name, const MetricLabels& labels = {}) const;
  uint64_t HistogramCount(std::string_view name, const MetricLabels& labels = {}) const;

  std::string RenderPrometheus() const;

 private:
  struct Series {
    double value = 0;               // counter / gauge
    std::vector<uint64_t> buckets;  // histogram: per-bucket (non-cumulative) counts
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // key: rendered label set "{a=\"b\"}"
  };
  Family* Find(std::string_view name);
  static std::string LabelKey(const MetricLabels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  uint64_t undescribed_ = 0;
};

// Escapes a label value for the text format (\\, \", \n).
std::string EscapeLabelValue(std::string_view v);
// Turns any string into a valid metric-name fragment ([a-zA-Z0-9_], others → '_').
std::string SanitizeMetricName(std::string_view s);

}  // namespace stopgap::server

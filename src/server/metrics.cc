// Prometheus text exposition for MetricsRegistry.
//
// Thread safety: every public method takes mu_.
#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace stopgap::server {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string WithLabel(const std::string& key, const std::string& extra) {
  if (key.empty()) return "{" + extra + "}";
  return key.substr(0, key.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string SanitizeMetricName(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

std::vector<double> MetricsRegistry::DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

std::string MetricsRegistry::LabelKey(const MetricLabels& labels) {
  if (labels.empty()) return "";
  MetricLabels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::string key = "{";
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i) key += ',';
    key += SanitizeMetricName(sorted[i].first);
    key += "=\"";
    key += EscapeLabelValue(sorted[i].second);
    key += '"';
  }
  key += '}';
  return key;
}

void MetricsRegistry::Describe(std::string name, MetricType type, std::string help,
                               std::vector<double> buckets) {
  std::lock_guard<std::mutex> l(mu_);
  Family& f = families_[std::move(name)];
  f.type = type;
  f.help = std::move(help);
  std::sort(buckets.begin(), buckets.end());
  f.bounds = std::move(buckets);
}

MetricsRegistry::Family* MetricsRegistry::Find(std::string_view name) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    ++undescribed_;
    return nullptr;
  }
  return &it->second;
}

void MetricsRegistry::Add(std::string_view name, const MetricLabels& labels, double delta) {
  std::string key = LabelKey(labels);
  std::lock_guard<std::mutex> l(mu_);
  Family* f = Find(name);
  if (!f || f->type == MetricType::kHistogram) return;
  f->series[key].value += delta;
}

void MetricsRegistry::Set(std::string_view name, const MetricLabels& labels, double value) {
  std::string key = LabelKey(labels);
  std::lock_guard<std::mutex> l(mu_);
  Family* f = Find(name);
  if (!f || f->type == MetricType::kHistogram) return;
  f->series[key].value = value;
}

void MetricsRegistry::ClearFamily(std::string_view name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.series.clear();
}

void MetricsRegistry::Observe(std::string_view name, const MetricLabels& labels, double value) {
  std::string key = LabelKey(labels);
  std::lock_guard<std::mutex> l(mu_);
  Family* f = Find(name);
  if (!f || f->type != MetricType::kHistogram) return;
  Series& s = f->series[key];
  if (s.buckets.empty()) s.buckets.assign(f->bounds.size(), 0);
  auto it = std::lower_bound(f->bounds.begin(), f->bounds.end(), value);
  if (it != f->bounds.end()) ++s.buckets[it - f->bounds.begin()];
  ++s.count;
  s.sum += value;
}

double MetricsRegistry::Value(std::string_view name, const MetricLabels& labels) const {
  std::string key = LabelKey(labels);
  std::lock_guard<std::mutex> l(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(key);
  return s == it->second.series.end() ? 0 : s->second.value;
}

uint64_t MetricsRegistry::HistogramCount(std::string_view name, const MetricLabels& labels) const {
  std::string key = LabelKey(labels);
  std::lock_guard<std::mutex> l(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(key);
  return s == it->second.series.end() ? 0 : s->second.count;
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " ";
    out += f.type == MetricType::kCounter ? "counter"
           : f.type == MetricType::kGauge ? "gauge"
                                          : "histogram";
    out += "\n";
    for (const auto& [key, s] : f.series) {
      if (f.type != MetricType::kHistogram) {
        out += name + key + " " + FormatValue(s.value) + "\n";
        continue;
      }
      uint64_t cum = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cum += i < s.buckets.size() ? s.buckets[i] : 0;
        out += name + "_bucket" + WithLabel(key, "le=\"" + FormatValue(f.bounds[i]) + "\"") + " " +
               std::to_string(cum) + "\n";
      }
      out +=
          name + "_bucket" + WithLabel(key, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + key + " " + FormatValue(s.sum) + "\n";
      out += name + "_count" + key + " " + std::to_string(s.count) + "\n";
    }
  }
  out += "# HELP stopgap_metrics_undescribed_total Updates to undescribed metric names (a bug).\n";
  out += "# TYPE stopgap_metrics_undescribed_total counter\n";
  out += "stopgap_metrics_undescribed_total " + std::to_string(undescribed_) + "\n";
  return out;
}

}  // namespace stopgap::server

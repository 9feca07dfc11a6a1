// PrometheusView: name/label mapping, cumulative state and rendering.
#include "statsd/prometheus.h"

#include <cmath>
#include <limits>

#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

bool NameChar(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (colon && c == ':');
}

std::string Sanitize(std::string_view s, bool colon) {
  std::string out;
  out.reserve(s.size() + 1);
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') out.push_back('_');
  for (char c : s) out.push_back(NameChar(c, colon) ? c : '_');
  return out;
}

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    AppendJsNumber(v, out);
  }
}

void AppendEscaped(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

bool PrometheusName(std::string_view key, std::string* name, std::string* labels) {
  size_t semi = key.find(';');
  *name = Sanitize(key.substr(0, semi), /*colon=*/true);
  labels->clear();
  if (name->empty()) return false;
  std::vector<std::string> seen;
  while (semi != std::string_view::npos) {
    size_t start = semi + 1;
    semi = key.find(';', start);
    std::string_view tag = key.substr(start, semi == std::string_view::npos ? semi : semi - start);
    size_t eq = tag.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;  // no value (or no name): dropped
    std::string label = Sanitize(tag.substr(0, eq), /*colon=*/false);
    if (label.size() >= 2 && label[0] == '_' && label[1] == '_') label = "tag" + label;  // reserved
    bool dup = false;
    for (const std::string& s : seen) dup = dup || s == label;
    if (dup) continue;
    seen.push_back(label);
    if (!labels->empty()) labels->push_back(',');
    *labels += label;
    *labels += "=\"";
    AppendEscaped(tag.substr(eq + 1), labels);
    labels->push_back('"');
  }
  return true;
}

PrometheusView::Series* PrometheusView::Find(std::string_view key, Type type,
                                             std::string_view help) {
  std::string name, labels;
  if (!PrometheusName(key, &name, &labels)) return nullptr;
  if (type == Type::kCounter) name += "_total";
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (series_ >= max_series_) {
      ++series_dropped_;
      return nullptr;
    }
    it = families_.emplace(name, Family{type, std::string(help), {}}).first;
  } else if (it->second.type != type) {
    ++conflicts_;
    return nullptr;
  }
  auto& series = it->second.series;
  auto s = series.find(labels);
  if (s == series.end()) {
    if (series_ >= max_series_) {
      ++series_dropped_;
      return nullptr;
    }
    ++series_;
    s = series.emplace(labels, Series{}).first;
  }
  return &s->second;
}

void PrometheusView::ObserveCounter(std::string_view key, double interval_count) {
  if (Series* s = Find(key, Type::kCounter, "statsd counter")) s->value += interval_count;
}

void PrometheusView::ObserveGauge(std::string_view key, double value) {
  if (Series* s = Find(key, Type::kGauge, "statsd gauge")) s->value = value;
}

void PrometheusView::ObserveSet(std::string_view key, double distinct) {
  if (Series* s = Find(key, Type::kGauge, "statsd set: distinct members in the last interval")) {
    s->value = distinct;
  }
}

void PrometheusView::ObserveTimer(std::string_view key, double count, double sum_ms,
                                  const std::vector<std::pair<double, double>>& quantiles) {
  Series* s = Find(key, Type::kSummary, "statsd timer, seconds");
  if (s == nullptr) return;
  s->count += count;
  s->sum += sum_ms / 1000;
  if (quantiles.empty()) {  // an idle interval: no observations, as client libraries report
    for (auto& q : s->quantiles) q.second = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  s->quantiles.clear();
  for (const auto& [phi, v] : quantiles) s->quantiles.emplace_back(phi, v / 1000);
}

void PrometheusView::Publish() {
  std::string out;
  for (const auto& family : families_) {
    const std::string& name = family.first;  // plain references: clang 14 lambdas cannot
    const Family& f = family.second;         // capture structured bindings
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " ";
    out += f.type == Type::kCounter ? "counter\n"
           : f.type == Type::kGauge ? "gauge\n"
                                    : "summary\n";
    for (const auto& entry : f.series) {
      const std::string& labels = entry.first;
      const Series& s = entry.second;
      auto line = [&](std::string_view suffix, std::string_view extra, double v) {
        out += name;
        out += suffix;
        if (!labels.empty() || !extra.empty()) {
          out.push_back('{');
          out += labels;
          if (!labels.empty() && !extra.empty()) out.push_back(',');
          out += extra;
          out.push_back('}');
        }
        out.push_back(' ');
        AppendValue(v, &out);
        out.push_back('\n');
      };
      if (f.type != Type::kSummary) {
        line("", "", s.value);
        continue;
      }
      for (const auto& [phi, v] : s.quantiles) {
        std::string q = "quantile=\"";
        AppendValue(phi, &q);
        q += "\"";
        line("", q, v);
      }
      line("_sum", "", s.sum);
      line("_count", "", s.count);
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  text_ = std::move(out);
}

std::string PrometheusView::Text() const {
  std::lock_guard<std::mutex> lk(mu_);
  return text_;
}

}  // namespace stopgap::statsd

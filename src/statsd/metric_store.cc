// MetricStore: merge, flush rendering (the reference's process_metrics.js and
// backends/graphite.js, step for step, so floating-point results match), and
// the admin views. Guarded by the server's store mutex.
#include "statsd/metric_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "statsd/internal/name_map.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

inline bool Truthy(double v) { return v != 0 && v == v; }

std::string JoinNs(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    out += p;
    out += '.';
  }
  return out;
}

// '' + pct, then .replace('.', '_').replace('-', 'top') (first occurrence each).
std::string CleanPct(double pct) {
  std::string s = JsNumberToString(pct);
  size_t dot = s.find('.');
  if (dot != std::string::npos) s[dot] = '_';
  size_t minus = s.find('-');
  if (minus != std::string::npos) s.replace(minus, 1, "top");
  return s;
}

// calculatedTimerMetrics filter: key.replace(/_(top)?\d+$/, "_percent").
std::string CleanedTimerKey(std::string_view key) {
  size_t end = key.size();
  size_t d = end;
  while (d > 0 && key[d - 1] >= '0' && key[d - 1] <= '9') --d;
  if (d == end) return std::string(key);
  size_t start = d;
  if (start >= 4 && key.substr(start - 4, 4) == "_top") {
    start -= 4;
  } else if (start >= 1 && key[start - 1] == '_') {
    start -= 1;
  } else {
    return std::string(key);
  }
  return std::string(key.substr(0, start)) + "_percent";
}

void AppendInspectKey(std::string* out, std::string_view k) {
  bool ident = !k.empty() && !(k[0] >= '0' && k[0] <= '9');
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '$')) {
      ident = false;
    }
  }
  if (ident) {
    out->append(k);
    return;
  }
  out->push_back('\'');
  for (char c : k) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

std::string InspectNumber(double v) {
  if (v == 0 && std::signbit(v)) return "-0";
  return JsNumberToString(v);
}

// util.inspect of a flat object: one line when short, else one entry per line.
std::string InspectObject(std::vector<std::pair<std::string, std::string>> entries) {
  if (entries.empty()) return "{}";
  std::vector<std::string> parts;
  size_t total = 0;
  for (auto& [k, v] : entries) {
    std::string p;
    AppendInspectKey(&p, k);
    p += ": ";
    p += v;
    total += p.size() + 2;
    parts.push_back(std::move(p));
  }
  std::string out;
  if (total + 2 <= 72 && parts.size() <= 6) {
    out = "{ ";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    return out + " }";
  }
  out = "{\n";
  for (size_t i = 0; i < parts.size(); ++i)
    out += "  " + parts[i] + (i + 1 < parts.size() ? ",\n" : "\n");
  return out + "}";
}

}  // namespace

size_t StringHash::operator()(std::string_view s) const { return internal::HashName(s); }

MetricStore::MetricStore(FlushConfig cfg) : cfg_(std::move(cfg)) {
  ComputeNames();
  counters_[bad_lines_name_] = 0;
  counters_[packets_name_] = 0;
  counters_[metrics_name_] = 0;
}

void MetricStore::set_config(FlushConfig cfg) {
  cfg_ = std::move(cfg);
  ComputeNames();
}

void MetricStore::ComputeNames() {
  const GraphiteNaming& n = cfg_.naming;
  suffix_ = n.global_suffix ? "." + *n.global_suffix : "";
  if (n.legacy_namespace) {
    ns_global_ = "stats.";
    ns_counter_ = "stats.";
    ns_counts_ = "stats_counts.";
    ns_timer_ = "stats.timers.";
    ns_gauge_ = "stats.gauges.";
    ns_set_ = "stats.sets.";
  } else {
    std::vector<std::string> g;
    if (!n.global_prefix.empty()) g.push_back(n.global_prefix);
    auto with = [&](const std::string& p) {
      std::vector<std::string> v = g;
      if (!p.empty()) v.push_back(p);
      return JoinNs(v);
    };
    ns_global_ = JoinNs(g);
    ns_counter_ = with(n.prefix_counter);
    ns_counts_ = ns_counter_;
    ns_timer_ = with(n.prefix_timer);
    ns_gauge_ = with(n.prefix_gauge);
    ns_set_ = with(n.prefix_set);
  }
  bad_lines_name_ = n.prefix_stats + ".bad_lines_seen";
  packets_name_ = n.prefix_stats + ".packets_received";
  metrics_name_ = n.prefix_stats + ".metrics_received";
  lag_name_ = n.prefix_stats + ".timestamp_lag";
  names_dropped_name_ = n.prefix_stats + ".names_dropped";

  const std::vector<std::string>& keep = cfg_.calculated_timer_metrics;
  auto kept = [&](std::string_view k) {
    if (keep.empty()) return true;
    std::string c = CleanedTimerKey(k);
    return std::find(keep.begin(), keep.end(), c) != keep.end();
  };
  pct_names_.clear();
  for (double pct : cfg_.percentiles) {
    std::string c = CleanPct(pct);
    PctNames p{pct,         "count_" + c,
               "mean_" + c, (pct > 0 ? "upper_" : "lower_") + c,
               "sum_" + c,  "sum_squares_" + c,
               false,       false,
               false,       false,
               false};
    p.keep_count = kept(p.count);
    p.keep_mean = kept(p.mean);
    p.keep_bound = kept(p.bound);
    p.keep_sum = kept(p.sum);
    p.keep_sum_squares = kept(p.sum_squares);
    pct_names_.push_back(std::move(p));
  }
  const char* names[9] = {"std", "upper",       "lower", "count", "count_ps",
                          "sum", "sum_squares", "mean",  "median"};
  for (int i = 0; i < 9; ++i) keep_[i] = kept(names[i]);
  keep_histogram_ = kept("histogram");
}

void MetricStore::Merge(const IntervalTable& t) {
  auto& tc = const_cast<IntervalTable&>(t);
  for (uint32_t i : t.touched_counters()) {
    const auto& e = tc.counters().at(i);
    auto it = counters_.find(e.name);
    if (it == counters_.end()) {
      if (RoomForNewName()) counters_.emplace(std::string(e.name), e.value.value);
    } else {
      it->second += e.value.value;
    }
  }
  for (uint32_t i : t.touched_timers()) {
    const auto& e = tc.timers().at(i);
    TimerState* st = TimerFor(e.name);
    if (st == nullptr) continue;
    if (e.value.sketch) {
      if (!st->sketch) TimerToSketch(st);
      st->sketch->Merge(*e.value.sketch);
    }
    if (st->sketch) {
      for (double v : e.value.values) st->sketch->Add(v);
    } else {
      st->values.insert(st->values.end(), e.value.values.begin(), e.value.values.end());
      if (cfg_.timer_exact_max > 0 && st->values.size() > cfg_.timer_exact_max) TimerToSketch(st);
    }
    st->count += e.value.count;
  }
  for (uint32_t i : t.touched_gauges()) {
    const auto& e = tc.gauges().at(i);
    auto it = gauges_.find(e.name);
    bool exists = it != gauges_.end();
    double g = exists ? it->second.value : 0;
    for (double d : e.value.leading_deltas) g = (exists && Truthy(g)) ? g + d : d, exists = true;
    if (e.value.absolute) g = e.value.value;
    if (it == gauges_.end()) {
      if (!RoomForNewName()) continue;
      it = gauges_.emplace(std::string(e.name), GaugeState{}).first;
    }
    it->second.value = g;
    it->second.ts_ms = e.value.ts_ms;
    it->second.fresh = true;
    if (cfg_.delete_gauges) it->second.ttl = cfg_.gauges_max_ttl;
  }
  for (uint32_t i : t.touched_sets()) {
    const auto& e = tc.sets().at(i);
    std::string_view name = e.name.substr(0, e.value.name_len);
    std::string_view member = e.name.substr(e.value.name_len + 1);
    auto it = sets_.find(name);
    if (it == sets_.end()) {
      if (!RoomForNewName()) continue;
      it = sets_.emplace(std::string(name), SetState{}).first;
    }
    if (it->second.hll) {
      it->second.hll->Add(member);
    } else if (name_count() + set_members_ < cfg_.max_names) {
      if (it->second.members.emplace(member).second) ++set_members_;
    } else if (it->second.members.count(std::string(member)) == 0) {
      RoomForNewName();  // counts the drop
    }
  }
  names_dropped_ += t.counts().names_dropped;  // refused by the receive thread's own cap
  dropped_unflushed_ += t.counts().names_dropped;
  if (dropped_unflushed_ > 0) {
    counters_[names_dropped_name_] += static_cast<double>(dropped_unflushed_);
    dropped_unflushed_ = 0;
  }
  const IntakeCounts& c = t.counts();
  if (c.bad_lines) counters_[bad_lines_name_] += static_cast<double>(c.bad_lines);
  if (c.packets) counters_[packets_name_] += static_cast<double>(c.packets);
  if (c.lines) counters_[metrics_name_] += static_cast<double>(c.lines);
  totals_.Add(c);
}

void MetricStore::AppendName(std::string* out, const std::string& ns_prefix, std::string_view key,
                             std::string_view extra1, std::string_view extra2) {
  size_t semi = key.find(';');
  std::string_view name = key.substr(0, semi);
  out->append(ns_prefix);
  if (cfg_.key_name_sanitize) {
    out->append(name);
  } else {
    SanitizeKey(name, out);
  }
  if (!extra1.empty()) {
    out->push_back('.');
    out->append(extra1);
  }
  if (!extra2.empty()) {
    out->push_back('.');
    out->append(extra2);
  }
  out->append(suffix_);
  if (semi != std::string_view::npos) out->append(key.substr(semi));
}

void MetricStore::AppendLine(FlushOutput* out, const std::string& ns_prefix, std::string_view key,
                             std::string_view extra1, std::string_view extra2, double value,
                             std::string_view ts) {
  AppendName(&out->payload, ns_prefix, key, extra1, extra2);
  out->payload.push_back(' ');
  AppendJsNumber(value, &out->payload);
  out->payload.push_back(' ');
  out->payload.append(ts);
  out->payload.push_back('\n');
  ++out->lines;
}

void MetricStore::RenderTimer(std::string_view key, TimerState& t, std::string_view ts,
                              FlushOutput* out) {
  const double interval_s = static_cast<double>(cfg_.flush_interval_ms) / 1000;
  auto emit = [&](bool keep, std::string_view stat, double v) {
    if (keep) AppendLine(out, ns_timer_, key, stat, {}, v, ts);
  };
  if (t.sketch) {
    RenderSketchTimer(key, t, ts, out);
    return;
  }
  std::vector<double>& values = t.values;
  if (values.empty()) {
    emit(keep_[3], "count", 0);
    emit(keep_[4], "count_ps", 0);
    return;
  }
  std::sort(values.begin(), values.end());
  const size_t count = values.size();
  const double min = values[0];
  const double max = values[count - 1];
  cumul_.resize(count);
  cumul_sq_.resize(count);
  cumul_[0] = min;
  cumul_sq_[0] = min * min;
  for (size_t i = 1; i < count; ++i) {
    cumul_[i] = values[i] + cumul_[i - 1];
    cumul_sq_[i] = (values[i] * values[i]) + cumul_sq_[i - 1];
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // JS arrays: an index out of range reads undefined, which the graphite
  // backend skips; arithmetic on it gives NaN, which it prints.
  auto at = [&](const std::vector<double>& v, double idx) -> std::optional<double> {
    if (idx < 0 || idx >= static_cast<double>(count)) return std::nullopt;
    return v[static_cast<size_t>(idx)];
  };
  std::optional<double> sum = min, sum_sq = min * min, bound = max;
  double mean = min;
  for (const PctNames& p : pct_names_) {
    double n_in = static_cast<double>(count);
    if (count > 1) {
      n_in = JsRound(std::fabs(p.pct) / 100 * static_cast<double>(count));
      if (n_in == 0) continue;
      double c = static_cast<double>(count);
      if (p.pct > 0) {
        bound = at(values, n_in - 1);
        sum = at(cumul_, n_in - 1);
        sum_sq = at(cumul_sq_, n_in - 1);
      } else {
        bound = at(values, c - n_in);
        std::optional<double> a = at(cumul_, c - n_in - 1);
        std::optional<double> b = at(cumul_sq_, c - n_in - 1);
        sum = cumul_[count - 1] - (a ? *a : kNaN);
        sum_sq = cumul_sq_[count - 1] - (b ? *b : kNaN);
      }
      mean = sum ? *sum / n_in : kNaN;
    }
    emit(p.keep_count, p.count, n_in);
    emit(p.keep_mean, p.mean, mean);
    if (bound) emit(p.keep_bound, p.bound, *bound);
    if (sum) emit(p.keep_sum, p.sum, *sum);
    if (sum_sq) emit(p.keep_sum_squares, p.sum_squares, *sum_sq);
  }
  const double total = cumul_[count - 1];
  const double total_sq = cumul_sq_[count - 1];
  const double avg = total / static_cast<double>(count);
  double sum_of_diffs = 0;
  for (size_t i = 0; i < count; ++i) sum_of_diffs += (values[i] - avg) * (values[i] - avg);
  const size_t mid = count / 2;
  const double median = (count % 2) ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  emit(keep_[0], "std", std::sqrt(sum_of_diffs / static_cast<double>(count)));
  emit(keep_[1], "upper", max);
  emit(keep_[2], "lower", min);
  emit(keep_[3], "count", t.count);
  emit(keep_[4], "count_ps", t.count / interval_s);
  emit(keep_[5], "sum", total);
  emit(keep_[6], "sum_squares", total_sq);
  emit(keep_[7], "mean", avg);
  emit(keep_[8], "median", median);
  if (!keep_histogram_) return;
  size_t next = 0;  // values are sorted: one pass over them for all bins
  RenderHistogram(
      key, ts, out,
      [&](double bin) {
        while (next < count && values[next] < bin) ++next;
        return static_cast<double>(next);
      },
      static_cast<double>(count));
}

void MetricStore::RenderHistogram(std::string_view key, std::string_view ts, FlushOutput* out,
                                  const std::function<double(double)>& count_below, double count) {
  for (const HistogramSpec& h : cfg_.histograms) {
    if (key.find(h.metric) == std::string_view::npos) continue;
    double done = 0;
    for (double bin : h.bins) {
      double below = std::max(done, std::isinf(bin) ? count : count_below(bin));
      double freq = below - done;
      done = below;
      std::string name = "bin_";
      if (std::isinf(bin)) {
        name += "inf";
      } else {
        std::string b = JsNumberToString(bin);
        size_t dot = b.find('.');
        if (dot != std::string::npos) b[dot] = '_';
        name += b;
      }
      AppendLine(out, ns_timer_, key, "histogram", name, freq, ts);
    }
    break;  // first match wins
  }
}

// The same statistics from a TimerSketch: counts, sums, lower/upper, mean and
// std exact (up to summation order); median, the percentile bounds and sums,
// and histogram bins from the sketch (docs/statsd.md: error bounds).
void MetricStore::RenderSketchTimer(std::string_view key, const TimerState& t, std::string_view ts,
                                    FlushOutput* out) {
  const TimerSketch& sk = *t.sketch;
  const double interval_s = static_cast<double>(cfg_.flush_interval_ms) / 1000;
  auto emit = [&](bool keep, std::string_view stat, double v) {
    if (keep) AppendLine(out, ns_timer_, key, stat, {}, v, ts);
  };
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const uint64_t n = sk.count();
  const double c = static_cast<double>(n);
  for (const PctNames& p : pct_names_) {
    double n_in = JsRound(std::fabs(p.pct) / 100 * c);
    if (n_in == 0) continue;
    std::optional<double> bound, sum, sum_sq;
    if (p.pct > 0) {
      if (n_in <= c) {
        auto k = static_cast<uint64_t>(n_in);
        bound = sk.ValueAtRank(k);
        sum = sk.SumSmallest(k);
        sum_sq = sk.SumSquaresSmallest(k);
      }
    } else {
      if (c - n_in >= 0) bound = sk.ValueAtRank(static_cast<uint64_t>(c - n_in) + 1);
      if (c - n_in - 1 >= 0) {
        auto top = static_cast<uint64_t>(n_in);
        sum = sk.SumLargest(top);
        sum_sq = sk.SumSquaresLargest(top);
      } else {
        sum = sum_sq = kNaN;
      }
    }
    double mean = sum ? *sum / n_in : kNaN;
    emit(p.keep_count, p.count, n_in);
    emit(p.keep_mean, p.mean, mean);
    if (bound) emit(p.keep_bound, p.bound, *bound);
    if (sum) emit(p.keep_sum, p.sum, *sum);
    if (sum_sq) emit(p.keep_sum_squares, p.sum_squares, *sum_sq);
  }
  const uint64_t mid = n / 2;
  const double median =
      (n % 2) ? sk.ValueAtRank(mid + 1) : (sk.ValueAtRank(mid) + sk.ValueAtRank(mid + 1)) / 2;
  emit(keep_[0], "std", sk.stddev());
  emit(keep_[1], "upper", sk.max());
  emit(keep_[2], "lower", sk.min());
  emit(keep_[3], "count", t.count);
  emit(keep_[4], "count_ps", t.count / interval_s);
  emit(keep_[5], "sum", sk.sum());
  emit(keep_[6], "sum_squares", sk.sum_squares());
  emit(keep_[7], "mean", sk.sum() / c);
  emit(keep_[8], "median", median);
  if (!keep_histogram_) return;
  RenderHistogram(
      key, ts, out, [&](double bin) { return sk.CountBelow(bin); }, c);
}

FlushOutput MetricStore::Flush(int64_t ts_seconds, const GraphiteStats& graphite,
                               const std::function<int64_t()>& now_ms) {
  FlushOutput out;
  const int64_t t0 = now_ms();
  if (old_timestamp_ > 0) {
    gauges_[lag_name_].value = static_cast<double>(ts_seconds - old_timestamp_) -
                               static_cast<double>(cfg_.flush_interval_ms) / 1000;
  }
  old_timestamp_ = ts_seconds;
  char tsbuf[24];
  auto [tse, ec] = std::to_chars(tsbuf, tsbuf + sizeof tsbuf, ts_seconds);
  std::string_view ts(tsbuf, static_cast<size_t>(tse - tsbuf));
  const double interval_s = static_cast<double>(cfg_.flush_interval_ms) / 1000;
  const bool legacy = cfg_.naming.legacy_namespace;
  out.payload.reserve(
      (counters_.size() * 2 + timers_.size() * 16 + gauges_.size() + sets_.size() + 16) * 80);

  for (auto& [key, value] : counters_) {
    if (legacy) {
      AppendLine(&out, ns_counter_, key, {}, {}, value / interval_s, ts);
      if (cfg_.naming.flush_counts) AppendLine(&out, ns_counts_, key, {}, {}, value, ts);
    } else {
      AppendLine(&out, ns_counter_, key, "rate", {}, value / interval_s, ts);
      if (cfg_.naming.flush_counts) AppendLine(&out, ns_counter_, key, "count", {}, value, ts);
    }
  }
  for (auto& [key, t] : timers_) RenderTimer(key, t, ts, &out);
  for (auto& [key, g] : gauges_) AppendLine(&out, ns_gauge_, key, {}, {}, g.value, ts);
  for (auto& [key, s] : sets_) {
    AppendLine(&out, ns_set_, key, "count", {}, s.Count(), ts);
  }
  out.num_stats = counters_.size() + timers_.size() + gauges_.size() + sets_.size();
  const int64_t processing_ms = now_ms() - t0;
  const std::string& ps = cfg_.naming.prefix_stats;
  auto raw = [&](const std::string& name, double v) {
    out.payload += name;
    out.payload.push_back(' ');
    AppendJsNumber(v, &out.payload);
    out.payload.push_back(' ');
    out.payload.append(ts);
    out.payload.push_back('\n');
    ++out.lines;
  };
  const double calc_ms = static_cast<double>(now_ms() - t0);
  if (legacy) {
    raw(ps + ".numStats" + suffix_, static_cast<double>(out.num_stats));
    raw("stats." + ps + ".graphiteStats.calculationtime" + suffix_, calc_ms);
    raw("stats." + ps + ".processing_time" + suffix_, static_cast<double>(processing_ms));
  } else {
    AppendLine(&out, ns_global_, ps, "numStats", {}, static_cast<double>(out.num_stats), ts);
    AppendLine(&out, ns_global_, ps, "graphiteStats", "calculationtime", calc_ms, ts);
    AppendLine(&out, ns_global_, ps, "processing_time", {}, static_cast<double>(processing_ms), ts);
  }
  const std::string gs = ns_global_ + ps + ".graphiteStats.";
  raw(gs + "last_exception" + suffix_, static_cast<double>(graphite.last_exception));
  raw(gs + "last_flush" + suffix_, static_cast<double>(graphite.last_flush));
  raw(gs + "flush_time" + suffix_, static_cast<double>(graphite.flush_time));
  raw(gs + "flush_length" + suffix_, static_cast<double>(graphite.flush_length));

  // Clear, as stats.js clear_metrics does after the backends ran.
  if (cfg_.delete_counters) {
    for (auto it = counters_.begin(); it != counters_.end();) {
      const std::string& k = it->first;
      if (k.find("packets_received") != std::string::npos ||
          k.find("metrics_received") != std::string::npos ||
          k.find("bad_lines_seen") != std::string::npos) {
        it->second = 0;
        ++it;
      } else {
        it = counters_.erase(it);
      }
    }
  } else {
    for (auto& [k, v] : counters_) v = 0;
  }
  if (cfg_.delete_timers) {
    timers_.clear();
  } else {
    for (auto& [k, t] : timers_) {
      t.values.clear();
      t.sketch.reset();
      t.count = 0;
    }
  }
  if (cfg_.delete_sets) {
    sets_.clear();
  } else {
    for (auto& [k, s] : sets_) {
      s.members.clear();
      s.hll.reset();
    }
  }
  set_members_ = 0;
  for (auto& [k, g] : gauges_) g.fresh = false;
  if (cfg_.delete_gauges) {
    for (auto it = gauges_.begin(); it != gauges_.end();) {
      if (it->second.ttl >= 0 && --it->second.ttl < 1) {
        it = gauges_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

std::string MetricStore::InspectCounters() const {
  std::vector<std::pair<std::string, std::string>> e;
  for (const auto& [k, v] : counters_) e.emplace_back(k, InspectNumber(v));
  return InspectObject(std::move(e));
}

std::string MetricStore::InspectTimers() const {
  std::vector<std::pair<std::string, std::string>> e;
  for (const auto& [k, t] : timers_) {
    if (t.sketch) {  // too many to list: a summary instead of the values
      e.emplace_back(k, "'sketch of " + std::to_string(t.sketch->count()) + " values, " +
                            InspectNumber(t.sketch->min()) + " .. " +
                            InspectNumber(t.sketch->max()) + "'");
      continue;
    }
    std::string arr = t.values.empty() ? "[]" : "[ ";
    for (size_t i = 0; i < t.values.size(); ++i) {
      arr += (i ? ", " : "") + InspectNumber(t.values[i]);
    }
    if (!t.values.empty()) arr += " ]";
    e.emplace_back(k, arr);
  }
  return InspectObject(std::move(e));
}

std::string MetricStore::InspectGauges() const {
  std::vector<std::pair<std::string, std::string>> e;
  for (const auto& [k, g] : gauges_) e.emplace_back(k, InspectNumber(g.value));
  return InspectObject(std::move(e));
}

std::string MetricStore::Delete(Kind kind, const std::vector<std::string>& patterns) {
  std::string reply;
  auto run = [&](auto& map) {
    for (const std::string& pat : patterns) {
      std::vector<std::string> matches;
      if (map.count(pat)) matches.push_back(pat);
      if (pat.size() >= 2 && pat.compare(pat.size() - 2, 2, ".*") == 0) {
        std::string folder = pat.substr(0, pat.size() - 1);
        for (const auto& kv : map) {
          if (kv.first.compare(0, folder.size(), folder) == 0) matches.push_back(kv.first);
        }
      }
      if (matches.empty()) reply += "metric " + pat + " not found\n";
      for (const std::string& m : matches) {
        map.erase(m);
        reply += "deleted: " + m + "\n";
      }
    }
  };
  switch (kind) {
    case Kind::kCounters:
      run(counters_);
      break;
    case Kind::kTimers:
      run(timers_);
      break;
    case Kind::kGauges:
      run(gauges_);
      break;
  }
  return reply + "END\n\n";
}

void MetricStore::Export(PrometheusView* view) {
  for (const auto& [key, v] : counters_) view->ObserveCounter(key, v);
  for (const auto& [key, g] : gauges_) view->ObserveGauge(key, g.value);
  for (const auto& [key, s] : sets_) view->ObserveSet(key, s.Count());
  std::vector<double> phis = {0.5};
  for (double p : cfg_.percentiles) {
    if (p > 0 && p <= 100 && p != 50) phis.push_back(p / 100);
  }
  std::sort(phis.begin(), phis.end());
  std::vector<std::pair<double, double>> q;
  for (auto& [key, t] : timers_) {
    q.clear();
    double sum = 0;
    if (t.sketch) {
      const auto n = t.sketch->count();
      sum = t.sketch->sum();
      for (double phi : phis) {
        uint64_t rank = static_cast<uint64_t>(std::ceil(phi * static_cast<double>(n)));
        q.emplace_back(phi, t.sketch->ValueAtRank(std::max<uint64_t>(rank, 1)));
      }
    } else if (!t.values.empty()) {
      std::sort(t.values.begin(), t.values.end());
      const size_t n = t.values.size();
      for (double v : t.values) sum += v;
      for (double phi : phis) {
        size_t rank = static_cast<size_t>(std::ceil(phi * static_cast<double>(n)));
        q.emplace_back(phi, t.values[std::clamp<size_t>(rank, 1, n) - 1]);
      }
    }
    view->ObserveTimer(key, t.count, sum, q);
  }
}

size_t MetricStore::name_count() const {
  return counters_.size() + timers_.size() + gauges_.size() + sets_.size();
}

bool MetricStore::RoomForNewName() {
  if (name_count() + set_members_ < cfg_.max_names) return true;
  ++names_dropped_;
  ++dropped_unflushed_;
  return false;
}

MetricStore::TimerState* MetricStore::TimerFor(std::string_view name) {
  auto it = timers_.find(name);
  if (it == timers_.end()) {
    if (!RoomForNewName()) return nullptr;
    it = timers_.emplace(std::string(name), TimerState{}).first;
  }
  return &it->second;
}

void MetricStore::TimerToSketch(TimerState* st) {
  st->sketch = std::make_unique<TimerSketch>();
  for (double v : st->values) st->sketch->Add(v);
  st->values.clear();
  st->values.shrink_to_fit();
}

double MetricStore::SetState::Count() const {
  return hll ? std::round(hll->Estimate()) : static_cast<double>(members.size());
}

void MetricStore::SetState::ToHll() {
  hll = std::make_unique<Hll>();
  for (const std::string& m : members) hll->Add(m);
  members.clear();
}

void MetricStore::EncodeForward(ForwardEncoder* enc, uint64_t timer_exact_values) const {
  for (const auto& [key, v] : counters_) {
    if (v == 0 || key == bad_lines_name_ || key == packets_name_ || key == metrics_name_ ||
        key == names_dropped_name_) {
      continue;
    }
    enc->Counter(key, v);
  }
  for (const auto& [key, g] : gauges_) {
    if (g.fresh) enc->Gauge(key, g.value, g.ts_ms);
  }
  for (const auto& [key, t] : timers_) {
    if (t.count == 0 && t.values.empty() && !t.sketch) continue;
    if (t.sketch) {
      enc->TimerSketched(key, t.count, *t.sketch);
    } else if (t.values.size() <= timer_exact_values) {
      enc->TimerExact(key, t.count, t.values);
    } else {
      TimerSketch sk;
      for (double v : t.values) sk.Add(v);
      enc->TimerSketched(key, t.count, sk);
    }
  }
  std::vector<std::string_view> members;
  for (const auto& [key, s] : sets_) {
    if (s.hll) {
      enc->SetHll(key, *s.hll);
    } else if (s.members.size() > cfg_.set_exact_max) {
      Hll h;
      for (const std::string& m : s.members) h.Add(m);
      enc->SetHll(key, h);
    } else if (!s.members.empty()) {
      members.assign(s.members.begin(), s.members.end());
      enc->SetExact(key, members);
    }
  }
}

void MetricStore::MergeForward(const ForwardInterval& iv) {
  for (const auto& [name, v] : iv.counters) {
    auto it = counters_.find(name);
    if (it != counters_.end()) {
      it->second += v;
    } else if (RoomForNewName()) {
      counters_.emplace(std::string(name), v);
    }
  }
  for (const ForwardGauge& g : iv.gauges) {
    auto it = gauges_.find(g.name);
    if (it == gauges_.end()) {
      if (!RoomForNewName()) continue;
      it = gauges_.emplace(std::string(g.name), GaugeState{}).first;
    } else if (g.ts_ms < it->second.ts_ms) {
      continue;  // an older write than the one held: the latest wins
    }
    it->second.value = g.value;
    it->second.ts_ms = g.ts_ms;
    it->second.fresh = true;
    if (cfg_.delete_gauges) it->second.ttl = cfg_.gauges_max_ttl;
  }
  for (const ForwardTimer& t : iv.timers) {
    TimerState* st = TimerFor(t.name);
    if (st == nullptr) continue;
    if (t.sketch) {
      if (!st->sketch) TimerToSketch(st);
      st->sketch->Merge(*t.sketch);
    } else if (st->sketch) {
      for (double v : t.values) st->sketch->Add(v);
    } else {
      st->values.insert(st->values.end(), t.values.begin(), t.values.end());
      if (cfg_.timer_exact_max > 0 && st->values.size() > cfg_.timer_exact_max) TimerToSketch(st);
    }
    st->count += t.count;
  }
  for (const ForwardSet& fs : iv.sets) {
    auto it = sets_.find(fs.name);
    if (it == sets_.end()) {
      if (!RoomForNewName()) continue;
      it = sets_.emplace(std::string(fs.name), SetState{}).first;
    }
    SetState& s = it->second;
    if (fs.hll && !s.hll) {
      set_members_ -= std::min(set_members_, s.members.size());
      s.ToHll();
    }
    if (s.hll) {
      if (fs.hll) s.hll->Merge(*fs.hll);
      for (std::string_view m : fs.members) s.hll->Add(m);
      continue;
    }
    for (std::string_view m : fs.members) {
      if (s.members.emplace(m).second) ++set_members_;
    }
    if (s.members.size() > cfg_.set_exact_max) {
      set_members_ -= std::min(set_members_, s.members.size());
      s.ToHll();
    }
  }
}

}  // namespace stopgap::statsd

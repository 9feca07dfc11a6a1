// YAML loading for StatsdConfig (yaml-cpp; its exceptions stop here).
#include "statsd/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <set>

#include "core/time.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {

Result<std::vector<double>> ParseBins(const std::string& text) {
  std::vector<double> bins;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string_view t = JsTrim(item);
    if (t == "inf") {
      bins.push_back(std::numeric_limits<double>::infinity());
    } else {
      double v = JsStringToNumber(t);
      if (t.empty() || v != v)
        return InvalidArgument("histogram bin \"" + item + "\" is not a number");
      bins.push_back(v);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return bins;
}

std::string_view GraphiteProtocolName(GraphiteProtocol p) {
  return p == GraphiteProtocol::kPickle ? "pickle" : "text";
}
std::string_view RepeaterProtocolName(RepeaterProtocol p) {
  return p == RepeaterProtocol::kTcp ? "tcp" : p == RepeaterProtocol::kUdp6 ? "udp6" : "udp4";
}
bool ParseGraphiteProtocol(std::string_view s, GraphiteProtocol* out) {
  if (s == "text")
    *out = GraphiteProtocol::kText;
  else if (s == "pickle")
    *out = GraphiteProtocol::kPickle;
  else
    return false;
  return true;
}
bool ParseRepeaterProtocol(std::string_view s, RepeaterProtocol* out) {
  if (s == "udp4")
    *out = RepeaterProtocol::kUdp4;
  else if (s == "udp6")
    *out = RepeaterProtocol::kUdp6;
  else if (s == "tcp")
    *out = RepeaterProtocol::kTcp;
  else
    return false;
  return true;
}

std::string DescribeConfig(const StatsdConfig& c) {
  const FlushConfig& f = c.flush;
  std::string r;
  auto kv = [&](const std::string& k, const std::string& v) { r += k + ": " + v + "\n"; };
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  kv("udp", c.udp);
  kv("tcp", c.tcp);
  kv("admin", c.admin);
  kv("graphite", c.graphite);
  kv("graphiteProtocol", std::string(GraphiteProtocolName(c.graphite_protocol)));
  kv("console", b(c.console));
  std::string reps;
  for (const std::string& t : c.repeat_to) reps += (reps.empty() ? "" : ",") + t;
  kv("repeater", reps);
  kv("repeaterProtocol", std::string(RepeaterProtocolName(c.repeater_protocol)));
  kv("prometheus", c.prometheus);
  kv("forwardTo", c.forward_to);
  kv("nodeId", c.node_id);
  kv("forwardBufferBytes", std::to_string(c.forward_buffer_bytes));
  kv("forwardBufferIntervals", std::to_string(c.forward_buffer_intervals));
  kv("forwardTimerExactMax", std::to_string(c.forward_timer_exact_max));
  kv("globalListen", c.global_listen);
  kv("setExactMax", std::to_string(f.set_exact_max));
  kv("receivers", std::to_string(c.receivers));
  kv("flushInterval", std::to_string(f.flush_interval_ms));
  std::string pcts;
  for (double p : f.percentiles) pcts += (pcts.empty() ? "" : ",") + JsNumberToString(p);
  kv("percentThreshold", pcts);
  for (const HistogramSpec& h : f.histograms) {
    std::string bins;
    for (double x : h.bins) bins += (bins.empty() ? "" : ",") + JsNumberToString(x);
    kv("histogram > " + h.metric, bins);
  }
  std::string calc;
  for (const std::string& m : f.calculated_timer_metrics) calc += (calc.empty() ? "" : ",") + m;
  kv("calculatedTimerMetrics", calc.empty() ? "all" : calc);
  kv("deleteCounters", b(f.delete_counters));
  kv("deleteTimers", b(f.delete_timers));
  kv("deleteGauges", b(f.delete_gauges));
  kv("deleteSets", b(f.delete_sets));
  kv("gaugesMaxTTL", std::to_string(f.gauges_max_ttl));
  kv("timerExactMax", std::to_string(f.timer_exact_max));
  kv("maxNames", std::to_string(f.max_names));
  kv("keyNameSanitize", b(f.key_name_sanitize));
  kv("healthStatus", c.health_status);
  kv("prefixStats", f.naming.prefix_stats);
  kv("flush_counts", b(f.naming.flush_counts));
  kv("graphite > legacyNamespace", b(f.naming.legacy_namespace));
  kv("graphite > globalPrefix", f.naming.global_prefix);
  kv("graphite > prefixCounter", f.naming.prefix_counter);
  kv("graphite > prefixTimer", f.naming.prefix_timer);
  kv("graphite > prefixGauge", f.naming.prefix_gauge);
  kv("graphite > prefixSet", f.naming.prefix_set);
  if (f.naming.global_suffix) kv("graphite > globalSuffix", *f.naming.global_suffix);
  kv("strict", b(c.parse.strict));
  kv("dogstatsd", b(c.parse.dogstatsd));
  return r;
}

void ApplyDeleteIdleStats(bool delete_idle, StatsdConfig* c) {
  if (!delete_idle) return;
  c->flush.delete_counters = c->flush.delete_timers = c->flush.delete_gauges =
      c->flush.delete_sets = true;
}

Result<StatsdConfig> ParseStatsdConfigYaml(const std::string& text, const std::string& file,
                                           StatsdConfig base) {
  StatsdConfig c = std::move(base);
  std::string field;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) return c;
    if (!root.IsMap()) return InvalidArgument(file + ": top level must be a mapping");
    // deleteIdleStats first: the individual delete_* keys override it.
    if (root["delete_idle_stats"]) {
      field = "delete_idle_stats";
      ApplyDeleteIdleStats(root["delete_idle_stats"].as<bool>(), &c);
    }
    for (const auto& kv : root) {
      field = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      int line = kv.first.Mark().line + 1;
      auto bad = [&](const std::string& why) {
        return InvalidArgument(file + ":" + std::to_string(line) + ": " + field + ": " + why);
      };
      if (field == "udp") {
        c.udp = v.as<std::string>();
      } else if (field == "tcp") {
        c.tcp = v.as<std::string>();
      } else if (field == "admin") {
        c.admin = v.as<std::string>();
      } else if (field == "graphite") {
        c.graphite = v.as<std::string>();
      } else if (field == "receivers") {
        c.receivers = v.as<int>();
        if (c.receivers < 0 || c.receivers > 64) return bad("must be 0..64");
      } else if (field == "rcvbuf") {
        c.rcvbuf_bytes = v.as<int>();
      } else if (field == "timer_exact_max") {
        int64_t m = v.as<int64_t>();
        if (m < 0) return bad("must be >= 0 (0: always exact)");
        c.flush.timer_exact_max = static_cast<uint64_t>(m);
      } else if (field == "max_names") {
        int64_t m = v.as<int64_t>();
        if (m < 1) return bad("must be >= 1");
        c.flush.max_names = static_cast<uint64_t>(m);
      } else if (field == "receive_nap_us") {
        c.receive_nap_us = v.as<int>();
        if (c.receive_nap_us < 0 || c.receive_nap_us > 100000) return bad("must be 0..100000");
      } else if (field == "max_packet_bytes") {
        c.max_packet_bytes = v.as<int>();
        if (c.max_packet_bytes < 512 || c.max_packet_bytes > 65536)
          return bad("must be 512..65536");
      } else if (field == "graphite_buffer_bytes") {
        c.graphite_buffer_bytes = v.as<size_t>();
      } else if (field == "flush_interval") {
        Result<Duration> d = ParseDuration(v.as<std::string>());
        if (!d.ok()) return bad(d.status().message());
        if (d->count() <= 0) return bad("must be positive");
        c.flush.flush_interval_ms = d->count();
      } else if (field == "percent_threshold" || field == "percentiles") {
        c.flush.percentiles.clear();
        if (v.IsSequence()) {
          for (const auto& p : v) c.flush.percentiles.push_back(p.as<double>());
        } else {
          c.flush.percentiles.push_back(v.as<double>());
        }
      } else if (field == "histogram") {
        if (!v.IsSequence()) return bad("must be a list of {metric, bins}");
        for (const auto& h : v) {
          HistogramSpec spec;
          spec.metric = h["metric"].as<std::string>("");
          for (const auto& b : h["bins"]) {
            std::string s = b.as<std::string>();
            if (s == "inf") {
              spec.bins.push_back(std::numeric_limits<double>::infinity());
            } else {
              double d = JsStringToNumber(s);
              if (d != d) return bad("bin \"" + s + "\" is not a number");
              spec.bins.push_back(d);
            }
          }
          c.flush.histograms.push_back(std::move(spec));
        }
      } else if (field == "calculated_timer_metrics") {
        for (const auto& m : v) c.flush.calculated_timer_metrics.push_back(m.as<std::string>());
      } else if (field == "delete_idle_stats") {
        // handled above
      } else if (field == "delete_counters") {
        c.flush.delete_counters = v.as<bool>();
      } else if (field == "delete_timers") {
        c.flush.delete_timers = v.as<bool>();
      } else if (field == "delete_gauges") {
        c.flush.delete_gauges = v.as<bool>();
      } else if (field == "delete_sets") {
        c.flush.delete_sets = v.as<bool>();
      } else if (field == "gauges_max_ttl") {
        int ttl = v.as<int>();
        c.flush.gauges_max_ttl = ttl > 1 ? ttl : 1;
      } else if (field == "key_name_sanitize") {
        c.flush.key_name_sanitize = v.as<bool>();
        c.parse.sanitize = c.flush.key_name_sanitize;
      } else if (field == "strict") {
        c.parse.strict = v.as<bool>();
      } else if (field == "dogstatsd") {
        c.parse.dogstatsd = v.as<bool>();
      } else if (field == "health_status") {
        c.health_status = v.as<std::string>();
        if (c.health_status != "up" && c.health_status != "down") return bad("must be up or down");
      } else if (field == "graphite_protocol") {
        if (!ParseGraphiteProtocol(v.as<std::string>(), &c.graphite_protocol))
          return bad("must be text or pickle");
      } else if (field == "console") {
        c.console = v.as<bool>();
      } else if (field == "repeater") {
        c.repeat_to.clear();
        if (v.IsSequence()) {
          for (const auto& r : v) c.repeat_to.push_back(r.as<std::string>());
        } else {
          c.repeat_to.push_back(v.as<std::string>());
        }
      } else if (field == "repeater_protocol") {
        if (!ParseRepeaterProtocol(v.as<std::string>(), &c.repeater_protocol))
          return bad("must be udp4, udp6 or tcp");
      } else if (field == "prometheus") {
        c.prometheus = v.as<std::string>();
      } else if (field == "forward_to") {
        c.forward_to = v.as<std::string>("");
      } else if (field == "node_id") {
        c.node_id = v.as<std::string>("");
        if (c.node_id.size() > 255) return bad("at most 255 bytes");
      } else if (field == "forward_buffer_bytes") {
        int64_t m = v.as<int64_t>();
        if (m < 1) return bad("must be >= 1");
        c.forward_buffer_bytes = static_cast<size_t>(m);
      } else if (field == "forward_buffer_intervals") {
        int64_t m = v.as<int64_t>();
        if (m < 1) return bad("must be >= 1");
        c.forward_buffer_intervals = static_cast<size_t>(m);
      } else if (field == "forward_timer_exact_max") {
        int64_t m = v.as<int64_t>();
        if (m < 0) return bad("must be >= 0");
        c.forward_timer_exact_max = static_cast<uint64_t>(m);
      } else if (field == "global_listen") {
        c.global_listen = v.as<std::string>("");
      } else if (field == "set_exact_max") {
        int64_t m = v.as<int64_t>();
        if (m < 0) return bad("must be >= 0");
        c.flush.set_exact_max = static_cast<uint64_t>(m);
      } else if (field == "legacy_namespace") {
        c.flush.naming.legacy_namespace = v.as<bool>();
      } else if (field == "global_prefix") {
        c.flush.naming.global_prefix = v.as<std::string>("");
      } else if (field == "prefix_counter") {
        c.flush.naming.prefix_counter = v.as<std::string>("");
      } else if (field == "prefix_timer") {
        c.flush.naming.prefix_timer = v.as<std::string>("");
      } else if (field == "prefix_gauge") {
        c.flush.naming.prefix_gauge = v.as<std::string>("");
      } else if (field == "prefix_set") {
        c.flush.naming.prefix_set = v.as<std::string>("");
      } else if (field == "global_suffix") {
        c.flush.naming.global_suffix = v.as<std::string>("");
      } else if (field == "prefix_stats") {
        c.flush.naming.prefix_stats = v.as<std::string>("");
      } else if (field == "flush_counts") {
        c.flush.naming.flush_counts = v.as<bool>();
      } else {
        return bad("unknown setting");
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": " +
                           (field.empty() ? "" : field + ": ") + e.msg);
  }
  return c;
}

}  // namespace stopgap::statsd

// libFuzzer target: a StatsD packet through the line parser, the interval
// table and a flush (default, strict and dogstatsd options; exact and
// sketched timers), plus the
// JS-number round trip: Number(toString(Number(s))) == Number(s).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "statsd/interval_table.h"
#include "statsd/js_number.h"
#include "statsd/metric_store.h"

using namespace stopgap::statsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view packet(reinterpret_cast<const char*>(data), size);
  FlushConfig cfg;
  cfg.percentiles = {90, -10, 150};
  cfg.histograms.push_back({"", {0.5, 1, 10, INFINITY}});
  MetricStore store(cfg);
  for (ParseOptions opts : {ParseOptions{}, ParseOptions{.strict = true},
                            ParseOptions{.dogstatsd = true, .sanitize = false}}) {
    IntervalTable t;
    t.AddPacket(packet, opts);
    store.Merge(t);
  }
  FlushOutput out = store.Flush(1, GraphiteStats{}, [] { return int64_t{0}; });
  if (out.payload.empty()) abort();
  // Timers past a tiny timer_exact_max: the TimerSketch path.
  cfg.timer_exact_max = 2;
  MetricStore sketched(cfg);
  for (int i = 0; i < 2; ++i) {
    IntervalTable t;
    t.set_timer_exact_max(1);
    t.AddPacket(packet, ParseOptions{.dogstatsd = i == 1});
    sketched.Merge(t);
  }
  if (sketched.Flush(1, GraphiteStats{}, [] { return int64_t{0}; }).payload.empty()) abort();
  double v = JsStringToNumber(packet.substr(0, 64));
  if (v == v) {
    double back = JsStringToNumber(JsNumberToString(v));
    if (!(back == v || (v == 0 && back == 0))) abort();
  }
  return 0;
}

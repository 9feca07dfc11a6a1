// libFuzzer target: a StatsD packet through the line parser, the interval
// table and a flush (default, strict and dogstatsd options), plus the
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
  double v = JsStringToNumber(packet.substr(0, 64));
  if (v == v) {
    double back = JsStringToNumber(JsNumberToString(v));
    if (!(back == v || (v == 0 && back == 0))) abort();
  }
  return 0;
}

// PrometheusView and the receive table's name cap.
#include "statsd/prometheus.h"

#include <gtest/gtest.h>

#include "statsd/interval_table.h"

namespace stopgap::statsd {
namespace {

TEST(PrometheusTest, NamesAndLabels) {
  std::string name, labels;
  ASSERT_TRUE(PrometheusName("api-v2.latency;env=prod;region=eu;bare;env=dup", &name, &labels));
  EXPECT_EQ(name, "api_v2_latency");
  EXPECT_EQ(labels, "env=\"prod\",region=\"eu\"");  // valueless tag dropped, first env kept
  ASSERT_TRUE(PrometheusName("9lives;__name__=x;k-1=a\"b\\c", &name, &labels));
  EXPECT_EQ(name, "_9lives");
  EXPECT_EQ(labels, "tag__name__=\"x\",k_1=\"a\\\"b\\\\c\"");
  EXPECT_FALSE(PrometheusName(";k=v", &name, &labels));
}

TEST(PrometheusTest, CumulativeCountersSummariesAndConflicts) {
  PrometheusView v(100);
  v.ObserveCounter("a.b;env=x", 3);
  v.ObserveCounter("a.b;env=x", 4);
  v.ObserveGauge("a_b_total", 1);  // the counter's name: a conflict, skipped
  v.ObserveTimer("t", 3, 600, {{0.5, 200}, {0.9, 300}});
  v.ObserveSet("s", 2);
  v.Publish();
  EXPECT_EQ(v.Text(),
            "# HELP a_b_total statsd counter\n# TYPE a_b_total counter\n"
            "a_b_total{env=\"x\"} 7\n"
            "# HELP s statsd set: distinct members in the last interval\n# TYPE s gauge\ns 2\n"
            "# HELP t statsd timer, seconds\n# TYPE t summary\n"
            "t{quantile=\"0.5\"} 0.2\nt{quantile=\"0.9\"} 0.3\nt_sum 0.6\nt_count 3\n");
  EXPECT_EQ(v.conflicts(), 1u);
}

TEST(PrometheusTest, SeriesCap) {
  PrometheusView v(2);
  v.ObserveGauge("a", 1);
  v.ObserveGauge("b", 1);
  v.ObserveGauge("c", 1);
  v.ObserveGauge("a;k=v", 1);
  EXPECT_EQ(v.series_dropped(), 2u);
}

// A flood of new names stops at the receive table's cap; known names keep
// aggregating; the refused samples are counted.
TEST(IntervalTableTest, NameCapBoundsTheTable) {
  IntervalTable t;
  t.set_max_names(10);
  ParseOptions opts;
  for (int i = 0; i < 100; ++i) {
    std::string line = "n" + std::to_string(i) + ":1|c";
    t.AddPacket(line, opts);
  }
  t.AddPacket("n0:5|c\nn1:1|ms\nz:1|g\nz:a|s", opts);
  EXPECT_EQ(t.name_count(), 10u);
  EXPECT_EQ(t.counts().names_dropped, 93u);  // 90 counters, the timer, the gauge, the set
  EXPECT_EQ(t.counters().at(t.touched_counters()[0]).value.value, 6);
}

}  // namespace
}  // namespace stopgap::statsd

// Tests for MetricsRegistry's Prometheus text exposition.
#include "server/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace stopgap::server {
namespace {

TEST(MetricsTest, CountersGaugesAndEscaping) {
  MetricsRegistry m;
  m.Describe("stopgap_alerts_received_total", MetricType::kCounter, "Alerts received.");
  m.Describe("stopgap_queue_depth", MetricType::kGauge, "Queued executions.");
  m.Add("stopgap_alerts_received_total", {{"source", "alertmanager"}});
  m.Add("stopgap_alerts_received_total", {{"source", "alertmanager"}}, 2);
  m.Add("stopgap_alerts_received_total", {{"source", "gen\"er\\ic\n"}});
  m.Set("stopgap_queue_depth", {}, 7);
  m.Add("stopgap_not_described_total");
  std::string t = m.RenderPrometheus();
  EXPECT_NE(t.find("# HELP stopgap_alerts_received_total Alerts received.\n"
                   "# TYPE stopgap_alerts_received_total counter\n"),
            std::string::npos);
  EXPECT_NE(t.find("stopgap_alerts_received_total{source=\"alertmanager\"} 3\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("stopgap_alerts_received_total{source=\"gen\\\"er\\\\ic\\n\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# TYPE stopgap_queue_depth gauge\nstopgap_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(t.find("stopgap_metrics_undescribed_total 1\n"), std::string::npos);
  EXPECT_EQ(m.Value("stopgap_alerts_received_total", {{"source", "alertmanager"}}), 3);
}

TEST(MetricsTest, LabelOrderDoesNotSplitSeries) {
  MetricsRegistry m;
  m.Describe("x_total", MetricType::kCounter, "x");
  m.Add("x_total", {{"a", "1"}, {"b", "2"}});
  m.Add("x_total", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(m.Value("x_total", {{"a", "1"}, {"b", "2"}}), 2);
  EXPECT_NE(m.RenderPrometheus().find("x_total{a=\"1\",b=\"2\"} 2\n"), std::string::npos);
}

TEST(MetricsTest, HistogramIsCumulative) {
  MetricsRegistry m;
  m.Describe("d_seconds", MetricType::kHistogram, "d", {0.1, 1, 10});
  m.Observe("d_seconds", {{"step", "action"}}, 0.05);
  m.Observe("d_seconds", {{"step", "action"}}, 0.5);
  m.Observe("d_seconds", {{"step", "action"}}, 1);  // le is inclusive
  m.Observe("d_seconds", {{"step", "action"}}, 100);
  std::string t = m.RenderPrometheus();
  EXPECT_NE(t.find("d_seconds_bucket{step=\"action\",le=\"0.1\"} 1\n"
                   "d_seconds_bucket{step=\"action\",le=\"1\"} 3\n"
                   "d_seconds_bucket{step=\"action\",le=\"10\"} 3\n"
                   "d_seconds_bucket{step=\"action\",le=\"+Inf\"} 4\n"
                   "d_seconds_sum{step=\"action\"} 101.55\n"
                   "d_seconds_count{step=\"action\"} 4\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(m.HistogramCount("d_seconds", {{"step", "action"}}), 4u);
}

TEST(MetricsTest, ConcurrentAddsAreCounted) {
  MetricsRegistry m;
  m.Describe("c_total", MetricType::kCounter, "c");
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int j = 0; j < 10000; ++j) m.Add("c_total");
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(m.Value("c_total"), 40000);
}

TEST(MetricsTest, ClearFamilyDropsSnapshot) {
  MetricsRegistry m;
  m.Describe("w", MetricType::kGauge, "w");
  m.Set("w", {{"state", "active"}}, 3);
  m.ClearFamily("w");
  EXPECT_EQ(m.RenderPrometheus().find("w{state"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::server

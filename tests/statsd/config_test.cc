// YAML config: the reference's settings under snake_case names, errors that
// name file, line and field.
#include "statsd/config.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stopgap::statsd {
namespace {

TEST(ConfigTest, ParsesSettings) {
  Result<StatsdConfig> c = ParseStatsdConfigYaml(
      "udp: 127.0.0.1:9125\n"
      "graphite: 127.0.0.1:2003\n"
      "flush_interval: 500ms\n"
      "percent_threshold: [90, -10, 99.9]\n"
      "delete_idle_stats: true\n"
      "delete_gauges: false\n"
      "legacy_namespace: false\n"
      "global_suffix: h1\n"
      "histogram:\n"
      "  - {metric: render, bins: [0.1, 1, inf]}\n"
      "strict: true\n",
      "s.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->udp, "127.0.0.1:9125");
  EXPECT_EQ(c->flush.flush_interval_ms, 500);
  EXPECT_EQ(c->flush.percentiles, (std::vector<double>{90, -10, 99.9}));
  EXPECT_TRUE(c->flush.delete_counters);
  EXPECT_FALSE(c->flush.delete_gauges);  // the individual key overrides delete_idle_stats
  EXPECT_FALSE(c->flush.naming.legacy_namespace);
  EXPECT_EQ(c->flush.naming.global_suffix, "h1");
  ASSERT_EQ(c->flush.histograms.size(), 1u);
  EXPECT_TRUE(std::isinf(c->flush.histograms[0].bins[2]));
  EXPECT_TRUE(c->parse.strict);
}

TEST(ConfigTest, ErrorsNameFileLineAndField) {
  Result<StatsdConfig> c = ParseStatsdConfigYaml("udp: x\nbogus: 1\n", "s.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "s.yaml:2: bogus: unknown setting");
  Result<StatsdConfig> d = ParseStatsdConfigYaml("flush_interval: soon\n", "s.yaml");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("s.yaml:1: flush_interval"), std::string::npos);
  EXPECT_FALSE(ParseStatsdConfigYaml("receivers: many\n", "s.yaml").ok());
  EXPECT_FALSE(ParseStatsdConfigYaml("- a\n", "s.yaml").ok());
  EXPECT_FALSE(ParseBins("1,x").ok());
}

}  // namespace
}  // namespace stopgap::statsd

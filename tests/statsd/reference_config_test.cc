// ParseReferenceConfig: the reference's config.js keys mapped onto
// StatsdConfig, warnings for what stopgap does not honour, errors with place.
#include "statsd/reference_config.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stopgap::statsd {
namespace {

ReferenceConfig Read(std::string_view text) {
  Result<ReferenceConfig> r = ParseReferenceConfig(text, "c.js");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ReferenceConfig{};
}

bool Warned(const ReferenceConfig& r, std::string_view part) {
  for (const std::string& w : r.warnings) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

// exampleConfig.js of statsd 0.9.0, verbatim apart from its long comment.
TEST(ReferenceConfigTest, ExampleConfig) {
  ReferenceConfig r = Read(
      "/*\nGraphite Required Variable:\n*/\n{\n  graphitePort: 2003\n, graphiteHost: "
      "\"graphite.example.com\"\n, port: 8125\n, backends: [ \"./backends/graphite\" ]\n}\n");
  EXPECT_EQ(r.config.graphite, "graphite.example.com:2003");
  EXPECT_EQ(r.config.udp, "127.0.0.1:8125");
  EXPECT_EQ(r.config.admin, "127.0.0.1:8126");
  EXPECT_EQ(r.config.graphite_protocol, GraphiteProtocol::kText);
  EXPECT_TRUE(Warned(r, "address: not set"));
  EXPECT_TRUE(Warned(r, "mgmt_address: not set"));
}

TEST(ReferenceConfigTest, EveryKey) {
  ReferenceConfig r = Read(R"({
    port: 9125, address: "0.0.0.0", mgmt_port: 9126, mgmt_address: "127.0.0.2",
    graphiteHost: "127.0.0.1", graphitePort: 2103, graphitePicklePort: 2104,
    graphiteProtocol: "pickle",
    backends: ["./backends/graphite", "./backends/console", "./backends/repeater",
               "statsd-influxdb-backend"],
    repeater: [{host: "127.0.0.1", port: 9999}, {host: "::1", port: 9998}],
    repeaterProtocol: "tcp",
    console: {prettyprint: false},
    flushInterval: 2000, percentThreshold: [90, -10, 99.9],
    histogram: [{metric: "render", bins: [0.01, 1, "inf"]}],
    calculatedTimerMetrics: ["count", "upper_percent"],
    deleteIdleStats: true, deleteGauges: false, gaugesMaxTTL: 3,
    prefixStats: "sd", keyNameSanitize: false, flush_counts: false, healthStatus: "down",
    graphite: {legacyNamespace: false, globalPrefix: "g", prefixCounter: "c",
               prefixTimer: "t", prefixGauge: "ga", prefixSet: "s", globalSuffix: "h1"},
    debug: true, dumpMessages: true, keyFlush: {interval: 10000, percent: 10},
    title: "statsd-x", log: {backend: "syslog", application: "s"},
    automaticConfigReload: true, nodes: [], unknownThing: 1,
  })");
  const StatsdConfig& c = r.config;
  EXPECT_EQ(c.udp, "0.0.0.0:9125");
  EXPECT_EQ(c.admin, "127.0.0.2:9126");
  EXPECT_EQ(c.graphite, "127.0.0.1:2104");  // pickle: graphitePicklePort
  EXPECT_EQ(c.graphite_protocol, GraphiteProtocol::kPickle);
  EXPECT_TRUE(c.console);
  EXPECT_EQ(c.repeat_to, (std::vector<std::string>{"127.0.0.1:9999", "[::1]:9998"}));
  EXPECT_EQ(c.repeater_protocol, RepeaterProtocol::kTcp);
  EXPECT_EQ(c.flush.flush_interval_ms, 2000);
  EXPECT_EQ(c.flush.percentiles, (std::vector<double>{90, -10, 99.9}));
  ASSERT_EQ(c.flush.histograms.size(), 1u);
  EXPECT_EQ(c.flush.histograms[0].metric, "render");
  EXPECT_TRUE(std::isinf(c.flush.histograms[0].bins[2]));
  EXPECT_EQ(c.flush.calculated_timer_metrics, (std::vector<std::string>{"count", "upper_percent"}));
  EXPECT_TRUE(c.flush.delete_counters && c.flush.delete_timers && c.flush.delete_sets);
  EXPECT_FALSE(c.flush.delete_gauges);  // set on its own: wins over deleteIdleStats
  EXPECT_EQ(c.flush.gauges_max_ttl, 3);
  EXPECT_EQ(c.flush.naming.prefix_stats, "sd");
  EXPECT_FALSE(c.flush.key_name_sanitize);
  EXPECT_FALSE(c.parse.sanitize);
  EXPECT_FALSE(c.flush.naming.flush_counts);
  EXPECT_EQ(c.health_status, "down");
  EXPECT_FALSE(c.flush.naming.legacy_namespace);
  EXPECT_EQ(c.flush.naming.global_prefix, "g");
  EXPECT_EQ(c.flush.naming.prefix_counter, "c");
  EXPECT_EQ(c.flush.naming.prefix_timer, "t");
  EXPECT_EQ(c.flush.naming.prefix_gauge, "ga");
  EXPECT_EQ(c.flush.naming.prefix_set, "s");
  EXPECT_EQ(c.flush.naming.global_suffix, "h1");
  EXPECT_TRUE(r.debug);
  for (const char* k :
       {"statsd-influxdb-backend", "prettyprint", "dumpMessages", "keyFlush", "title", "syslog",
        "automaticConfigReload", "nodes: a proxy.js", "unknownThing: not a setting"}) {
    EXPECT_TRUE(Warned(r, k)) << k;
  }
  EXPECT_FALSE(Warned(r, "address: not set"));
}

TEST(ReferenceConfigTest, ServersAndBackendsDefaults) {
  ReferenceConfig r = Read(
      "{servers: [{server: './servers/udp', address: '127.0.0.1', port: 8135},"
      " {server: './servers/tcp', address: '127.0.0.1', port: 8136},"
      " {port: 8137, address: '127.0.0.1'}], graphiteHost: 'localhost', mgmt_address: '::1',"
      " mgmt_port: 0, repeater: [{host: 'x', port: 1}], gaugesMaxTTL: 2.5}");
  EXPECT_EQ(r.config.udp, "127.0.0.1:8135");
  EXPECT_EQ(r.config.tcp, "127.0.0.1:8136");
  EXPECT_EQ(r.config.admin, "[::1]:0");
  EXPECT_EQ(r.config.graphite, "localhost:2003");  // no backends: graphite
  EXPECT_TRUE(r.config.repeat_to.empty());         // repeater not in backends
  EXPECT_TRUE(Warned(r, "a second udp server"));
  EXPECT_TRUE(Warned(r, "backends does not load ./backends/repeater"));
  EXPECT_EQ(r.config.flush.gauges_max_ttl, 1);  // not an integer: 1, as the reference

  // backends without graphite: no Graphite output even with graphiteHost.
  EXPECT_EQ(Read("{graphiteHost: 'h', backends: ['./backends/console']}").config.graphite, "");
  // Falsy flushInterval/percentThreshold fall back to the defaults (x || default).
  ReferenceConfig z = Read(
      "{flushInterval: 0, percentThreshold: 0, address: '::', "
      "address_ipv6: true, mgmt_address: '0.0.0.0'}");
  EXPECT_EQ(z.config.flush.flush_interval_ms, 10000);
  EXPECT_EQ(z.config.flush.percentiles, (std::vector<double>{90}));
  EXPECT_EQ(z.config.udp, "[::]:8125");
}

TEST(ReferenceConfigTest, ProxyConfigWarnsAboutProxyKeys) {
  ReferenceConfig r = Read(R"({
nodes: [
{host: '127.0.0.1', port: 8127, adminport: 8128},
{host: '127.0.0.1', port: 8129, adminport: 8130},
{host: '127.0.0.1', port: 8131, adminport: 8132}
],
server: './servers/udp',
host:  '0.0.0.0',
port: 8125,
udp_version:'udp4',
mgmt_port: 8126,
forkCount: 0,
checkInterval: 1000,
cacheSize: 10000
})");
  for (const char* k :
       {"nodes", "host", "udp_version", "forkCount", "checkInterval", "cacheSize"}) {
    EXPECT_TRUE(Warned(r, std::string(k) + ": a proxy.js setting")) << k;
  }
  EXPECT_EQ(r.config.udp, "127.0.0.1:8125");
}

// exampleProxyConfig.js for `stopgap statsd proxy`.
TEST(ReferenceConfigTest, ProxyConfigForTheProxy) {
  Result<ReferenceProxyConfig> r = ParseReferenceProxyConfig(R"({
nodes: [
{host: '127.0.0.1', port: 8127, adminport: 8128},
{host: '127.0.0.1', port: 8129, adminport: 8130},
{host: '127.0.0.1', port: 8131, adminport: 8132}
],
server: './servers/udp', host:  '0.0.0.0', port: 8125, udp_version:'udp4', mgmt_port: 8126,
forkCount: 4, checkInterval: 1000, cacheSize: 10000, bogus: 1
})",
                                                             "p.js");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->config.nodes.size(), 3u);
  EXPECT_EQ(r->config.nodes[1].host, "127.0.0.1");
  EXPECT_EQ(r->config.nodes[1].port, 8129);
  EXPECT_EQ(r->config.nodes[1].adminport, 8130);
  EXPECT_EQ(r->config.udp, "127.0.0.1:8125");  // host 0.0.0.0 without address: loopback
  EXPECT_EQ(r->config.admin, "127.0.0.1:8126");
  EXPECT_EQ(r->config.check_interval_ms, 1000);
  std::string all;
  for (const std::string& w : r->warnings) all += w + "\n";
  EXPECT_NE(all.find("forkCount"), std::string::npos) << all;
  EXPECT_NE(all.find("bogus: not a setting"), std::string::npos) << all;
  EXPECT_FALSE(ParseReferenceProxyConfig("{port: 1}", "p.js").ok());  // no nodes
}

TEST(ReferenceConfigTest, ErrorsHaveFileLineColumn) {
  auto err = [](std::string_view text) {
    Result<ReferenceConfig> r = ParseReferenceConfig(text, "c.js");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(err("{\n port: 'eighty'\n}"), "c.js:2:8: port: expected a number, found a string");
  EXPECT_EQ(err("{graphite: {legacyNamespace: 'false'}}"),
            "c.js:1:30: graphite.legacyNamespace: expected true or false");
  EXPECT_EQ(err("{flushInterval: -5}"),
            "c.js:1:17: flushInterval: must be a positive number of ms");
  EXPECT_EQ(err("{servers: [{server: './servers/quic'}]}"),
            "c.js:1:2: servers: server \"./servers/quic\" is not ./servers/udp or ./servers/tcp");
  EXPECT_EQ(err("{ port: os.port }"),
            "c.js: line 1, column 9: `os` is JavaScript code, not a value; stopgap reads "
            "literal values only (write the value it computes)");
}

TEST(ReferenceConfigTest, RecognisesConfigJs) {
  EXPECT_TRUE(IsReferenceConfig("/etc/statsd/localConfig.js", "port: 1"));
  EXPECT_TRUE(IsReferenceConfig("statsd.conf", "/* c */\n// x\n {port: 1}"));
  EXPECT_FALSE(IsReferenceConfig("statsd.yaml", "# yaml\nudp: 127.0.0.1:8125\n"));
}

}  // namespace
}  // namespace stopgap::statsd

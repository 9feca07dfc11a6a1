// The line parser alone: validity, sample rates, tags, sanitising and the
// reference's quirks (unknown types count, trimmed type, "@" regex).
#include "statsd/line_parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stopgap::statsd {
namespace {

struct Parsed {
  std::string key;
  std::vector<MetricSample> samples;
  uint32_t bad;
  bool event;
};

Parsed Parse(std::string_view line, ParseOptions opts = {}) {
  ParseScratch scratch;
  ParsedLine out;
  ParseLine(line, opts, &scratch, &out);
  return {std::string(out.key), out.samples, out.bad, out.event};
}

TEST(LineParserTest, Counter) {
  Parsed p = Parse("a.b:3|c");
  EXPECT_EQ(p.key, "a.b");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].kind, MetricKind::kCounter);
  EXPECT_EQ(p.samples[0].value, 3);
  EXPECT_EQ(p.bad, 0u);
}

TEST(LineParserTest, SampleRateScalesLikeTheReference) {
  Parsed p = Parse("a:5|c|@0.5");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].value, 10);
  p = Parse("a:1|c|@0.3");
  EXPECT_EQ(p.samples[0].value, 1 * (1 / 0.3));
  p = Parse("t:7|ms|@0.1");
  EXPECT_EQ(p.samples[0].kind, MetricKind::kTimer);
  EXPECT_EQ(p.samples[0].value, 7);
  EXPECT_EQ(p.samples[0].timer_count, 10);
  // Only /^@([\d.]+)/ is taken: "@1e-1" is a rate of 1, "@0x2" of 0.
  EXPECT_EQ(Parse("a:1|c|@1e-1").samples[0].value, 1);
  EXPECT_TRUE(std::isinf(Parse("a:1|c|@0x2").samples[0].value));
  EXPECT_EQ(Parse("a:1|c|@abc").bad, 1u);
  EXPECT_EQ(Parse("a:1|c|@-0.5").bad, 1u);
  EXPECT_EQ(Parse("a:1|c|").bad, 1u);
  EXPECT_EQ(Parse("a:1|c|@").bad, 1u);
  EXPECT_EQ(Parse("a:1|c|@ 0.5").bad, 1u);  // crashes the reference; a bad line here
}

TEST(LineParserTest, MultipleValuesAndBadParts) {
  Parsed p = Parse("m:1|c:2|ms:x|c:4|g");
  ASSERT_EQ(p.samples.size(), 3u);
  EXPECT_EQ(p.samples[0].kind, MetricKind::kCounter);
  EXPECT_EQ(p.samples[1].kind, MetricKind::kTimer);
  EXPECT_EQ(p.samples[2].kind, MetricKind::kGauge);
  EXPECT_EQ(p.bad, 1u);
}

TEST(LineParserTest, BadLines) {
  EXPECT_EQ(Parse("garbage").bad, 1u);
  EXPECT_EQ(Parse("a|c").bad, 1u);
  EXPECT_EQ(Parse("a:1").bad, 1u);
  EXPECT_EQ(Parse("a:abc|c").bad, 1u);
  EXPECT_EQ(Parse("a:-1|ms").bad, 1u);
  EXPECT_EQ(Parse("a:x|g").bad, 1u);
  EXPECT_EQ(Parse("a:|c").bad, 1u);
}

TEST(LineParserTest, TypeQuirks) {
  EXPECT_EQ(Parse("a:3|h").samples.at(0).kind, MetricKind::kCounter);
  EXPECT_EQ(Parse("a:3|d").samples.at(0).kind, MetricKind::kCounter);
  EXPECT_EQ(Parse("a:3|").samples.at(0).kind, MetricKind::kCounter);
  EXPECT_EQ(Parse("a:3|ms\r").samples.at(0).kind, MetricKind::kTimer);
  // Validity is judged on the untrimmed type: a negative "ms " passes as a counter would.
  EXPECT_EQ(Parse("a:-3|ms ").samples.at(0).kind, MetricKind::kTimer);
  EXPECT_EQ(Parse("a: |c").samples.at(0).value, 0);
  ParseOptions strict{.strict = true};
  EXPECT_EQ(Parse("a:3|h", strict).bad, 1u);
  EXPECT_EQ(Parse("a:3|c", strict).bad, 0u);
  ParseOptions dog{.dogstatsd = true};
  EXPECT_EQ(Parse("a:3|h", dog).samples.at(0).kind, MetricKind::kTimer);
  EXPECT_EQ(Parse("a:3|d", dog).samples.at(0).kind, MetricKind::kTimer);
  EXPECT_TRUE(Parse("_e{5,4}:title|text", dog).event);
  EXPECT_TRUE(Parse("_sc|name|0", dog).event);
  EXPECT_EQ(Parse("_e{5,4}:title|text").bad, 1u);
}

TEST(LineParserTest, GaugesAndSets) {
  Parsed g = Parse("g:+3|g");
  EXPECT_TRUE(g.samples.at(0).gauge_delta);
  EXPECT_EQ(g.samples.at(0).value, 3);
  g = Parse("g:-3|g");
  EXPECT_TRUE(g.samples.at(0).gauge_delta);
  EXPECT_EQ(g.samples.at(0).value, -3);
  EXPECT_FALSE(Parse("g: +3|g").samples.at(0).gauge_delta);
  Parsed s = Parse("s:alice|s");
  EXPECT_EQ(s.samples.at(0).kind, MetricKind::kSet);
  EXPECT_EQ(s.samples.at(0).set_member, "alice");
  EXPECT_EQ(Parse("s:|s").samples.at(0).set_member, "0");
}

TEST(LineParserTest, TagsBecomeGraphiteTags) {
  EXPECT_EQ(Parse("a:1|c|#env:prod,region:eu").key, "a;env=prod;region=eu");
  EXPECT_EQ(Parse("a:1|c|#k:v:w,semi;colon,,x").key, "a;k=vw;semi_colon;;x");
  EXPECT_EQ(Parse("a:1|c|#").key, "a");
  EXPECT_EQ(Parse("a:1|c|#a:b|#c:d").key, "a;a=b");
  EXPECT_EQ(Parse("a:1|c|@0.5|#e:x").samples.at(0).value, 2);
}

TEST(LineParserTest, SanitisesNames) {
  EXPECT_EQ(Parse("name with spaces:1|c").key, "name_with_spaces");
  EXPECT_EQ(Parse("a/b/c:1|c").key, "a-b-c");
  EXPECT_EQ(Parse("a!@$%^&*()b:1|c").key, "ab");
  EXPECT_EQ(Parse("ws  \t  run:1|c").key, "ws_run");
  EXPECT_EQ(Parse("ws ! run:1|c").key, "ws__run");
  EXPECT_EQ(Parse("nb\xc2\xa0sp:1|c").key, "nb_sp");
  EXPECT_EQ(Parse("caf\xc3\xa9:1|c").key, "caf");
  EXPECT_EQ(Parse("x\xff\xfey:1|c").key, "xy");
  ParseOptions raw{.sanitize = false};
  EXPECT_EQ(Parse("a b:1|c", raw).key, "a b");
}

TEST(LineParserTest, ForEachLineSkipsEmptyLines) {
  std::vector<std::string> lines;
  ForEachLine("a\n\nb\r\n\n", [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "b\r");
}

}  // namespace
}  // namespace stopgap::statsd

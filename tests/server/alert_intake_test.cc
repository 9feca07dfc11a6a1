// Tests for the alert wire-format parsers: Alertmanager webhook v4 (as
// Alertmanager 0.25 sends it) and the generic form; every error names its field.
#include "server/alert_intake.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace stopgap::server {
namespace {

// Shape copied from a real Alertmanager 0.25 webhook notification.
constexpr const char* kAlertmanagerBody = R"({
  "receiver": "stopgap",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "NovaComputeRPCTimeout", "severity": "critical", "service": "nova-compute"},
      "annotations": {"summary": "rpc timeouts"},
      "startsAt": "2026-11-25T14:00:00.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph",
      "fingerprint": "1a2b3c4d5e6f7a8b"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "host": "db1"},
      "annotations": {},
      "startsAt": "2026-11-25T13:00:00Z",
      "endsAt": "2026-11-25T13:30:00+01:00",
      "generatorURL": ""
    }
  ],
  "groupLabels": {"alertname": "NovaComputeRPCTimeout"},
  "commonLabels": {},
  "commonAnnotations": {},
  "externalURL": "http://127.0.0.1:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"NovaComputeRPCTimeout\"}",
  "truncatedAlerts": 2
})";

TEST(ParseAlertmanagerTest, ParsesVersion4Payload) {
  auto p = ParseAlertmanagerPayload(kAlertmanagerBody);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->receiver, "stopgap");
  EXPECT_EQ(p->status, "firing");
  EXPECT_EQ(p->truncated_alerts, 2);
  EXPECT_EQ(p->external_url, "http://127.0.0.1:9093");
  ASSERT_EQ(p->alerts.size(), 2u);
  const remedy::Alert& a = p->alerts[0];
  EXPECT_EQ(a.name, "NovaComputeRPCTimeout");
  EXPECT_EQ(a.status, remedy::AlertStatus::kFiring);
  EXPECT_EQ(a.labels.at("service"), "nova-compute");
  EXPECT_EQ(a.annotations.at("summary"), "rpc timeouts");
  EXPECT_EQ(a.fingerprint, "1a2b3c4d5e6f7a8b");
  EXPECT_EQ(a.source, "alertmanager");
  EXPECT_EQ(FormatRfc3339(a.starts_at), "2026-11-25T14:00:00.123Z");
  EXPECT_EQ(a.ends_at, WallTime{}) << "Go's zero time means no end";
  const remedy::Alert& b = p->alerts[1];
  EXPECT_EQ(b.status, remedy::AlertStatus::kResolved);
  EXPECT_EQ(FormatRfc3339(b.ends_at), "2026-11-25T12:30:00.000Z");
  EXPECT_EQ(b.fingerprint, remedy::ComputeFingerprint(b.labels)) << "computed when missing";
  EXPECT_EQ(b.fingerprint.size(), 16u);
}

TEST(ParseAlertmanagerTest, OlderSendersWithoutOptionalFields) {
  auto v = ParseAlertmanagerWebhook(
      R"({"alerts":[{"status":"firing","labels":{"alertname":"X","b":"2","a":"1"}}]})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 1u);
  // Stable across label order: the same labels give the same fingerprint.
  auto w = ParseAlertmanagerWebhook(
      R"({"alerts":[{"labels":{"a":"1","b":"2","alertname":"X"},"status":"firing"}]})");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*v)[0].fingerprint, (*w)[0].fingerprint);
}

void ExpectError(std::string_view body, std::string_view field) {
  auto r = ParseAlertmanagerPayload(body);
  ASSERT_FALSE(r.ok()) << body;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(field), std::string::npos)
      << "message '" << r.status().message() << "' should name " << field;
}

TEST(ParseAlertmanagerTest, ErrorsNameTheField) {
  ExpectError("{not json", "malformed JSON at byte");
  ExpectError("", "malformed JSON");
  ExpectError("[]", "body: expected an object");
  ExpectError("{}", "alerts: missing");
  ExpectError(R"({"alerts":{}})", "alerts: expected an array, got object");
  ExpectError(R"({"alerts":[1]})", "alerts[0]: expected an object");
  ExpectError(R"({"alerts":[{"labels":{"alertname":"X"}}]})", "alerts[0].status: missing");
  ExpectError(R"({"alerts":[{"status":"pending","labels":{"alertname":"X"}}]})",
              "alerts[0].status: expected \"firing\" or \"resolved\"");
  ExpectError(R"({"alerts":[{"status":"firing"}]})", "alerts[0].labels: missing");
  ExpectError(R"({"alerts":[{"status":"firing","labels":{"a":"b"}}]})",
              "alerts[0].labels.alertname: missing");
  ExpectError(R"({"alerts":[{"status":"firing","labels":{"alertname":"X","sev":3}}]})",
              "alerts[0].labels.sev: expected a string, got number");
  ExpectError(R"({"alerts":[{"status":"firing","labels":{"alertname":"X","a b":"c"}}]})",
              "alerts[0].labels: bad label name 'a b'");
  ExpectError(
      R"({"alerts":[{"status":"firing","labels":{"alertname":"X"}},{"status":"firing","labels":{"alertname":"Y"},"startsAt":"yesterday"}]})",
      "alerts[1].startsAt: expected an RFC 3339 timestamp");
  ExpectError(R"({"alerts":[{"status":"firing","labels":{"alertname":"X"},"fingerprint":7}]})",
              "alerts[0].fingerprint: expected a string, got number");
  ExpectError(R"({"alerts":[{"status":"firing","labels":{"alertname":"X"},"fingerprint":"a;b"}]})",
              "alerts[0].fingerprint: only");
  // Regression (found by fuzzing): a year past 2261 overflowed WallTime.
  ExpectError(
      R"({"alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"4052-11-25T14:00:00Z"}]})",
      "alerts[0].startsAt: timestamp out of range");
  ExpectError(R"({"version":"3","alerts":[]})", "version: unsupported webhook version \"3\"");
  ExpectError(R"({"truncatedAlerts":"2","alerts":[]})", "truncatedAlerts: expected a non-negative");
  ExpectError(R"({"commonLabels":[],"alerts":[]})", "commonLabels: expected an object");
  ExpectError(R"({"receiver":5,"alerts":[]})", "receiver: expected a string");
}

// The reason is stored and served as JSON: cutting a long value must not end
// inside a UTF-8 character (31 ASCII bytes then a 2-byte character).
TEST(ParseAlertmanagerTest, CutValuesStayValidUtf8) {
  std::string status(31, 'x');
  status += "\xC3\xA9tat";
  auto r = ParseAlertmanagerPayload(R"({"alerts":[{"status":")" + status +
                                    R"(","labels":{"alertname":"X"}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NO_THROW(nlohmann::json(r.status().message()).dump()) << r.status().message();
  std::string version(15, 'v');
  version += "\xE2\x82\xAC";
  r = ParseAlertmanagerPayload(R"({"version":")" + version + R"(","alerts":[]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NO_THROW(nlohmann::json(r.status().message()).dump()) << r.status().message();
}

TEST(ParseGenericTest, ObjectAndArray) {
  auto one = ParseGenericAlerts(R"({"name":"DiskFull","labels":{"host":"db1"}})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].name, "DiskFull");
  EXPECT_EQ((*one)[0].labels.at("alertname"), "DiskFull");
  EXPECT_EQ((*one)[0].status, remedy::AlertStatus::kFiring);
  EXPECT_EQ((*one)[0].source, "generic");
  EXPECT_EQ((*one)[0].fingerprint, remedy::ComputeFingerprint((*one)[0].labels));

  auto many =
      ParseGenericAlerts(R"([{"name":"A","fingerprint":"fp-1"},{"name":"B","status":"resolved"}])");
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ((*many)[0].fingerprint, "fp-1");
  EXPECT_EQ((*many)[1].status, remedy::AlertStatus::kResolved);
}

TEST(ParseGenericTest, ErrorsNameTheField) {
  auto e = [](std::string_view body, std::string_view field) {
    auto r = ParseGenericAlerts(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  };
  e(R"({"labels":{}})", "name: missing");
  e(R"({"name":1})", "name: expected a string, got number");
  e(R"({"name":"x","labels":[]})", "labels: expected an object, got array");
  e(R"([{"name":"x"},{"name":"y","status":"maybe"}])", "[1].status");
  e(R"([])", "body: empty array");
  e(R"("x")", "body: expected an object");
  e(R"({"name":"x"} trailing)", "malformed JSON");
}

TEST(LabelNameTest, PrometheusRules) {
  EXPECT_TRUE(IsValidLabelName("alertname"));
  EXPECT_TRUE(IsValidLabelName("_x9"));
  EXPECT_FALSE(IsValidLabelName("9x"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("a-b"));
}

}  // namespace
}  // namespace stopgap::server

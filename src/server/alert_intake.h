// Wire formats of alert intake: Prometheus Alertmanager's webhook payload
// (version 4) and stopgap's generic alert form, parsed into remedy::Alert.
// Pure functions over the request body: no I/O, no clock. Errors are
// InvalidArgument naming the field at fault ("alerts[2].labels.severity:
// expected a string"), which the daemon returns as HTTP 400.
//
//   Result<AlertmanagerPayload> p = ParseAlertmanagerPayload(body);
//   if (!p.ok()) return Respond400(p.status().message());
//
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "remedy/alert.h"

namespace stopgap::server {

// The parts of an Alertmanager notification stopgap keeps.
struct AlertmanagerPayload {
  std::string receiver;
  std::string status;  // "firing" | "resolved" (of the group)
  std::string group_key;
  std::string external_url;
  int64_t truncated_alerts = 0;  // > 0: Alertmanager dropped alerts (max_alerts); warn
  std::vector<remedy::Alert> alerts;
};

// Alertmanager webhook v4:
//   {"version":"4","receiver":…,"status":…,"alerts":[{"status":"firing"|"resolved",
//    "labels":{…},"annotations":{…},"startsAt":…,"endsAt":…,"generatorURL":…,
//    "fingerprint":…}],"groupLabels":…,"commonLabels":…,"commonAnnotations":…,
//    "externalURL":…,"groupKey":…,"truncatedAlerts":0}
// Required: alerts[], and per alert status, labels (string values) with an
// alertname. fingerprint and truncatedAlerts are optional (older senders): a
// missing fingerprint is computed from the sorted labels. "version", when
// present, must be "4". Go's zero time ("0001-01-01T00:00:00Z") means unset.
Result<AlertmanagerPayload> ParseAlertmanagerPayload(std::string_view json);
Result<std::vector<remedy::Alert>> ParseAlertmanagerWebhook(std::string_view json);

// Generic form: one object or an array of them:
//   {"name":"DiskFull","labels":{"host":"a"},"annotations":{…},
//    "fingerprint":"…","status":"firing"|"resolved","starts_at":…,"endsAt":…}
// Required: name. labels gain alertname=name when they lack one; status
// defaults to firing; a missing fingerprint is computed from the labels.
// starts_at (or startsAt), when given, names the firing instance (see
// remedy/firing.h); without it, an instance lasts until a resolve.
Result<std::vector<remedy::Alert>> ParseGenericAlerts(std::string_view json);

// True for a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);

}  // namespace stopgap::server

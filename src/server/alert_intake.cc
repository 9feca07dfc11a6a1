// Alertmanager v4 and generic alert parsing with nlohmann::json. Library
// exceptions stay inside this file; every error names its JSON field path.
//
// Thread safety: stateless.
#include "server/alert_intake.h"

#include <nlohmann/json.hpp>

#include <string>

#include "core/strings.h"

namespace stopgap::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxAlerts = 10'000;
constexpr size_t kMaxFingerprint = 128;

Status FieldError(const std::string& field, std::string_view what) {
  return InvalidArgument(field + ": " + std::string(what));
}

std::string_view TypeName(const json& j) { return j.type_name(); }

Result<json> ParseJson(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return InvalidArgument("malformed JSON at byte " + std::to_string(e.byte));
  } catch (const std::exception& e) {
    return InvalidArgument(SanitizeUtf8(std::string("malformed JSON: ") + e.what()));
  }
}

// Reads an optional string member; error when present with another type.
Status OptString(const json& obj, const char* key, const std::string& path, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) {
    return FieldError(path + key, "expected a string, got " + std::string(TypeName(*it)));
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Status StringMap(const json& obj, const char* key, const std::string& path, bool required,
                 std::map<std::string, std::string>* out, bool check_names) {
  std::string field = path + key;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? FieldError(field, "missing") : Status::Ok();
  }
  if (!it->is_object()) {
    return FieldError(field, "expected an object, got " + std::string(TypeName(*it)));
  }
  for (const auto& [k, v] : it->items()) {
    if (check_names && !IsValidLabelName(k)) {
      return FieldError(field, "bad label name '" + k + "'");
    }
    if (!v.is_string()) {
      return FieldError(field + "." + k, "expected a string, got " + std::string(TypeName(v)));
    }
    (*out)[k] = v.get<std::string>();
  }
  return Status::Ok();
}

Status OptTime(const json& obj, const char* key, const std::string& path, WallTime* out) {
  std::string text;
  STOPGAP_RETURN_IF_ERROR(OptString(obj, key, path, &text));
  if (text.empty()) return Status::Ok();
  // Go's zero time.Time: Alertmanager's "no end yet".
  if (text.rfind("0001-01-01T", 0) == 0) {
    *out = WallTime{};
    return Status::Ok();
  }
  // WallTime counts nanoseconds in 64 bits (years 1678..2261); core's
  // ParseRfc3339 does not guard the conversion, so refuse other years here.
  int year = 0;
  for (size_t i = 0; i < 4 && i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9')
      return FieldError(path + key, "expected an RFC 3339 timestamp");
    year = year * 10 + (text[i] - '0');
  }
  if (year < 1678 || year > 2261) return FieldError(path + key, "timestamp out of range");
  auto t = ParseRfc3339(text);
  if (!t.ok()) return FieldError(path + key, "expected an RFC 3339 timestamp");
  *out = *t;
  return Status::Ok();
}

Status Fingerprint(const json& obj, const std::string& path, remedy::Alert* a) {
  STOPGAP_RETURN_IF_ERROR(OptString(obj, "fingerprint", path, &a->fingerprint));
  if (a->fingerprint.size() > kMaxFingerprint) {
    return FieldError(path + "fingerprint", "longer than 128 characters");
  }
  for (char c : a->fingerprint) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return FieldError(path + "fingerprint", "only [A-Za-z0-9._:-] allowed");
  }
  if (a->fingerprint.empty()) a->fingerprint = remedy::ComputeFingerprint(a->labels);
  return Status::Ok();
}

Status ReadAlertStatus(const json& obj, const std::string& path, bool required, remedy::Alert* a) {
  std::string s;
  STOPGAP_RETURN_IF_ERROR(OptString(obj, "status", path, &s));
  if (s.empty()) {
    if (required) return FieldError(path + "status", "missing");
    s = "firing";
  }
  if (s == "firing") {
    a->status = remedy::AlertStatus::kFiring;
  } else if (s == "resolved") {
    a->status = remedy::AlertStatus::kResolved;
  } else {
    return FieldError(path + "status", "expected \"firing\" or \"resolved\", got \"" +
                                           std::string(Utf8Prefix(s, 32)) + "\"");
  }
  return Status::Ok();
}

Result<remedy::Alert> AlertmanagerAlert(const json& j, const std::string& path) {
  if (!j.is_object())
    return FieldError(path, "expected an object, got " + std::string(TypeName(j)));
  std::string p = path + ".";
  remedy::Alert a;
  a.source = "alertmanager";
  STOPGAP_RETURN_IF_ERROR(ReadAlertStatus(j, p, /*required=*/true, &a));
  STOPGAP_RETURN_IF_ERROR(StringMap(j, "labels", p, /*required=*/true, &a.labels, true));
  auto name = a.labels.find("alertname");
  if (name == a.labels.end() || name->second.empty()) {
    return FieldError(p + "labels.alertname", "missing");
  }
  a.name = name->second;
  STOPGAP_RETURN_IF_ERROR(StringMap(j, "annotations", p, false, &a.annotations, false));
  STOPGAP_RETURN_IF_ERROR(OptTime(j, "startsAt", p, &a.starts_at));
  STOPGAP_RETURN_IF_ERROR(OptTime(j, "endsAt", p, &a.ends_at));
  STOPGAP_RETURN_IF_ERROR(OptString(j, "generatorURL", p, &a.generator_url));
  STOPGAP_RETURN_IF_ERROR(Fingerprint(j, p, &a));
  return a;
}

Result<remedy::Alert> GenericAlert(const json& j, const std::string& path) {
  if (!j.is_object()) {
    return FieldError(path.empty() ? "body" : path,
                      "expected an object, got " + std::string(TypeName(j)));
  }
  std::string p = path.empty() ? "" : path + ".";
  remedy::Alert a;
  a.source = "generic";
  STOPGAP_RETURN_IF_ERROR(OptString(j, "name", p, &a.name));
  if (a.name.empty()) return FieldError(p + "name", "missing");
  STOPGAP_RETURN_IF_ERROR(StringMap(j, "labels", p, false, &a.labels, true));
  if (!a.labels.count("alertname")) a.labels["alertname"] = a.name;
  STOPGAP_RETURN_IF_ERROR(StringMap(j, "annotations", p, false, &a.annotations, false));
  STOPGAP_RETURN_IF_ERROR(ReadAlertStatus(j, p, /*required=*/false, &a));
  // The firing instance's start: "starts_at" (or Alertmanager's spelling).
  STOPGAP_RETURN_IF_ERROR(
      OptTime(j, j.contains("starts_at") ? "starts_at" : "startsAt", p, &a.starts_at));
  STOPGAP_RETURN_IF_ERROR(OptTime(j, "endsAt", p, &a.ends_at));
  STOPGAP_RETURN_IF_ERROR(OptString(j, "generatorURL", p, &a.generator_url));
  STOPGAP_RETURN_IF_ERROR(Fingerprint(j, p, &a));
  return a;
}

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

Result<AlertmanagerPayload> ParseAlertmanagerPayload(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (!j.is_object())
    return FieldError("body", "expected an object, got " + std::string(TypeName(j)));
  AlertmanagerPayload out;
  auto v = j.find("version");
  if (v != j.end() && !v->is_null()) {
    if (!v->is_string()) return FieldError("version", "expected a string");
    if (v->get<std::string>() != "4") {
      return FieldError("version", "unsupported webhook version \"" +
                                       std::string(Utf8Prefix(v->get<std::string>(), 16)) +
                                       "\" (want \"4\")");
    }
  }
  STOPGAP_RETURN_IF_ERROR(OptString(j, "receiver", "", &out.receiver));
  STOPGAP_RETURN_IF_ERROR(OptString(j, "status", "", &out.status));
  STOPGAP_RETURN_IF_ERROR(OptString(j, "groupKey", "", &out.group_key));
  STOPGAP_RETURN_IF_ERROR(OptString(j, "externalURL", "", &out.external_url));
  auto t = j.find("truncatedAlerts");
  if (t != j.end() && !t->is_null()) {
    if (!t->is_number_integer() || t->get<int64_t>() < 0) {
      return FieldError("truncatedAlerts", "expected a non-negative integer");
    }
    out.truncated_alerts = t->get<int64_t>();
  }
  for (const char* obj : {"groupLabels", "commonLabels", "commonAnnotations"}) {
    auto it = j.find(obj);
    if (it != j.end() && !it->is_null() && !it->is_object()) {
      return FieldError(obj, "expected an object, got " + std::string(TypeName(*it)));
    }
  }
  auto alerts = j.find("alerts");
  if (alerts == j.end() || alerts->is_null()) return FieldError("alerts", "missing");
  if (!alerts->is_array()) {
    return FieldError("alerts", "expected an array, got " + std::string(TypeName(*alerts)));
  }
  if (alerts->size() > kMaxAlerts) return FieldError("alerts", "more than 10000 alerts");
  out.alerts.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    auto a = AlertmanagerAlert((*alerts)[i], "alerts[" + std::to_string(i) + "]");
    if (!a.ok()) return a.status();
    out.alerts.push_back(std::move(*a));
  }
  return out;
}

Result<std::vector<remedy::Alert>> ParseAlertmanagerWebhook(std::string_view json_text) {
  auto p = ParseAlertmanagerPayload(json_text);
  if (!p.ok()) return p.status();
  return std::move(p->alerts);
}

Result<std::vector<remedy::Alert>> ParseGenericAlerts(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  std::vector<remedy::Alert> out;
  if (j.is_array()) {
    if (j.empty()) return FieldError("body", "empty array");
    if (j.size() > kMaxAlerts) return FieldError("body", "more than 10000 alerts");
    for (size_t i = 0; i < j.size(); ++i) {
      auto a = GenericAlert(j[i], "[" + std::to_string(i) + "]");
      if (!a.ok()) return a.status();
      out.push_back(std::move(*a));
    }
    return out;
  }
  auto a = GenericAlert(j, "");
  if (!a.ok()) return a.status();
  out.push_back(std::move(*a));
  return out;
}

}  // namespace stopgap::server

// Typed yaml-cpp access for the catalog loader; see yaml_reader.h.
#include "remedy/internal/yaml_reader.h"

#include <charconv>
#include <set>

namespace stopgap::remedy::internal {
YAML::Node ChildOf(const YAML::Node& parent, std::string_view key) {
  if (!parent.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = parent.begin(); it != parent.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool IsAbsent(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

std::string TypeName(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return "a scalar";
  return "null";
}

std::string Field(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return std::string(prefix) + "." + std::string(name);
}

int YamlReader::LineOf(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  YAML::Mark m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

void YamlReader::ErrorAtLine(int line, std::string_view field, std::string_view rule,
                             std::string message) {
  if (!out_) return;
  Violation v;
  v.file = file_;
  v.line = line;
  v.workaround_id = workaround_;
  v.field = std::string(field);
  v.rule = std::string(rule);
  v.message = std::move(message);
  v.severity = Severity::kError;
  out_->push_back(std::move(v));
}

void YamlReader::Error(const YAML::Node& at, std::string_view field, std::string_view rule,
                       std::string message) {
  ErrorAtLine(LineOf(at), field, rule, std::move(message));
}

void YamlReader::Warn(const YAML::Node& at, std::string_view field, std::string_view rule,
                      std::string message) {
  WarnAtLine(LineOf(at), field, rule, std::move(message));
}

void YamlReader::WarnAtLine(int line, std::string_view field, std::string_view rule,
                            std::string message) {
  if (!out_) return;
  Violation v;
  v.file = file_;
  v.line = line;
  v.workaround_id = workaround_;
  v.field = std::string(field);
  v.rule = std::string(rule);
  v.message = std::move(message);
  v.severity = Severity::kWarning;
  out_->push_back(std::move(v));
}

bool YamlReader::HasErrors() const {
  if (!out_) return false;
  for (const Violation& v : *out_)
    if (v.severity == Severity::kError && v.rule != kRuleExpired) return true;
  return false;
}

bool YamlReader::Visit(const YAML::Node& at) {
  if (budget_ > 0) {
    --budget_;
    return true;
  }
  if (!budget_reported_) {
    budget_reported_ = true;
    Error(at, "", "too-large", "the catalog is too large (or expands too far through aliases)");
  }
  return false;
}

bool YamlReader::CheckMap(const YAML::Node& map, std::string_view field,
                          std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) {
    Error(map, field, "bad-type", "expected a mapping, got " + TypeName(map));
    return false;
  }
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!Visit(it->first)) return false;
    if (!it->first.IsScalar()) {
      Error(it->first, field, "bad-type", "a key must be a plain string");
      continue;
    }
    const std::string& key = it->first.Scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Error(it->first, Field(field, key), "unknown-key",
            "unknown key '" + key + "' (known here: " + list + ")");
    } else if (!seen.insert(key).second) {
      Error(it->first, Field(field, key), "duplicate-key", "key '" + key + "' appears twice");
    }
  }
  return true;
}

std::optional<std::string> YamlReader::String(const YAML::Node& parent, std::string_view key,
                                              std::string_view field) {
  const YAML::Node n = ChildOf(parent, key);
  if (IsAbsent(n)) return std::nullopt;
  if (!n.IsScalar()) {
    Error(n, field, "bad-type", "expected a string, got " + TypeName(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> YamlReader::Bool(const YAML::Node& parent, std::string_view key,
                                     std::string_view field) {
  const YAML::Node n = ChildOf(parent, key);
  if (IsAbsent(n)) return std::nullopt;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No") return false;
  }
  Error(n, field, "bad-type", "expected true or false");
  return std::nullopt;
}

std::optional<int64_t> YamlReader::Int(const YAML::Node& parent, std::string_view key,
                                       std::string_view field, int64_t min, int64_t max) {
  const YAML::Node n = ChildOf(parent, key);
  if (IsAbsent(n)) return std::nullopt;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) {
      if (v >= min && v <= max) return v;
      Error(n, field, "bad-value",
            "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
  }
  Error(n, field, "bad-type", "expected an integer");
  return std::nullopt;
}

std::optional<Duration> YamlReader::DurationField(const YAML::Node& parent, std::string_view key,
                                                  std::string_view field) {
  const YAML::Node n = ChildOf(parent, key);
  if (IsAbsent(n)) return std::nullopt;
  if (!n.IsScalar()) {
    Error(n, field, "bad-duration", "expected a duration like 30s, 10m, 90d");
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(n.Scalar());
  if (!d.ok()) {
    Error(n, field, "bad-duration", d.status().message());
    return std::nullopt;
  }
  return *d;
}

std::optional<std::vector<std::string>> YamlReader::Strings(const YAML::Node& parent,
                                                            std::string_view key,
                                                            std::string_view field,
                                                            bool allow_scalar) {
  const YAML::Node n = ChildOf(parent, key);
  if (IsAbsent(n)) return std::nullopt;
  std::vector<std::string> out;
  if (n.IsScalar() && allow_scalar) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    Error(n, field, "bad-type", "expected a list of strings, got " + TypeName(n));
    return std::nullopt;
  }
  size_t i = 0;
  for (auto it = n.begin(); it != n.end(); ++it, ++i) {
    const YAML::Node e = *it;
    if (!Visit(e)) return std::nullopt;
    if (!e.IsScalar()) {
      Error(e, std::string(field) + "[" + std::to_string(i) + "]", "bad-type",
            "expected a string, got " + TypeName(e));
      return std::nullopt;
    }
    out.push_back(e.Scalar());
  }
  return out;
}

}  // namespace stopgap::remedy::internal

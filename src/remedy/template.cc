// Whole-argument label templates and label value checks (pure).
#include "remedy/template.h"

#include <algorithm>

#include "core/strings.h"

namespace stopgap::remedy {
namespace {

bool IsSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '=' || c == '-';
}

bool IsLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool HasDotDotSegment(std::string_view v) {
  size_t start = 0;
  while (start <= v.size()) {
    size_t slash = v.find('/', start);
    std::string_view seg =
        v.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

// What no schema can allow.
bool PassesFloor(std::string_view v) {
  return !v.empty() && v.size() <= kMaxLabelValueBytes &&
         v.find_first_of(std::string_view("\0\r\n", 3)) == std::string_view::npos;
}

}  // namespace

bool IsSafeLabelValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelValueBytes) return false;
  if (!std::all_of(value.begin(), value.end(), IsSafeChar)) return false;
  if (value[0] == '-') return false;
  return !HasDotDotSegment(value);
}

Result<LabelSchema> LabelSchema::FromPattern(std::string pattern) {
  LabelSchema s;
  try {
    s.re_ = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return InvalidArgument("pattern \"" + pattern + "\" does not compile: " + e.what());
  }
  s.pattern = std::move(pattern);
  return s;
}

LabelSchema LabelSchema::FromValues(std::vector<std::string> values) {
  LabelSchema s;
  s.values = std::move(values);
  return s;
}

bool LabelSchema::Allows(std::string_view value) const {
  if (!PassesFloor(value)) return false;
  if (re_) {
    try {
      return std::regex_match(value.begin(), value.end(), *re_);
    } catch (const std::regex_error&) {  // e.g. error_complexity: refuse
      return false;
    }
  }
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::optional<std::string> LabelTemplateName(std::string_view arg) {
  if (arg.size() < 4 || !arg.starts_with("{{") || !arg.ends_with("}}")) return std::nullopt;
  std::string_view inner = TrimWhitespace(arg.substr(2, arg.size() - 4));
  if (!inner.starts_with("labels.")) return std::nullopt;
  std::string_view name = inner.substr(7);
  if (!IsLabelName(name)) return std::nullopt;
  return std::string(name);
}

Status ValidateTemplateArg(std::string_view arg) {
  bool has_open = arg.find("{{") != std::string_view::npos;
  bool has_close = arg.find("}}") != std::string_view::npos;
  if (!has_open && !has_close) return Status::Ok();
  if (LabelTemplateName(arg)) return Status::Ok();
  return InvalidArgument("template '" + std::string(arg) +
                         "' is not allowed: the only template is a whole argument "
                         "\"{{labels.NAME}}\"");
}

Status CheckLabelValue(std::string_view name, std::string_view value, const LabelSchema* schema) {
  if (schema) {
    if (schema->Allows(value)) return Status::Ok();
    return FailedPrecondition(
        "label '" + std::string(name) + "' has an unsafe value (not allowed by its schema: " +
        (schema->pattern.empty() ? std::to_string(schema->values.size()) + " allowed value(s)"
                                 : "pattern " + schema->pattern) +
        ")");
  }
  if (IsSafeLabelValue(value)) return Status::Ok();
  return FailedPrecondition("label '" + std::string(name) +
                            "' has an unsafe value (allowed without a schema: 1-256 of A-Z a-z "
                            "0-9 . _ : / @ + = -, not starting with '-', no '..' segment)");
}

Result<std::vector<std::string>> SubstituteLabels(const std::vector<std::string>& argv,
                                                  const std::map<std::string, std::string>& labels,
                                                  const LabelSchemas& schemas) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& arg : argv) {
    std::optional<std::string> name = LabelTemplateName(arg);
    if (!name) {
      out.push_back(arg);
      continue;
    }
    auto it = labels.find(*name);
    if (it == labels.end()) return FailedPrecondition("label '" + *name + "' is missing");
    auto schema = schemas.find(*name);
    STOPGAP_RETURN_IF_ERROR(
        CheckLabelValue(*name, it->second, schema == schemas.end() ? nullptr : &schema->second));
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> RecordedArgv(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& masked_labels) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& arg : argv) {
    std::optional<std::string> name = LabelTemplateName(arg);
    auto it = name ? masked_labels.find(*name) : masked_labels.end();
    out.push_back(it == masked_labels.end() ? arg : it->second);
  }
  return out;
}

}  // namespace stopgap::remedy

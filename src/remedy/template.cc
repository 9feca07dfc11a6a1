// Whole-argument label templates (pure).
#include "remedy/template.h"

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

}  // namespace

bool IsSafeLabelValue(std::string_view value) {
  if (value.empty() || value.size() > 256) return false;
  for (char c : value)
    if (!IsSafeChar(c)) return false;
  return true;
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

Result<std::vector<std::string>> SubstituteLabels(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& labels) {
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
    if (!IsSafeLabelValue(it->second)) {
      return FailedPrecondition("label '" + *name +
                                "' has an unsafe value (allowed: 1-256 of A-Z a-z 0-9 . _ : / @ + "
                                "= -)");
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace stopgap::remedy

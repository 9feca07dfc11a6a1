// `{{labels.X}}` substitution in step arguments. A template is always a whole
// argument, so an alert can never add an argument or a shell word. The value
// is then checked: against the workaround's schema for that label when there
// is one (`labels: {X: {pattern: …}}` or `{values: […]}`), else against the
// default rule (IsSafeLabelValue). Anything else is refused with reason
// unsafe-label, and the value is never echoed.
//
//   Result<std::vector<std::string>> argv = SubstituteLabels(step.argv, alert.labels, w.labels);
//
// Thread safety: pure functions; a LabelSchema is immutable once made.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::remedy {

inline constexpr size_t kMaxLabelValueBytes = 256;

// The default rule, for a label without a schema: 1-256 bytes of
// [A-Za-z0-9._:/@+=-] (ASCII only: no Unicode look-alikes, no percent
// encoding, no NUL, CR, LF or whitespace), not starting with '-' (no option
// injection: "-1", "--output=/etc/x", "-oProxyCommand=…"), and no ".."
// path segment ("../..", "a/../b", "..").
bool IsSafeLabelValue(std::string_view value);

// A per-workaround label schema. Exactly one of `pattern` (an ECMAScript
// regex matched against the whole value) or `values` (the allowed values).
// Whatever the schema says, a value is never empty, over 256 bytes, or
// holding NUL, CR or LF.
struct LabelSchema {
  std::string pattern;
  std::vector<std::string> values;
  int line = 0;  // catalog line of the schema, for messages

  // kInvalidArgument naming the problem when `pattern` does not compile.
  static Result<LabelSchema> FromPattern(std::string pattern);
  static LabelSchema FromValues(std::vector<std::string> values);
  bool Allows(std::string_view value) const;

 private:
  std::shared_ptr<const std::regex> re_;
};
using LabelSchemas = std::map<std::string, LabelSchema, std::less<>>;

// When `arg` is exactly "{{labels.X}}" (spaces allowed inside the braces),
// returns X.
std::optional<std::string> LabelTemplateName(std::string_view arg);

// Catalog-time check of one argument: OK when it holds no "{{" / "}}", or is
// exactly one "{{labels.X}}" with X a label name ([A-Za-z_][A-Za-z0-9_]*).
// kInvalidArgument naming the problem otherwise.
Status ValidateTemplateArg(std::string_view arg);

// OK when `value` may fill label `name`: the schema's rule when `schema` is
// set, else IsSafeLabelValue. kFailedPrecondition naming the label and the
// rule otherwise; the value is never echoed.
Status CheckLabelValue(std::string_view name, std::string_view value, const LabelSchema* schema);

// Replaces each whole-argument template by the label's value.
// kFailedPrecondition ("label 'X' is missing" / "label 'X' has an unsafe
// value …") when a label is absent or refused by CheckLabelValue.
Result<std::vector<std::string>> SubstituteLabels(const std::vector<std::string>& argv,
                                                  const std::map<std::string, std::string>& labels,
                                                  const LabelSchemas& schemas = {});

// The argv as it is recorded (ledger, bundle manifest): each template is
// replaced by the label's value from `masked_labels` (the alert's labels with
// secrets masked, see remedy/secrets.h), without checks: call it after
// SubstituteLabels succeeded on the real labels.
std::vector<std::string> RecordedArgv(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& masked_labels);

}  // namespace stopgap::remedy

// `{{labels.X}}` substitution in step arguments. A template is always a whole
// argument; the alert's value must match ^[A-Za-z0-9._:/@+=-]{1,256}$, so an
// alert can never inject an extra argument, an option-looking word with a
// space, or a shell word. Anything else is refused with reason unsafe-label.
//
//   Result<std::vector<std::string>> argv = SubstituteLabels(step.argv, alert.labels);
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::remedy {

// True when `value` matches ^[A-Za-z0-9._:/@+=-]{1,256}$.
bool IsSafeLabelValue(std::string_view value);

// When `arg` is exactly "{{labels.X}}" (spaces allowed inside the braces),
// returns X.
std::optional<std::string> LabelTemplateName(std::string_view arg);

// Catalog-time check of one argument: OK when it holds no "{{" / "}}", or is
// exactly one "{{labels.X}}" with X a label name ([A-Za-z_][A-Za-z0-9_]*).
// kInvalidArgument naming the problem otherwise.
Status ValidateTemplateArg(std::string_view arg);

// Replaces each whole-argument template by the label's value.
// kFailedPrecondition ("label 'X' is missing" / "label 'X' has an unsafe
// value") when a label is absent or unsafe; the value is never echoed.
Result<std::vector<std::string>> SubstituteLabels(const std::vector<std::string>& argv,
                                                  const std::map<std::string, std::string>& labels);

}  // namespace stopgap::remedy

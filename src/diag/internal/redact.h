// Secret masking for what the collectors copy out of a process: environment
// entries, argv, and "user:password@" in URLs. A name is secret when
// LooksLikeSecretName() says so or it matches a policy.redact pattern (a glob,
// case-insensitive, or "re:<ECMAScript regex>" searched in the name).
//
// Thread safety: immutable after Create(); share freely.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::diag::internal {

inline constexpr std::string_view kMask = "***";

class Redactor {
 public:
  // Fails with kInvalidArgument naming a pattern that does not compile.
  static Result<Redactor> Create(const std::vector<std::string>& patterns);
  Redactor() = default;

  bool IsSecretName(std::string_view name) const;
  // "NAME=value" -> "NAME=***" when NAME is secret; URL passwords masked.
  std::string MaskEnvEntry(std::string_view entry) const;
  // --password=x, --token x, -p? no; PASSWORD=x; URL passwords in any arg.
  std::vector<std::string> MaskArgv(const std::vector<std::string>& argv) const;
  // "scheme://user:pass@host" -> "scheme://user:***@host" (every occurrence).
  static std::string MaskUrlPasswords(std::string_view text);
  // A value that is a credential whatever its name: "Bearer …"/"Basic …"
  // (an Authorization value), an AWS access key id (AKIA…/ASIA…, 20
  // characters), a JWT (eyJ….eyJ….), a PEM private key. Used by the remedy
  // library to mask alert labels and annotations at ingest.
  static bool LooksLikeSecretValue(std::string_view value);
  // A name: value pair as it may be recorded: kMask when the name is secret
  // or the value looks like one, else the value with URL passwords masked.
  std::string MaskNamedValue(std::string_view name, std::string_view value) const;

 private:
  std::vector<std::string> globs_;
  std::vector<std::regex> regexes_;
};

}  // namespace stopgap::diag::internal

// Secrets masked at ingest: what stopgap stores (the ledger's alerts,
// executions and steps, the bundle's manifest.json) and therefore serves
// never holds a secret label, annotation or argument. One masker: it wraps
// src/diag's Redactor (the one that masks process environments and argv in
// bundles), with the catalog's policy.redact patterns plus the defaults below.
//
// A name is secret when LooksLikeSecretName says so (password, passwd, secret,
// token, key, credential, authorization), when it matches one of
// kDefaultSecretNamePatterns (passw, auth, cookie, session, private,
// signature), or a policy.redact pattern. A value is secret, whatever its
// name, when it looks like one ("Bearer …", "Basic …", AWS key ids, JWTs, PEM
// private keys). URL passwords ("https://u:p@h") are masked in any value.
//
// The action still receives the real values (argv); only records are masked.
//
// Thread safety: immutable after Create(); share freely.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::diag::internal {
class Redactor;
}

namespace stopgap::remedy {

inline constexpr std::string_view kSecretMask = "***";
inline constexpr const char* kDefaultSecretNamePatterns[] = {
    "*passw*", "*auth*", "*cookie*", "*session*", "*private*", "*signature*",
};

class SecretMasker {
 public:
  // The defaults plus `redact_patterns` (globs, case-insensitive, or
  // "re:<regex>", as in policy.redact). kInvalidArgument for a bad pattern.
  static Result<SecretMasker> Create(const std::vector<std::string>& redact_patterns);
  // The defaults only (never fails).
  static const SecretMasker& Defaults();

  bool IsSecretName(std::string_view name) const;
  // kSecretMask for a secret name or a secret-looking value; else the value
  // with URL passwords masked.
  std::string MaskValue(std::string_view name, std::string_view value) const;
  std::map<std::string, std::string> MaskMap(const std::map<std::string, std::string>& m) const;
  // An argv as recorded: "--password=x" / "--token x" / "PASSWORD=x" masked,
  // secret-looking values and URL passwords masked.
  std::vector<std::string> MaskArgv(const std::vector<std::string>& argv) const;
  // Every occurrence (>= 4 bytes) of each value in `secrets` replaced by
  // kSecretMask: for free text such as step errors.
  static std::string MaskValuesIn(std::string_view text, const std::vector<std::string>& secrets);

 private:
  std::shared_ptr<const diag::internal::Redactor> redactor_;
};

// The values of `labels` that MaskMap would mask, for MaskValuesIn.
std::vector<std::string> SecretValues(const SecretMasker& masker,
                                      const std::map<std::string, std::string>& labels);

}  // namespace stopgap::remedy

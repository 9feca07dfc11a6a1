// SecretMasker over diag's Redactor; see secrets.h.
#include "remedy/secrets.h"

#include "diag/internal/redact.h"

namespace stopgap::remedy {

Result<SecretMasker> SecretMasker::Create(const std::vector<std::string>& redact_patterns) {
  std::vector<std::string> all(std::begin(kDefaultSecretNamePatterns),
                               std::end(kDefaultSecretNamePatterns));
  all.insert(all.end(), redact_patterns.begin(), redact_patterns.end());
  Result<diag::internal::Redactor> r = diag::internal::Redactor::Create(all);
  if (!r.ok()) return r.status().WithContext("policy.redact");
  SecretMasker m;
  m.redactor_ = std::make_shared<const diag::internal::Redactor>(std::move(*r));
  return m;
}

const SecretMasker& SecretMasker::Defaults() {
  static const SecretMasker* m = new SecretMasker(*Create({}));
  return *m;
}

bool SecretMasker::IsSecretName(std::string_view name) const {
  return redactor_->IsSecretName(name);
}

std::string SecretMasker::MaskValue(std::string_view name, std::string_view value) const {
  return redactor_->MaskNamedValue(name, value);
}

std::map<std::string, std::string> SecretMasker::MaskMap(
    const std::map<std::string, std::string>& m) const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m) out.emplace(k, MaskValue(k, v));
  return out;
}

std::vector<std::string> SecretMasker::MaskArgv(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = redactor_->MaskArgv(argv);
  for (std::string& a : out) {
    if (diag::internal::Redactor::LooksLikeSecretValue(a)) a = std::string(kSecretMask);
  }
  return out;
}

std::string SecretMasker::MaskValuesIn(std::string_view text,
                                       const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const std::string& s : secrets) {
    if (s.size() < 4) continue;  // too short to mask without destroying the text
    for (size_t at = out.find(s); at != std::string::npos; at = out.find(s, at)) {
      out.replace(at, s.size(), kSecretMask);
      at += kSecretMask.size();
    }
  }
  return out;
}

std::vector<std::string> SecretValues(const SecretMasker& masker,
                                      const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  for (const auto& [k, v] : labels) {
    if (masker.MaskValue(k, v) == kSecretMask) out.push_back(v);
  }
  return out;
}

}  // namespace stopgap::remedy

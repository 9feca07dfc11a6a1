// Secret masking; see redact.h.
#include "diag/internal/redact.h"

#include <fnmatch.h>

#include <cctype>
#include <optional>

#include "core/log.h"

namespace stopgap::diag::internal {

Result<Redactor> Redactor::Create(const std::vector<std::string>& patterns) {
  Redactor r;
  for (const std::string& p : patterns) {
    if (p.empty()) return InvalidArgument("redact pattern: empty");
    if (p.rfind("re:", 0) == 0) {
      try {
        r.regexes_.emplace_back(p.substr(3), std::regex::ECMAScript | std::regex::icase);
      } catch (const std::regex_error& e) {
        return InvalidArgument("redact pattern \"" + p + "\": " + e.what());
      }
    } else {
      r.globs_.push_back(p);
    }
  }
  return r;
}

bool Redactor::IsSecretName(std::string_view name) const {
  if (LooksLikeSecretName(name)) return true;
  std::string n(name);
  for (const std::string& g : globs_) {
    if (::fnmatch(g.c_str(), n.c_str(), FNM_CASEFOLD) == 0) return true;
  }
  for (const std::regex& re : regexes_) {
    if (std::regex_search(n, re)) return true;
  }
  return false;
}

std::string Redactor::MaskUrlPasswords(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    auto scheme = text.find("://", i);
    if (scheme == std::string_view::npos) break;
    size_t start = scheme + 3;
    // The authority ends at '/', '?', '#', whitespace or the end.
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' &&
           text[end] != ' ' && text[end] != '\n') {
      ++end;
    }
    auto at = text.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string_view::npos && at >= start && at < end) {
      auto colon = text.find(':', start);
      if (colon != std::string_view::npos && colon < at) {
        out.append(text.substr(i, colon + 1 - i));
        out.append(kMask);
        out.append(text.substr(at, end - at));
        i = end;
        continue;
      }
    }
    out.append(text.substr(i, end - i));
    i = end;
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

std::string Redactor::MaskEnvEntry(std::string_view entry) const {
  auto eq = entry.find('=');
  if (eq != std::string_view::npos && eq > 0 && IsSecretName(entry.substr(0, eq))) {
    return std::string(entry.substr(0, eq + 1)) + std::string(kMask);
  }
  return MaskUrlPasswords(entry);
}

namespace {

// "Authorization: Bearer abc" (one argument, as given to curl -H): the value
// after the scheme word is masked when the header name looks secret.
std::optional<std::string> MaskHeaderArg(const Redactor& r, std::string_view a) {
  auto colon = a.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view name = a.substr(0, colon);
  if (name.find_first_of(" \t/=") != std::string_view::npos || !r.IsSecretName(name)) {
    return std::nullopt;
  }
  size_t v = colon + 1;
  while (v < a.size() && a[v] == ' ') ++v;
  // Keep a scheme word ("Bearer", "Basic") so the record still says what it was.
  size_t sp = a.find(' ', v);
  size_t keep = v;
  if (sp != std::string_view::npos) {
    std::string_view scheme = a.substr(v, sp - v);
    bool word = !scheme.empty() && scheme.size() <= 16 &&
                scheme.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
                    std::string_view::npos;
    if (word) keep = sp + 1;
  }
  return std::string(a.substr(0, keep)) + std::string(kMask);
}

}  // namespace

std::vector<std::string> Redactor::MaskArgv(const std::vector<std::string>& argv) const {
  std::vector<std::string> out;
  out.reserve(argv.size());
  bool mask_next = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (mask_next) {
      mask_next = false;
      if (a.empty() || a[0] != '-') {
        out.emplace_back(kMask);
        continue;
      }
    }
    // mysql's -pSECRET: the password glued to a single-dash -p.
    if (i > 0 && a.size() > 2 && a[0] == '-' && a[1] == 'p' && a.find('=') == std::string::npos) {
      out.push_back("-p" + std::string(kMask));
      continue;
    }
    if (i > 0) {
      if (std::optional<std::string> h = MaskHeaderArg(*this, a)) {
        out.push_back(std::move(*h));
        continue;
      }
    }
    if (i > 0 && a.size() > 1 && a[0] == '-') {
      std::string_view flag(a);
      while (!flag.empty() && flag[0] == '-') flag.remove_prefix(1);
      auto eq = flag.find('=');
      std::string_view name = flag.substr(0, eq);
      if (!name.empty() && IsSecretName(name)) {
        if (eq != std::string_view::npos) {
          out.push_back(a.substr(0, a.size() - (flag.size() - eq - 1)) + std::string(kMask));
        } else {
          out.push_back(a);
          mask_next = true;
        }
        continue;
      }
    }
    if (i > 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos && eq > 0 && a[0] != '-' && IsSecretName(a.substr(0, eq))) {
        out.push_back(a.substr(0, eq + 1) + std::string(kMask));
        continue;
      }
    }
    out.push_back(MaskUrlPasswords(a));
  }
  return out;
}

namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// AKIA/ASIA followed by 16 of [A-Z0-9], bounded by non-alphanumerics.
bool HasAwsKeyId(std::string_view v) {
  for (size_t i = 0; i + 20 <= v.size(); ++i) {
    std::string_view head = v.substr(i, 4);
    if (head != "AKIA" && head != "ASIA") continue;
    if (i > 0 && IsUpperAlnum(v[i - 1])) continue;
    bool all = true;
    for (size_t j = i + 4; j < i + 20 && all; ++j) all = IsUpperAlnum(v[j]);
    if (all && (i + 20 == v.size() || !IsUpperAlnum(v[i + 20]))) return true;
  }
  return false;
}

}  // namespace

bool Redactor::LooksLikeSecretValue(std::string_view value) {
  std::string_view v = value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (StartsWithNoCase(v, "bearer ") || StartsWithNoCase(v, "basic ")) return true;
  if (HasAwsKeyId(v)) return true;
  size_t jwt = v.find("eyJ");
  if (jwt != std::string_view::npos && v.find(".eyJ", jwt) != std::string_view::npos) return true;
  return v.find("PRIVATE KEY-----") != std::string_view::npos;
}

std::string Redactor::MaskNamedValue(std::string_view name, std::string_view value) const {
  if (IsSecretName(name) || LooksLikeSecretValue(value)) return std::string(kMask);
  return MaskUrlPasswords(value);
}

}  // namespace stopgap::diag::internal

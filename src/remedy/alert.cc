// Fingerprints for alerts that don't carry one.
#include "remedy/alert.h"

#include <cstdint>
#include <cstdio>

namespace stopgap::remedy {

std::string ComputeFingerprint(const std::map<std::string, std::string>& labels) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& [k, v] : labels) {  // std::map iterates in key order
    mix(k);
    mix(v);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace stopgap::remedy

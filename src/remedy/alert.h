// An alert as the engine sees it, whatever its source (Alertmanager webhook,
// generic endpoint, `stopgap run --label`). Parsing of the wire formats lives
// with the HTTP intake (src/server); this is the common value type.
//
// Thread safety: a value type.
#pragma once

#include <map>
#include <string>

#include "core/time.h"

namespace stopgap::remedy {

enum class AlertStatus { kFiring, kResolved };

struct Alert {
  std::string name;                           // alertname label, or the generic "name"
  std::map<std::string, std::string> labels;  // includes alertname when from Alertmanager
  std::map<std::string, std::string> annotations;
  AlertStatus status = AlertStatus::kFiring;
  // Stable identity for deduplication. Alertmanager's own fingerprint when
  // sent, else ComputeFingerprint(labels).
  std::string fingerprint;
  std::string source;  // "alertmanager", "generic", "manual"
  std::string token;   // the name of the API token that sent it; empty: none
  WallTime starts_at{};
  WallTime ends_at{};
  std::string generator_url;
};

// A stable fingerprint from the sorted labels: 16 lowercase hex digits
// (FNV-1a 64 over "k\xffv\xff" pairs in key order), the same across runs.
std::string ComputeFingerprint(const std::map<std::string, std::string>& labels);

}  // namespace stopgap::remedy

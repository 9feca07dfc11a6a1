// libFuzzer target: the Alertmanager webhook v4 parser must never crash, hang
// or leak on any body, and every alert it returns carries a name and fingerprint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/alert_intake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto p = stopgap::server::ParseAlertmanagerPayload(body);
  if (p.ok()) {
    for (const auto& a : p->alerts) {
      if (a.name.empty() || a.fingerprint.empty()) std::abort();
    }
  } else if (p.status().message().empty()) {
    std::abort();
  }
  return 0;
}

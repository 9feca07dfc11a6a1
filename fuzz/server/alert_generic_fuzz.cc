// libFuzzer target: the generic alert parser must never crash, hang or leak,
// and every alert it returns has a name, an alertname label and a fingerprint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/alert_intake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = stopgap::server::ParseGenericAlerts(body);
  if (r.ok()) {
    for (const auto& a : *r) {
      if (a.name.empty() || a.fingerprint.empty() || !a.labels.count("alertname")) std::abort();
    }
  } else if (r.status().message().empty()) {
    std::abort();
  }
  return 0;
}

// libFuzzer target: object metadata from a store's HEAD answer (outside
// input): arbitrary header lines through MetaFromHeaders and
// ReadArchiveMeta. Kept names must be [a-z0-9-_], values free of control
// bytes; nothing may crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logship/archive.h"
#include "logship/internal/http_store.h"

using namespace stopgap::logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  stopgap::net::HttpHeaders headers;
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  for (std::string_view prefix : {"x-amz-meta-", "x-object-meta-"}) {
    ObjectMeta meta = internal::MetaFromHeaders(headers, prefix);
    for (const auto& [k, v] : meta) {
      if (k.empty()) std::abort();
      for (char c : k) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
          std::abort();
        }
      }
      for (char c : v) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
      }
    }
    MetaFacts f = ReadArchiveMeta(meta);
    if (f.day && (f.day->month < 1 || f.day->month > 12)) std::abort();
  }
  return 0;
}

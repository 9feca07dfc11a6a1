// libFuzzer target: object keys from a store (outside input) through
// ParseObjectKey (both layouts, with a dateformat and recognising the common
// forms) and ValidateObjectKey. A key that validates must never name
// a path outside --out: no "..", ".", empty component, NUL or leading '/',
// and its host and file name must be plain names.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logship/catalog.h"

using namespace stopgap::logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view key(reinterpret_cast<const char*>(data), size);
  ObjectInfo o;
  o.key = std::string(key);
  if (!ValidateObjectKey(key).ok()) return 0;
  if (key.empty() || key.front() == '/' || key.find('\0') != std::string_view::npos) std::abort();
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view part = key.substr(start, slash == key.npos ? key.npos : slash - start);
    if (part.empty() || part == ".." || part == ".") std::abort();
    if (slash == key.npos) break;
    start = slash + 1;
  }
  for (Layout layout : {Layout::kHost, Layout::kDate}) {
    for (bool guess : {false, true}) {
      std::optional<DateFormat> format;
      if (!guess) format = DateFormat::Default();
      auto a = ParseObjectKey(o, format, layout);
      if (!a) continue;
      if (a->host.empty() || a->host == ".." || a->host.find('/') != std::string::npos) {
        std::abort();
      }
      if (!ValidateObjectKey(a->host + a->path).ok()) std::abort();
      if (layout == Layout::kDate && !a->day) std::abort();
    }
  }
  return 0;
}

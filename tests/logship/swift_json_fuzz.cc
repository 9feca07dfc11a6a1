// libFuzzer target: Swift's JSON answers on arbitrary bytes — container
// listings (with and without a prefix), Keystone v3 token catalogs and the
// file:// store's metadata sidecars.
// Parsed listings must hold sane values; nothing may throw.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logship/archive.h"
#include "logship/store/swift_json.h"
#include "logship/store/swift_store.h"

using namespace stopgap::logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (std::string_view prefix : {"", "logs"}) {
    auto page = ParseSwiftListing(body, prefix);
    if (!page.ok()) continue;
    for (const auto& o : page->objects) {
      if (o.key.empty()) std::abort();
    }
    if (!page->objects.empty() && page->last_name.empty()) std::abort();
  }
  // file:// metadata sidecars: whatever parses reads back as archive facts.
  ObjectMeta meta = ParseMetaSidecar(body);
  (void)ReadArchiveMeta(meta);
  auto url = FindObjectStoreEndpoint(body, "", "public");
  if (url.ok() && (url->empty() || url->back() == '/')) std::abort();
  return 0;
}

// Fuzz target for the one bundle manifest reader (ParseManifest): bundles come
// back from object stores, so manifest.json is outside input. Whatever is
// accepted must write back and read again to the same text (the writer and
// the reader agree on every field). Seeds: fuzz/corpus/diag_manifest/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "diag/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using stopgap::diag::ManifestToJson;
  using stopgap::diag::ParseManifest;
  auto m = ParseManifest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!m.ok()) return 0;
  std::string once = ManifestToJson(*m);
  auto again = ParseManifest(once);
  if (!again.ok() || ManifestToJson(*again) != once) std::abort();
  return 0;
}

// Parsing Swift's JSON container listings (GET /<container>?format=json),
// and the file:// store's metadata sidecars (a flat JSON object of strings):
// pure functions over outside input, fuzzed (fuzz/logship.cmake).
//
// Thread safety: pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct SwiftListPage {
  // Objects named "<prefix>/<key>" (every object when prefix is empty), with
  // keys relative to the prefix; names outside it are skipped.
  std::vector<ObjectInfo> objects;
  std::string last_name;  // the page's last name: the next page's marker ("" = empty page)
  size_t entries = 0;     // names in the page (a page shorter than the limit is the last)
};

// DataLoss when the body is not a JSON array of objects with a string "name".
Result<SwiftListPage> ParseSwiftListing(std::string_view body, std::string_view prefix);

// {"name": "value", ...}; entries that are not strings are skipped, a body
// that is not a JSON object gives no metadata.
ObjectMeta ParseMetaSidecar(std::string_view body);
std::string FormatMetaSidecar(const ObjectMeta& meta);

}  // namespace stopgap::logship

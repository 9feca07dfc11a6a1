// Parsing Swift's JSON container listings (GET /<container>?format=json):
// a pure function over the response body, fuzzed (fuzz/logship.cmake).
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
};

// DataLoss when the body is not a JSON array of objects with a string "name".
Result<SwiftListPage> ParseSwiftListing(std::string_view body, std::string_view prefix);

}  // namespace stopgap::logship

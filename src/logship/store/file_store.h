// file:///dir backend: objects are files under dir (keys become paths).
// Writes go to a temp file then rename; the copy is re-read and checked.
// Thread safety: stateless apart from options; safe from several threads.
#pragma once

#include <memory>
#include <string>

#include "logship/store/object_store.h"

namespace stopgap::logship {

std::unique_ptr<ObjectStore> NewFileStore(std::string root, const StoreOptions& options);

}  // namespace stopgap::logship

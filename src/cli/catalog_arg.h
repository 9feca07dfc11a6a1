// Loading the catalog named by a subcommand's -c flag, with the errors
// explained on stderr the same way for every subcommand that needs it.
//
// Thread safety: call from the main thread (writes to stderr).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"
#include "remedy/catalog.h"

namespace stopgap::cli {

// The catalog, or nullopt after printing each error violation and
// "stopgap <command>: <why>" to stderr (the caller exits kExitUsage).
std::optional<remedy::Catalog> LoadCatalogOrExplain(std::string_view command,
                                                    const std::string& path, CivilDay today);

}  // namespace stopgap::cli

// See catalog_arg.h.
#include "cli/catalog_arg.h"

#include <cstdio>
#include <vector>

namespace stopgap::cli {

std::optional<remedy::Catalog> LoadCatalogOrExplain(std::string_view command,
                                                    const std::string& path, CivilDay today) {
  std::vector<remedy::Violation> violations;
  Result<remedy::Catalog> catalog = remedy::LoadCatalog(path, today, &violations);
  if (catalog.ok()) return std::move(*catalog);
  for (const remedy::Violation& v : violations) {
    if (v.severity == remedy::Severity::kError) std::fprintf(stderr, "%s\n", v.ToString().c_str());
  }
  std::fprintf(stderr, "stopgap %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               catalog.status().message().c_str());
  return std::nullopt;
}

}  // namespace stopgap::cli

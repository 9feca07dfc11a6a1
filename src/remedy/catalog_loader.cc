// Catalog YAML loading: placeholder until the loader lands.
#include "core/file.h"
#include "remedy/catalog.h"

namespace stopgap::remedy {

Result<Catalog> ParseCatalog(std::string_view yaml, std::string_view file, CivilDay today,
                             std::vector<Violation>* violations) {
  return Internal("not implemented");
}

Result<Catalog> LoadCatalog(const std::string& path, CivilDay today,
                            std::vector<Violation>* violations) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseCatalog(*text, path, today, violations);
}

}  // namespace stopgap::remedy

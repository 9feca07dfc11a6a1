// FindWebAsset: a lookup in the generated table of web/ files.
//
// Thread safety: reads constant data.
#include "server/web_ui.h"

#include "web_ui_data.h"

namespace stopgap::server {

std::optional<WebAsset> FindWebAsset(std::string_view name) {
  for (const WebAsset& a : kWebUiAssets) {
    if (a.name == name) return a;
  }
  return std::nullopt;
}

}  // namespace stopgap::server

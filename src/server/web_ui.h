// The embedded web UI: web/index.html compiled into the binary at build time
// (src/server/CMakeLists.txt generates web_ui_data.h from it).
//
// Thread safety: returns a static string.
#pragma once

#include <string_view>

namespace stopgap::server {

std::string_view WebUiHtml();

}  // namespace stopgap::server

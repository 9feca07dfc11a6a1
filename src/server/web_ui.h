// The embedded web UI: every file of web/ (index.html, the CSS and the JS
// modules) compiled into the binary at build time (src/server/CMakeLists.txt
// generates web_ui_data.h), so `stopgap serve` needs no file beside it.
//
// Thread safety: returns static data.
#pragma once

#include <optional>
#include <string_view>

namespace stopgap::server {

struct WebAsset {
  std::string_view name;          // file name in web/: "index.html", "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8", ...
  std::string_view body;
};

// The asset named `name` (a file name in web/, no directory); nullopt if none.
std::optional<WebAsset> FindWebAsset(std::string_view name);

// The Content-Security-Policy the UI is served with: scripts, styles and
// fetches from this origin only; no inline script or style, no framing.
inline constexpr const char kWebUiCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace stopgap::server

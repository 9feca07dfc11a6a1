// WebUiHtml: the generated web_ui_data.h holds web/index.html as a raw string.
#include "server/web_ui.h"

#include "web_ui_data.h"

namespace stopgap::server {

std::string_view WebUiHtml() { return kWebUiIndexHtml; }

}  // namespace stopgap::server

// The routes behind the web UI, registered by RegisterWebRoutes from
// StopgapDaemon::Impl::RegisterRoutes (before its catch-all 404):
//   GET /                                         index.html (strict CSP)
//   GET /ui/<file>                                the other embedded assets of web/
//   GET /api/v1/executions/{id}/bundle            {"files": [{"path","size","text"}...]}
//   GET /api/v1/executions/{id}/bundle/file?path= one file (text/plain or attachment, nosniff)
//   GET /api/v1/executions/{id}/bundle.tar.zst    the bundle packed (download)
//   GET /api/v1/runs/daily?days=N[&issue=I]       runs per UTC day per workaround (charts)
//   GET /api/v1/ui/tracker                        {"kind","url"} of the catalog's tracker
//                                                 (null when none), to link issues
// Every route goes through the daemon's access check first (the UI assets need
// no token; the API routes need `read`).
//
// Thread safety: handlers run on the HTTP handler pool; they only read the
// ledger (thread-safe) and the bundle directories.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/time.h"
#include "net/http_server.h"
#include "remedy/ledger.h"
#include "server/catalog_holder.h"

namespace stopgap::server {

struct WebRoutesContext {
  net::HttpServer* http = nullptr;
  // The access check: nullopt when allowed, else the refusal to send.
  std::function<std::optional<net::HttpServerResponse>(const net::HttpServerRequest&)> refuse;
  remedy::ExecutionLedger* ledger = nullptr;
  const Clock* clock = nullptr;
  const CatalogHolder* catalog = nullptr;
};

void RegisterWebRoutes(const WebRoutesContext& c);

}  // namespace stopgap::server

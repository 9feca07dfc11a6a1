// Who may do what on stopgap serve's HTTP API: named bearer tokens with
// scopes (server.tokens in the catalog; the legacy server.token_file is one
// token named "default" with every scope), the scope each route needs, and the
// Host allow-list against DNS rebinding. One function decides a request from
// its method, path and headers, before its body is read:
//
//   AccessDecision d = policy.Check({.method = "POST", .path = "/api/v1/alerts",
//                                    .host = req.Header("Host"),
//                                    .origin = req.Header("Origin"),
//                                    .authorization = req.Header("Authorization")});
//   if (!d.ok()) return Refuse(d.status, d.message);   // 401, 403 or 421
//   ... d.token names the token (never its secret) for the ledger ...
//
// Order: /healthz is always allowed; then the Host (421 when not allowed),
// the Origin (403 when present and not an allowed host), the route's scope
// (none for /metrics unless server.metrics_auth, and for the UI page and its
// /ui/ assets), the token (401 when missing or wrong), its scopes (403 when
// lacking).
//
// Thread safety: an AccessPolicy is immutable once loaded; share it as
// std::shared_ptr<const AccessPolicy> and swap on reload.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "remedy/catalog.h"
#include "server/token_auth.h"

namespace stopgap::server {

enum class Scope { kRead, kAlerts, kRun, kApprove, kAdmin };
std::string_view ScopeName(Scope s);  // "read", "alerts", "run", "approve", "admin"
std::optional<Scope> ParseScope(std::string_view name);

struct AccessRequest {
  std::string_view method;
  std::string_view path;  // without the query string
  std::string_view host;  // the Host header ("" when absent)
  std::string_view origin;
  std::string_view authorization;
};

struct AccessDecision {
  int status = 200;     // 200: allowed; else 401, 403 or 421
  std::string token;    // the name of the token that authenticated, if any
  std::string message;  // why it was refused, for the error body and the log
  bool ok() const { return status == 200; }
};

class AccessPolicy {
 public:
  // Reads every token file of `config` (server.token_file and server.tokens);
  // when `create` is set, a missing file is generated (0600, a random token).
  // `listen` is the effective listen address (the catalog's or --listen):
  // the default allowed hosts are its host, localhost, 127.0.0.1 and [::1],
  // with its port (any port when it is 0). Fails when no token is configured
  // or a file is unreadable or readable by others. A secret listed twice
  // authenticates as the first of its names.
  static Result<AccessPolicy> Load(const remedy::ServerConfig& config, std::string_view listen,
                                   bool create, std::vector<std::string>* created = nullptr);

  AccessDecision Check(const AccessRequest& r) const;

  // The scope a route needs; nullopt when none (the UI page, /healthz, and
  // /metrics unless metrics_auth, reads when read_auth is off).
  std::optional<Scope> RequiredScope(std::string_view method, std::string_view path) const;
  bool HostAllowed(std::string_view host) const;
  const std::vector<std::string>& allowed_hosts() const { return allowed_hosts_; }

 private:
  struct Token {
    std::string name;
    BearerToken secret;
    unsigned scopes = 0;  // bit per Scope
  };
  std::vector<Token> tokens_;
  std::vector<std::string> allowed_hosts_;  // lower-case; "*" allows any
  bool read_auth_ = true;
  bool metrics_auth_ = false;
};

}  // namespace stopgap::server

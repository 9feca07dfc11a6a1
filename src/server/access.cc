// AccessPolicy: tokens with scopes, route scopes, the Host allow-list.
//
// Thread safety: see the header.
#include "server/access.h"

#include <algorithm>

#include "core/strings.h"

namespace stopgap::server {
namespace {

constexpr Scope kAllScopes[] = {Scope::kRead, Scope::kAlerts, Scope::kRun, Scope::kApprove,
                                Scope::kAdmin};

unsigned Bit(Scope s) { return 1u << static_cast<unsigned>(s); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "host:port" -> {host, port}; "[v6]:port" keeps the brackets; no port: "".
std::pair<std::string, std::string> SplitHostPort(std::string_view s) {
  if (s.starts_with("[")) {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return {std::string(s), ""};
    std::string_view rest = s.substr(close + 1);
    return {std::string(s.substr(0, close + 1)),
            rest.starts_with(":") ? std::string(rest.substr(1)) : ""};
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || s.find(':') != colon) return {std::string(s), ""};
  return {std::string(s.substr(0, colon)), std::string(s.substr(colon + 1))};
}

// "https://host:port/..." -> "host:port".
std::string_view OriginAuthority(std::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return origin;
  std::string_view rest = origin.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

AccessDecision Refuse(int status, std::string message) {
  AccessDecision d;
  d.status = status;
  d.message = std::move(message);
  return d;
}

}  // namespace

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kRead:
      return "read";
    case Scope::kAlerts:
      return "alerts";
    case Scope::kRun:
      return "run";
    case Scope::kApprove:
      return "approve";
    case Scope::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (Scope s : kAllScopes)
    if (ScopeName(s) == name) return s;
  return std::nullopt;
}

Result<AccessPolicy> AccessPolicy::Load(const remedy::ServerConfig& config, std::string_view listen,
                                        bool create, std::vector<std::string>* created) {
  AccessPolicy p;
  p.read_auth_ = config.read_auth;
  p.metrics_auth_ = config.metrics_auth;
  auto add = [&](const std::string& name, const std::string& file, unsigned scopes) -> Status {
    bool made = false;
    Result<BearerToken> t = BearerToken::Load(file, create, &made);
    if (!t.ok()) return t.status().WithContext("token '" + name + "'");
    if (made && created) created->push_back(file);
    p.tokens_.push_back(Token{name, std::move(*t), scopes});
    return Status::Ok();
  };
  if (!config.token_file.empty()) {
    unsigned all = 0;
    for (Scope s : kAllScopes) all |= Bit(s);
    STOPGAP_RETURN_IF_ERROR(add("default", config.token_file, all));
  }
  for (const remedy::TokenConfig& t : config.tokens) {
    unsigned scopes = 0;
    for (const std::string& name : t.scopes) {
      std::optional<Scope> s = ParseScope(name);
      if (!s) return InvalidArgument("token '" + t.name + "': unknown scope '" + name + "'");
      scopes |= Bit(*s);
    }
    STOPGAP_RETURN_IF_ERROR(add(t.name, t.file, scopes));
  }
  if (p.tokens_.empty()) {
    return InvalidArgument(
        "server: no API token: set server.token_file or server.tokens (writes need a token)");
  }
  if (!config.allowed_hosts.empty()) {
    for (const std::string& h : config.allowed_hosts) p.allowed_hosts_.push_back(Lower(h));
  } else {
    auto [host, port] = SplitHostPort(listen);
    std::vector<std::string> names = {"localhost", "127.0.0.1", "[::1]"};
    std::string h = Lower(host);
    if (h != "0.0.0.0" && h != "[::]" && h != "::" && !h.empty() &&
        std::find(names.begin(), names.end(), h) == names.end()) {
      names.push_back(h);
    }
    for (const std::string& n : names) {
      p.allowed_hosts_.push_back(port.empty() || port == "0" ? n : n + ":" + port);
    }
  }
  return p;
}

bool AccessPolicy::HostAllowed(std::string_view host) const {
  std::string h = Lower(TrimWhitespace(host));
  if (h.empty()) return false;
  auto [name, port] = SplitHostPort(h);
  for (const std::string& a : allowed_hosts_) {
    if (a == "*" || a == h) return true;
    auto [aname, aport] = SplitHostPort(a);
    if (aport.empty() && aname == name) return true;  // an entry without port: any port
  }
  return false;
}

std::optional<Scope> AccessPolicy::RequiredScope(std::string_view method,
                                                 std::string_view path) const {
  const bool get = method == "GET" || method == "HEAD";
  if (get && (path == "/healthz" || path == "/" || path.starts_with("/ui/"))) return std::nullopt;
  if (get && path == "/metrics") return metrics_auth_ ? std::optional(Scope::kRead) : std::nullopt;
  if (get && path.starts_with("/api/")) {
    return read_auth_ ? std::optional(Scope::kRead) : std::nullopt;
  }
  if (method == "POST") {
    if (path == "/api/v1/alerts" || path == "/api/v1/alerts/alertmanager") return Scope::kAlerts;
    if (path.starts_with("/api/v1/workarounds/") && path.ends_with("/run")) return Scope::kRun;
    if (path.starts_with("/api/v1/executions/") &&
        (path.ends_with("/approve") || path.ends_with("/deny"))) {
      return Scope::kApprove;
    }
  }
  // Anything else (other methods, unknown routes, CORS preflights): admin.
  return Scope::kAdmin;
}

AccessDecision AccessPolicy::Check(const AccessRequest& r) const {
  const bool get = r.method == "GET" || r.method == "HEAD";
  if (get && r.path == "/healthz") return {};
  if (!HostAllowed(r.host)) {
    // The Host is not echoed: a refusal reflects nothing of the request.
    return Refuse(421, "this Host is not served here (see server.allowed_hosts)");
  }
  if (!r.origin.empty() && !HostAllowed(OriginAuthority(r.origin))) {
    return Refuse(403, "cross-origin requests are refused (Origin is not an allowed host)");
  }
  std::optional<Scope> need = RequiredScope(r.method, r.path);
  if (!need) return {};
  // Compare against every token (constant time each), so the time taken
  // does not tell which one matched.
  const Token* match = nullptr;
  for (const Token& t : tokens_) {
    if (t.secret.Authorizes(r.authorization) && !match) match = &t;
  }
  if (!match) return Refuse(401, "missing or wrong bearer token");
  AccessDecision d;
  d.token = match->name;
  if (!(match->scopes & (Bit(*need) | Bit(Scope::kAdmin)))) {
    d.status = 403;
    d.message = "token '" + match->name + "' lacks the " + std::string(ScopeName(*need)) +
                " scope for " + std::string(r.method) + " " + std::string(r.path);
  }
  return d;
}

}  // namespace stopgap::server

// `stopgap reset -c FILE --comment TEXT [--url URL] [--token-file FILE]`:
// resets the storm breaker's latch through the running daemon's API (POST
// /api/v1/breaker/reset, scope admin), never by writing the ledger itself.
// Why through the daemon: the reset then takes the engine's admission lock
// (no admission reads the latch half-way), is recorded with the name of the
// token that made it (the API's audit trail, like approvals), and reaches the
// daemon's observers (live events); a second writer would bypass all three.
// The token: --token-file, else the first catalog token with the admin scope,
// else server.token_file (every scope). Exit 0 when the breaker is not tripped
// afterwards, 1 when the daemon refused or could not be reached.
//
// Threading: single-threaded.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/catalog_arg.h"
#include "cli/command.h"
#include "core/file.h"
#include "core/strings.h"
#include "core/time.h"
#include "net/http_client.h"
#include "remedy/catalog.h"

namespace stopgap::cli {
namespace {

struct ResetOpts {
  std::string catalog;
  std::string comment;
  std::string url;
  std::string token_file;
};

// The daemon's URL from server.listen (a wildcard address is asked on loopback).
std::string UrlOf(const remedy::ServerConfig& s) {
  std::string listen = s.listen;
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? "9470" : listen.substr(colon + 1);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "[::1]";
  return std::string(s.tls_cert.empty() ? "http" : "https") + "://" + host + ":" + port;
}

std::string TokenFileOf(const remedy::ServerConfig& s) {
  for (const remedy::TokenConfig& t : s.tokens) {
    for (const std::string& scope : t.scopes) {
      if (scope == "admin") return t.file;
    }
  }
  return s.token_file;
}

int ResetMain(const ResetOpts& o) {
  std::optional<remedy::Catalog> catalog =
      LoadCatalogOrExplain("reset", o.catalog, CivilDayOf(SystemClock::Instance().Now()));
  if (!catalog) return kExitUsage;
  const std::string url =
      (o.url.empty() ? UrlOf(catalog->server) : o.url) + "/api/v1/breaker/reset";
  const std::string token_file = o.token_file.empty() ? TokenFileOf(catalog->server) : o.token_file;
  if (token_file.empty()) {
    std::fprintf(
        stderr, "stopgap reset: no token with the admin scope in the catalog; pass --token-file\n");
    return kExitUsage;
  }
  Result<std::string> token = ReadFile(token_file, 4096);
  if (!token.ok()) {
    std::fprintf(stderr, "stopgap reset: token: %s\n", token.status().ToString().c_str());
    return kExitFailed;
  }
  std::string secret(TrimWhitespace(token->substr(0, token->find('\n'))));
  net::HttpClientOptions ho;
  ho.max_attempts = 1;
  ho.timeout = std::chrono::seconds(30);
  net::HttpClient client(ho);
  nlohmann::json body = {{"comment", o.comment}};
  Result<net::HttpResponse> r =
      client.Post(url, body.dump(),
                  {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/json"}});
  if (!r.ok()) {
    std::fprintf(stderr,
                 "stopgap reset: %s: %s (is `stopgap serve` running? the reset goes through it)\n",
                 url.c_str(), r.status().message().c_str());
    return kExitFailed;
  }
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!r->ok() || !j.is_object()) {
    std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : r->body;
    std::fprintf(stderr, "stopgap reset: HTTP %d: %s\n", r->status, why.c_str());
    return kExitFailed;
  }
  const bool tripped = j.value("tripped", false);
  if (tripped) {
    std::printf("storm breaker: still tripped (%s)\n", j.value("reason", "").c_str());
    return kExitFailed;
  }
  if (j.contains("last_reset") && j["last_reset"].is_object()) {
    const auto& l = j["last_reset"];
    std::printf("storm breaker: not tripped (last reset by %s at %s: %s)\n",
                l.value("by", "").c_str(), l.value("at", "").c_str(),
                l.value("comment", "").c_str());
  } else {
    std::printf("storm breaker: not tripped (never reset)\n");
  }
  return kExitOk;
}

}  // namespace

CommandMain SetupReset(CLI::App& sub) {
  auto o = std::make_shared<ResetOpts>();
  sub.add_option("-c,--catalog", o->catalog, "Catalog file (YAML)")->required();
  sub.add_option("--comment", o->comment, "Why it is safe to run workarounds again (recorded)")
      ->required();
  sub.add_option("--url", o->url, "The daemon's URL (default: from server.listen)");
  sub.add_option("--token-file", o->token_file,
                 "A token with the admin scope (default: from the catalog)");
  return [o] { return ResetMain(*o); };
}

}  // namespace stopgap::cli

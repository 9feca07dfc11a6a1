// libFuzzer target: AccessPolicy::Check over hostile request heads (method,
// path, Host, Origin, Authorization: one per line of the input). Must never
// crash; answers only 200/401/403/421; /healthz is always 200; an allowed
// request that needs a scope names its token; no answer holds the secret
// unless the request itself did (the path is named in a scope refusal).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.h"
#include "server/access.h"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef0123456789";

const stopgap::server::AccessPolicy& Policy() {
  static const stopgap::server::AccessPolicy* p = [] {
    std::string path = "/tmp/stopgap-access-fuzz-" + std::to_string(::getpid()) + ".token";
    if (!stopgap::WriteFileAtomic(path, std::string(kSecret) + "\n", 0600).ok()) std::abort();
    stopgap::remedy::ServerConfig c;
    c.listen = "127.0.0.1:9470";
    c.tokens = {{"reader", path, {"read"}, 0}};
    auto r = stopgap::server::AccessPolicy::Load(c, c.listen, false);
    ::unlink(path.c_str());
    if (!r.ok()) std::abort();
    return new stopgap::server::AccessPolicy(std::move(*r));
  }();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool input_has_secret = in.find(kSecret) != std::string_view::npos;
  std::vector<std::string_view> f;
  while (f.size() < 4) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    f.push_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  f.push_back(in);
  while (f.size() < 5) f.emplace_back();
  stopgap::server::AccessDecision d = Policy().Check(
      {.method = f[0], .path = f[1], .host = f[2], .origin = f[3], .authorization = f[4]});
  if (d.status != 200 && d.status != 401 && d.status != 403 && d.status != 421) std::abort();
  if (f[0] == "GET" && f[1] == "/healthz" && d.status != 200) std::abort();
  if (d.ok() && Policy().RequiredScope(f[0], f[1]) && d.token.empty()) std::abort();
  if (!d.ok() && d.message.empty()) std::abort();
  if (!input_has_secret && d.message.find(kSecret) != std::string::npos) std::abort();
  return 0;
}

// libFuzzer target: `stopgap statsd --config FILE.js`, the reference's
// config.js reader (ParseJsLiteral, then the key mapping) on arbitrary bytes:
// an error or a config, never a crash, a hang or unbounded recursion; and the
// Graphite pickle encoder on the same bytes as a text payload.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "statsd/graphite_pickle.h"
#include "statsd/js_literal.h"
#include "statsd/reference_config.h"

using namespace stopgap::statsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto v = ParseJsLiteral(text);
  auto r = ParseReferenceConfig(text, "fuzz.js");
  if (!v.ok() && r.ok()) std::abort();  // no config from text that does not parse
  (void)IsReferenceConfig("fuzz.js", text);
  std::string p = GraphitePickle(text);
  if (p.size() < 4) std::abort();
  const size_t n = (static_cast<size_t>(static_cast<uint8_t>(p[0])) << 24) |
                   (static_cast<size_t>(static_cast<uint8_t>(p[1])) << 16) |
                   (static_cast<size_t>(static_cast<uint8_t>(p[2])) << 8) |
                   static_cast<size_t>(static_cast<uint8_t>(p[3]));
  if (n != p.size() - 4) std::abort();
  return 0;
}

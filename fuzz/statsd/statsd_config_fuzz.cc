// libFuzzer target: `stopgap statsd -c FILE` YAML on arbitrary bytes (the file
// is re-read on SIGHUP, so a bad edit must give an error, never a crash or an
// exception), and the histogram bin lists it contains.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "statsd/config.h"

using namespace stopgap::statsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = ParseStatsdConfigYaml(text, "fuzz.yaml");
  if (c.ok() && (c->receive_nap_us < 0 || c->receive_nap_us > 100000)) std::abort();
  (void)ParseBins(text);
  return 0;
}

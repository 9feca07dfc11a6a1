// The process-wide HashName seed (see name_map.h). Initialised once, before
// main, from getrandom(2); read-only afterwards, so any thread may hash.
#include "statsd/internal/name_map.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>

namespace stopgap::statsd::internal {
namespace {

uint64_t ReadSeed() {
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::getrandom(&seed, sizeof seed, GRND_NONBLOCK);
    if (n == static_cast<ssize_t>(sizeof seed)) return seed;
    if (n < 0 && errno != EINTR && errno != EAGAIN) break;
  }
  // No entropy yet (very early boot): the clock still differs per process.
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
         0x9E3779B97F4A7C15ULL;
}

}  // namespace

const uint64_t kNameHashSeed = ReadSeed();

}  // namespace stopgap::statsd::internal

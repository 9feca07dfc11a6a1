// HyperLogLog with Ertl's estimator ("New cardinality estimation algorithms
// for HyperLogLog sketches", 2017, algorithm 6). See hll.h. Not thread-safe.
#include "statsd/hll.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace stopgap::statsd {
namespace {

double Sigma(double x) {
  if (x == 1) return INFINITY;
  double y = 1, z = x;
  while (true) {
    x *= x;
    double prev = z;
    z += x * y;
    y += y;
    if (z == prev) return z;
  }
}

double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1, z = 1 - x;
  while (true) {
    x = std::sqrt(x);
    double prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z == prev) return z / 3;
  }
}

inline uint64_t Mix(uint64_t h) {  // murmur3 fmix64
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t Hll::Hash(std::string_view s) {
  // 8 bytes at a time through a multiply-xorshift, then fmix64: fixed seed.
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * 0xc6a4a7935bd1e995ULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t k;
    std::memcpy(&k, s.data() + i, 8);
    h = (h ^ Mix(k)) * 0x87c37b91114253d5ULL;
    h = (h << 31) | (h >> 33);
  }
  uint64_t tail = 0;
  for (size_t j = 0; i + j < s.size(); ++j) {
    tail |= static_cast<uint64_t>(static_cast<uint8_t>(s[i + j])) << (8 * j);
  }
  h ^= Mix(tail ^ 0x4cf5ad432745937fULL);
  return Mix(h);
}

void Hll::AddHash(uint64_t h) {
  size_t idx = static_cast<size_t>(h >> (64 - kPrecision));
  uint64_t rest = h << kPrecision;  // the other 50 bits, high-aligned
  uint8_t rank = rest == 0 ? kMaxRank : static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  if (rank > kMaxRank) rank = kMaxRank;
  if (rank > regs_[idx]) regs_[idx] = rank;
}

void Hll::Merge(const Hll& o) {
  for (size_t i = 0; i < kRegisters; ++i) regs_[i] = std::max(regs_[i], o.regs_[i]);
}

double Hll::Estimate() const {
  constexpr int q = 64 - kPrecision;
  uint32_t c[q + 2] = {};
  for (uint8_t r : regs_) ++c[r];
  const double m = static_cast<double>(kRegisters);
  double z = m * Tau(1 - static_cast<double>(c[q + 1]) / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + c[k]);
  z += m * Sigma(static_cast<double>(c[0]) / m);
  if (std::isinf(z)) return 0;
  return (1 / (2 * std::log(2.0))) * m * m / z;
}

bool Hll::SetRegisters(std::string_view bytes) {
  if (bytes.size() != kRegisters) return false;
  for (char b : bytes) {
    if (static_cast<uint8_t>(b) > kMaxRank) return false;
  }
  std::memcpy(regs_.data(), bytes.data(), kRegisters);
  return true;
}

}  // namespace stopgap::statsd

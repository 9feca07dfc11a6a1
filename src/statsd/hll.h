// HyperLogLog: the distinct-count summary a set becomes past set_exact_max
// members when intervals are forwarded to a global node (docs/statsd.md,
// "Global aggregation"). Precision 14 (16,384 one-byte registers, standard
// error 1.04/sqrt(16384) = 0.81 %), a fixed-seed 64-bit hash so that every
// node hashes a member the same way, and Ertl's improved estimator (no bias
// correction tables, unbiased from 0 to billions). Merging takes register maxima.
//
// Thread safety: none (one owner).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace stopgap::statsd {

class Hll {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  static constexpr uint8_t kMaxRank = 64 - kPrecision + 1;

  Hll() : regs_(kRegisters, 0) {}
  void Add(std::string_view member) { AddHash(Hash(member)); }
  void AddHash(uint64_t h);
  void Merge(const Hll& o);
  double Estimate() const;

  // The registers, for the wire format (kRegisters bytes, each <= kMaxRank).
  const std::vector<uint8_t>& registers() const { return regs_; }
  // False (and nothing changed) when a register is out of range or the size is wrong.
  bool SetRegisters(std::string_view bytes);

  // Same value on every node and run (not the per-process seeded name hash).
  static uint64_t Hash(std::string_view s);

 private:
  std::vector<uint8_t> regs_;
};

}  // namespace stopgap::statsd

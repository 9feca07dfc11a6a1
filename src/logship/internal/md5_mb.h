// Multi-buffer MD5: the MD5 compression function run on 8 (AVX2) or 16
// (AVX-512) independent streams at once, one stream per 32-bit SIMD lane, in
// lockstep. MD5 is serial within a stream; lanes make independent streams
// (parts of a file, different files) cost about as much as one.
// Thread safety: pure functions over caller-owned state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace stopgap::logship::internal {

enum class Md5Isa { kScalar, kAvx2, kAvx512 };

constexpr int kMd5MaxLanes = 16;

// The chaining values of up to 16 streams, structure-of-arrays (lane i is
// a[i], b[i], c[i], d[i]).
struct Md5Lanes {
  alignas(64) uint32_t a[kMd5MaxLanes];
  alignas(64) uint32_t b[kMd5MaxLanes];
  alignas(64) uint32_t c[kMd5MaxLanes];
  alignas(64) uint32_t d[kMd5MaxLanes];
};

// The best kernel this CPU runs (checked once with __builtin_cpu_supports).
// STOPGAP_MD5_ISA=scalar|avx2|avx512 lowers it (tests, benchmarks).
Md5Isa Md5BestIsa();
bool Md5IsaSupported(Md5Isa isa);
// 1, 8 or 16.
int Md5LaneCount(Md5Isa isa);
const char* Md5IsaName(Md5Isa isa);

// Sets lane `lane` to MD5's initial chaining value.
void Md5InitLane(Md5Lanes* s, int lane);
// Compresses `nblocks` 64-byte blocks of data[i] into lane i, for every lane
// i < Md5LaneCount(isa) (all of them: point unused lanes at any readable
// nblocks * 64 bytes and ignore their state). Unaligned data is fine.
void Md5MbBlocks(Md5Isa isa, Md5Lanes* s, const unsigned char* const* data, size_t nblocks);
// Compresses whole blocks into one lane with scalar code.
void Md5LaneBlocks(Md5Lanes* s, int lane, const unsigned char* data, size_t nblocks);
// Pads and compresses the stream's last `tail_len` (< 64) bytes; the stream
// was `total_len` bytes long. Returns the 16 raw digest bytes.
std::string Md5LaneFinish(Md5Lanes* s, int lane, const unsigned char* tail, size_t tail_len,
                          uint64_t total_len);

}  // namespace stopgap::logship::internal

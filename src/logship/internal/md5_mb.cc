// Multi-buffer MD5 kernels (scalar, AVX2 x 8 lanes, AVX-512 x 16 lanes) and
// their runtime dispatch. Each SIMD kernel transposes one 64-byte block of
// every lane so that vector j holds message word j of all lanes, then runs
// MD5's 64 steps on all lanes at once. Thread safety: pure functions.
#include "logship/internal/md5_mb.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace stopgap::logship::internal {
namespace {

// MD5's 64 steps: function, the four chaining variables in this step's
// order, message word, constant, rotation (RFC 1321, section 3.4).
#define MD5_64_STEPS(STEP)                 \
  STEP(F, a, b, c, d, 0, 0xd76aa478u, 7)   \
  STEP(F, d, a, b, c, 1, 0xe8c7b756u, 12)  \
  STEP(F, c, d, a, b, 2, 0x242070dbu, 17)  \
  STEP(F, b, c, d, a, 3, 0xc1bdceeeu, 22)  \
  STEP(F, a, b, c, d, 4, 0xf57c0fafu, 7)   \
  STEP(F, d, a, b, c, 5, 0x4787c62au, 12)  \
  STEP(F, c, d, a, b, 6, 0xa8304613u, 17)  \
  STEP(F, b, c, d, a, 7, 0xfd469501u, 22)  \
  STEP(F, a, b, c, d, 8, 0x698098d8u, 7)   \
  STEP(F, d, a, b, c, 9, 0x8b44f7afu, 12)  \
  STEP(F, c, d, a, b, 10, 0xffff5bb1u, 17) \
  STEP(F, b, c, d, a, 11, 0x895cd7beu, 22) \
  STEP(F, a, b, c, d, 12, 0x6b901122u, 7)  \
  STEP(F, d, a, b, c, 13, 0xfd987193u, 12) \
  STEP(F, c, d, a, b, 14, 0xa679438eu, 17) \
  STEP(F, b, c, d, a, 15, 0x49b40821u, 22) \
  STEP(G, a, b, c, d, 1, 0xf61e2562u, 5)   \
  STEP(G, d, a, b, c, 6, 0xc040b340u, 9)   \
  STEP(G, c, d, a, b, 11, 0x265e5a51u, 14) \
  STEP(G, b, c, d, a, 0, 0xe9b6c7aau, 20)  \
  STEP(G, a, b, c, d, 5, 0xd62f105du, 5)   \
  STEP(G, d, a, b, c, 10, 0x02441453u, 9)  \
  STEP(G, c, d, a, b, 15, 0xd8a1e681u, 14) \
  STEP(G, b, c, d, a, 4, 0xe7d3fbc8u, 20)  \
  STEP(G, a, b, c, d, 9, 0x21e1cde6u, 5)   \
  STEP(G, d, a, b, c, 14, 0xc33707d6u, 9)  \
  STEP(G, c, d, a, b, 3, 0xf4d50d87u, 14)  \
  STEP(G, b, c, d, a, 8, 0x455a14edu, 20)  \
  STEP(G, a, b, c, d, 13, 0xa9e3e905u, 5)  \
  STEP(G, d, a, b, c, 2, 0xfcefa3f8u, 9)   \
  STEP(G, c, d, a, b, 7, 0x676f02d9u, 14)  \
  STEP(G, b, c, d, a, 12, 0x8d2a4c8au, 20) \
  STEP(H, a, b, c, d, 5, 0xfffa3942u, 4)   \
  STEP(H, d, a, b, c, 8, 0x8771f681u, 11)  \
  STEP(H, c, d, a, b, 11, 0x6d9d6122u, 16) \
  STEP(H, b, c, d, a, 14, 0xfde5380cu, 23) \
  STEP(H, a, b, c, d, 1, 0xa4beea44u, 4)   \
  STEP(H, d, a, b, c, 4, 0x4bdecfa9u, 11)  \
  STEP(H, c, d, a, b, 7, 0xf6bb4b60u, 16)  \
  STEP(H, b, c, d, a, 10, 0xbebfbc70u, 23) \
  STEP(H, a, b, c, d, 13, 0x289b7ec6u, 4)  \
  STEP(H, d, a, b, c, 0, 0xeaa127fau, 11)  \
  STEP(H, c, d, a, b, 3, 0xd4ef3085u, 16)  \
  STEP(H, b, c, d, a, 6, 0x04881d05u, 23)  \
  STEP(H, a, b, c, d, 9, 0xd9d4d039u, 4)   \
  STEP(H, d, a, b, c, 12, 0xe6db99e5u, 11) \
  STEP(H, c, d, a, b, 15, 0x1fa27cf8u, 16) \
  STEP(H, b, c, d, a, 2, 0xc4ac5665u, 23)  \
  STEP(I, a, b, c, d, 0, 0xf4292244u, 6)   \
  STEP(I, d, a, b, c, 7, 0x432aff97u, 10)  \
  STEP(I, c, d, a, b, 14, 0xab9423a7u, 15) \
  STEP(I, b, c, d, a, 5, 0xfc93a039u, 21)  \
  STEP(I, a, b, c, d, 12, 0x655b59c3u, 6)  \
  STEP(I, d, a, b, c, 3, 0x8f0ccc92u, 10)  \
  STEP(I, c, d, a, b, 10, 0xffeff47du, 15) \
  STEP(I, b, c, d, a, 1, 0x85845dd1u, 21)  \
  STEP(I, a, b, c, d, 8, 0x6fa87e4fu, 6)   \
  STEP(I, d, a, b, c, 15, 0xfe2ce6e0u, 10) \
  STEP(I, c, d, a, b, 6, 0xa3014314u, 15)  \
  STEP(I, b, c, d, a, 13, 0x4e0811a1u, 21) \
  STEP(I, a, b, c, d, 4, 0xf7537e82u, 6)   \
  STEP(I, d, a, b, c, 11, 0xbd3af235u, 10) \
  STEP(I, c, d, a, b, 2, 0x2ad7d2bbu, 15)  \
  STEP(I, b, c, d, a, 9, 0xeb86d391u, 21)

constexpr uint32_t kInit[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

inline uint32_t Rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

void ScalarBlocks(uint32_t* pa, uint32_t* pb, uint32_t* pc, uint32_t* pd, const unsigned char* data,
                  size_t nblocks) {
  uint32_t a = *pa, b = *pb, c = *pc, d = *pd;
  for (size_t blk = 0; blk < nblocks; ++blk) {
    uint32_t w[16];
    std::memcpy(w, data + blk * 64, 64);  // MD5 words are little-endian, as x86
    const uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
#define SCALAR_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define SCALAR_G(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define SCALAR_H(b, c, d) ((b) ^ (c) ^ (d))
#define SCALAR_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define STEP(FN, a, b, c, d, g, k, sh) a = b + Rotl(a + SCALAR_##FN(b, c, d) + w[g] + k, sh);
    MD5_64_STEPS(STEP)
#undef STEP
    a += a0;
    b += b0;
    c += c0;
    d += d0;
  }
  *pa = a;
  *pb = b;
  *pc = c;
  *pd = d;
}

#if defined(__x86_64__)
#define STOPGAP_AVX2 __attribute__((target("avx2")))
#define STOPGAP_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define STOPGAP_INLINE inline __attribute__((always_inline))

// 8 rows of 8 dwords -> 8 columns.
STOPGAP_AVX2 STOPGAP_INLINE void Transpose8(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int p = 0; p < 4; ++p) {
    t[2 * p] = _mm256_unpacklo_epi32(r[2 * p], r[2 * p + 1]);
    t[2 * p + 1] = _mm256_unpackhi_epi32(r[2 * p], r[2 * p + 1]);
  }
  for (int g = 0; g < 2; ++g) {  // rows 4g..4g+3; u[4g+j]: column j (and 4+j) of those rows
    u[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
  }
}

STOPGAP_AVX2 void Avx2Blocks(Md5Lanes* s, const unsigned char* const* data, size_t nblocks) {
  __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(s->a));
  __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(s->b));
  __m256i c = _mm256_load_si256(reinterpret_cast<const __m256i*>(s->c));
  __m256i d = _mm256_load_si256(reinterpret_cast<const __m256i*>(s->d));
  const __m256i ones = _mm256_set1_epi32(-1);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    const size_t off = blk * 64;
    __m256i w[16];
    for (int l = 0; l < 8; ++l) {
      w[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data[l] + off));
      w[8 + l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data[l] + off + 32));
    }
    Transpose8(w);
    Transpose8(w + 8);
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
#define AVX2_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define AVX2_G(b, c, d) _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)))
#define AVX2_H(b, c, d) _mm256_xor_si256(_mm256_xor_si256(b, c), d)
#define AVX2_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define STEP(FN, a, b, c, d, g, k, sh)                                                     \
  a = _mm256_add_epi32(a, _mm256_add_epi32(w[g], _mm256_set1_epi32(static_cast<int>(k)))); \
  a = _mm256_add_epi32(a, AVX2_##FN(b, c, d));                                             \
  a = _mm256_or_si256(_mm256_slli_epi32(a, sh), _mm256_srli_epi32(a, 32 - (sh)));          \
  a = _mm256_add_epi32(a, b);
    MD5_64_STEPS(STEP)
#undef STEP
    a = _mm256_add_epi32(a, a0);
    b = _mm256_add_epi32(b, b0);
    c = _mm256_add_epi32(c, c0);
    d = _mm256_add_epi32(d, d0);
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(s->a), a);
  _mm256_store_si256(reinterpret_cast<__m256i*>(s->b), b);
  _mm256_store_si256(reinterpret_cast<__m256i*>(s->c), c);
  _mm256_store_si256(reinterpret_cast<__m256i*>(s->d), d);
}

// 16 rows of 16 dwords -> 16 columns.
STOPGAP_AVX512 STOPGAP_INLINE void Transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int p = 0; p < 8; ++p) {
    t[2 * p] = _mm512_unpacklo_epi32(r[2 * p], r[2 * p + 1]);
    t[2 * p + 1] = _mm512_unpackhi_epi32(r[2 * p], r[2 * p + 1]);
  }
  // u[4g+j], 128-bit lane L: column 4L+j of rows 4g..4g+3.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  // A 4x4 transpose of 128-bit lanes for each j.
  for (int j = 0; j < 4; ++j) {
    __m512i p0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44);
    __m512i p1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xee);
    __m512i p2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
    __m512i p3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xee);
    r[j] = _mm512_shuffle_i32x4(p0, p2, 0x88);
    r[4 + j] = _mm512_shuffle_i32x4(p0, p2, 0xdd);
    r[8 + j] = _mm512_shuffle_i32x4(p1, p3, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(p1, p3, 0xdd);
  }
}

// vpternlogd truth tables for (b, c, d): evaluate each function on the
// operand patterns 0xf0, 0xcc, 0xaa.
constexpr int kTlF = ((0xf0 & 0xcc) | (~0xf0 & 0xaa)) & 0xff;  // b ? c : d
constexpr int kTlG = ((0xf0 & 0xaa) | (0xcc & ~0xaa)) & 0xff;  // d ? b : c
constexpr int kTlH = (0xf0 ^ 0xcc ^ 0xaa) & 0xff;
constexpr int kTlI = (0xcc ^ (0xf0 | ~0xaa)) & 0xff;

STOPGAP_AVX512 void Avx512Blocks(Md5Lanes* s, const unsigned char* const* data, size_t nblocks) {
  __m512i a = _mm512_load_si512(s->a);
  __m512i b = _mm512_load_si512(s->b);
  __m512i c = _mm512_load_si512(s->c);
  __m512i d = _mm512_load_si512(s->d);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    const size_t off = blk * 64;
    __m512i w[16];
    for (int l = 0; l < 16; ++l) w[l] = _mm512_loadu_si512(data[l] + off);
    Transpose16(w);
    const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
#define STEP(FN, a, b, c, d, g, k, sh)                                                     \
  a = _mm512_add_epi32(a, _mm512_add_epi32(w[g], _mm512_set1_epi32(static_cast<int>(k)))); \
  a = _mm512_add_epi32(a, _mm512_ternarylogic_epi32(b, c, d, kTl##FN));                    \
  a = _mm512_rol_epi32(a, sh);                                                             \
  a = _mm512_add_epi32(a, b);
    MD5_64_STEPS(STEP)
#undef STEP
    a = _mm512_add_epi32(a, a0);
    b = _mm512_add_epi32(b, b0);
    c = _mm512_add_epi32(c, c0);
    d = _mm512_add_epi32(d, d0);
  }
  _mm512_store_si512(s->a, a);
  _mm512_store_si512(s->b, b);
  _mm512_store_si512(s->c, c);
  _mm512_store_si512(s->d, d);
}
#endif  // __x86_64__

Md5Isa DetectIsa() {
  Md5Isa best = Md5Isa::kScalar;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) best = Md5Isa::kAvx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    best = Md5Isa::kAvx512;
  }
#endif
  const char* env = std::getenv("STOPGAP_MD5_ISA");
  if (env != nullptr) {
    std::string_view want(env);
    if (want == "scalar") best = Md5Isa::kScalar;
    if (want == "avx2" && best == Md5Isa::kAvx512) best = Md5Isa::kAvx2;
  }
  return best;
}

}  // namespace

Md5Isa Md5BestIsa() {
  static const Md5Isa isa = DetectIsa();
  return isa;
}

bool Md5IsaSupported(Md5Isa isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (isa) {
    case Md5Isa::kScalar:
      return true;
    case Md5Isa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Md5Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return isa == Md5Isa::kScalar;
#endif
}

int Md5LaneCount(Md5Isa isa) {
  switch (isa) {
    case Md5Isa::kScalar:
      return 1;
    case Md5Isa::kAvx2:
      return 8;
    case Md5Isa::kAvx512:
      return 16;
  }
  return 1;
}

const char* Md5IsaName(Md5Isa isa) {
  switch (isa) {
    case Md5Isa::kScalar:
      return "scalar";
    case Md5Isa::kAvx2:
      return "avx2";
    case Md5Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

void Md5InitLane(Md5Lanes* s, int lane) {
  s->a[lane] = kInit[0];
  s->b[lane] = kInit[1];
  s->c[lane] = kInit[2];
  s->d[lane] = kInit[3];
}

void Md5LaneBlocks(Md5Lanes* s, int lane, const unsigned char* data, size_t nblocks) {
  ScalarBlocks(&s->a[lane], &s->b[lane], &s->c[lane], &s->d[lane], data, nblocks);
}

void Md5MbBlocks(Md5Isa isa, Md5Lanes* s, const unsigned char* const* data, size_t nblocks) {
  if (nblocks == 0) return;
  switch (isa) {
#if defined(__x86_64__)
    case Md5Isa::kAvx512:
      Avx512Blocks(s, data, nblocks);
      return;
    case Md5Isa::kAvx2:
      Avx2Blocks(s, data, nblocks);
      return;
#endif
    default:
      Md5LaneBlocks(s, 0, data[0], nblocks);
      return;
  }
}

std::string Md5LaneFinish(Md5Lanes* s, int lane, const unsigned char* tail, size_t tail_len,
                          uint64_t total_len) {
  unsigned char buf[128] = {};
  if (tail_len > 0) std::memcpy(buf, tail, tail_len);
  buf[tail_len] = 0x80;
  const size_t n = tail_len < 56 ? 64 : 128;
  const uint64_t bits = total_len * 8;
  for (int i = 0; i < 8; ++i) buf[n - 8 + i] = static_cast<unsigned char>(bits >> (8 * i));
  Md5LaneBlocks(s, lane, buf, n / 64);
  const uint32_t v[4] = {s->a[lane], s->b[lane], s->c[lane], s->d[lane]};
  std::string out(16, '\0');
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<char>((v[i] >> (8 * j)) & 0xff);
  }
  return out;
}

}  // namespace stopgap::logship::internal

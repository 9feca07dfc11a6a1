// ScanCleanName: the end of the run of bytes allowed unchanged in a sanitised
// StatsD name ([A-Za-z0-9_.;=-]), 16 bytes per step with SSE2 where the
// target has it (every x86-64), byte by byte elsewhere and for the tail.
// Never reads past `end`.
//
// Thread safety: pure.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace stopgap::statsd::internal {

// 1 for a byte allowed in a sanitized name (uint8_t: ANDs without branches).
struct NameByteTable {
  uint8_t allowed[256];
  constexpr NameByteTable() : allowed() {
    for (int c = 'a'; c <= 'z'; ++c) allowed[c] = 1;
    for (int c = 'A'; c <= 'Z'; ++c) allowed[c] = 1;
    for (int c = '0'; c <= '9'; ++c) allowed[c] = 1;
    for (char c : {'_', '-', '.', ';', '='}) allowed[static_cast<uint8_t>(c)] = 1;
  }
};
inline constexpr NameByteTable kNameBytes{};

inline bool NameByteAllowed(char c) { return kNameBytes.allowed[static_cast<uint8_t>(c)] != 0; }

inline const char* ScanCleanName(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i k20 = _mm_set1_epi8(0x20);
  const __m128i ka = _mm_set1_epi8('a' - 1), kz = _mm_set1_epi8('z' + 1);
  const __m128i k0 = _mm_set1_epi8('0' - 1), k9 = _mm_set1_epi8('9' + 1);
  const __m128i kus = _mm_set1_epi8('_'), kdash = _mm_set1_epi8('-'), kdot = _mm_set1_epi8('.');
  const __m128i ksemi = _mm_set1_epi8(';'), keq = _mm_set1_epi8('=');
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Letters: x | 0x20 in 'a'..'z' (signed compares: bytes >= 0x80 fail).
    __m128i low = _mm_or_si128(x, k20);
    __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(low, ka), _mm_cmplt_epi8(low, kz));
    ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(x, k0), _mm_cmplt_epi8(x, k9)));
    __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, kus), _mm_cmpeq_epi8(x, kdash));
    sp = _mm_or_si128(sp, _mm_or_si128(_mm_cmpeq_epi8(x, kdot), _mm_cmpeq_epi8(x, ksemi)));
    ok = _mm_or_si128(ok, _mm_or_si128(sp, _mm_cmpeq_epi8(x, keq)));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(ok));
    if (mask != 0xFFFFu) return p + __builtin_ctz(~mask);
    p += 16;
  }
#endif
  while (p < end && NameByteAllowed(*p)) ++p;
  return p;
}

}  // namespace stopgap::statsd::internal

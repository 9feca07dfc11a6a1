// NameMap<V>: the name interner behind each receive thread's aggregation
// table. Open addressing (linear probing) over 8-byte slots {hash tag, index};
// names are copied once into an arena and values live in a dense vector, so
// lookups of known names never allocate. No erase: Clear() drops everything.
//
// Thread safety: none; one owner thread (or the caller's lock).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace stopgap::statsd::internal {

// The per-process seed of HashName, read from getrandom(2) once at start-up
// (name_map.cc): names that collide in one process do not in the next, so a
// client cannot precompute a set of colliding names offline.
extern const uint64_t kNameHashSeed;

// A fast 64-bit hash for short names: two multiply-xorshift lanes over
// 16-byte blocks, seeded per process. Not cryptographic: collisions cost
// probing time but never correctness.
inline uint64_t HashName(std::string_view s) {
  constexpr uint64_t kM1 = 0x9E3779B97F4A7C15ULL;
  constexpr uint64_t kM2 = 0xBF58476D1CE4E5B9ULL;
  constexpr uint64_t kM3 = 0x94D049BB133111EBULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t a = (n ^ kNameHashSeed) * kM1;
  uint64_t b = n ^ kM3 ^ (kNameHashSeed >> 17 | kNameHashSeed << 47);
  while (n >= 16) {
    uint64_t w1, w2;
    std::memcpy(&w1, p, 8);
    std::memcpy(&w2, p + 8, 8);
    a = (a ^ w1) * kM2;
    a ^= a >> 31;
    b = (b ^ w2) * kM3;
    b ^= b >> 29;
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    a = (a ^ w) * kM2;
    a ^= a >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // The last 1-7 bytes: an 8-byte load ending at the name's end when the
    // name is that long (no byte-wise copy, no store-forwarding stall).
    uint64_t w = 0;
    if (s.size() >= 8) {
      std::memcpy(&w, p + n - 8, 8);
      w >>= (8 - n) * 8;
    } else {
      for (size_t i = 0; i < n; ++i)
        w |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
    }
    b = (b ^ w) * kM3;
    b ^= b >> 29;
  }
  uint64_t h = (a ^ (b * kM1)) * kM2;
  return h ^ (h >> 32);
}

// Append-only storage for name bytes; views stay valid until Clear().
class NameArena {
 public:
  std::string_view Copy(std::string_view s) {
    if (s.size() > kChunk / 4) {
      big_.push_back(std::make_unique_for_overwrite<char[]>(s.size() + 1));
      std::memcpy(big_.back().get(), s.data(), s.size());
      bytes_ += s.size();
      return {big_.back().get(), s.size()};
    }
    if (chunks_.empty() || used_ + s.size() > chunk_) {
      // Chunks grow from kFirstChunk to kChunk: a table of a few names (a
      // forwarded interval, a test) does not allocate 64 KiB per map.
      chunk_ = chunks_.empty() ? kFirstChunk : std::min(chunk_ * 2, kChunk);
      while (chunk_ < s.size()) chunk_ *= 2;
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(chunk_));
      used_ = 0;
    }
    char* dst = chunks_.back().get() + used_;
    std::memcpy(dst, s.data(), s.size());
    used_ += s.size();
    bytes_ += s.size();
    return {dst, s.size()};
  }
  void Clear() {
    chunks_.clear();
    big_.clear();
    used_ = 0;
    chunk_ = 0;
    bytes_ = 0;
  }
  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kFirstChunk = 1024;
  static constexpr size_t kChunk = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunk_ = 0;  // the size of chunks_.back()
  std::vector<std::unique_ptr<char[]>> big_;
  size_t used_ = 0;
  size_t bytes_ = 0;
};

// Equality of two names: 16 bytes per step (the last step overlapping the
// end) for names of 16 bytes or more; memcmp below that.
inline bool NameEquals(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
#if defined(__SSE2__)
  if (n >= 16) {
    const char* x = a.data();
    const char* y = b.data();
    __m128i diff = _mm_setzero_si128();
    for (size_t i = 0; i + 16 < n; i += 16) {
      diff = _mm_or_si128(diff,
                          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i))));
    }
    diff = _mm_or_si128(
        diff, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + n - 16)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(y + n - 16))));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(diff, _mm_setzero_si128())) == 0xFFFF;
  }
#endif
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

template <typename V>
class NameMap {
 public:
  struct Entry {
    std::string_view name;
    V value;
  };

  NameMap() { slots_.resize(kInitialSlots); }

  // The entry for `name`, inserted (value-initialised) when new.
  uint32_t FindOrInsert(std::string_view name, bool* inserted) {
    return FindOrInsert(name, HashName(name), inserted);
  }
  // The same with h = HashName(name) already computed by the caller. With
  // may_insert false a new name is not inserted: kNotFound comes back.
  static constexpr uint32_t kNotFound = UINT32_MAX;
  uint32_t FindOrInsert(std::string_view name, uint64_t h, bool* inserted, bool may_insert = true) {
    const uint32_t tag = Tag(h);
    size_t mask = slots_.size() - 1;
    size_t i = tag & mask;
    while (true) {
      Slot& s = slots_[i];
      if (s.index == kEmpty) break;
      if (s.tag == tag && NameEquals(entries_[s.index].name, name)) {
        *inserted = false;
        return s.index;
      }
      i = (i + 1) & mask;
    }
    if (!may_insert) {
      *inserted = false;
      return kNotFound;
    }
    *inserted = true;
    uint32_t index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{arena_.Copy(name), V{}});
    slots_[i] = Slot{tag, index};
    if (entries_.size() * 2 > slots_.size()) Grow();
    return index;
  }

  Entry& at(uint32_t index) { return entries_[index]; }
  const Entry& at(uint32_t index) const { return entries_[index]; }
  size_t size() const { return entries_.size(); }
  std::vector<Entry>& entries() { return entries_; }

  void Clear() {
    entries_.clear();
    entries_.shrink_to_fit();
    slots_.assign(kInitialSlots, Slot{});
    arena_.Clear();
  }

  // Approximate heap bytes held (slots, entries, names).
  size_t MemoryBytes() const {
    return slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(Entry) + arena_.bytes();
  }

 private:
  static constexpr size_t kInitialSlots = 64;
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // 8-byte slots: the hash's high 32 bits (its home position and a filter
  // before the name compare) and the entry index.
  struct Slot {
    uint32_t tag = 0;
    uint32_t index = kEmpty;
  };
  static uint32_t Tag(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.index == kEmpty) continue;
      size_t i = s.tag & mask;
      while (slots_[i].index != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  NameArena arena_;
};

}  // namespace stopgap::statsd::internal

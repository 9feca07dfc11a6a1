// NameMap<V>: the name interner behind each receive thread's aggregation
// table. Open addressing (linear probing) over 16-byte slots {hash, index};
// names are copied once into an arena and values live in a dense vector, so
// lookups of known names never allocate. No erase: Clear() drops everything.
//
// Thread safety: none; one owner thread (or the caller's lock).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace stopgap::statsd::internal {

// A fast 64-bit hash for short names: two multiply-xorshift lanes over
// 16-byte blocks. Not cryptographic: a hostile client can cause collisions,
// which cost probing time but never correctness.
inline uint64_t HashName(std::string_view s) {
  constexpr uint64_t kM1 = 0x9E3779B97F4A7C15ULL;
  constexpr uint64_t kM2 = 0xBF58476D1CE4E5B9ULL;
  constexpr uint64_t kM3 = 0x94D049BB133111EBULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t a = n * kM1;
  uint64_t b = n ^ kM3;
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
    uint64_t w = 0;
    std::memcpy(&w, p, n);
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
      big_.push_back(std::make_unique<char[]>(s.size() + 1));
      std::memcpy(big_.back().get(), s.data(), s.size());
      bytes_ += s.size();
      return {big_.back().get(), s.size()};
    }
    if (chunks_.empty() || used_ + s.size() > kChunk) {
      chunks_.push_back(std::make_unique<char[]>(kChunk));
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
    bytes_ = 0;
  }
  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<std::unique_ptr<char[]>> big_;
  size_t used_ = 0;
  size_t bytes_ = 0;
};

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
    uint64_t h = HashName(name) | 1;  // 0 marks an empty slot
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (true) {
      Slot& s = slots_[i];
      if (s.hash == 0) break;
      if (s.hash == h && entries_[s.index].name == name) {
        *inserted = false;
        return s.index;
      }
      i = (i + 1) & mask;
    }
    *inserted = true;
    uint32_t index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{arena_.Copy(name), V{}});
    slots_[i] = Slot{h, index};
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
  struct Slot {
    uint64_t hash = 0;
    uint32_t index = 0;
  };

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  NameArena arena_;
};

}  // namespace stopgap::statsd::internal

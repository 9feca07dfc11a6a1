// Little-endian byte writer and bounds-checked reader for the forward frame
// (statsd/forward.h): LEB128 varints, fixed 64-bit integers and doubles,
// length-prefixed strings. A read past the end, or an over-long varint,
// fails the reader for good (ok() == false) and returns zeros.
//
// Thread safety: none (values owned by one codec call).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace stopgap::statsd::internal {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out_->append(b, 8);
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    U64(v);
  }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_->append(s);
  }
  void Raw(std::string_view s) { out_->append(s); }

 private:
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t left() const { return in_.size(); }
  void Fail() { ok_ = false; }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      auto b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  uint8_t U8() {
    if (in_.empty()) {
      ok_ = false;
      return 0;
    }
    auto b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  uint64_t U64() {
    if (in_.size() < 8) {
      ok_ = false;
      in_ = {};
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return v;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64() {
    uint64_t v = U64();
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  // A length-prefixed string of at most max bytes (a view into the input).
  std::string_view Bytes(size_t max) {
    uint64_t n = Varint();
    if (!ok_ || n > max || n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  std::string_view Raw(size_t n) {
    if (n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace stopgap::statsd::internal

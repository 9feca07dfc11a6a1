// JavaScript Number parsing/formatting for reference-compatible StatsD output.
// Pure functions; std::from_chars / std::to_chars do the digit work.
#include "statsd/js_number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace stopgap::statsd {

size_t JsWhitespaceLen(const char* p, const char* end) {
  auto c = static_cast<unsigned char>(*p);
  if (c < 0x80) return (c == ' ' || (c >= 0x09 && c <= 0x0d)) ? 1 : 0;
  size_t left = static_cast<size_t>(end - p);
  auto b1 = left > 1 ? static_cast<unsigned char>(p[1]) : 0;
  auto b2 = left > 2 ? static_cast<unsigned char>(p[2]) : 0;
  if (c == 0xC2 && b1 == 0xA0) return 2;                                // U+00A0
  if (c == 0xE1 && b1 == 0x9A && b2 == 0x80) return 3;                  // U+1680
  if (c == 0xE2 && b1 == 0x80 && (b2 <= 0x8A && b2 >= 0x80)) return 3;  // U+2000..200A
  if (c == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9)) return 3;  // U+2028/2029
  if (c == 0xE2 && b1 == 0x80 && b2 == 0xAF) return 3;                  // U+202F
  if (c == 0xE2 && b1 == 0x81 && b2 == 0x9F) return 3;                  // U+205F
  if (c == 0xE3 && b1 == 0x80 && b2 == 0x80) return 3;                  // U+3000
  if (c == 0xEF && b1 == 0xBB && b2 == 0xBF) return 3;                  // U+FEFF
  return 0;
}

namespace {

// Length of a JS whitespace char ending at `end` (scanning backwards), or 0.
size_t TrailingWhitespaceLen(const char* begin, const char* end) {
  if (end == begin) return 0;
  for (size_t n = 1; n <= 3 && n <= static_cast<size_t>(end - begin); ++n) {
    if (JsWhitespaceLen(end - n, end) == n) return n;
  }
  return 0;
}

double ParseRadix(std::string_view digits, int radix) {
  if (digits.empty()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  for (char ch : digits) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (d >= radix) return std::numeric_limits<double>::quiet_NaN();
    v = v * radix + d;  // exact below 2^53; beyond, rounding may differ from JS in the last bit
  }
  return v;
}

}  // namespace

std::string_view JsTrim(std::string_view s) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  while (b < e) {
    size_t n = JsWhitespaceLen(b, e);
    if (n == 0) break;
    b += n;
  }
  while (e > b) {
    size_t n = TrailingWhitespaceLen(b, e);
    if (n == 0) break;
    e -= n;
  }
  return {b, static_cast<size_t>(e - b)};
}

double JsStringToNumber(std::string_view s) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Fast path: a short run of ASCII digits (the common "1", "250").
  if (!s.empty() && s.size() <= 15) {
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size(); ++i) {
      unsigned d = static_cast<unsigned char>(s[i]) - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (i == s.size()) return static_cast<double>(v);
  }
  s = JsTrim(s);
  if (s.empty()) return 0.0;
  if (s.size() > 2 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') return ParseRadix(s.substr(2), 16);
    if (p == 'o' || p == 'O') return ParseRadix(s.substr(2), 8);
    if (p == 'b' || p == 'B') return ParseRadix(s.substr(2), 2);
  }
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "Infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  // Validate StrUnsignedDecimalLiteral: digits [. digits] [e [sign] digits], >= 1 mantissa digit.
  size_t i = 0;
  size_t mant_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mant_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mant_digits;
  }
  if (mant_digits == 0) return kNaN;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return kNaN;
  }
  if (i != s.size()) return kNaN;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec == std::errc::result_out_of_range || p != s.data() + s.size()) {
    std::string copy(s);
    v = std::strtod(copy.c_str(), nullptr);  // HUGE_VAL or 0 (or a denormal), as JS rounds
  } else if (ec != std::errc()) {
    return kNaN;
  }
  return neg ? -v : v;
}

std::string_view FormatJsNumber(double v, char (&buf)[kJsNumberBufSize]) {
  if (v != v) return "NaN";
  if (v == 0) return "0";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  // Integers below 2^53 print as integers: the common case, done directly.
  if (std::fabs(v) < 9007199254740992.0 && v == static_cast<double>(static_cast<int64_t>(v))) {
    auto [p, ec] = std::to_chars(buf, buf + kJsNumberBufSize, static_cast<int64_t>(v));
    if (std::fabs(v) < 1e21) return {buf, static_cast<size_t>(p - buf)};
  }
  char sci[kJsNumberBufSize];
  auto [se, ec] = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  // sci: [-]d[.ddd]e[+-]XX
  const char* q = sci;
  bool neg = false;
  if (*q == '-') {
    neg = true;
    ++q;
  }
  char digits[24];
  int k = 0;
  while (q < se && *q != 'e') {
    if (*q != '.') digits[k++] = *q;
    ++q;
  }
  int exp10 = 0;
  std::from_chars(q + 1 + (q[1] == '+' ? 1 : 0), se, exp10);
  int n = exp10 + 1;  // value = 0.d1..dk * 10^n
  char* o = buf;
  if (neg) *o++ = '-';
  if (k <= n && n <= 21) {
    std::memcpy(o, digits, static_cast<size_t>(k));
    o += k;
    for (int i = 0; i < n - k; ++i) *o++ = '0';
  } else if (0 < n && n <= 21) {
    std::memcpy(o, digits, static_cast<size_t>(n));
    o += n;
    *o++ = '.';
    std::memcpy(o, digits + n, static_cast<size_t>(k - n));
    o += k - n;
  } else if (-6 < n && n <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -n; ++i) *o++ = '0';
    std::memcpy(o, digits, static_cast<size_t>(k));
    o += k;
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      std::memcpy(o, digits + 1, static_cast<size_t>(k - 1));
      o += k - 1;
    }
    *o++ = 'e';
    int e = n - 1;
    *o++ = e < 0 ? '-' : '+';
    auto [pe, ec2] = std::to_chars(o, buf + kJsNumberBufSize, e < 0 ? -e : e);
    o = pe;
  }
  return {buf, static_cast<size_t>(o - buf)};
}

void AppendJsNumber(double v, std::string* out) {
  char buf[kJsNumberBufSize];
  out->append(FormatJsNumber(v, buf));
}

std::string JsNumberToString(double v) {
  char buf[kJsNumberBufSize];
  return std::string(FormatJsNumber(v, buf));
}

double JsRound(double v) {
  double f = std::floor(v);
  return (v - f >= 0.5) ? f + 1 : f;
}

}  // namespace stopgap::statsd

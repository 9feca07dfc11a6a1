// JavaScript number semantics the reference StatsD (node) applies to its input
// and output: Number(string) parsing, String.prototype.trim's whitespace, and
// Number.prototype.toString formatting ("0.30000000000000004", "1e+21").
//
//   double v = JsStringToNumber(" 0x10 ");   // 16; NaN when JS gives NaN
//   char buf[kJsNumberBufSize]; std::string_view s = FormatJsNumber(0.1 + 0.2, buf);
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stopgap::statsd {

// Byte length of the JavaScript whitespace or line terminator (ASCII or
// UTF-8 encoded, e.g. U+00A0, U+3000, U+FEFF) starting at p, or 0.
size_t JsWhitespaceLen(const char* p, const char* end);

// String.prototype.trim on UTF-8 bytes.
std::string_view JsTrim(std::string_view s);

// Number(s): trims JS whitespace; "" -> 0; decimal with optional sign, fraction
// and exponent; "Infinity"; 0x/0o/0b integers (no sign). NaN otherwise.
double JsStringToNumber(std::string_view s);

// The reference's isNumber(str): non-empty and Number(str) is not NaN.
inline bool JsIsNumber(std::string_view s, double* value) {
  if (s.empty()) return false;
  double v = JsStringToNumber(s);
  if (v != v) return false;
  *value = v;
  return true;
}

// Number.prototype.toString(): shortest round-trip digits, fixed notation for
// 1e-7 <= |v| < 1e21, else exponent form; "NaN", "Infinity", "-0" -> "0".
inline constexpr size_t kJsNumberBufSize = 32;
std::string_view FormatJsNumber(double v, char (&buf)[kJsNumberBufSize]);
void AppendJsNumber(double v, std::string* out);
std::string JsNumberToString(double v);

// Math.round: rounds half up (toward +Infinity), exactly as JS does.
double JsRound(double v);

}  // namespace stopgap::statsd

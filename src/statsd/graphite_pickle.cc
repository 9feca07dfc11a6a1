// GraphitePickle: text lines -> the reference's pickle bytes (see the header).
#include "statsd/graphite_pickle.h"

#include <cstdint>

namespace stopgap::statsd {
namespace {

// UTF-16 code units of UTF-8 text, as node's String.length counts them after
// decoding (an invalid byte decodes to U+FFFD: one unit).
size_t Utf16Length(std::string_view s) {
  size_t units = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      ++units;
      ++i;
      continue;
    }
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return units;
}

// The longest prefix of s of at most n bytes that does not split a character
// (node's Buffer.write never writes part of a character).
size_t WholeCharPrefix(std::string_view s, size_t n) {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

std::string GraphitePickle(std::string_view text) {
  std::string body = "(l";
  body.reserve(text.size() + text.size() / 2 + 16);
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    // Value and timestamp never hold a space; the name may (keyNameSanitize off).
    size_t s2 = line.rfind(' ');
    if (s2 == std::string_view::npos || s2 == 0) continue;
    size_t s1 = line.rfind(' ', s2 - 1);
    if (s1 == std::string_view::npos) continue;
    std::string_view name = line.substr(0, s1);
    std::string_view value = line.substr(s1 + 1, s2 - s1 - 1);
    std::string_view ts = line.substr(s2 + 1);
    body += "(S'";
    body += name;
    body += "'\n(L";
    body += ts;
    body += "L\nS'";
    body += value;
    body += "'\ntta";
  }
  body += '.';
  const size_t units = Utf16Length(body);
  std::string out(4 + units, '\0');
  out[0] = static_cast<char>((units >> 24) & 0xFF);
  out[1] = static_cast<char>((units >> 16) & 0xFF);
  out[2] = static_cast<char>((units >> 8) & 0xFF);
  out[3] = static_cast<char>(units & 0xFF);
  size_t n = WholeCharPrefix(body, units);
  body.copy(out.data() + 4, n);
  return out;
}

}  // namespace stopgap::statsd

// Small string helpers shared across libraries (one piece of code per idea).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace stopgap {

// `s` without leading and trailing spaces, tabs, CRs and LFs.
std::string_view TrimWhitespace(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` that does not end inside a
// UTF-8 sequence: cutting outside input for a message never makes it invalid
// UTF-8 (a JSON writer would refuse it).
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// `s` with every byte that is not part of a well-formed UTF-8 sequence
// replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

}  // namespace stopgap

// GraphitePickle: a flush's Graphite plaintext payload ("name value ts\n"
// lines) as the reference graphite backend's pickle payload, byte for byte:
// a 4-byte big-endian length, then the protocol-0 pickle
//   (l (S'name'\n(L<ts>L\nS'<value>'\ntta ... .
// The reference measures the length in UTF-16 code units and writes UTF-8
// into a buffer of that size; names with non-ASCII characters (only possible
// with keyNameSanitize off) are cut the same way, so carbon sees the same bytes.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace stopgap::statsd {

std::string GraphitePickle(std::string_view text_payload);

}  // namespace stopgap::statsd

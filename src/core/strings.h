// Small string helpers shared across libraries (one piece of code per idea).
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace stopgap {

// `s` without leading and trailing spaces, tabs, CRs and LFs.
std::string_view TrimWhitespace(std::string_view s);

}  // namespace stopgap

// libFuzzer target: dateext name parsing. Input = "<dateformat>\n<live>\n<file name>".
// Checks invariants: a parsed rotation rebuilds the input name exactly.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logship/dateext.h"

using namespace stopgap::logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  size_t b = a == std::string_view::npos ? a : in.find('\n', a + 1);
  if (b == std::string_view::npos) return 0;
  auto fmt = DateFormat::Parse(in.substr(0, a));
  if (!fmt.ok()) return 0;
  std::string_view live = in.substr(a + 1, b - a - 1);
  std::string_view name = in.substr(b + 1);
  if (auto r = ParseRotation(*fmt, name, live)) {
    if (r->live_name + r->date_text + r->compression != name) std::abort();
    (void)r->time.Day();
  }
  if (auto r = ParseRotationAnyBase(*fmt, name)) {
    if (r->live_name + r->date_text + r->compression != name) std::abort();
    if (r->live_name.empty()) std::abort();
  }
  if (auto n = ParseNumbered(name, live)) {
    if (n->number < 1) std::abort();
  }
  (void)CompressionSuffix(name);
  return 0;
}

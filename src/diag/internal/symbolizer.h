// Symbolizer: program counter -> "function+0xoff (module)" through libdw's
// Dwfl, with a cache (threads of one process share most frames). Used by the
// stack collector (a Dwfl over another process) and by libstopgap_guru (over
// its own process); it depends on nothing but libdw, so both can link it.
//
// Thread safety: not thread-safe; one owner.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

struct Dwfl;

namespace stopgap::diag::internal {

class Symbolizer {
 public:
  // `dwfl` must outlive the Symbolizer and have its modules reported.
  explicit Symbolizer(Dwfl* dwfl) : dwfl_(dwfl) {}
  // `pc` is a return address unless `is_activation` (the innermost frame or
  // a signal frame): the lookup then uses pc-1 to land inside the call.
  const std::string& Describe(uint64_t pc, bool is_activation);

 private:
  Dwfl* dwfl_;
  std::unordered_map<uint64_t, std::string> cache_;
};

// Demangles a C++ symbol name; returns it unchanged when it isn't one.
std::string Demangle(const char* name);

}  // namespace stopgap::diag::internal

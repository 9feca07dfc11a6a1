// Symbolizer over libdw; see symbolizer.h.
#include "diag/internal/symbolizer.h"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace stopgap::diag::internal {

std::string Demangle(const char* name) {
  if (name == nullptr) return "??";
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (d == nullptr || status != 0) return name;
  std::string out(d);
  std::free(d);
  return out;
}

const std::string& Symbolizer::Describe(uint64_t pc, bool is_activation) {
  uint64_t key = pc ^ (is_activation ? 1ull << 63 : 0);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Dwarf_Addr lookup = is_activation || pc == 0 ? pc : pc - 1;
  std::string text;
  Dwfl_Module* mod = dwfl_addrmodule(dwfl_, lookup);
  const char* modname = nullptr;
  if (mod != nullptr) {
    modname = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    GElf_Off off = 0;
    GElf_Sym sym;
    const char* name = dwfl_module_addrinfo(mod, lookup, &off, &sym, nullptr, nullptr, nullptr);
    if (name != nullptr) {
      char buf[32];
      // Offsets are reported from the return address, as gdb and eu-stack do.
      std::snprintf(buf, sizeof buf, "+0x%llx",
                    static_cast<unsigned long long>(off + (lookup == pc ? 0 : 1)));
      text = Demangle(name) + buf;
    }
  }
  if (text.empty()) text = "??";
  if (modname != nullptr) {
    const char* slash = std::strrchr(modname, '/');
    text += std::string(" (") + (slash != nullptr ? slash + 1 : modname) + ")";
  }
  return cache_.emplace(key, std::move(text)).first->second;
}

}  // namespace stopgap::diag::internal

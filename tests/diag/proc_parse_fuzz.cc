// libFuzzer target for the diagnostics /proc parsers and the secret masking:
// every parser gets the same bytes; none may crash, hang or read out of
// bounds. Built by fuzz/diag.cmake (clang, STOPGAP_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "diag/internal/proc_parse.h"
#include "diag/internal/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stopgap::diag::internal;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseTaskStat(text);
  for (auto& [k, v] : ParseKeyValueLines(text)) (void)ParseLeadingU64(v);
  (void)ParseKeyValueLines(text, ' ');
  (void)SplitNul(text);
  (void)ParseMounts(text);
  size_t bad = 0;
  for (const SocketEntry& e : ParseSocketTable(text, &bad)) (void)TcpStateName(e.state);
  (void)ParseMaps(text);
  static const Redactor redactor = *Redactor::Create({"*custom*"});
  (void)redactor.MaskArgv(SplitNul(text));
  (void)redactor.MaskEnvEntry(text);
  (void)Redactor::MaskUrlPasswords(text);
  return 0;
}

// The placeholder diagnostics seam: collect/guru recorded as unsupported.
#include "remedy/diagnostics.h"

namespace stopgap::remedy {
namespace {
DiagnosticsOutcome Unsupported(const char* what) {
  DiagnosticsOutcome o;
  o.supported = false;
  o.error = std::string(what) + ": not yet supported in this build";
  return o;
}
}  // namespace

DiagnosticsOutcome UnsupportedDiagnostics::Collect(const CollectStep&, Duration,
                                                   const std::string&) {
  return Unsupported("collect");
}

DiagnosticsOutcome UnsupportedDiagnostics::Guru(const GuruStep&, Duration, const std::string&) {
  return Unsupported("guru");
}

}  // namespace stopgap::remedy

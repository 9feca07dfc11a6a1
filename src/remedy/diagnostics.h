// The seam between the engine and the diagnostics library (src/diag): the
// `collect:` and `guru:` steps of a workaround go through this one interface.
// MakeDiagnosticsCollector (diag_collector.h) is the implementation every
// entry point uses; tests inject fakes.
//
// Thread safety: implementations must allow concurrent calls (the daemon runs
// several executions at once), each writing into its own bundle directory.
#pragma once

#include <string>
#include <vector>

#include "core/time.h"
#include "diag/diag.h"
#include "remedy/catalog.h"

namespace stopgap::remedy {

struct DiagnosticsOutcome {
  bool ok = false;
  bool timed_out = false;
  bool truncated = false;
  std::string error;
  std::vector<std::string> files;  // relative to the bundle directory
  Duration duration{0};
  // One per collector (the "guru" one for a guru: step): what each wrote,
  // skipped and took; recorded in the bundle manifest under the step.
  std::vector<diag::CollectorOutcome> collectors;
};

class DiagnosticsCollector {
 public:
  virtual ~DiagnosticsCollector() = default;
  // `bundle_dir` exists; write only inside it; stay within `timeout`.
  virtual DiagnosticsOutcome Collect(const CollectStep& step, Duration timeout,
                                     const std::string& bundle_dir) = 0;
  virtual DiagnosticsOutcome Guru(const GuruStep& step, Duration timeout,
                                  const std::string& bundle_dir) = 0;
};

}  // namespace stopgap::remedy

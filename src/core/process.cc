// PosixProcessRunner: placeholder until the runner lands.
#include "core/process.h"

namespace stopgap {

std::string ProcessResult::Describe() const {
  if (term_signal != 0) {
    return "signal " + std::to_string(term_signal) + (timed_out ? " (timed out)" : "");
  }
  return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "");
}

Result<std::string> ResolveProgram(std::string_view name, std::string_view path) {
  return Internal("not implemented");
}

Result<ProcessResult> PosixProcessRunner::Run(const ProcessSpec& spec) {
  return Internal("not implemented");
}

}  // namespace stopgap

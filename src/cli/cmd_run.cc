// `stopgap run`: placeholder until its issue lands; exits 1 with a message.
#include <cstdio>

#include "cli/command.h"

namespace stopgap::cli {

CommandMain SetupRun(CLI::App& sub) {
  return [] {
    std::fprintf(stderr, "stopgap run: not built yet\n");
    return kExitFailed;
  };
}

}  // namespace stopgap::cli

// `stopgap check`: placeholder until its issue lands; exits 1 with a message.
#include <cstdio>

#include "cli/command.h"

namespace stopgap::cli {

CommandMain SetupCheck(CLI::App& sub) {
  return [] {
    std::fprintf(stderr, "stopgap check: not built yet\n");
    return kExitFailed;
  };
}

}  // namespace stopgap::cli

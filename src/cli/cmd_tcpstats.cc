// `stopgap tcpstats`: placeholder until its issue lands; exits 1 with a message.
#include <cstdio>

#include "cli/command.h"

namespace stopgap::cli {

CommandMain SetupTcpstats(CLI::App& sub) {
  return [] {
    std::fprintf(stderr, "stopgap tcpstats: not built yet\n");
    return kExitFailed;
  };
}

}  // namespace stopgap::cli

// The subcommand contract for the `stopgap` binary.
//
// Each subcommand lives in its own cmd_<name>.cc and exposes one Setup
// function. Setup declares the subcommand's flags on `sub` (CLI11) and
// returns the function main() calls once the command line has parsed; that
// function returns the process exit code:
//   0 success, 1 the job failed, 2 bad usage or bad input.
// main.cc holds the table of subcommands (redis-style: declarative).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace stopgap::cli {

using CommandMain = std::function<int()>;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

CommandMain SetupServe(CLI::App& sub);
CommandMain SetupCheck(CLI::App& sub);
CommandMain SetupRun(CLI::App& sub);
CommandMain SetupReport(CLI::App& sub);
CommandMain SetupReset(CLI::App& sub);
CommandMain SetupLedger(CLI::App& sub);
CommandMain SetupDiag(CLI::App& sub);
CommandMain SetupStatsd(CLI::App& sub);
CommandMain SetupStatsdProxy(CLI::App& sub);  // `statsd proxy`, set up by SetupStatsd
CommandMain SetupTcpstats(CLI::App& sub);
CommandMain SetupLogship(CLI::App& sub);
CommandMain SetupInit(CLI::App& sub);
CommandMain SetupCompletion(CLI::App& sub);
CommandMain SetupMan(CLI::App& sub);

}  // namespace stopgap::cli

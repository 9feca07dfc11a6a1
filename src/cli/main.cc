// stopgap: accountable automated remediation, plus its StatsD server,
// TCP-counters collector and log archiver. This file only dispatches to the
// subcommands listed in kCommands; each lives in cmd_<name>.cc.
#include <csignal>
#include <cstdio>
#include <vector>

#include "cli/command.h"

#ifndef STOPGAP_VERSION
#define STOPGAP_VERSION "0.0.0"
#endif

namespace stopgap::cli {
namespace {

struct CommandEntry {
  const char* name;
  const char* description;
  CommandMain (*setup)(CLI::App&);
};

constexpr CommandEntry kCommands[] = {
    {"serve", "Run the daemon: alert intake, remediation engine, ledger, API, UI, /metrics",
     SetupServe},
    {"check", "Validate a catalog; exit 2 on any violation", SetupCheck},
    {"run", "Run one workaround by hand (--dry-run shows the plan)", SetupRun},
    {"report", "Per-issue run counts, TTLs and the undiagnosed ranking", SetupReport},
    {"ledger", "Export, import or migrate a ledger (SQLite <-> PostgreSQL), history included",
     SetupLedger},
    {"reset", "Reset the tripped storm breaker (through the running daemon's API)", SetupReset},
    {"diag", "Collect a diagnostics bundle now", SetupDiag},
    {"statsd", "The StatsD server (reference-compatible, Graphite output)", SetupStatsd},
    {"tcpstats", "Send the kernel's TCP counters to StatsD", SetupTcpstats},
    {"logship", "Ship logrotate dateext rotations to S3 or Swift; find and fetch them",
     SetupLogship},
    {"init", "First run: write a starter catalog, an API token and a logrotate snippet", SetupInit},
    {"completion", "Print shell completion: bash, zsh or fish", SetupCompletion},
    {"man", "Write the man pages into DIR (the build runs it)", SetupMan},
};

}  // namespace
}  // namespace stopgap::cli

int main(int argc, char** argv) {
  using namespace stopgap::cli;
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"stopgap: accountable automated remediation for operations teams"};
  app.set_version_flag("--version", std::string("stopgap ") + STOPGAP_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  std::vector<std::pair<CLI::App*, CommandMain>> mains;
  for (const CommandEntry& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    mains.emplace_back(sub, c.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; any real parse error is bad usage.
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [sub, fn] : mains) {
    if (sub->parsed()) return fn ? fn() : kExitFailed;
  }
  std::fprintf(stderr, "stopgap: no subcommand given (see --help)\n");
  return kExitUsage;
}

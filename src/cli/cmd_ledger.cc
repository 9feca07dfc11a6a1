// `stopgap ledger export|import|migrate`: moving a ledger between SQLite and
// PostgreSQL (remedy/ledger_transfer.h; format in docs/ledger-schema.md).
//   export  --ledger URL [--out FILE|-]     JSON lines; FILE written 0600, whole or not at all
//   import  --ledger URL [--in FILE|-]      into an empty ledger, one transaction
//   migrate --from URL --to URL             export piped into import, verified
// URL: sqlite:PATH, sqlite://PATH, a PATH, or postgresql://...
//
// Threading: single-threaded.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "core/time.h"
#include "remedy/ledger_transfer.h"

namespace stopgap::cli {
namespace {

struct LedgerOpts {
  std::string ledger;
  std::string out = "-";
  std::string in = "-";
  std::string from;
  std::string to;
};

int Fail(const char* what, const Status& st) {
  std::fprintf(stderr, "stopgap ledger %s: %s\n", what, st.ToString().c_str());
  return st.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

void PrintCounts(const remedy::TransferCounts& c) {
  for (const auto& [table, n] : c.rows) {
    std::printf("  %-20s %10lld\n", table.c_str(), static_cast<long long>(n));
  }
  for (const auto& [table, n] : c.dropped) {
    std::printf("  %-20s %10lld  not carried: the target's backend has no use for them\n",
                table.c_str(), static_cast<long long>(n));
  }
  for (const auto& [table, n] : c.derived) {
    std::printf("  %-20s %10lld  made by the target from the rows above\n", table.c_str(),
                static_cast<long long>(n));
  }
}

int ExportMain(const LedgerOpts& o) {
  Result<remedy::LedgerConfig> source = remedy::ParseLedgerArg(o.ledger);
  if (!source.ok()) return Fail("export", source.status());
  FILE* out = stdout;
  const std::string tmp = o.out + ".tmp";
  if (o.out != "-") {
    // The file appears under its name only once complete (rename), 0600:
    // the ledger holds alert labels and command lines.
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(out = ::fdopen(fd, "w"))) {
      if (fd >= 0) ::close(fd);
      return Fail("export", ErrnoStatus("open " + tmp, errno));
    }
  }
  Result<remedy::TransferCounts> counts =
      remedy::ExportLedger(*source, SystemClock::Instance(), [&](std::string_view line) -> Status {
        if (std::fwrite(line.data(), 1, line.size(), out) != line.size() ||
            std::fputc('\n', out) == EOF) {
          return ErrnoStatus("write " + (o.out == "-" ? std::string("stdout") : tmp), errno);
        }
        return Status::Ok();
      });
  Status st = counts.ok() ? Status::Ok() : counts.status();
  if (o.out == "-") {
    if (std::fflush(stdout) != 0 && st.ok()) st = ErrnoStatus("write stdout", errno);
    return st.ok() ? kExitOk : Fail("export", st);
  }
  if (st.ok() && (std::fflush(out) != 0 || ::fsync(::fileno(out)) != 0)) {
    st = ErrnoStatus("write " + tmp, errno);
  }
  if (std::fclose(out) != 0 && st.ok()) st = ErrnoStatus("close " + tmp, errno);
  if (st.ok() && ::rename(tmp.c_str(), o.out.c_str()) != 0) {
    st = ErrnoStatus("rename " + tmp, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return Fail("export", st);
  }
  std::fprintf(stderr, "stopgap ledger export: wrote %s\n", o.out.c_str());
  return kExitOk;
}

int ImportMain(const LedgerOpts& o) {
  Result<remedy::LedgerConfig> target = remedy::ParseLedgerArg(o.ledger);
  if (!target.ok()) return Fail("import", target.status());
  std::ifstream file;
  if (o.in != "-") {
    file.open(o.in, std::ios::binary);
    if (!file) return Fail("import", ErrnoStatus("open " + o.in, errno));
  }
  std::istream& in = o.in == "-" ? std::cin : file;
  Result<std::unique_ptr<remedy::LedgerImport>> imp =
      remedy::LedgerImport::Begin(*target, SystemClock::Instance());
  if (!imp.ok()) return Fail("import", imp.status());
  std::string line;
  while (std::getline(in, line)) {
    if (Status st = (*imp)->Line(line); !st.ok()) return Fail("import", st);
  }
  if (in.bad()) return Fail("import", ErrnoStatus("read " + o.in, errno));
  Result<remedy::TransferCounts> counts = (*imp)->Finish();
  if (!counts.ok()) return Fail("import", counts.status());
  std::printf("stopgap ledger import: into %s\n", o.ledger.c_str());
  PrintCounts(*counts);
  return kExitOk;
}

int MigrateMain(const LedgerOpts& o) {
  Result<remedy::LedgerConfig> from = remedy::ParseLedgerArg(o.from);
  if (!from.ok()) return Fail("migrate", from.status());
  Result<remedy::LedgerConfig> to = remedy::ParseLedgerArg(o.to);
  if (!to.ok()) return Fail("migrate", to.status());
  Result<remedy::TransferCounts> counts =
      remedy::MigrateLedger(*from, *to, SystemClock::Instance());
  if (!counts.ok()) return Fail("migrate", counts.status());
  std::printf("stopgap ledger migrate: rows copied per table\n");
  PrintCounts(*counts);
  std::printf(
      "verified: every table's row count, and what report and the API read (counts by issue and "
      "workaround, executions, alerts, cost inputs, approvals, the breaker) are the same\n");
  return kExitOk;
}

}  // namespace

CommandMain SetupLedger(CLI::App& sub) {
  auto o = std::make_shared<LedgerOpts>();
  sub.require_subcommand(1);
  CLI::App* exp = sub.add_subcommand("export", "Write a ledger's every table as JSON lines");
  exp->add_option("--ledger", o->ledger, "sqlite:PATH, PATH or postgresql://...")->required();
  exp->add_option("--out", o->out, "Output file (written 0600 once complete), - for stdout");
  CLI::App* imp = sub.add_subcommand(
      "import", "Load an export into an empty ledger, all or nothing (ids and times kept)");
  imp->add_option("--ledger", o->ledger, "sqlite:PATH, PATH or postgresql://...")->required();
  imp->add_option("--in", o->in, "Input file, - for stdin");
  CLI::App* mig = sub.add_subcommand(
      "migrate", "Copy a ledger into an empty one (e.g. SQLite to PostgreSQL) and verify it");
  mig->add_option("--from", o->from, "sqlite:PATH, PATH or postgresql://...")->required();
  mig->add_option("--to", o->to, "postgresql://... (or sqlite:PATH)")->required();
  return [o, exp, imp] {
    if (exp->parsed()) return ExportMain(*o);
    if (imp->parsed()) return ImportMain(*o);
    return MigrateMain(*o);
  };
}

}  // namespace stopgap::cli

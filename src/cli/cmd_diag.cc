// `stopgap diag`: run the diagnostics collectors now and write a bundle (a
// directory under --out, or a .tar.zst when --out ends so). Prints where, and
// one line per collector. Exit 0 when the bundle was written (a collector's
// failure is in its manifest), 1 when it could not be, 2 on bad usage.
// Single-threaded here; the collectors run on threads of stopgap_diag.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "core/file.h"
#include "core/time.h"
#include "diag/bundle.h"
#include "diag/diag.h"

namespace stopgap::cli {
namespace {

struct DiagFlags {
  std::string collect;
  int pid = 0;
  std::string pidfile;
  bool stacks = false;
  std::string timeout = "5s";
  std::string size_cap_mb = "64";
  std::string out;
  std::vector<std::string> redact;
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int Usage(const std::string& msg) {
  std::fprintf(stderr, "stopgap diag: %s\n", msg.c_str());
  return kExitUsage;
}

int RunDiag(const DiagFlags& f) {
  diag::CollectRequest req;
  auto timeout = ParseDuration(f.timeout);
  if (!timeout.ok()) return Usage("--timeout: " + timeout.status().message());
  req.timeout = *timeout;
  try {
    req.size_cap = static_cast<size_t>(std::stoull(f.size_cap_mb)) << 20;
  } catch (const std::exception&) {
    return Usage("--size-cap-mb: not a number: " + f.size_cap_mb);
  }
  if (f.pid != 0) req.pid = f.pid;
  req.pidfile = f.pidfile;
  req.stacks = f.stacks;
  req.redact_patterns = f.redact;
  req.collectors = SplitComma(f.collect);
  if (req.collectors.empty()) {
    req.collectors = {"system", "tcp"};
    if (req.pid || !req.pidfile.empty()) req.collectors.push_back("process");
  }
  if (f.out.empty()) return Usage("--out is required (a directory, or FILE.tar.zst)");
  Status valid = diag::ValidateCollectRequest(req);
  if (!valid.ok()) return Usage(valid.message());

  const Clock& clock = SystemClock::Instance();
  bool packed = EndsWith(f.out, ".tar.zst");
  std::string bundle_dir, staging;
  if (packed) {
    std::string name = std::filesystem::path(f.out).filename().string();
    name = name.substr(0, name.size() - 8);
    if (name.empty()) return Usage("--out " + f.out + ": needs a file name before .tar.zst");
    // A mkdtemp directory: not guessable, so nobody can plant it first.
    Result<std::string> tmp = MakeTempDir(DirName(f.out) + "/.stopgap-diag-");
    if (!tmp.ok()) {
      std::fprintf(stderr, "stopgap diag: staging next to %s: %s\n", f.out.c_str(),
                   tmp.status().message().c_str());
      return kExitFailed;
    }
    staging = *tmp;
    bundle_dir = staging + "/" + name;
  } else {
    Status st = MakeDirs(f.out, 0700);
    if (!st.ok()) return Usage("--out " + f.out + ": " + st.message());
    bundle_dir = f.out + "/" + diag::NewBundleDirName(clock);
  }
  auto cleanup = [&] {
    std::error_code ec;
    if (!staging.empty()) std::filesystem::remove_all(staging, ec);
  };
  auto manifest = diag::BundleManifest::Create(bundle_dir, clock, {{"command", "stopgap diag"}});
  if (!manifest.ok()) {
    std::fprintf(stderr, "stopgap diag: %s\n", manifest.status().message().c_str());
    cleanup();
    return kExitFailed;
  }
  std::vector<diag::CollectorOutcome> outcomes = diag::RunCollectors(req, bundle_dir, clock);
  Status st;
  for (const auto& o : outcomes) {
    if (st.ok()) st = (*manifest)->Add(o);
  }
  if (st.ok()) st = (*manifest)->Finish();
  if (st.ok() && packed) st = diag::PackBundle(bundle_dir, f.out);
  cleanup();
  if (!st.ok()) {
    std::fprintf(stderr, "stopgap diag: writing the bundle: %s\n", st.message().c_str());
    return kExitFailed;
  }
  std::printf("bundle: %s\n", packed ? f.out.c_str() : bundle_dir.c_str());
  for (const auto& o : outcomes) {
    std::string state = o.ok ? (o.truncated ? "ok (truncated at the size cap)" : "ok")
                             : (o.timed_out ? "TIMED OUT" : "FAILED");
    std::string extra;
    for (const auto& [k, v] : o.metrics) extra += " " + k + "=" + std::to_string(v);
    std::printf("  %-8s %-6s %5lld ms %8.1f KiB %2zu files%s%s%s\n", o.name.c_str(), state.c_str(),
                static_cast<long long>(o.duration.count()), static_cast<double>(o.bytes) / 1024.0,
                o.files.size(), extra.c_str(), o.error.empty() ? "" : ": ", o.error.c_str());
    for (const std::string& skipped : o.skipped) std::printf("    skipped %s\n", skipped.c_str());
  }
  return kExitOk;
}

}  // namespace

CommandMain SetupDiag(CLI::App& sub) {
  auto f = std::make_shared<DiagFlags>();
  sub.add_option("--collect", f->collect,
                 "Collectors, comma-separated: system,tcp,process "
                 "(default system,tcp, plus process with --pid/--pidfile)");
  auto* pid = sub.add_option("--pid", f->pid, "Target process for the process collector");
  sub.add_option("--pidfile", f->pidfile, "File holding the target's pid")->excludes(pid);
  sub.add_flag("--stacks", f->stacks, "Also capture the user-space stack of every thread");
  sub.add_option("--timeout", f->timeout, "Time budget per collector (e.g. 5s, 500ms)")
      ->capture_default_str();
  sub.add_option("--size-cap-mb", f->size_cap_mb, "Size cap per collector, MiB")
      ->capture_default_str();
  sub.add_option("--redact", f->redact,
                 "Extra secret-name pattern (glob, or re:REGEX); repeatable");
  sub.add_option("--out", f->out, "Bundle parent directory, or FILE.tar.zst")->required();
  return [f] { return RunDiag(*f); };
}

}  // namespace stopgap::cli

// `stopgap init [DIR] [--state-dir D] [--only token|catalog|logrotate]`: the
// first run. Writes into DIR (default: the current directory) a starter
// catalog that passes `check`, an API token (0600) and a logrotate snippet
// for `stopgap logship sweep`, never replacing a file that exists, then says
// what to edit next. The Debian package's postinst runs `--only token` for
// /etc/stopgap/token.
//
// Threading: single-threaded.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/generated/logrotate_snippet.h"
#include "core/file.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "server/token_auth.h"

namespace stopgap::cli {
namespace {

struct InitFlags {
  std::string dir = ".";
  std::string state_dir;  // default: dir
  std::string only;       // "", token, catalog, logrotate
};

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[4096];
  if (::getcwd(buf, sizeof buf) == nullptr) return path;
  std::string cwd(buf);
  return path == "." ? cwd : cwd + "/" + path;
}

// The starter catalog: one undiagnosed workaround that only echoes, expiring
// within policy.max_ttl_undiagnosed from today.
std::string StarterCatalog(const std::string& dir, const std::string& state, CivilDay today) {
  std::string expires = FormatCivilDay(CivilDayFromDays(DaysSinceEpoch(today) + 29));
  return "# stopgap catalog written by `stopgap init`. Every key: stopgap.yaml(5).\n"
         "# Edit the workaround below (or add yours), then:\n"
         "#   stopgap check -c " +
         dir + "/stopgap.yaml\n" + "server: {listen: \"127.0.0.1:9470\", token_file: \"" + dir +
         "/token\"}\n" + "ledger: \"sqlite://" + state + "/ledger.db\"\n" + "bundles: \"" + state +
         "/bundles\"\n" +
         "policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}\n"
         "# statsd: 127.0.0.1:8125\n"
         "# tracker: {kind: redmine, url: \"https://redmine.example.org\", token_file: ...}\n"
         "\n"
         "workarounds:\n"
         "  - id: example-service-restart\n"
         "    issue: acme/infra#1             # the tracker issue this bandaid belongs to\n"
         "    cause: in-house                 # in-house | vendor | hardware\n"
         "    diagnosed: false\n"
         "    expires: " +
         expires +
         "            # undiagnosed: within policy.max_ttl_undiagnosed\n"
         "    match: {alertname: ExampleServiceDown}\n"
         "    labels:\n"
         "      service: {values: [example]}\n"
         "    diagnostics:\n"
         "      - collect: [system]\n"
         "    action:                         # replace with e.g. [systemctl, restart, ...]\n"
         "      - run: [echo, would restart, \"{{labels.service}}\"]\n";
}

// Writes `data` to a new file; an existing one is left alone (false).
Result<bool> WriteNew(const std::string& path, const std::string& data, mode_t mode) {
  auto fd = CreateNewFile(path, mode);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kAlreadyExists) return false;
    return fd.status();
  }
  Status s = WriteAll(*fd, data, path);
  if (s.ok() && ::fsync(*fd) != 0) s = ErrnoStatus("fsync " + path, errno);
  ::close(*fd);
  if (!s.ok()) return s;
  return true;
}

int Init(const InitFlags& f) {
  if (!f.only.empty() && f.only != "token" && f.only != "catalog" && f.only != "logrotate") {
    std::fprintf(stderr, "stopgap init: --only: expected token|catalog|logrotate\n");
    return kExitUsage;
  }
  const bool all = f.only.empty();
  std::string dir = Absolute(f.dir);
  std::string state = f.state_dir.empty() ? dir : Absolute(f.state_dir);
  if (Status s = MakeDirs(dir, 0755); !s.ok()) {
    std::fprintf(stderr, "stopgap init: %s\n", s.message().c_str());
    return kExitFailed;
  }
  auto report = [](const std::string& path, bool written, const char* what) {
    std::printf("%s %s (%s)\n", written ? "wrote" : "kept ", path.c_str(), what);
  };
  std::string catalog_path = dir + "/stopgap.yaml";
  if (all || f.only == "catalog") {
    CivilDay today = CivilDayOf(SystemClock::Instance().Now());
    std::string text = StarterCatalog(dir, state, today);
    // Never leave a catalog that fails `check`: load it before writing.
    std::vector<remedy::Violation> violations;
    std::string probe = dir + "/.stopgap-init-check.yaml";
    if (Status s = WriteFileAtomic(probe, text, 0644); !s.ok()) {
      std::fprintf(stderr, "stopgap init: %s\n", s.message().c_str());
      return kExitFailed;
    }
    auto loaded = remedy::LoadCatalog(probe, today, &violations);
    ::unlink(probe.c_str());
    if (!loaded.ok()) {
      for (const auto& v : violations) std::fprintf(stderr, "%s\n", v.ToString().c_str());
      std::fprintf(stderr, "stopgap init: the starter catalog fails check (a bug): %s\n",
                   loaded.status().message().c_str());
      return kExitFailed;
    }
    auto w = WriteNew(catalog_path, text, 0644);
    if (!w.ok()) {
      std::fprintf(stderr, "stopgap init: %s\n", w.status().message().c_str());
      return kExitFailed;
    }
    report(catalog_path, *w, "the catalog");
  }
  std::string token_path = dir + "/token";
  if (all || f.only == "token") {
    bool created = false;
    auto t = server::BearerToken::Load(token_path, /*create=*/true, &created);
    if (!t.ok()) {
      std::fprintf(stderr, "stopgap init: %s\n", t.status().message().c_str());
      return kExitFailed;
    }
    report(token_path, created, "the API token, mode 0600");
  }
  std::string logrotate_path = dir + "/logrotate-stopgap-logship";
  if (all || f.only == "logrotate") {
    auto w = WriteNew(logrotate_path, kLogrotateSnippet, 0644);
    if (!w.ok()) {
      std::fprintf(stderr, "stopgap init: %s\n", w.status().message().c_str());
      return kExitFailed;
    }
    report(logrotate_path, *w, "a logrotate snippet");
  }
  if (all) {
    std::printf(
        "\nNext:\n"
        "  1. Edit %s: the example workaround's issue, match and action, or your own\n"
        "     workarounds (every key: man stopgap.yaml).\n"
        "  2. stopgap check -c %s\n"
        "  3. stopgap serve -c %s   (alerts: POST http://127.0.0.1:9470/api/v1/alerts with\n"
        "     'Authorization: Bearer' and the token in %s)\n"
        "  4. To archive logs: set the log path and store URL in %s,\n"
        "     then copy it to /etc/logrotate.d/.\n",
        catalog_path.c_str(), catalog_path.c_str(), catalog_path.c_str(), token_path.c_str(),
        logrotate_path.c_str());
  }
  return kExitOk;
}

}  // namespace

CommandMain SetupInit(CLI::App& sub) {
  auto f = std::make_shared<InitFlags>();
  sub.add_option("dir", f->dir, "Directory to write into (created if missing)")
      ->capture_default_str();
  sub.add_option("--state-dir", f->state_dir,
                 "Where the catalog puts the ledger and bundles (default: DIR)");
  sub.add_option("--only", f->only, "Write only this: token|catalog|logrotate");
  return [f] { return Init(*f); };
}

}  // namespace stopgap::cli

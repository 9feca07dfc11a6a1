// `stopgap serve`: runs the daemon (src/server/daemon.h) until SIGTERM/SIGINT
// (graceful stop: running steps get --grace to finish, the rest is marked
// interrupted, exit 0) and reloads the catalog on SIGHUP (a bad catalog is
// refused and the old one stays in force). Under systemd (Type=notify) the
// daemon reports READY/RELOADING/STOPPING and answers the watchdog.
//
// Threading: the signals are blocked in every thread before the daemon
// starts any; this thread waits for them with sigwait().
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/log.h"
#include "core/time.h"
#include "server/daemon.h"

namespace stopgap::cli {

namespace {

struct ServeFlags {
  std::string catalog = "/etc/stopgap/stopgap.yaml";
  std::string listen;
  int workers = 4;
  size_t queue = 1024;
  int http_threads = 2;
  int http_handler_threads = 4;
  std::string grace = "30s";
  std::string log_level = "info";
  std::string log_format = "auto";
  std::string ack = "fsync";
};

int Serve(const ServeFlags& f) {
  LogLevel level;
  if (!ParseLogLevel(f.log_level, &level)) {
    std::fprintf(stderr, "stopgap serve: --log-level: expected debug|info|warn|error\n");
    return kExitUsage;
  }
  SetLogLevel(level);
  LogFormat format;
  if (!ParseLogFormat(f.log_format, &format)) {
    std::fprintf(stderr, "stopgap serve: --log-format: expected auto|journal|json|text\n");
    return kExitUsage;
  }
  SetLogFormat(format);
  auto grace = ParseDuration(f.grace);
  if (!grace.ok()) {
    std::fprintf(stderr, "stopgap serve: --grace: %s\n", grace.status().message().c_str());
    return kExitUsage;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (f.ack != "fsync" && f.ack != "commit") {
    std::fprintf(stderr, "stopgap serve: --ack: expected fsync|commit\n");
    return kExitUsage;
  }
  server::DaemonOptions o;
  o.ack_fsync = f.ack == "fsync";
  o.catalog_path = f.catalog;
  o.listen = f.listen;
  o.workers = f.workers;
  o.queue_capacity = f.queue;
  o.http_threads = f.http_threads;
  o.http_handler_threads = f.http_handler_threads;
  o.notify_service_manager = true;
  auto daemon = server::StopgapDaemon::Create(o);
  if (!daemon.ok()) {
    std::fprintf(stderr, "stopgap serve: %s\n", daemon.status().message().c_str());
    StatusCode code = daemon.status().code();
    return code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ? kExitUsage
                                                                                 : kExitFailed;
  }
  server::StopgapDaemon& d = **daemon;
  if (d.token_created()) {
    Log(LogLevel::kInfo, "generated a new API token (mode 0600)", {{"path", d.token_path()}});
  }
  if (Status s = d.Start(); !s.ok()) {
    std::fprintf(stderr, "stopgap serve: %s\n", s.message().c_str());
    return kExitFailed;
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)d.Reload();  // logged either way
      continue;
    }
    Log(LogLevel::kInfo, "stopping",
        {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"grace", FormatDuration(*grace)}});
    server::ShutdownReport r = d.Shutdown(*grace);
    if (!r.clean()) {
      // Steps still running past the grace period were marked interrupted
      // and stopped, but one did not go away (a process stuck in the
      // kernel): don't wait for its worker, exit now.
      std::fflush(nullptr);
      _exit(kExitOk);
    }
    return kExitOk;
  }
}

}  // namespace

CommandMain SetupServe(CLI::App& sub) {
  auto f = std::make_shared<ServeFlags>();
  sub.add_option("-c,--catalog", f->catalog, "Workaround catalog (YAML)")->capture_default_str();
  sub.add_option("--listen", f->listen, "Override server.listen (host:port; port 0 = any)");
  sub.add_option("--workers", f->workers, "Executions run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub.add_option("--queue", f->queue, "Work queue size; a full queue answers 503 + Retry-After")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  sub.add_option("--http-threads", f->http_threads,
                 "HTTP io threads (event-driven: each serves many connections; handlers run on a "
                 "separate bounded pool)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sub.add_option("--http-handler-threads", f->http_handler_threads,
                 "HTTP handler threads (API work; alert acks wait for their fsync without one)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub.add_option("--grace", f->grace, "On SIGTERM, how long running steps may finish")
      ->capture_default_str();
  sub.add_option("--ack", f->ack,
                 "fsync: acknowledge alerts after a (shared) fsync of the ledger; commit: after "
                 "the ledger commit only (survives a crash of stopgap, not of the machine)")
      ->capture_default_str();
  sub.add_option("--log-level", f->log_level, "debug|info|warn|error")->capture_default_str();
  sub.add_option("--log-format", f->log_format,
                 "auto|journal|json|text (auto: journal when systemd's JOURNAL_STREAM is stderr, "
                 "text on a TTY, else json)")
      ->capture_default_str();
  return [f] { return Serve(*f); };
}

}  // namespace stopgap::cli

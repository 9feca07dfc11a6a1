// StopgapDaemon: `stopgap serve` as a library object, so tests run it
// in-process on port 0. It owns the catalog (reloadable), the ledger, the
// engine, the bounded worker pool, the HTTP API and the housekeeping tick
// (ledger retention). Signals are the caller's business (cmd_serve.cc):
// SIGHUP -> Reload(), SIGTERM/SIGINT -> Shutdown(grace).
//
//   auto d = StopgapDaemon::Create({.catalog_path = "stopgap.yaml"});
//   if (!d.ok()) return d.status();
//   STOPGAP_RETURN_IF_ERROR((*d)->Start());
//   ... (*d)->port() ...
//   ShutdownReport r = (*d)->Shutdown(std::chrono::seconds(30));
//
// Thread safety: Start/Reload/Shutdown from one controlling thread; the HTTP
// handlers and workers run on their own threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::server {

struct DaemonOptions {
  std::string catalog_path;
  std::string listen;  // overrides server.listen when set ("127.0.0.1:0" in tests)
  int workers = 4;     // executions run at once (engine limits apply on top)
  size_t queue_capacity = 1024;
  int http_threads = 2;  // io threads of the event-driven server (net/http_server.h)
  // Its handler pool. Handlers do not wait for fsyncs (GroupSync answers for
  // them), so a few threads keep both cores busy; more only contend on the
  // ledger's lock.
  int http_handler_threads = 4;
  size_t max_body_bytes = 4 << 20;
  Duration prune_interval = std::chrono::hours(1);
  bool create_token = true;  // generate server.token_file (0600) when absent
  int retry_after_seconds = 5;
  // Before answering 202/503, wait for an fsync of the SQLite WAL that began
  // after this request's writes (shared by concurrent requests: group
  // commit), so an acknowledged alert survives a power loss. false: the
  // ledger's own commit (survives a crash of stopgap, not of the machine).
  bool ack_fsync = true;
  const Clock* clock = nullptr;  // null: SystemClock
  // Tell systemd (NOTIFY_SOCKET) READY=1 once listening with the ledger open,
  // RELOADING=1/READY=1 around Reload(), STOPPING=1 at Shutdown(), and, when
  // WATCHDOG_USEC is set, ping WATCHDOG=1 only after a request to our own
  // /healthz came back through the listener and the handler pool. `stopgap
  // serve` sets it; in-process tests leave it off.
  bool notify_service_manager = false;
  // GET /api/v1/events: open streams at most (more get 503), and the
  // interval of its ": ping" comment lines.
  size_t max_event_subscribers = 32;
  Duration event_heartbeat = std::chrono::seconds(15);
};

struct ShutdownReport {
  int64_t never_started = 0;  // queued executions marked interrupted
  int64_t still_running = 0;  // still running when the grace period ended (marked interrupted)
  bool stopped = true;  // those were then stopped (process groups gone) and their workers joined
  bool clean() const { return still_running == 0 || stopped; }
};

class StopgapDaemon {
 public:
  static Result<std::unique_ptr<StopgapDaemon>> Create(DaemonOptions options);
  ~StopgapDaemon();

  // Binds and serves; starts the workers and the housekeeping tick.
  Status Start();
  int port() const;
  // The URL the daemon answers on ("http://127.0.0.1:9470").
  std::string url() const;
  const std::string& token_path() const;
  bool token_created() const;

  // Re-reads the catalog (and the token file). A catalog that fails to load
  // is refused: the old one stays in force and the error is returned (and logged).
  Status Reload();

  // Stops accepting, lets running executions finish up to `grace`, marks the
  // rest interrupted. Idempotent.
  ShutdownReport Shutdown(Duration grace);

  struct Impl;

 private:
  explicit StopgapDaemon(std::unique_ptr<Impl> impl);
  Status ReloadCatalog();
  std::unique_ptr<Impl> impl_;
};

}  // namespace stopgap::server

// StopgapDaemon's state, shared by daemon.cc (lifecycle) and http_api.cc
// (routes). Internal: include only from src/server.
//
// Thread safety: members set in Create() are immutable afterwards except the
// access policy (token_mu) and the catalog (held by the engine, swapped atomically).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "app/assembly.h"
#include "core/process.h"
#include "net/http_server.h"
#include "remedy/catalog.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"
#include "server/access.h"
#include "server/catalog_holder.h"
#include "server/daemon.h"
#include "server/engine_metrics.h"
#include "server/event_bus.h"
#include "server/execution_events.h"
#include "server/group_sync.h"
#include "server/intake.h"
#include "server/metrics.h"
#include "server/stats_emitter.h"
#include "server/work_queue.h"

namespace stopgap::server {

struct StopgapDaemon::Impl {
  DaemonOptions options;
  const Clock* clock = nullptr;
  std::string listen;
  std::string token_path;
  bool token_created = false;

  std::mutex token_mu;
  std::shared_ptr<const AccessPolicy> access;  // tokens, scopes, allowed hosts

  std::unique_ptr<CatalogHolder> catalog;
  std::unique_ptr<remedy::ExecutionLedger> ledger;
  MetricsRegistry metrics;
  std::unique_ptr<StatsEmitter> statsd;
  std::unique_ptr<EngineMetrics> engine_metrics;      // observes the engine: outlives it
  std::unique_ptr<EventBus> events;                   // GET /api/v1/events subscribers
  std::unique_ptr<ExecutionEvents> execution_events;  // observes the engine: outlives it
  // The engine with its runner, diagnostics, tracker and archive queue
  // (app/assembly.h); destroyed before the ledger, after the queue's workers.
  std::unique_ptr<app::Remediation> remediation;
  remedy::RemediationEngine* engine = nullptr;  // remediation->engine
  std::unique_ptr<ExecutionQueue> queue;
  std::unique_ptr<AlertIntake> intake;
  std::unique_ptr<net::HttpServer> http;
  // Null: no fsync before acknowledging. Declared after http: destroyed
  // first, it completes (posts) what it still holds while the server's
  // io_context exists.
  std::unique_ptr<GroupSync> ack_sync;

  std::atomic<bool> stopping{false};
  bool started = false;
  bool shut_down = false;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  std::thread housekeeping;
  std::thread watchdog;   // only under systemd with WatchdogSec= (WatchdogProbe)
  std::thread approvals;  // ApprovalTimer: expires approvals past their deadline, starts reruns
  // Interrupted executions this node will not rerun (their workaround left
  // the catalog or no longer says rerun): logged once. ApprovalTimer only.
  std::set<remedy::ExecutionId> rerun_skipped;

  std::shared_ptr<const AccessPolicy> Access() {
    std::lock_guard<std::mutex> l(token_mu);
    return access;
  }
  void RunExecution(remedy::ExecutionId id);
  void Housekeeping();
  void WatchdogProbe(Duration interval);
  void ApprovalTimer();
  void RerunInterrupted();
  Status PruneNow();
  void RegisterRoutes();
  void RefreshGauges();
  // `event: alert` for each of these alerts (when anyone listens).
  void PublishAlerts(const std::vector<remedy::AlertId>& ids);
};

}  // namespace stopgap::server

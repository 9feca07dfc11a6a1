// StopgapDaemon lifecycle: create (catalog, token, ledger, engine, queue,
// intake, HTTP), start, reload, shutdown, and the housekeeping tick that
// applies policy.retain to the ledger and policy.retain_bundles to bundles.
//
// Threading: Start/Reload/Shutdown on the controlling thread; RunExecution on
// the queue's workers; Housekeeping and ApprovalTimer on their own threads,
// woken by tick_cv; under
// systemd's watchdog, WatchdogProbe on its own thread, woken by tick_cv too.
#include "server/daemon.h"

#include <pthread.h>

#include "core/log.h"
#include "diag/bundle.h"
#include "net/http_client.h"
#include "server/cluster_status.h"
#include "server/internal/daemon_impl.h"
#include "server/service_manager.h"

namespace stopgap::server {

namespace {
constexpr const char* kPruned = "stopgap_ledger_pruned_total";
constexpr const char* kReloads = "stopgap_catalog_reloads_total";
constexpr const char* kReruns = "stopgap_reruns_total";
// How long Shutdown waits for steps it stopped after the grace period: the
// default kill_grace (5 s, SIGTERM -> SIGKILL) and a margin.
constexpr Duration kStopWait = std::chrono::seconds(10);
// How long Shutdown lets queued bundles reach the archive store.
constexpr Duration kArchiveDrain = std::chrono::seconds(10);

Result<std::shared_ptr<const remedy::Catalog>> LoadCatalogLogged(const std::string& path,
                                                                 const Clock& clock) {
  std::vector<remedy::Violation> violations;
  auto c = remedy::LoadCatalog(path, CivilDayOf(clock.Now()), &violations);
  for (const auto& v : violations) {
    Log(v.severity == remedy::Severity::kError ? LogLevel::kError : LogLevel::kWarn,
        "catalog violation", {{"violation", v.ToString()}});
  }
  if (!c.ok()) return c.status();
  return std::shared_ptr<const remedy::Catalog>(std::make_shared<remedy::Catalog>(std::move(*c)));
}
}  // namespace

StopgapDaemon::StopgapDaemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StopgapDaemon::~StopgapDaemon() {
  if (impl_) (void)Shutdown(Duration{0});
}

Result<std::unique_ptr<StopgapDaemon>> StopgapDaemon::Create(DaemonOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : &SystemClock::Instance();
  impl->options = std::move(options);
  Impl& d = *impl;
  auto catalog = LoadCatalogLogged(d.options.catalog_path, *d.clock);
  if (!catalog.ok()) return catalog.status();
  const remedy::Catalog& c = **catalog;
  d.catalog = std::make_unique<CatalogHolder>(*catalog);
  d.listen = d.options.listen.empty() ? c.server.listen : d.options.listen;
  d.token_path = c.server.token_file;
  std::vector<std::string> created;
  auto access = AccessPolicy::Load(c.server, d.listen, d.options.create_token, &created);
  if (!access.ok()) return access.status();
  d.token_created = !created.empty();
  d.access = std::make_shared<const AccessPolicy>(std::move(*access));

  auto ledger = remedy::OpenLedger(c.ledger, *d.clock);
  if (!ledger.ok()) return ledger.status().WithContext("ledger " + c.ledger.url);
  d.ledger = std::move(*ledger);

  auto statsd = MakeStatsEmitter(c.statsd);
  if (!statsd.ok()) return statsd.status().WithContext("statsd");
  d.statsd = std::move(*statsd);

  AlertIntake::DescribeMetrics(d.metrics);
  EngineMetrics::DescribeMetrics(d.metrics);
  d.metrics.Describe("stopgap_queue_depth", MetricType::kGauge, "Executions waiting for a worker.");
  d.metrics.Describe("stopgap_queue_capacity", MetricType::kGauge, "Size of the work queue.");
  d.metrics.Describe("stopgap_executions_running", MetricType::kGauge,
                     "Executions being run by a worker.");
  d.metrics.Describe("stopgap_workarounds", MetricType::kGauge,
                     "Workarounds in the catalog by state (active, expiring, expired, retired).");
  d.metrics.Describe("stopgap_statsd_dropped_total", MetricType::kCounter,
                     "StatsD metrics dropped by the emitter (queue full, send errors).");
  d.metrics.Describe("stopgap_alerts_truncated_total", MetricType::kCounter,
                     "Alerts Alertmanager left out of notifications (truncatedAlerts).");
  d.metrics.Describe("stopgap_http_unauthorized_total", MetricType::kCounter,
                     "Requests refused with 401.");
  d.metrics.Describe(kPruned, MetricType::kCounter,
                     "Ledger rows (policy.retain) and bundles (policy.retain_bundles) removed.");
  d.metrics.Describe(kReloads, MetricType::kCounter, "Catalog reloads by result (ok, refused).");
  d.metrics.Describe(kReruns, MetricType::kCounter,
                     "Interrupted executions (resume: rerun) this node took up, by result: "
                     "started, refused (an admission check said no), lost (another node's "
                     "rerun claim came first).");
  if (remedy::AsClusterLedger(*d.ledger)) DescribeClusterMetrics(d.metrics);

  d.metrics.Describe("stopgap_bundles_archived_total", MetricType::kCounter,
                     "Diagnostics bundles shipped to the archive store, by result (ok, failed, "
                     "dropped); failed after every retry, dropped when the queue was full.");
  d.metrics.Describe("stopgap_bundles_archive_retries_total", MetricType::kCounter,
                     "Bundle uploads retried after a failure.");
  d.metrics.Describe("stopgap_bundles_archive_queue_depth", MetricType::kGauge,
                     "Bundles waiting to be shipped to the archive store.");

  d.engine_metrics = std::make_unique<EngineMetrics>(d.metrics, *d.statsd);
  app::AssemblyOptions assembly;
  assembly.clock = d.clock;
  assembly.queue_when_busy = true;
  assembly.start_tracker = true;
  auto remediation = app::AssembleRemediation(*catalog, *d.ledger, std::move(assembly));
  if (!remediation.ok()) return remediation.status();
  d.remediation = std::move(*remediation);
  d.engine = d.remediation->engine.get();
  d.engine->AddObserver(d.engine_metrics.get());
  d.events = std::make_unique<EventBus>(EventBusOptions{
      .max_subscribers = d.options.max_event_subscribers, .heartbeat = d.options.event_heartbeat});
  d.execution_events = std::make_unique<ExecutionEvents>(*d.ledger, *d.events);
  d.engine->AddObserver(d.execution_events.get());
  Impl* self = impl.get();
  d.queue = std::make_unique<ExecutionQueue>(d.options.workers, d.options.queue_capacity,
                                             [self](QueuedId id) { self->RunExecution(id); });
  d.intake = std::make_unique<AlertIntake>(*d.catalog, *d.ledger, *d.engine, *d.queue, d.metrics,
                                           *d.clock);
  if (d.options.ack_fsync) {
    remedy::ExecutionStore* ledger = d.ledger.get();
    d.ack_sync = std::make_unique<GroupSync>([ledger] { return ledger->Sync(); });
    // Every intake path syncs through ack_sync (http_api.cc), which commits.
    d.ledger->EnableGroupCommit();
  }

  net::HttpServerOptions http;
  http.listen = d.listen;
  http.tls_cert_file = c.server.tls_cert;
  http.tls_key_file = c.server.tls_key;
  http.threads = d.options.http_threads;
  http.handler_threads = d.options.http_handler_threads;
  http.max_body_bytes = d.options.max_body_bytes;
  d.http = std::make_unique<net::HttpServer>(http);
  d.RegisterRoutes();
  return std::unique_ptr<StopgapDaemon>(new StopgapDaemon(std::move(impl)));
}

void StopgapDaemon::Impl::RunExecution(remedy::ExecutionId id) {
  remedy::ExecutionOutcome o = engine->Run(id);
  if (o.waiting) {
    Log(LogLevel::kInfo, "execution waiting for a slot",
        {{"execution", std::to_string(id)}, {"detail", o.detail}});
    return;
  }
  if (!o.error.ok()) {
    Log(LogLevel::kError, "execution error",
        {{"execution", std::to_string(id)}, {"error", o.error.ToString()}});
  }
  Log(LogLevel::kInfo, "execution finished",
      {{"execution", std::to_string(id)},
       {"state", std::string(remedy::ExecutionStateName(o.state))},
       {"detail", o.detail}});
}

Status StopgapDaemon::Impl::PruneNow() {
  auto c = catalog->Get();
  WallTime before = clock->Now() - c->policy.retain;
  // Several nodes on one ledger: one prunes (the "retention" singleton, held
  // across prune intervals and taken over when its node is gone).
  auto held = ledger->HoldSingleton("retention", clock->Now(),
                                    2 * options.prune_interval + std::chrono::minutes(1));
  if (!held.ok()) return held.status();
  if (*held) {
    auto r = ledger->Prune(before);
    if (!r.ok()) return r.status();
    metrics.Add(kPruned, {{"table", "executions"}}, static_cast<double>(r->executions));
    metrics.Add(kPruned, {{"table", "alerts"}}, static_cast<double>(r->alerts));
    if (r->executions || r->alerts) {
      Log(LogLevel::kInfo, "ledger pruned",
          {{"executions", std::to_string(r->executions)},
           {"alerts", std::to_string(r->alerts)},
           {"before", FormatRfc3339(before)}});
    }
  }
  // Diagnostics bundles have their own retention (policy.retain_bundles).
  auto removed = diag::PruneBundles(c->bundles, c->policy.retain_bundles, *clock);
  if (!removed.ok()) {
    if (removed.status().code() == StatusCode::kNotFound) return Status::Ok();  // none yet
    return removed.status().WithContext("bundles " + c->bundles);
  }
  metrics.Add(kPruned, {{"table", "bundles"}}, static_cast<double>(removed->size()));
  if (!removed->empty()) {
    Log(LogLevel::kInfo, "bundles pruned",
        {{"bundles", std::to_string(removed->size())}, {"root", c->bundles}});
  }
  return Status::Ok();
}

void StopgapDaemon::Impl::Housekeeping() {
  std::unique_lock<std::mutex> l(tick_mu);
  while (!stopping) {
    l.unlock();
    if (Status s = PruneNow(); !s.ok()) {
      Log(LogLevel::kError, "ledger prune failed", {{"error", s.ToString()}});
    }
    l.lock();
    tick_cv.wait_for(l, options.prune_interval, [&] { return stopping.load(); });
  }
}

// resume: rerun. Interrupted executions whose workaround said rerun run once
// more, on this node or another: the ledger's unique rerun_of decides which,
// so of two nodes that find the same one, one starts it and the other loses
// the claim. Runs every second (ApprovalTimer), and so right after a start
// that marked this process's dead predecessor's executions interrupted.
void StopgapDaemon::Impl::RerunInterrupted() {
  remedy::RerunLedger* reruns = remedy::AsRerunLedger(*ledger);
  if (!reruns || !engine->StorageFault().ok()) return;
  auto list = reruns->ListRerunCandidates(100);
  if (!list.ok()) {
    Log(LogLevel::kWarn, "cannot list executions to rerun", {{"error", list.status().ToString()}});
    return;
  }
  for (const remedy::ExecutionRecord& e : *list) {
    if (stopping || rerun_skipped.contains(e.id)) continue;
    std::optional<ExecutionQueue::Slot> slot = queue->Reserve();
    if (!slot) return;  // the queue is full: the next round tries again
    auto a = engine->BeginRerun(e);
    if (!a.ok()) {
      if (a.status().code() == StatusCode::kAlreadyExists) {
        metrics.Add(kReruns, {{"result", "lost"}});
        continue;
      }
      if (a.status().code() == StatusCode::kFailedPrecondition) rerun_skipped.insert(e.id);
      Log(LogLevel::kWarn, "interrupted execution not rerun",
          {{"execution", std::to_string(e.id)}, {"error", a.status().ToString()}});
      continue;
    }
    if (a->refusal) {
      metrics.Add(kReruns, {{"result", "refused"}});
      continue;  // Begin logged it
    }
    metrics.Add(kReruns, {{"result", "started"}});
    Log(LogLevel::kWarn, "rerunning an interrupted execution (resume: rerun)",
        {{"execution", std::to_string(a->id)},
         {"rerun_of", std::to_string(e.id)},
         {"workaround", e.workaround_id}});
    queue->Commit(std::move(*slot), a->id);
  }
}

// Approvals past their deadline end approval-expired. The deadlines live in
// the ledger, so one written before a restart expires on time after it.
// Interrupted executions with resume: rerun are taken up on the same tick.
void StopgapDaemon::Impl::ApprovalTimer() {
  ::pthread_setname_np(::pthread_self(), "sg-approvals");
  std::unique_lock<std::mutex> l(tick_mu);
  while (!stopping) {
    l.unlock();
    RerunInterrupted();
    Result<int> n = engine->ExpireApprovals();
    if (!n.ok()) {
      Log(LogLevel::kError, "cannot expire approvals", {{"error", n.status().ToString()}});
    } else if (*n > 0) {
      Log(LogLevel::kWarn, "approvals expired", {{"executions", std::to_string(*n)}});
    }
    l.lock();
    tick_cv.wait_for(l, std::chrono::seconds(1), [&] { return stopping.load(); });
  }
}

// systemd's watchdog must hear that intake works, not that a timer fires: each
// round sends GET /healthz to our own listener (accept, an io thread, the
// handler pool, the response) and pings only when 200 came back in time. A
// wedged listener or handler pool stops the pings and systemd restarts us.
void StopgapDaemon::Impl::WatchdogProbe(Duration interval) {
  ::pthread_setname_np(::pthread_self(), "sg-watchdog");
  Duration round = std::max(Duration{1}, interval / 3);
  net::HttpClientOptions o;
  o.connect_timeout = round;
  o.timeout = round;
  o.max_attempts = 1;
  o.verify_tls = false;  // our own certificate, on loopback; nothing secret is sent
  net::HttpClient client(o);
  auto hp = net::SplitHostPort(listen);
  std::string host = hp.ok() ? hp->first : "127.0.0.1";
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string probe = std::string(http->tls() ? "https" : "http") + "://" + host + ":" +
                      std::to_string(http->port()) + "/healthz";
  bool failing = false;
  std::unique_lock<std::mutex> l(tick_mu);
  while (!stopping) {
    l.unlock();
    auto r = client.Get(probe);
    bool ok = r.ok() && r->status == 200;
    if (ok) NotifyServiceManager("WATCHDOG=1");
    if (ok == failing) {
      failing = !ok;
      if (failing) {
        Log(LogLevel::kError, "watchdog probe failed: not pinging systemd",
            {{"url", probe},
             {"error", r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()}});
      } else {
        Log(LogLevel::kInfo, "watchdog probe answered again", {{"url", probe}});
      }
    }
    l.lock();
    tick_cv.wait_for(l, round, [&] { return stopping.load(); });
  }
}

Status StopgapDaemon::Start() {
  Impl& d = *impl_;
  if (d.started) return FailedPrecondition("daemon already started");
  STOPGAP_RETURN_IF_ERROR(d.http->Start());
  d.started = true;
  d.events->Start();
  if (d.remediation->tracker) d.remediation->tracker->Start();
  d.housekeeping = std::thread([&d] { d.Housekeeping(); });
  d.approvals = std::thread([&d] { d.ApprovalTimer(); });
  Log(LogLevel::kInfo, "stopgap serve listening",
      {{"url", url()},
       {"catalog", d.options.catalog_path},
       {"workers", std::to_string(d.options.workers)},
       {"queue", std::to_string(d.options.queue_capacity)}});
  if (d.options.notify_service_manager) {
    // Create() opened the ledger; the listener is bound: ready.
    NotifyServiceManager("READY=1\nSTATUS=listening on " + url());
    if (Duration wd = ServiceWatchdogInterval(); wd > Duration{0}) {
      d.watchdog = std::thread([&d, wd] { d.WatchdogProbe(wd); });
    }
  }
  return Status::Ok();
}

int StopgapDaemon::port() const { return impl_->http->port(); }

std::string StopgapDaemon::url() const {
  auto hp = net::SplitHostPort(impl_->listen);
  std::string host = hp.ok() ? hp->first : "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->http->tls() ? "https" : "http") + "://" + host + ":" +
         std::to_string(port());
}

const std::string& StopgapDaemon::token_path() const { return impl_->token_path; }
bool StopgapDaemon::token_created() const { return impl_->token_created; }

Status StopgapDaemon::Reload() {
  Impl& d = *impl_;
  if (!d.options.notify_service_manager) return ReloadCatalog();
  NotifyReloading();
  Status s = ReloadCatalog();
  NotifyServiceManager(s.ok() ? "READY=1\nSTATUS=catalog reloaded"
                              : "READY=1\nSTATUS=catalog reload refused; the old one is in force");
  return s;
}

Status StopgapDaemon::ReloadCatalog() {
  Impl& d = *impl_;
  auto catalog = LoadCatalogLogged(d.options.catalog_path, *d.clock);
  if (!catalog.ok()) {
    d.metrics.Add(kReloads, {{"result", "refused"}});
    Log(LogLevel::kError, "catalog reload refused; the old catalog stays in force",
        {{"catalog", d.options.catalog_path}, {"error", catalog.status().message()}});
    return catalog.status();
  }
  auto old = d.catalog->Get();
  const remedy::Catalog& c = **catalog;
  if (c.server.token_file != old->server.token_file) {
    Log(LogLevel::kWarn, "server.token_file changed; re-reading the token from the new path");
  }
  auto access = AccessPolicy::Load(c.server, d.listen, d.options.create_token);
  if (!access.ok()) {
    d.metrics.Add(kReloads, {{"result", "refused"}});
    Log(LogLevel::kError, "catalog reload refused: token file unreadable",
        {{"error", access.status().message()}});
    return access.status();
  }
  if (c.server.listen != old->server.listen || c.ledger.url != old->ledger.url ||
      c.server.tls_cert != old->server.tls_cert || c.server.tls_key != old->server.tls_key ||
      c.statsd != old->statsd) {
    Log(LogLevel::kWarn,
        "server.listen, tls, ledger and statsd changes take effect at the next restart");
  }
  {
    std::lock_guard<std::mutex> l(d.token_mu);
    d.access = std::make_shared<const AccessPolicy>(std::move(*access));
    d.token_path = c.server.token_file;
  }
  d.engine->SetCatalog(*catalog);
  d.catalog->Set(*catalog);
  if (d.remediation->tracker) d.remediation->tracker->SetCatalog(*catalog);
  d.metrics.Add(kReloads, {{"result", "ok"}});
  Log(LogLevel::kInfo, "catalog reloaded",
      {{"catalog", d.options.catalog_path}, {"workarounds", std::to_string(c.workarounds.size())}});
  return Status::Ok();
}

ShutdownReport StopgapDaemon::Shutdown(Duration grace) {
  Impl& d = *impl_;
  ShutdownReport report;
  if (d.shut_down) return report;
  d.shut_down = true;
  if (d.options.notify_service_manager) NotifyServiceManager("STOPPING=1");
  d.stopping = true;
  d.events->Close();  // event streams end now: Stop() need not wait for them
  d.http->Stop();     // no new requests; in-flight ones have finished
  // Executions waiting for a concurrency slot never start now.
  std::vector<remedy::ExecutionId> waiting = d.engine->TakeWaiting();
  auto left = d.queue->Shutdown(grace);
  if (d.remediation->tracker) d.remediation->tracker->Stop();  // no more calls into the engine
  WallTime now = d.clock->Now();
  auto mark = [&](remedy::ExecutionId id, const char* detail) {
    remedy::ExecutionUpdate u;
    u.state = remedy::ExecutionState::kInterrupted;
    u.detail = detail;
    u.at = now;
    Status s = d.ledger->Update(id, u);
    // Already terminal: its worker recorded the end itself (a stopped step
    // ends its execution as interrupted).
    if (!s.ok() && s.code() != StatusCode::kFailedPrecondition) {
      Log(LogLevel::kError, "cannot mark execution interrupted",
          {{"execution", std::to_string(id)}, {"error", s.ToString()}});
    }
  };
  for (auto id : left.never_started) mark(id, "daemon stopped before the execution started");
  // Executions that waited for a concurrency slot have not started either
  // (again: some may have begun waiting while the workers finished).
  for (auto id : d.engine->TakeWaiting()) waiting.push_back(id);
  for (auto id : waiting) mark(id, "daemon stopped while the execution waited for a slot");
  report.never_started = static_cast<int64_t>(left.never_started.size() + waiting.size());
  report.still_running = static_cast<int64_t>(left.still_running.size());
  if (!left.still_running.empty()) {
    // Nothing may keep acting after stopgap has gone: stop the steps still
    // running (SIGTERM to each process group, SIGKILL after the step's
    // kill_grace; no new step starts) and wait for their workers, which
    // record those executions as interrupted. Whatever is still not
    // terminal after that is marked here.
    d.remediation->runner.StopAll();
    report.stopped = d.queue->Join(kStopWait);
  }
  for (auto id : left.still_running) mark(id, "daemon stopped during the execution (grace over)");
  // Bundles of the executions that just ended still go to the archive store,
  // for a bounded time; whatever is left stays local (and is logged).
  d.remediation->Stop(kArchiveDrain);
  { std::lock_guard<std::mutex> l(d.tick_mu); }
  d.tick_cv.notify_all();
  if (d.housekeeping.joinable()) d.housekeeping.join();
  if (d.approvals.joinable()) d.approvals.join();
  if (d.watchdog.joinable()) d.watchdog.join();
  Log(LogLevel::kInfo, "stopgap serve stopped",
      {{"interrupted_queued", std::to_string(report.never_started)},
       {"interrupted_running", std::to_string(report.still_running)}});
  return report;
}

}  // namespace stopgap::server

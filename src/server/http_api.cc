// The HTTP API of stopgap serve (table in docs/serve.md): alert intake,
// workarounds, executions, issues, run-by-hand, /healthz, /metrics, the UI.
// Every route but /healthz goes through AccessPolicy::Check (server/access.h):
// the Host allow-list, the Origin, then the token and its scope.
//
// Threading: handlers run on the HTTP server's handler pool (not the io
// threads: intake waits for the ledger, whose lock a worker may hold through
// an fsync); the intake routes answer from the GroupSync thread once their
// writes are durable. The access check runs once, before the body is read
// (the pre-body check); handlers reuse its verdict.
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "remedy/cost.h"
#include "remedy/matcher.h"
#include "server/alert_intake.h"
#include "server/api_json.h"
#include "server/cluster_status.h"
#include "server/internal/daemon_impl.h"
#include "server/web_routes.h"

namespace stopgap::server {

using net::HttpServerRequest;
using net::HttpServerResponse;
using nlohmann::json;

namespace {

HttpServerResponse Json(int status, const json& body) {
  return {status, "application/json", body.dump() + "\n", {}};
}

HttpServerResponse Error(int status, std::string_view message) {
  return {status, "application/json", ErrorBody(message), {}};
}

// Parses a positive integer query parameter; `fallback` when absent.
Result<int64_t> IntParam(const HttpServerRequest& r, const char* name, int64_t fallback,
                         int64_t max) {
  if (!r.HasQuery(name)) return fallback;
  std::string v = r.Query(name);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > max) {
    return InvalidArgument(std::string(name) + ": expected an integer 1.." + std::to_string(max));
  }
  return n;
}

constexpr const char* kEventsPath = "/api/v1/events";
constexpr const char* kAckSeconds = "stopgap_alert_ack_seconds";
// The optional body {"comment": "..."} of an approval or a reset.
Result<std::string> CommentOf(const HttpServerRequest& r) {
  if (r.body.empty()) return std::string();
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("body: expected a JSON object like {\"comment\": \"...\"}");
  }
  if (!j.contains("comment")) return std::string();
  if (!j["comment"].is_string()) return InvalidArgument("comment: expected a string");
  std::string c = j["comment"].get<std::string>();
  if (c.size() > 2000) return InvalidArgument("comment: at most 2000 bytes");
  return c;
}

// A ledger or engine error as an HTTP answer.
HttpServerResponse StatusError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return Error(404, s.message());
    case StatusCode::kFailedPrecondition:
      return Error(409, s.message());
    default:
      return Error(500, s.message());
  }
}

std::string StorageFaultText(const Status& fault) {
  return "storage failed (" + fault.message() +
         "); stopgap acknowledges nothing until it is restarted: check the disk, then restart "
         "(the restart re-checks the ledger)";
}

}  // namespace

void StopgapDaemon::Impl::RefreshGauges() {
  metrics.Set("stopgap_queue_depth", {}, static_cast<double>(queue->depth()));
  metrics.Set("stopgap_queue_capacity", {}, static_cast<double>(queue->capacity()));
  metrics.Set("stopgap_executions_running", {}, static_cast<double>(queue->running()));
  auto c = catalog->Get();
  CivilDay today = CivilDayOf(clock->Now());
  std::map<std::string, int> by_state;
  for (auto s : {remedy::WorkaroundState::kActive, remedy::WorkaroundState::kExpiring,
                 remedy::WorkaroundState::kExpired, remedy::WorkaroundState::kRetired}) {
    by_state[std::string(remedy::WorkaroundStateName(s))] = 0;
  }
  const std::set<std::string> closed = engine->ClosedIssues();
  for (const auto& w : c->workarounds) {
    ++by_state[std::string(remedy::WorkaroundStateName(remedy::StateOf(w, today, closed)))];
  }
  for (const auto& [state, n] : by_state) {
    metrics.Set("stopgap_workarounds", {{"state", state}}, n);
  }
  // Counters kept by other parts, brought up to their totals.
  auto catch_up = [this](std::string_view name, const MetricLabels& labels, int64_t total) {
    double seen = metrics.Value(name, labels);
    if (static_cast<double>(total) > seen) metrics.Add(name, labels, total - seen);
  };
  catch_up("stopgap_statsd_dropped_total", {}, static_cast<int64_t>(statsd->dropped()));
  if (const remedy::ClusterLedger* cluster = remedy::AsClusterLedger(*ledger)) {
    RefreshClusterMetrics(metrics, *cluster, remediation->fence.get(), clock->Now());
  }
  if (const auto& archive = remediation->archive) {
    app::ArchiveQueueStats a = archive->stats();
    catch_up("stopgap_bundles_archived_total", {{"result", "ok"}}, a.shipped);
    catch_up("stopgap_bundles_archived_total", {{"result", "failed"}}, a.failed);
    catch_up("stopgap_bundles_archived_total", {{"result", "dropped"}}, a.dropped);
    catch_up("stopgap_bundles_archive_retries_total", {}, a.retries);
    metrics.Set("stopgap_bundles_archive_queue_depth", {}, static_cast<double>(a.depth));
  }
}

void StopgapDaemon::Impl::PublishAlerts(const std::vector<remedy::AlertId>& ids) {
  if (ids.empty() || !events->has_subscribers()) return;
  // The newest alerts hold these (others may interleave): read a few more.
  const int want = static_cast<int>(std::min<size_t>(1000, ids.size() + 64));
  auto list = ledger->ListAlerts(want);
  if (!list.ok()) return;
  const std::set<remedy::AlertId> wanted(ids.begin(), ids.end());
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    if (!wanted.count(it->id)) continue;
    const remedy::ExecutionRecord* exec = nullptr;
    std::optional<remedy::ExecutionRecord> e;
    if (it->execution_id) {
      if (auto got = ledger->GetExecution(*it->execution_id); got.ok()) e = std::move(*got);
      if (e) exec = &*e;
    }
    events->Publish("alert",
                    AlertJson(*it, exec).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void StopgapDaemon::Impl::RegisterRoutes() {
  metrics.Describe("stopgap_http_refused_total", MetricType::kCounter,
                   "Requests refused by the access check, by code (401, 403, 421).");
  metrics.Describe(
      kAckSeconds, MetricType::kHistogram,
      "Seconds from an alert request's header to its 202, the ledger's fsync "
      "included.",
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  // The access check (Host, Origin, token, scope): nullopt when allowed (the
  // token's name in *token), else the refusal to send.
  auto refuse = [this](const HttpServerRequest& r,
                       std::string* token) -> std::optional<HttpServerResponse> {
    // EventSource cannot set headers: the events stream also takes
    // ?token= (only there; the query string is never logged).
    std::string authorization = r.Header("Authorization");
    if (authorization.empty() && r.path == kEventsPath && r.HasQuery("token")) {
      authorization = "Bearer " + r.Query("token");
    }
    AccessDecision d = Access()->Check({.method = r.method,
                                        .path = r.path,
                                        .host = r.Header("Host"),
                                        .origin = r.Header("Origin"),
                                        .authorization = authorization});
    if (d.ok()) {
      if (token) *token = std::move(d.token);
      return std::nullopt;
    }
    metrics.Add("stopgap_http_refused_total", {{"code", std::to_string(d.status)}});
    if (d.status == 401) metrics.Add("stopgap_http_unauthorized_total");
    Log(LogLevel::kWarn, "request refused",
        {{"method", r.method},
         {"path", r.path},
         {"code", std::to_string(d.status)},
         {"as", d.token},
         {"remote", r.remote_addr}});
    HttpServerResponse res = Error(d.status, d.message);
    if (d.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stopgap\"");
    return res;
  };
  // Before any body byte is read: an unauthenticated client cannot make the
  // daemon read (or buffer) a body.
  // The name of the token that passed lands in r.principal.
  http->SetPreBodyCheck([refuse](HttpServerRequest& r) { return refuse(r, &r.principal); });
  // Wraps a handler with the same check; the handler gets the name of the
  // token that authenticated ("" when none). A request the pre-body check
  // passed is not checked twice (the check reads the headers only, which
  // have not changed since).
  auto check = [refuse](const HttpServerRequest& r,
                        std::string* token) -> std::optional<HttpServerResponse> {
    if (r.pre_checked) {
      *token = r.principal;
      return std::nullopt;
    }
    return refuse(r, token);
  };
  auto guarded = [check](auto fn) {
    return [check, fn](const HttpServerRequest& r) -> HttpServerResponse {
      std::string token;
      if (std::optional<HttpServerResponse> no = check(r, &token)) return *no;
      return fn(r, token);
    };
  };

  // The same check for a handler that answers through a responder.
  auto guarded_async = [check](auto fn) {
    return [check, fn](const HttpServerRequest& r, net::HttpResponder respond) {
      std::string token;
      if (std::optional<HttpServerResponse> no = check(r, &token)) return respond(*no);
      fn(r, token, std::move(respond));
    };
  };

  // 503 + Retry-After: nothing was acknowledged; the sender (Alertmanager)
  // keeps the alert and retries.
  auto unavailable = [this](std::string message) {
    HttpServerResponse res = Error(503, message);
    res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
    return res;
  };
  // With group commit (ledger.h: EnableGroupCommit) the intake's writes sit in
  // an open transaction until the next sync commits them: every path that
  // wrote syncs, the ones that answer at once too.
  auto commit_soon = [this] {
    if (ack_sync) ack_sync->AfterDurable([](const Status&) {});
  };
  // Answers an intake: at once on an error; else 202 (503 when the queue was
  // full) once a group fsync that began after the writes has completed, and
  // no group commit was lost since `failures` was read, before the first
  // write. The handler thread does not wait for the fsync.
  auto intake_respond = [this, unavailable, commit_soon](
                            const IntakeResult& result, uint64_t failures,
                            std::chrono::steady_clock::time_point received,
                            std::vector<std::string> warnings, net::HttpResponder respond) {
    if (!result.error.ok()) {
      commit_soon();
      // A storage fault or a full disk: refused, not acknowledged; retry later.
      if (Status f = engine->StorageFault(); !f.ok()) {
        return respond(unavailable(StorageFaultText(f)));
      }
      if (result.error.code() == StatusCode::kResourceExhausted) {
        return respond(unavailable("ledger write refused: " + result.error.message()));
      }
      // The database out of reach (a lost connection, a failover longer than
      // the reconnect window), the admission lock not granted in time, or
      // this node fenced: nothing was acknowledged; the sender retries.
      if (result.error.code() == StatusCode::kUnavailable ||
          result.error.code() == StatusCode::kDeadlineExceeded) {
        return respond(unavailable("ledger unavailable: " + result.error.message()));
      }
      return respond(Error(500, "ledger error: " + result.error.message()));
    }
    PublishAlerts(result.alert_ids);
    json body = IntakeJson(result);
    body["warnings"] = warnings;
    HttpServerResponse res;
    if (result.queue_full()) {
      body["error"] = "work queue full; retry later";
      res = Json(503, body);
      res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
    } else {
      res = Json(202, body);
    }
    auto acked = [this, received](const HttpServerResponse& r) {
      if (r.status != 202) return;
      metrics.Observe(
          kAckSeconds, {},
          std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    };
    if (!ack_sync) {
      acked(res);
      return respond(std::move(res));
    }
    ack_sync->AfterDurable([this, failures, acked, respond = std::move(respond),
                            res = std::move(res), unavailable](Status s) mutable {
      if (s.ok() && ledger->CommitFailures() != failures) {
        s = Unavailable("a group commit of the ledger failed");
      }
      if (s.ok()) {
        acked(res);
        return respond(std::move(res));
      }
      Log(LogLevel::kError, "ledger sync failed", {{"error", s.ToString()}});
      respond(unavailable("ledger sync failed, alert not acknowledged: " + s.message()));
    });
  };

  // The two intake routes: what is refused before any write, the parse (a
  // 400 is recorded too), the intake and its answer. `parse` turns the body
  // into alerts, with warnings for the answer.
  auto intake_route = [this, intake_respond, unavailable, commit_soon, guarded_async](
                          std::string source, auto parse) {
    return guarded_async([this, intake_respond, unavailable, commit_soon, source, parse](
                             const HttpServerRequest& r, const std::string& token,
                             net::HttpResponder respond) {
      if (stopping) return respond(Error(503, "shutting down"));
      if (Status f = engine->StorageFault(); !f.ok()) {
        return respond(unavailable(StorageFaultText(f)));
      }
      const uint64_t failures = ledger->CommitFailures();
      std::vector<std::string> warnings;
      Result<std::vector<remedy::Alert>> alerts = parse(r.body, &warnings);
      if (!alerts.ok()) {
        intake->RecordRejectedBody(source, alerts.status().message());
        commit_soon();
        Log(LogLevel::kWarn, "alert payload rejected",
            {{"source", source}, {"reason", alerts.status().message()}, {"remote", r.remote_addr}});
        return respond(Error(400, alerts.status().message()));
      }
      for (remedy::Alert& a : *alerts) a.token = token;
      intake_respond(intake->Accept(*alerts), failures, r.received, std::move(warnings),
                     std::move(respond));
    });
  };
  http->HandleAsync(
      "POST", "/api/v1/alerts/alertmanager",
      intake_route(
          "alertmanager",
          [this](std::string_view body,
                 std::vector<std::string>* warnings) -> Result<std::vector<remedy::Alert>> {
            auto p = ParseAlertmanagerPayload(body);
            if (!p.ok()) return p.status();
            if (p->truncated_alerts > 0) {
              metrics.Add("stopgap_alerts_truncated_total", {},
                          static_cast<double>(p->truncated_alerts));
              warnings->push_back("truncatedAlerts=" + std::to_string(p->truncated_alerts) +
                                  ": Alertmanager left alerts out (max_alerts)");
              Log(LogLevel::kWarn, "alertmanager truncated alerts",
                  {{"truncated", std::to_string(p->truncated_alerts)},
                   {"group_key", p->group_key}});
            }
            return std::move(p->alerts);
          }));
  http->HandleAsync("POST", "/api/v1/alerts",
                    intake_route("generic", [](std::string_view body, std::vector<std::string>*) {
                      return ParseGenericAlerts(body);
                    }));

  http->Handle(
      "GET", "/api/v1/workarounds", guarded([this](const HttpServerRequest&, const std::string&) {
        auto c = catalog->Get();
        auto counts = ledger->CountByWorkaround(clock->Now());
        if (!counts.ok()) return Error(500, counts.status().message());
        std::map<std::string, const remedy::WorkaroundCounts*> by_id;
        for (const auto& wc : *counts) by_id[wc.workaround_id] = &wc;
        CivilDay today = CivilDayOf(clock->Now());
        const std::set<std::string> closed = engine->ClosedIssues();
        json out = json::array();
        for (const auto& w : c->workarounds) {
          auto it = by_id.find(w.id);
          out.push_back(WorkaroundJson(w, today, it == by_id.end() ? nullptr : it->second, closed));
        }
        return Json(200, {{"workarounds", out}, {"catalog", c->path}});
      }));

  http->Handle("GET", "/api/v1/executions",
               guarded([this](const HttpServerRequest& r, const std::string&) {
                 remedy::ExecutionFilter f;
                 f.workaround_id = r.Query("workaround");
                 f.issue = r.Query("issue");
                 auto limit = IntParam(r, "limit", 50, 1000);
                 if (!limit.ok()) return Error(400, limit.status().message());
                 f.limit = static_cast<int>(*limit);
                 auto before = IntParam(r, "before", 0, INT64_MAX);
                 if (!before.ok()) return Error(400, before.status().message());
                 if (*before > 0) f.before_id = *before;
                 auto list = ledger->ListExecutions(f);
                 if (!list.ok()) return Error(500, list.status().message());
                 json out = json::array();
                 for (const auto& e : *list) out.push_back(ExecutionJson(e, false));
                 return Json(200, {{"executions", out}});
               }));

  http->Handle("GET", R"(/api/v1/executions/(\d{1,18}))",
               guarded([this](const HttpServerRequest& r, const std::string&) {
                 remedy::ExecutionId id = std::stoll(r.path_params.at(0));
                 auto e = ledger->GetExecution(id);
                 if (!e.ok()) {
                   return e.status().code() == StatusCode::kNotFound
                              ? Error(404, "no execution " + std::to_string(id))
                              : Error(500, e.status().message());
                 }
                 return Json(200, ExecutionJson(*e, true));
               }));

  http->Handle("GET", "/api/v1/alerts",
               guarded([this](const HttpServerRequest& r, const std::string&) {
                 auto limit = IntParam(r, "limit", 50, 1000);
                 if (!limit.ok()) return Error(400, limit.status().message());
                 auto list = ledger->ListAlerts(static_cast<int>(*limit));
                 if (!list.ok()) return Error(500, list.status().message());
                 // The execution each alert is recorded against decides its
                 // disposition (ran, refused and why, awaiting approval).
                 std::map<remedy::ExecutionId, std::optional<remedy::ExecutionRecord>> execs;
                 json out = json::array();
                 for (const auto& a : *list) {
                   const remedy::ExecutionRecord* exec = nullptr;
                   if (a.execution_id) {
                     auto [it, fresh] = execs.try_emplace(*a.execution_id);
                     if (fresh) {
                       auto e = ledger->GetExecution(*a.execution_id);
                       if (e.ok()) it->second = std::move(*e);
                     }
                     if (it->second) exec = &*it->second;
                   }
                   out.push_back(AlertJson(a, exec));
                 }
                 return Json(200, {{"alerts", out}});
               }));

  http->Handle("GET", "/api/v1/cost", guarded([this](const HttpServerRequest&, const std::string&) {
                 auto cost = remedy::LoadCost(*ledger, *catalog->Get(), clock->Now());
                 if (!cost.ok()) return Error(500, cost.status().message());
                 return Json(200, CostJson(*cost));
               }));

  // Server-sent events: the stream is registered with the bus and this
  // handler returns at once; no thread waits per subscriber.
  http->HandleStream(kEventsPath, "text/event-stream; charset=utf-8",
                     [this, refuse](const HttpServerRequest& r,
                                    net::HttpStream stream) -> std::optional<HttpServerResponse> {
                       if (std::optional<HttpServerResponse> no = refuse(r, nullptr)) return no;
                       if (stopping) return Error(503, "shutting down");
                       Status s = events->Subscribe(stream);
                       if (s.ok()) return std::nullopt;
                       HttpServerResponse res = Error(503, s.message());
                       res.headers.emplace_back("Retry-After",
                                                std::to_string(options.retry_after_seconds));
                       return res;
                     });

  http->Handle("GET", "/api/v1/issues",
               guarded([this](const HttpServerRequest&, const std::string&) {
                 auto counts = ledger->CountByIssue(clock->Now());
                 if (!counts.ok()) return Error(500, counts.status().message());
                 json out = json::array();
                 for (const auto& c : *counts) out.push_back(IssueCountsJson(c));
                 return Json(200, {{"issues", out}});
               }));

  http->Handle(
      "POST", R"(/api/v1/workarounds/([A-Za-z0-9._-]{1,128})/run)",
      guarded([this, unavailable](const HttpServerRequest& r, const std::string& token) {
        if (stopping) return Error(503, "shutting down");
        if (Status f = engine->StorageFault(); !f.ok()) return unavailable(StorageFaultText(f));
        const std::string& id = r.path_params.at(0);
        auto c = catalog->Get();
        const remedy::Workaround* w = c->Find(id);
        if (!w) return Error(404, "no workaround '" + id + "' in the catalog");
        remedy::Alert alert;
        alert.source = "api";
        alert.token = token;
        alert.name = w->match ? w->match->alertname : w->id;
        if (!r.body.empty()) {
          json j = json::parse(r.body, nullptr, false);
          if (j.is_discarded() || !j.is_object()) {
            return Error(400, "body: expected a JSON object like {\"labels\":{...}}");
          }
          if (j.contains("labels")) {
            if (!j["labels"].is_object()) return Error(400, "labels: expected an object");
            for (const auto& [k, v] : j["labels"].items()) {
              if (!IsValidLabelName(k)) return Error(400, "labels: bad label name '" + k + "'");
              if (!v.is_string()) return Error(400, "labels." + k + ": expected a string");
              alert.labels[k] = v.get<std::string>();
            }
          }
        }
        if (!alert.labels.empty()) alert.fingerprint = remedy::ComputeFingerprint(alert.labels);
        auto slot = queue->Reserve();
        if (!slot) {
          HttpServerResponse res = Error(503, "work queue full; retry later");
          res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
          return res;
        }
        auto a = engine->Begin(id, alert, "api");
        if (!a.ok()) {
          return a.status().code() == StatusCode::kNotFound ? Error(404, a.status().message())
                                                            : Error(500, a.status().message());
        }
        if (a->refusal) {
          return Json(409, {{"execution", a->id},
                            {"state", "refused"},
                            {"reason", remedy::RefusalReasonName(a->refusal->reason)},
                            {"detail", a->refusal->detail}});
        }
        queue->Commit(std::move(*slot), a->id);
        Log(LogLevel::kInfo, "run by hand queued",
            {{"workaround", id}, {"execution", std::to_string(a->id)}});
        return Json(202, {{"execution", a->id}, {"state", "matched"}});
      }));

  // mode: approve. A decision on an execution awaiting approval; an approved
  // one is queued for a worker at once (a queue slot is reserved first, so
  // nothing is approved that could not be run).
  for (const char* verb : {"approve", "deny"}) {
    const bool approve = std::string_view(verb) == "approve";
    http->Handle(
        "POST", std::string(R"(/api/v1/executions/(\d{1,18})/)") + verb,
        guarded([this, approve, unavailable](const HttpServerRequest& r, const std::string& token) {
          if (stopping) return Error(503, "shutting down");
          remedy::ExecutionId id = std::stoll(r.path_params.at(0));
          Result<std::string> comment = CommentOf(r);
          if (!comment.ok()) return Error(400, comment.status().message());
          if (approve) {
            if (Status f = engine->StorageFault(); !f.ok()) return unavailable(StorageFaultText(f));
          }
          std::optional<ExecutionQueue::Slot> slot =
              approve ? queue->Reserve() : std::optional<ExecutionQueue::Slot>();
          if (approve) {
            if (!slot) {
              HttpServerResponse res = Error(503, "work queue full; retry later");
              res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
              return res;
            }
          }
          auto e = engine->Decide(
              id, approve ? remedy::ApprovalDecision::kApproved : remedy::ApprovalDecision::kDenied,
              token, *comment);
          if (!e.ok()) return StatusError(e.status());
          if (slot) queue->Commit(std::move(*slot), id);
          return Json(200, ExecutionJson(*e, true));
        }));
  }

  http->Handle("GET", "/api/v1/approvals",
               guarded([this](const HttpServerRequest&, const std::string&) {
                 remedy::ApprovalLedger* approvals = remedy::AsApprovalLedger(*ledger);
                 json out = json::array();
                 if (approvals) {
                   auto list = approvals->ListAwaitingApproval(1000);
                   if (!list.ok()) return Error(500, list.status().message());
                   for (const auto& e : *list) out.push_back(ExecutionJson(e, false));
                 }
                 return Json(200, {{"pending", out}});
               }));

  http->Handle("GET", "/api/v1/breaker",
               guarded([this](const HttpServerRequest&, const std::string&) {
                 auto b = engine->Breaker();
                 if (!b.ok()) return Error(500, b.status().message());
                 return Json(200, BreakerJson(*b));
               }));

  http->Handle("POST", "/api/v1/breaker/reset",
               guarded([this](const HttpServerRequest& r, const std::string& token) {
                 Result<std::string> comment = CommentOf(r);
                 if (!comment.ok()) return Error(400, comment.status().message());
                 auto b = engine->ResetBreaker(token, *comment);
                 if (!b.ok()) return StatusError(b.status());
                 return Json(200, BreakerJson(*b));
               }));

  http->Handle("GET", "/healthz", [this](const HttpServerRequest&) {
    if (stopping) return Error(503, "shutting down");
    if (Status f = engine->StorageFault(); !f.ok()) {
      return Json(503, {{"status", "storage-failed"},
                        {"error", StorageFaultText(f)},
                        {"queue_depth", queue->depth()},
                        {"running", queue->running()}});
    }
    // Liveness: 200 while this process serves. A database out of reach
    // reads "degraded" (a restart would not bring it back, and the systemd
    // watchdog must not restart a node over it); the leases it holds say
    // which housekeeping jobs this node does for the cluster.
    const remedy::ClusterLedger* cluster = remedy::AsClusterLedger(*ledger);
    const WallTime now = clock->Now();
    json ledger_health =
        LedgerHealthJson(catalog->Get()->ledger.kind, cluster, remediation->fence.get(), now);
    // Fenced: no step runs here until the database answers again.
    const bool ok = ledger_health.value("reachable", true) && !ledger_health.value("fenced", false);
    return Json(200, {{"status", ok ? "ok" : "degraded"},
                      {"queue_depth", queue->depth()},
                      {"running", queue->running()},
                      {"ledger", std::move(ledger_health)},
                      {"singletons", SingletonsJson(cluster, now)}});
  });

  http->Handle(
      "GET", "/metrics", guarded([this](const HttpServerRequest&, const std::string&) {
        RefreshGauges();
        return HttpServerResponse{
            200, "text/plain; version=0.0.4; charset=utf-8", metrics.RenderPrometheus(), {}};
      }));

  // The UI's assets and its read-only routes (bundles, runs per day).
  RegisterWebRoutes({.http = http.get(),
                     .refuse = [refuse](const HttpServerRequest& r) { return refuse(r, nullptr); },
                     .ledger = ledger.get(),
                     .clock = clock,
                     .catalog = catalog.get()});

  // Unknown routes go through the access check too: 404 only once allowed.
  // Registered last: the first matching pattern wins.
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    http->Handle(method, "/.*", guarded([](const HttpServerRequest&, const std::string&) {
                   return Error(404, "no such route");
                 }));
  }
}

}  // namespace stopgap::server

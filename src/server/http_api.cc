// The HTTP API of stopgap serve (table in docs/serve.md): alert intake,
// workarounds, executions, issues, run-by-hand, /healthz, /metrics, the UI.
// Writes need the bearer token; reads too when server.read_auth is set.
//
// Threading: handlers run on the HTTP server's connection threads.
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "remedy/matcher.h"
#include "server/alert_intake.h"
#include "server/api_json.h"
#include "server/internal/daemon_impl.h"
#include "server/web_ui.h"

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
  if (const auto& archive = remediation->archive) {
    app::ArchiveQueueStats a = archive->stats();
    catch_up("stopgap_bundles_archived_total", {{"result", "ok"}}, a.shipped);
    catch_up("stopgap_bundles_archived_total", {{"result", "failed"}}, a.failed);
    catch_up("stopgap_bundles_archived_total", {{"result", "dropped"}}, a.dropped);
    catch_up("stopgap_bundles_archive_retries_total", {}, a.retries);
    metrics.Set("stopgap_bundles_archive_queue_depth", {}, static_cast<double>(a.depth));
  }
}

void StopgapDaemon::Impl::RegisterRoutes() {
  // Wraps a handler with the auth check: writes always, reads when read_auth.
  auto guarded = [this](bool write, auto fn) {
    return [this, write, fn](const HttpServerRequest& r) -> HttpServerResponse {
      if (write || read_auth.load()) {
        if (!Token()->Authorizes(r.Header("Authorization"))) {
          metrics.Add("stopgap_http_unauthorized_total");
          Log(LogLevel::kWarn, "unauthorized request",
              {{"method", r.method}, {"path", r.path}, {"remote", r.remote_addr}});
          HttpServerResponse res = Error(401, "missing or wrong bearer token");
          res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stopgap\"");
          return res;
        }
      }
      return fn(r);
    };
  };

  auto intake_response = [this](const IntakeResult& result,
                                std::vector<std::string> warnings) -> HttpServerResponse {
    if (!result.error.ok()) return Error(500, "ledger error: " + result.error.message());
    if (ack_sync) {
      if (Status s = ack_sync->WaitDurable(); !s.ok()) {
        Log(LogLevel::kError, "ledger sync failed", {{"error", s.ToString()}});
        return Error(500, "ledger sync failed: " + s.message());
      }
    }
    json body = IntakeJson(result);
    body["warnings"] = warnings;
    if (result.queue_full()) {
      body["error"] = "work queue full; retry later";
      HttpServerResponse res = Json(503, body);
      res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
      return res;
    }
    return Json(202, body);
  };

  http->Handle(
      "POST", "/api/v1/alerts/alertmanager",
      guarded(true, [this, intake_response](const HttpServerRequest& r) {
        if (stopping) return Error(503, "shutting down");
        auto p = ParseAlertmanagerPayload(r.body);
        if (!p.ok()) {
          intake->RecordRejectedBody("alertmanager", p.status().message());
          Log(LogLevel::kWarn, "alertmanager payload rejected",
              {{"reason", p.status().message()}, {"remote", r.remote_addr}});
          return Error(400, p.status().message());
        }
        std::vector<std::string> warnings;
        if (p->truncated_alerts > 0) {
          metrics.Add("stopgap_alerts_truncated_total", {},
                      static_cast<double>(p->truncated_alerts));
          warnings.push_back("truncatedAlerts=" + std::to_string(p->truncated_alerts) +
                             ": Alertmanager left alerts out (max_alerts)");
          Log(LogLevel::kWarn, "alertmanager truncated alerts",
              {{"truncated", std::to_string(p->truncated_alerts)}, {"group_key", p->group_key}});
        }
        return intake_response(intake->Accept(p->alerts), std::move(warnings));
      }));

  http->Handle("POST", "/api/v1/alerts",
               guarded(true, [this, intake_response](const HttpServerRequest& r) {
                 if (stopping) return Error(503, "shutting down");
                 auto alerts = ParseGenericAlerts(r.body);
                 if (!alerts.ok()) {
                   intake->RecordRejectedBody("generic", alerts.status().message());
                   return Error(400, alerts.status().message());
                 }
                 return intake_response(intake->Accept(*alerts), {});
               }));

  http->Handle(
      "GET", "/api/v1/workarounds", guarded(false, [this](const HttpServerRequest&) {
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

  http->Handle("GET", "/api/v1/executions", guarded(false, [this](const HttpServerRequest& r) {
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
               guarded(false, [this](const HttpServerRequest& r) {
                 remedy::ExecutionId id = std::stoll(r.path_params.at(0));
                 auto e = ledger->GetExecution(id);
                 if (!e.ok()) {
                   return e.status().code() == StatusCode::kNotFound
                              ? Error(404, "no execution " + std::to_string(id))
                              : Error(500, e.status().message());
                 }
                 return Json(200, ExecutionJson(*e, true));
               }));

  http->Handle("GET", "/api/v1/alerts", guarded(false, [this](const HttpServerRequest& r) {
                 auto limit = IntParam(r, "limit", 50, 1000);
                 if (!limit.ok()) return Error(400, limit.status().message());
                 auto list = ledger->ListAlerts(static_cast<int>(*limit));
                 if (!list.ok()) return Error(500, list.status().message());
                 json out = json::array();
                 for (const auto& a : *list) out.push_back(AlertJson(a));
                 return Json(200, {{"alerts", out}});
               }));

  http->Handle("GET", "/api/v1/issues", guarded(false, [this](const HttpServerRequest&) {
                 auto counts = ledger->CountByIssue(clock->Now());
                 if (!counts.ok()) return Error(500, counts.status().message());
                 json out = json::array();
                 for (const auto& c : *counts) out.push_back(IssueCountsJson(c));
                 return Json(200, {{"issues", out}});
               }));

  http->Handle(
      "POST", R"(/api/v1/workarounds/([A-Za-z0-9._-]{1,128})/run)",
      guarded(true, [this](const HttpServerRequest& r) {
        if (stopping) return Error(503, "shutting down");
        const std::string& id = r.path_params.at(0);
        auto c = catalog->Get();
        const remedy::Workaround* w = c->Find(id);
        if (!w) return Error(404, "no workaround '" + id + "' in the catalog");
        remedy::Alert alert;
        alert.source = "api";
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

  http->Handle("GET", "/healthz", [this](const HttpServerRequest&) {
    if (stopping) return Error(503, "shutting down");
    return Json(200,
                {{"status", "ok"}, {"queue_depth", queue->depth()}, {"running", queue->running()}});
  });

  http->Handle(
      "GET", "/metrics", guarded(false, [this](const HttpServerRequest&) {
        RefreshGauges();
        return HttpServerResponse{
            200, "text/plain; version=0.0.4; charset=utf-8", metrics.RenderPrometheus(), {}};
      }));

  http->Handle("GET", "/", [](const HttpServerRequest&) {
    return HttpServerResponse{200,
                              "text/html; charset=utf-8",
                              std::string(WebUiHtml()),
                              {{"Cache-Control", "no-store"},
                               {"Content-Security-Policy",
                                "default-src 'self'; script-src 'unsafe-inline' 'self'; "
                                "style-src 'unsafe-inline' 'self'"}}};
  });
}

}  // namespace stopgap::server

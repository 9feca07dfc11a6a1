// The web UI's assets and its read-only API: bundle listing, files and
// download, and runs per day for the charts (see web_routes.h).
//
// Thread safety: handlers are stateless; the ledger is thread-safe.
#include "server/web_routes.h"

#include <cctype>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "server/api_json.h"
#include "server/bundle_files.h"
#include "server/web_ui.h"

namespace stopgap::server {
namespace {

using net::HttpServerRequest;
using net::HttpServerResponse;
using nlohmann::json;

constexpr size_t kMaxBundleFileBytes = 16 << 20;
constexpr size_t kMaxPackedBundleBytes = 256 << 20;
constexpr int kMaxDailyPages = 200;  // x 1000 executions read for one chart at most

HttpServerResponse Json(int status, const json& body) {
  return {status,
          "application/json",
          body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n",
          {}};
}

HttpServerResponse Error(int status, std::string_view message) {
  return {status, "application/json", ErrorBody(message), {}};
}

HttpServerResponse StatusError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return Error(400, s.message());
    case StatusCode::kNotFound:
      return Error(404, s.message());
    case StatusCode::kFailedPrecondition:
      return Error(403, s.message());
    case StatusCode::kResourceExhausted:
      return Error(413, s.message());
    default:
      return Error(500, s.message());
  }
}

HttpServerResponse Asset(const WebAsset& a) {
  return {200,
          std::string(a.content_type),
          std::string(a.body),
          {{"Cache-Control", "no-cache"},
           {"Content-Security-Policy", kWebUiCsp},
           {"X-Content-Type-Options", "nosniff"},
           {"Referrer-Policy", "no-referrer"},
           {"X-Frame-Options", "DENY"}}};
}

// The execution's bundle directory, or the response to send instead.
std::variant<std::string, HttpServerResponse> BundleDir(remedy::ExecutionLedger& ledger,
                                                        const std::string& id_text) {
  remedy::ExecutionId id = std::stoll(id_text);
  auto e = ledger.GetExecution(id);
  if (!e.ok()) {
    return e.status().code() == StatusCode::kNotFound ? Error(404, "no execution " + id_text)
                                                      : Error(500, e.status().message());
  }
  if (e->bundle_dir.empty()) return Error(404, "execution " + id_text + " has no bundle");
  return e->bundle_dir;
}

// {"days": ["YYYY-MM-DD"... oldest first], "workarounds": {"id": [runs per day]},
//  "complete": false when the scan stopped at its page cap}. A run is an
// execution that was not refused, counted on the UTC day it was created.
Result<json> RunsPerDay(remedy::ExecutionLedger& ledger, WallTime now, int days,
                        const std::string& issue) {
  const int64_t today = DaysSinceEpoch(CivilDayOf(now));
  const int64_t first = today - days + 1;
  std::map<std::string, std::vector<int64_t>> per;
  remedy::ExecutionFilter f;
  f.issue = issue;
  f.limit = 1000;
  bool complete = false;
  for (int page = 0; page < kMaxDailyPages; ++page) {
    auto list = ledger.ListExecutions(f);
    if (!list.ok()) return list.status();
    bool older = false;
    for (const auto& e : *list) {
      int64_t day = DaysSinceEpoch(CivilDayOf(e.created_at));
      if (day < first) {
        older = true;
        continue;
      }
      if (e.state == remedy::ExecutionState::kRefused || day > today) continue;
      auto& v = per[e.workaround_id];
      if (v.empty()) v.assign(static_cast<size_t>(days), 0);
      ++v[static_cast<size_t>(day - first)];
    }
    if (older || list->size() < 1000) {
      complete = true;
      break;
    }
    f.before_id = list->back().id;
  }
  json names = json::array();
  for (int64_t d = first; d <= today; ++d) names.push_back(FormatCivilDay(CivilDayFromDays(d)));
  json w = json::object();
  for (auto& [id, v] : per) w[id] = v;
  return json{{"days", names}, {"workarounds", w}, {"complete", complete}};
}

}  // namespace

void RegisterWebRoutes(const WebRoutesContext& c) {
  auto guarded = [refuse = c.refuse](auto fn) {
    return [refuse, fn](const HttpServerRequest& r) -> HttpServerResponse {
      if (std::optional<HttpServerResponse> no = refuse(r)) return *no;
      return fn(r);
    };
  };
  remedy::ExecutionLedger* ledger = c.ledger;
  const Clock* clock = c.clock;
  const CatalogHolder* catalog = c.catalog;

  c.http->Handle("GET", "/", guarded([](const HttpServerRequest&) {
                   return Asset(*FindWebAsset("index.html"));
                 }));
  c.http->Handle("GET", R"(/ui/([A-Za-z0-9_-]{1,64}\.(?:js|css|svg)))",
                 guarded([](const HttpServerRequest& r) {
                   std::optional<WebAsset> a = FindWebAsset(r.path_params.at(0));
                   if (!a) return Error(404, "no such UI file");
                   return Asset(*a);
                 }));

  c.http->Handle("GET", R"(/api/v1/executions/(\d{1,18})/bundle)",
                 guarded([ledger](const HttpServerRequest& r) {
                   auto dir = BundleDir(*ledger, r.path_params.at(0));
                   if (auto* res = std::get_if<HttpServerResponse>(&dir)) return *res;
                   auto files = ListBundleFiles(std::get<std::string>(dir));
                   if (!files.ok()) return StatusError(files.status());
                   json out = json::array();
                   for (const BundleFile& f : *files) {
                     out.push_back({{"path", f.path}, {"size", f.size}, {"text", f.text}});
                   }
                   return Json(200, {{"files", out}});
                 }));

  c.http->Handle(
      "GET", R"(/api/v1/executions/(\d{1,18})/bundle/file)",
      guarded([ledger](const HttpServerRequest& r) {
        if (!r.HasQuery("path")) return Error(400, "path: missing (?path=<relative path>)");
        auto dir = BundleDir(*ledger, r.path_params.at(0));
        if (auto* res = std::get_if<HttpServerResponse>(&dir)) return *res;
        std::string rel = r.Query("path");
        auto body = ReadBundleFile(std::get<std::string>(dir), rel, kMaxBundleFileBytes);
        if (!body.ok()) return StatusError(body.status());
        HttpServerResponse res{200, "text/plain; charset=utf-8", std::move(*body), {}};
        res.headers = {{"X-Content-Type-Options", "nosniff"},
                       {"Content-Security-Policy", "default-src 'none'; sandbox"},
                       {"Cache-Control", "no-store"}};
        if (!LooksLikeText(res.body)) {
          res.content_type = "application/octet-stream";
          std::string name = rel.substr(rel.rfind('/') + 1);
          std::string safe;
          for (char ch : name) {
            bool ok =
                std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_';
            safe += ok ? ch : '_';
          }
          res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + safe + "\"");
        }
        return res;
      }));

  c.http->Handle(
      "GET", R"(/api/v1/executions/(\d{1,18})/bundle\.tar\.zst)",
      guarded([ledger](const HttpServerRequest& r) {
        const std::string& id = r.path_params.at(0);
        auto dir = BundleDir(*ledger, id);
        if (auto* res = std::get_if<HttpServerResponse>(&dir)) return *res;
        auto packed = PackBundleToMemory(std::get<std::string>(dir), kMaxPackedBundleBytes);
        if (!packed.ok()) return StatusError(packed.status());
        return HttpServerResponse{200,
                                  "application/zstd",
                                  std::move(*packed),
                                  {{"Content-Disposition",
                                    "attachment; filename=\"execution-" + id + "-bundle.tar.zst\""},
                                   {"X-Content-Type-Options", "nosniff"},
                                   {"Cache-Control", "no-store"}}};
      }));

  c.http->Handle(
      "GET", "/api/v1/ui/tracker", guarded([catalog](const HttpServerRequest&) {
        auto cat = catalog->Get();
        if (!cat->tracker) return Json(200, {{"tracker", nullptr}});
        // Kind and base URL only: never the token file.
        return Json(200, {{"tracker", {{"kind", cat->tracker->kind}, {"url", cat->tracker->url}}}});
      }));

  c.http->Handle("GET", "/api/v1/runs/daily", guarded([ledger, clock](const HttpServerRequest& r) {
                   int days = 90;
                   if (r.HasQuery("days")) {
                     std::string v = r.Query("days");
                     auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), days);
                     if (ec != std::errc() || p != v.data() + v.size() || days < 1 || days > 366) {
                       return Error(400, "days: expected an integer 1..366");
                     }
                   }
                   auto out = RunsPerDay(*ledger, clock->Now(), days, r.Query("issue"));
                   if (!out.ok()) return Error(500, out.status().message());
                   return Json(200, *out);
                 }));
}

}  // namespace stopgap::server

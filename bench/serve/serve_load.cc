// serve_load: a bounded loopback load generator for `stopgap serve`. It posts
// Alertmanager v4 payloads over C kept-alive connections (one thread each),
// drawing fingerprints from a pool of F (so most alerts are duplicates), and
// reports acknowledged alerts/s, ack latency p50/p90/p99/max, and status
// counts. Closed loop by default (each connection posts as soon as its last
// answer came: the server's saturation throughput); with --rate R, open loop:
// request n is due at start + n/R and its latency is measured from that due
// time, so a server (or client) falling behind shows up as latency instead of
// silently lowering the offered rate (no coordinated omission).
// With --ledger it then checks that every alert id acknowledged with 202 is in the SQLite ledger
// (zero lost).
//
//   serve_load --port 9470 --token-file T --connections 8 --requests 20000
//              --alerts-per-request 1 --fingerprints 2000 --ledger ledger.db
//
// Threading: one client thread per connection; results merged at the end.
#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int port = 9470;
  std::string token_file;
  int connections = 8;
  long requests = 20000;
  int alerts_per_request = 1;
  int fingerprints = 2000;
  std::string ledger;
  std::string alerts_table = "alerts";
  std::string ids_out;      // acknowledged alert ids, one a line (to check another ledger)
  bool sequential = false;  // fingerprints 0,1,2,... in order (priming), not random
  double rate = 0;          // requests/s offered in all (open loop); 0 = closed loop
};

struct ThreadResult {
  std::vector<double> latency_ms;
  long ok = 0, unavailable = 0, other = 0, transport_errors = 0;
  long alerts_acked = 0;
  std::vector<int64_t> alert_ids;
};

std::string Payload(const std::vector<int>& fps) {
  std::string alerts;
  for (size_t i = 0; i < fps.size(); ++i) {
    char fp[32];
    std::snprintf(fp, sizeof fp, "%016x", fps[i] * 2654435761u);
    if (i) alerts += ',';
    alerts +=
        R"({"status":"firing","labels":{"alertname":"BenchAlert","instance":"host-)" +
        std::to_string(fps[i]) +
        R"(","severity":"critical"},"annotations":{"summary":"bench"},"startsAt":"2026-11-25T14:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://127.0.0.1/bench","fingerprint":")" +
        fp + "\"}";
  }
  return R"({"version":"4","receiver":"stopgap","status":"firing","alerts":[)" + alerts +
         R"(],"groupLabels":{"alertname":"BenchAlert"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","groupKey":"{}:{alertname=\"BenchAlert\"}","truncatedAlerts":0})";
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

int Usage() {
  std::fprintf(stderr,
               "usage: serve_load --port P --token-file F [--connections C] [--requests N]\n"
               "       [--alerts-per-request K] [--fingerprints F] [--ledger FILE]\n"
               "       [--rate REQUESTS_PER_SEC] [--ids-out FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (k == "--port")
      a.port = std::atoi(v.c_str());
    else if (k == "--token-file")
      a.token_file = v;
    else if (k == "--connections")
      a.connections = std::atoi(v.c_str());
    else if (k == "--requests")
      a.requests = std::atol(v.c_str());
    else if (k == "--alerts-per-request")
      a.alerts_per_request = std::atoi(v.c_str());
    else if (k == "--fingerprints")
      a.fingerprints = std::atoi(v.c_str());
    else if (k == "--ledger")
      a.ledger = v;
    else if (k == "--ids-out")
      a.ids_out = v;
    else if (k == "--alerts-table")
      a.alerts_table = v;
    else if (k == "--sequential")
      a.sequential = v == "1";
    else if (k == "--rate")
      a.rate = std::atof(v.c_str());
    else
      return Usage();
  }
  if (a.token_file.empty() || a.connections < 1 || a.requests < 1 || a.requests > 10'000'000 ||
      a.alerts_per_request < 1 || a.fingerprints < 1 || a.rate < 0) {
    return Usage();
  }
  std::string token;
  {
    std::ifstream f(a.token_file);
    std::getline(f, token);
  }
  std::vector<ThreadResult> results(a.connections);
  std::atomic<long> next{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&, c] {
      ThreadResult& r = results[c];
      r.latency_ms.reserve(a.requests / a.connections + 1);
      httplib::Client cli("127.0.0.1", a.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(30, 0);
      httplib::Headers h = {{"Authorization", "Bearer " + token}};
      std::mt19937 rng(1234 + c);
      std::uniform_int_distribution<int> pick(0, a.fingerprints - 1);
      std::vector<int> fps(a.alerts_per_request);
      for (;;) {
        long n = next.fetch_add(1);
        if (n >= a.requests) break;  // bounded: exactly `requests` posts in all
        for (size_t i = 0; i < fps.size(); ++i) {
          fps[i] = a.sequential
                       ? static_cast<int>((n * a.alerts_per_request + static_cast<long>(i)) %
                                          a.fingerprints)
                       : pick(rng);
        }
        std::string body = Payload(fps);
        auto t0 = Clock::now();
        if (a.rate > 0) {
          auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(n) / a.rate));
          if (due > t0) std::this_thread::sleep_until(due);
          t0 = due;
        }
        auto res = cli.Post("/api/v1/alerts/alertmanager", h, body, "application/json");
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!res) {
          ++r.transport_errors;
          continue;
        }
        r.latency_ms.push_back(ms);
        if (res->status == 202) {
          ++r.ok;
          auto j = nlohmann::json::parse(res->body, nullptr, false);
          if (!j.is_discarded() && j.contains("alert_ids")) {
            for (const auto& id : j["alert_ids"]) r.alert_ids.push_back(id.get<int64_t>());
          }
          r.alerts_acked += a.alerts_per_request;
        } else if (res->status == 503) {
          ++r.unavailable;
        } else {
          ++r.other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();

  ThreadResult all;
  for (auto& r : results) {
    all.latency_ms.insert(all.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    all.ok += r.ok;
    all.unavailable += r.unavailable;
    all.other += r.other;
    all.transport_errors += r.transport_errors;
    all.alerts_acked += r.alerts_acked;
    all.alert_ids.insert(all.alert_ids.end(), r.alert_ids.begin(), r.alert_ids.end());
  }
  double p50 = Percentile(all.latency_ms, 0.50), p90 = Percentile(all.latency_ms, 0.90),
         p99 = Percentile(all.latency_ms, 0.99), pmax = Percentile(all.latency_ms, 1.0);
  long lost = -1;
  if (!a.ids_out.empty()) {
    std::ofstream out(a.ids_out);
    for (int64_t id : all.alert_ids) out << id << "\n";
  }
  if (!a.ledger.empty()) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(a.ledger.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "cannot open ledger %s\n", a.ledger.c_str());
      return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    std::set<int64_t> in_ledger;
    sqlite3_stmt* st = nullptr;
    std::string q = "SELECT id FROM " + a.alerts_table;
    if (sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "ledger query failed: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) in_ledger.insert(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    lost = 0;
    for (int64_t id : all.alert_ids) lost += in_ledger.count(id) ? 0 : 1;
    if (static_cast<long>(all.alert_ids.size()) != all.alerts_acked) {
      std::fprintf(stderr, "acknowledged %ld alerts but got %zu ids back\n", all.alerts_acked,
                   all.alert_ids.size());
      lost += all.alerts_acked - static_cast<long>(all.alert_ids.size());
    }
  }
  std::printf(
      "{\"connections\":%d,\"rate\":%.0f,\"requests\":%ld,\"alerts_per_request\":%d,"
      "\"fingerprints\":%d,"
      "\"seconds\":%.3f,\"status_202\":%ld,\"status_503\":%ld,\"status_other\":%ld,"
      "\"transport_errors\":%ld,\"alerts_acked\":%ld,\"alerts_per_sec\":%.0f,"
      "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"lost\":%ld}\n",
      a.connections, a.rate, a.requests, a.alerts_per_request, a.fingerprints, secs, all.ok,
      all.unavailable, all.other, all.transport_errors, all.alerts_acked,
      static_cast<double>(all.alerts_acked) / secs, p50, p90, p99, pmax, lost);
  return (lost > 0 || all.other > 0 || all.transport_errors > 0) ? 1 : 0;
}

// ReplayServer: a local HTTP server (cpp-httplib, 127.0.0.1, port 0) for the
// tracker contract tests. It answers "METHOD target" with responses written
// from each API's public documentation (files under tests/tracker/fixtures/)
// and records every request exactly as received, so tests can assert the
// method, path, query, headers and body stopgap sends.
//
// Thread safety: Expect()/requests() may be called while the server thread runs
// (internally locked).
#pragma once

#include <httplib.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace stopgap::testing {

struct ReplayResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names as sent (httplib is case-insensitive)
  std::string body;

  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    }
    return "";
  }
  std::string Line() const { return method + " " + target; }
};

// Reads tests/tracker/fixtures/<name> (STOPGAP_TRACKER_FIXTURES is set by CMake).
inline std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(STOPGAP_TRACKER_FIXTURES) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReplayServer {
 public:
  ReplayServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    server_.Put(".*", handler);
    server_.Patch(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ReplayServer() {
    server_.stop();
    thread_.join();
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues a response for "METHOD target"; the last one queued for a key is
  // repeated. "{{BASE}}" in headers and body becomes base().
  void Expect(const std::string& method, const std::string& target, ReplayResponse r) {
    std::lock_guard<std::mutex> l(mu_);
    routes_[method + " " + target].push_back(std::move(r));
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& r : requests()) out.push_back(r.Line());
    return out;
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> l(mu_);
    requests_.clear();
  }

 private:
  std::string Subst(std::string s) const {
    const std::string key = "{{BASE}}";
    for (size_t p = s.find(key); p != std::string::npos; p = s.find(key, p)) {
      s.replace(p, key.size(), base());
    }
    return s;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest rec{req.method, req.target, {}, req.body};
    for (const auto& [k, v] : req.headers) rec.headers[k] = v;
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(rec);
    auto it = routes_.find(rec.Line());
    if (it == routes_.end() || it->second.empty()) {
      res.status = 599;  // not a real status: the test sees an unexpected request
      res.set_content("no replay for " + rec.Line(), "text/plain");
      return;
    }
    ReplayResponse r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), Subst(v));
    if (!r.body.empty()) res.set_content(Subst(r.body), "application/json; charset=utf-8");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<ReplayResponse>> routes_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace stopgap::testing

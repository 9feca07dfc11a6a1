// serve_load: a bounded loopback load generator for `stopgap serve`. It posts
// Alertmanager v4 payloads over C kept-alive connections, drawing fingerprints
// from a pool of F (so most alerts are duplicates), and reports acknowledged
// alerts/s, ack latency p50/p90/p99/max, and status counts. Closed loop by
// default (each connection posts as soon as its last answer came: the server's
// saturation throughput); with --rate R, open loop: request n is due at
// start + n/R and its latency is measured from that due time, so a server (or
// client) falling behind shows up as latency instead of silently lowering the
// offered rate (no coordinated omission). A due request waits for a free
// connection; that wait counts in its latency.
// With --ledger it then checks that every alert id acknowledged with 202 is in
// the SQLite ledger (zero lost).
//
//   serve_load --port 9470 --token-file T --connections 8 --requests 20000
//              --alerts-per-request 1 --fingerprints 2000 --ledger ledger.db
//
// One thread: non-blocking sockets on epoll, a timerfd for the open-loop
// schedule, HTTP/1.1 answers read by Content-Length. The load shares the
// server's cores, so it must cost little: a thread per connection and a JSON
// parse of every answer (the cpp-httplib client this replaced) spent ~0.1 ms
// of CPU per request, a third of what the server spends at 5,000/s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, the timerfd's clock

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
  std::string latency_out;  // "sent_ms latency_ms status" a request, to see where a tail comes from
  bool sequential = false;  // fingerprints 0,1,2,... in order (priming), not random
  double rate = 0;          // requests/s offered in all (open loop); 0 = closed loop
};

struct Totals {
  std::vector<double> latency_ms;
  std::vector<std::pair<double, int>> sent_ms_status;  // with --latency-out, per latency
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
               "       [--rate REQUESTS_PER_SEC] [--ids-out FILE] [--latency-out FILE]\n");
  return 2;
}

// The ids of a 202's body, {"alert_ids":[1,2,...],...}: a scan, not a JSON
// parse (the body is the server's own fixed shape).
void AlertIds(std::string_view body, std::vector<int64_t>* out) {
  size_t at = body.find("\"alert_ids\":[");
  if (at == std::string_view::npos) return;
  const char* p = body.data() + at + 13;
  const char* end = body.data() + body.size();
  while (p < end && *p != ']') {
    char* next = nullptr;
    long long id = std::strtoll(p, &next, 10);
    if (next == p) break;
    out->push_back(id);
    p = next;
    if (p < end && *p == ',') ++p;
  }
}

struct Conn {
  int fd = -1;
  bool busy = false;
  std::string out;  // request bytes not yet written
  size_t out_off = 0;
  std::string in;          // answer bytes read so far
  bool watch_out = false;  // EPOLLOUT armed: a write was cut short
  Clock::time_point t0;
};

class Load {
 public:
  Load(const Args& a, std::string token) : a_(a), token_(std::move(token)) {
    rngs_.reserve(static_cast<size_t>(a.connections));
    for (int c = 0; c < a.connections; ++c) rngs_.emplace_back(1234 + c);
  }

  bool Run(Totals* t) {
    t_ = t;
    t_->latency_ms.reserve(static_cast<size_t>(a_.requests));
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep_ < 0 || tfd_ < 0) return Fail("epoll/timerfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;
    epoll_ctl(ep_, EPOLL_CTL_ADD, tfd_, &ev);
    conns_.resize(static_cast<size_t>(a_.connections));
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (!Connect(i)) return false;
    }
    start_ = Clock::now();
    Dispatch();
    std::vector<epoll_event> evs(conns_.size() + 1);
    auto last_progress = Clock::now();
    while (done_ < a_.requests) {
      int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 1000);
      if (n < 0 && errno != EINTR) return Fail("epoll_wait");
      long before = done_;
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.u64 == UINT64_MAX) {
          uint64_t expirations;
          (void)!read(tfd_, &expirations, sizeof expirations);
          continue;
        }
        size_t c = evs[i].data.u64;
        if (evs[i].events & EPOLLOUT) Flush(c);
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadAnswer(c);
      }
      Dispatch();
      if (done_ != before) {
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > std::chrono::seconds(30)) {
        // Bounded: a server that stops answering ends the run as errors.
        t_->transport_errors += a_.requests - done_;
        std::fprintf(stderr, "serve_load: no answer for 30 s, giving up\n");
        break;
      }
    }
    seconds_ = std::chrono::duration<double>(Clock::now() - start_).count();
    for (Conn& c : conns_) close(c.fd);
    close(tfd_);
    close(ep_);
    return true;
  }

  double seconds() const { return seconds_; }

 private:
  bool Fail(const char* what) {
    std::fprintf(stderr, "serve_load: %s: %s\n", what, std::strerror(errno));
    return false;
  }

  bool Connect(size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c = Conn{};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Fail("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(a_.port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      close(fd);
      return Fail("connect");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c.fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    return true;
  }

  Clock::time_point Due(long n) const {
    return start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(n) / a_.rate));
  }

  // Sends every request that is due on a free connection; in open loop arms
  // the timer for the next one when a connection is free for it.
  void Dispatch() {
    auto now = Clock::now();
    size_t free_conn = 0;
    while (next_ < a_.requests) {
      while (free_conn < conns_.size() && conns_[free_conn].busy) ++free_conn;
      if (free_conn == conns_.size()) return;  // all busy: an answer frees one
      if (a_.rate > 0) {
        auto due = Due(next_);
        if (due > now) {
          itimerspec its{};
          auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch());
          its.it_value.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
          its.it_value.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
          timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
          return;
        }
        Send(free_conn, next_, due);
      } else {
        Send(free_conn, next_, Clock::now());
      }
      ++next_;
    }
  }

  void Send(size_t i, long n, Clock::time_point t0) {
    Conn& c = conns_[i];
    std::vector<int>& fps = fps_;
    fps.resize(static_cast<size_t>(a_.alerts_per_request));
    std::uniform_int_distribution<int> pick(0, a_.fingerprints - 1);
    for (size_t k = 0; k < fps.size(); ++k) {
      fps[k] = a_.sequential ? static_cast<int>((n * a_.alerts_per_request + static_cast<long>(k)) %
                                                a_.fingerprints)
                             : pick(rngs_[i]);
    }
    std::string body = Payload(fps);
    c.out =
        "POST /api/v1/alerts/alertmanager HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(a_.port) +
        "\r\nAuthorization: Bearer " + token_ +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    c.out_off = 0;
    c.in.clear();
    c.busy = true;
    c.t0 = t0;
    Flush(i);
  }

  void Flush(size_t i) {
    Conn& c = conns_[i];
    while (c.out_off < c.out.size()) {
      ssize_t w = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_off += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        c.watch_out = true;
        return;
      }
      TransportError(i);
      return;
    }
    if (c.watch_out) {
      c.watch_out = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  void TransportError(size_t i) {
    if (conns_[i].busy) {
      ++t_->transport_errors;
      ++done_;
    }
    if (!Connect(i)) std::exit(1);
  }

  void ReadAnswer(size_t i) {
    Conn& c = conns_[i];
    char buf[16384];
    for (;;) {
      ssize_t r = recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        if (static_cast<size_t>(r) < sizeof buf) break;
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r < 0 && errno == EINTR) continue;
      TransportError(i);  // closed or reset
      return;
    }
    if (!c.busy) return;
    size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    std::string_view head(c.in.data(), head_end);
    int status = head.size() > 12 ? std::atoi(c.in.c_str() + 9) : 0;
    size_t length = 0;
    bool close_after = false;
    for (size_t at = head.find("\r\n"); at != std::string_view::npos;) {
      size_t eol = head.find("\r\n", at + 2);
      std::string_view line =
          head.substr(at + 2, eol == std::string_view::npos ? eol : eol - at - 2);
      auto starts = [&](std::string_view name) {
        return line.size() >= name.size() &&
               strncasecmp(line.data(), name.data(), name.size()) == 0;
      };
      if (starts("content-length:")) length = std::strtoul(line.data() + 15, nullptr, 10);
      if (starts("connection:") && line.find("close") != std::string_view::npos) close_after = true;
      if (starts("transfer-encoding:")) {
        std::fprintf(stderr, "serve_load: chunked answers are not read\n");
        std::exit(1);
      }
      at = eol;
    }
    if (c.in.size() < head_end + 4 + length) return;  // body still coming
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - c.t0).count();
    t_->latency_ms.push_back(ms);
    if (!a_.latency_out.empty()) {
      t_->sent_ms_status.emplace_back(
          std::chrono::duration<double, std::milli>(c.t0 - start_).count(), status);
    }
    if (status == 202) {
      ++t_->ok;
      AlertIds(std::string_view(c.in).substr(head_end + 4, length), &t_->alert_ids);
      t_->alerts_acked += a_.alerts_per_request;
    } else if (status == 503) {
      ++t_->unavailable;
    } else {
      ++t_->other;
    }
    ++done_;
    c.busy = false;
    c.in.clear();
    if (close_after && !Connect(i)) std::exit(1);
  }

  const Args& a_;
  std::string token_;
  std::vector<std::mt19937> rngs_;
  std::vector<int> fps_;
  std::vector<Conn> conns_;
  Totals* t_ = nullptr;
  int ep_ = -1, tfd_ = -1;
  long next_ = 0, done_ = 0;
  Clock::time_point start_;
  double seconds_ = 0;
};

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
    else if (k == "--latency-out")
      a.latency_out = v;
    else if (k == "--alerts-table")
      a.alerts_table = v;
    else if (k == "--sequential")
      a.sequential = v == "1";
    else if (k == "--rate")
      a.rate = std::atof(v.c_str());
    else
      return Usage();
  }
  if (a.token_file.empty() || a.connections < 1 || a.connections > 10'000 || a.requests < 1 ||
      a.requests > 10'000'000 || a.alerts_per_request < 1 || a.fingerprints < 1 || a.rate < 0) {
    return Usage();
  }
  std::string token;
  {
    std::ifstream f(a.token_file);
    std::getline(f, token);
  }
  Totals all;
  Load load(a, token);
  if (!load.Run(&all)) return 1;
  double secs = load.seconds();

  if (!a.latency_out.empty()) {  // before Percentile reorders latency_ms
    std::ofstream out(a.latency_out);
    for (size_t i = 0; i < all.latency_ms.size(); ++i) {
      out << all.sent_ms_status[i].first << ' ' << all.latency_ms[i] << ' '
          << all.sent_ms_status[i].second << '\n';
    }
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

// `stopgap tcpstats`: every --interval, reads /proc/net/snmp + netstat and
// sends the TCP counter deltas, CurrEstab and the retransmit rate to StatsD in
// as few MTU-sized datagrams as possible. --once: one interval, then exit.
// Signals (TERM/INT) are waited for with sigtimedwait between readings.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/command.h"
#include "core/log.h"
#include "core/time.h"
#include "net/tcp_counters.h"
#include "statsd/client.h"
#include "statsd/tcpstats.h"

namespace stopgap::cli {
namespace {

struct TcpstatsFlags {
  std::string statsd = "127.0.0.1:8125";
  std::string interval = "10s";
  std::string prefix;
  size_t mtu = 1432;
  bool once = false;
  std::string proc_root = "/proc";
};

// Waits up to ms for TERM/INT; true when one arrived.
bool WaitForStop(const sigset_t& set, int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
  while (true) {
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return true;
    if (errno == EAGAIN) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

CommandMain SetupTcpstats(CLI::App& sub) {
  auto f = std::make_shared<TcpstatsFlags>();
  sub.add_option("--statsd", f->statsd, "StatsD HOST:PORT")->capture_default_str();
  sub.add_option("--interval", f->interval, "time between readings (10s, 500ms)")
      ->capture_default_str();
  sub.add_option("--prefix", f->prefix, "metric prefix (default: <hostname>.tcp)");
  sub.add_option("--mtu", f->mtu, "payload bytes per UDP datagram")->capture_default_str();
  sub.add_flag("--once", f->once, "send one interval (two readings --interval apart) and exit");
  sub.add_option("--proc-root", f->proc_root, "where proc is mounted")->capture_default_str();
  return [f]() -> int {
    Result<Duration> interval = ParseDuration(f->interval);
    if (!interval.ok() || interval->count() <= 0) {
      std::fprintf(stderr, "stopgap tcpstats: --interval: expected a positive duration\n");
      return kExitUsage;
    }
    if (f->mtu < 64 || f->mtu > 65507) {
      std::fprintf(stderr, "stopgap tcpstats: --mtu: must be 64..65507\n");
      return kExitUsage;
    }
    std::string prefix = f->prefix.empty() ? statsd::DefaultTcpStatsPrefix() : f->prefix;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Result<std::unique_ptr<statsd::StatsdClient>> client = statsd::StatsdClient::Create(
        {.address = f->statsd, .mtu = f->mtu, .queue_capacity = 4096, .flush_interval_ms = 1000});
    if (!client.ok()) {
      std::fprintf(stderr, "stopgap tcpstats: --statsd: %s\n", client.status().message().c_str());
      return kExitUsage;
    }
    Result<net::TcpCounters> before = net::ReadTcpCounters(f->proc_root);
    if (!before.ok()) {
      std::fprintf(stderr, "stopgap tcpstats: %s\n", before.status().ToString().c_str());
      return kExitFailed;
    }
    const int64_t step = interval->count();
    auto next = std::chrono::steady_clock::now();
    while (true) {
      next += std::chrono::milliseconds(step);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      next - std::chrono::steady_clock::now())
                      .count();
      if (WaitForStop(set, left > 0 ? left : 0)) return kExitOk;
      Result<net::TcpCounters> after = net::ReadTcpCounters(f->proc_root);
      if (!after.ok()) {
        Log(LogLevel::kError, "reading TCP counters failed", {{"error", after.status().message()}});
        if (f->once) return kExitFailed;
        continue;
      }
      for (const std::string& line : statsd::TcpStatsLines(*before, *after, prefix)) {
        (*client)->Send(line);
      }
      if (!(*client)->Flush(5000)) Log(LogLevel::kWarn, "statsd send did not finish in 5s");
      before = std::move(after);
      if (f->once) {
        statsd::StatsdClientCounters c = (*client)->Counters();
        return c.dropped_lines == 0 ? kExitOk : kExitFailed;
      }
    }
  };
}

}  // namespace stopgap::cli

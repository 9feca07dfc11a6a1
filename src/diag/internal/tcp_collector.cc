// The `tcp` collector: the kernel's TCP counters (through the parser shared
// with `stopgap tcpstats`, src/net/tcp_counters.h) with deltas and the
// retransmit rate over the collector's window, sockets by state, and listen
// queues with their overflow counters. Runs on its collector thread.
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "core/file.h"
#include "diag/internal/collector.h"
#include "diag/internal/proc_parse.h"
#include "diag/internal/text_table.h"
#include "net/tcp_counters.h"

namespace stopgap::diag::internal {

Status CollectTcp(CollectorContext& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  auto before = net::ReadTcpCounters();
  if (!before.ok()) return before.status().WithContext("tcp counters");

  // Sockets by state and listen queues (tcp + tcp6), while the window runs.
  std::map<std::string, int> by_state;
  TextTable listen({"proto", "local", "accept_queue", "backlog", "inode"});
  size_t bad = 0, total = 0;
  for (const char* proto : {"tcp", "tcp6"}) {
    auto text = ReadFile(std::string("/proc/net/") + proto, 256 << 20);
    if (!text.ok()) continue;
    for (const SocketEntry& e : ParseSocketTable(*text, &bad)) {
      ++total;
      ++by_state[std::string(TcpStateName(e.state))];
      // For a LISTEN socket the kernel reports the accept queue as rx_queue
      // and the backlog limit as tx_queue.
      if (e.state == 10) {
        listen.Add({proto, e.local, std::to_string(e.rx_queue), std::to_string(e.tx_queue),
                    std::to_string(e.inode)});
      }
    }
    if (ctx.Expired()) return DeadlineExceeded("tcp: budget spent reading sockets");
  }
  std::string sockets = "tcp sockets: " + std::to_string(total) + "\n";
  for (const auto& [s, n] : by_state) sockets += "  " + s + ": " + std::to_string(n) + "\n";
  if (bad > 0) sockets += "  (unparsed rows: " + std::to_string(bad) + ")\n";
  sockets += "\n# listening sockets\n" + listen.Render();

  auto min_window = std::chrono::milliseconds(20);
  auto spent = std::chrono::steady_clock::now() - t0;
  if (spent < min_window) std::this_thread::sleep_for(min_window - spent);
  auto after = net::ReadTcpCounters();
  if (!after.ok()) return after.status().WithContext("tcp counters");
  double window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  auto get = [&](std::string_view sec, std::string_view name) { return after->Get(sec, name); };
  std::string c;
  char line[256];
  std::snprintf(line, sizeof line, "window_ms: %.0f\n", window_s * 1000);
  c += line;
  auto retrans = get("Tcp", "RetransSegs"), out = get("Tcp", "OutSegs");
  double since_boot =
      out && *out > 0 && retrans ? static_cast<double>(*retrans) / static_cast<double>(*out) : 0;
  std::snprintf(line, sizeof line,
                "retransmit_rate_window: %.6f\nretransmit_rate_since_boot: %.6f\n",
                net::RetransmitRate(*before, *after), since_boot);
  c += line;
  for (const char* n : {"ListenOverflows", "ListenDrops"}) {
    auto v = get("TcpExt", n);
    c += std::string(n) + ": " + (v ? std::to_string(*v) : "n/a") + " (+" +
         std::to_string(net::CounterDelta(*before, *after, "TcpExt", n)) + " in window)\n";
  }
  TextTable t({"counter", "value", "delta"});
  auto add = [&](std::string_view sec, std::string_view name) {
    auto v = get(sec, name);
    if (!v) return;
    t.Add({std::string(sec) + "." + std::string(name), std::to_string(*v),
           std::to_string(net::CounterDelta(*before, *after, sec, name))});
  };
  for (std::string_view f : net::kTcpFields) add("Tcp", f);
  for (std::string_view f : net::kTcpExtFields) add("TcpExt", f);
  c += "\n" + t.Render();
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("counters.txt", c));

  // Every counter of both files, for whoever needs one we did not pick.
  std::string all;
  for (const net::ProcNetCounter& pc : after->counters) {
    all += pc.section + "." + pc.name + " " + std::to_string(pc.value) + "\n";
  }
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("counters-all.txt", all));
  ctx.Metric("tcp_sockets", static_cast<int64_t>(total));
  return ctx.WriteFile("sockets.txt", sockets);
}

}  // namespace stopgap::diag::internal

// `stopgap statsd proxy`: proxy.js's job (route each metric name to one StatsD
// node on proxy.js's hash ring, health-check the nodes). Flags or -c FILE
// (proxy.js's own config, e.g. exampleProxyConfig.js) build a ProxyConfig;
// the main thread waits for SIGTERM/SIGINT.
#include <pthread.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/file.h"
#include "core/log.h"
#include "statsd/proxy.h"
#include "statsd/reference_config.h"

namespace stopgap::cli {
namespace {

struct ProxyFlags {
  std::string config_file;
  std::string udp, admin;
  std::vector<std::string> nodes;
  int check_interval_ms = 0;
  size_t mtu = 0;
  int receive_nap_us = -1;  // -1: the default
  bool no_gso = false, no_gro = false;
  std::string log_level = "info";
};

// "host:port:adminport" (IPv6 hosts in brackets).
Result<statsd::ProxyNode> ParseNode(const std::string& s) {
  size_t c2 = s.rfind(':');
  size_t c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : s.rfind(':', c2 - 1);
  if (c1 == std::string::npos)
    return InvalidArgument("--node " + s + ": expected HOST:PORT:ADMINPORT");
  statsd::ProxyNode n;
  n.host = s.substr(0, c1);
  if (n.host.size() > 2 && n.host.front() == '[') n.host = n.host.substr(1, n.host.size() - 2);
  auto num = [](std::string_view t, int* out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
    return ec == std::errc() && p == t.data() + t.size() && *out > 0 && *out < 65536;
  };
  if (!num(std::string_view(s).substr(c1 + 1, c2 - c1 - 1), &n.port) ||
      !num(std::string_view(s).substr(c2 + 1), &n.adminport)) {
    return InvalidArgument("--node " + s + ": expected HOST:PORT:ADMINPORT");
  }
  return n;
}

}  // namespace

CommandMain SetupStatsdProxy(CLI::App& sub) {
  auto f = std::make_shared<ProxyFlags>();
  sub.add_option("-c,--config", f->config_file, "proxy.js's config file (exampleProxyConfig.js)");
  sub.add_option("--udp", f->udp, "UDP listen address (default 127.0.0.1:8125)");
  sub.add_option("--admin", f->admin, "admin interface address (default 127.0.0.1:8126)");
  sub.add_option("--node", f->nodes, "HOST:PORT:ADMINPORT of a StatsD node (repeatable)");
  sub.add_option("--check-interval", f->check_interval_ms, "health check interval, ms (10000)");
  sub.add_option("--mtu", f->mtu, "payload bytes per datagram sent to a node (1432)")
      ->check(CLI::Range(64, 65507));
  sub.add_option("--receive-nap-us", f->receive_nap_us,
                 "sleep after a batch that emptied the socket, µs (1000; 0 = never)")
      ->check(CLI::Range(0, 100000));
  sub.add_flag("--no-gso", f->no_gso,
               "send each datagram on its own, not runs of equal-length ones with UDP GSO");
  sub.add_flag("--no-gro", f->no_gro, "leave UDP_GRO off on the listening socket");
  sub.add_option("--log-level", f->log_level)->capture_default_str();
  return [f]() -> int {
    LogLevel level;
    if (ParseLogLevel(f->log_level, &level)) SetLogLevel(level);
    statsd::ProxyConfig c;
    if (!f->config_file.empty()) {
      Result<std::string> text = ReadFile(f->config_file);
      if (!text.ok()) {
        std::fprintf(stderr, "stopgap statsd proxy: %s\n", text.status().message().c_str());
        return kExitUsage;
      }
      Result<statsd::ReferenceProxyConfig> r =
          statsd::ParseReferenceProxyConfig(*text, f->config_file);
      if (!r.ok()) {
        std::fprintf(stderr, "stopgap statsd proxy: %s\n", r.status().message().c_str());
        return kExitUsage;
      }
      for (const std::string& w : r->warnings) Log(LogLevel::kWarn, "config: " + w);
      c = r->config;
    }
    if (!f->udp.empty()) c.udp = f->udp;
    if (!f->admin.empty()) c.admin = f->admin == "off" ? "" : f->admin;
    if (!f->nodes.empty()) {
      c.nodes.clear();
      for (const std::string& s : f->nodes) {
        Result<statsd::ProxyNode> n = ParseNode(s);
        if (!n.ok()) {
          std::fprintf(stderr, "stopgap statsd proxy: %s\n", n.status().message().c_str());
          return kExitUsage;
        }
        c.nodes.push_back(*n);
      }
    }
    if (f->check_interval_ms > 0) c.check_interval_ms = f->check_interval_ms;
    if (f->mtu > 0) c.mtu = f->mtu;
    if (f->receive_nap_us >= 0) c.receive_nap_us = f->receive_nap_us;
    if (f->no_gso) c.gso = false;
    if (f->no_gro) c.gro = false;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Result<std::unique_ptr<statsd::StatsdProxy>> proxy = statsd::StatsdProxy::Start(c);
    if (!proxy.ok()) {
      std::fprintf(stderr, "stopgap statsd proxy: %s\n", proxy.status().ToString().c_str());
      return proxy.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
    }
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    (*proxy)->Stop();
    return kExitOk;
  };
}

}  // namespace stopgap::cli

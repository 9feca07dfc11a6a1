// `stopgap statsd`: the StatsD server. Flags (or -c FILE: YAML with the same
// names in snake_case, or the reference's config.js) build a StatsdConfig;
// the main thread then waits for
// signals: SIGHUP re-reads the configuration (flush settings apply at once)
// and retries Graphite, SIGTERM/SIGINT flush once and exit.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/file.h"
#include "core/log.h"
#include "core/time.h"
#include "statsd/config.h"
#include "statsd/reference_config.h"
#include "statsd/server.h"

namespace stopgap::cli {
namespace {

struct StatsdFlags {
  std::string config_file;
  statsd::StatsdConfig c;
  std::string flush_interval = "10s";
  std::string percentiles = "90";
  std::vector<std::string> histograms;
  std::string calculated;
  bool delete_idle = false;
  bool legacy = true, flush_counts = true, sanitize = true;
  bool del_counters = false, del_timers = false, del_gauges = false, del_sets = false;
  std::string global_suffix;
  std::string log_level = "info";
  std::string graphite_protocol = "text";
  std::string repeater_protocol = "udp4";
  bool print_config = false;
};

Result<std::vector<double>> ParsePercentiles(const std::string& text) {
  Result<std::vector<double>> v = statsd::ParseBins(text);
  if (!v.ok()) return InvalidArgument("--percentiles: " + v.status().message());
  return v;
}

}  // namespace

CommandMain SetupStatsd(CLI::App& sub) {
  auto f = std::make_shared<StatsdFlags>();
  statsd::StatsdConfig& c = f->c;
  CLI::App* proxy_cmd = sub.add_subcommand(
      "proxy", "Route each metric name to one StatsD node on proxy.js's hash ring");
  CommandMain proxy_main = SetupStatsdProxy(*proxy_cmd);
  sub.add_option("-c,--config", f->config_file,
                 "the reference's config.js (*.js, or text starting with `{`), or YAML with "
                 "these settings in snake_case");
  sub.add_flag("--print-config", f->print_config,
               "print the settings (and config.js warnings) and exit");
  auto* o_gproto = sub.add_option("--graphite-protocol", f->graphite_protocol,
                                  "text (carbon's plaintext port) or pickle (its pickle port)")
                       ->capture_default_str();
  auto* o_console = sub.add_flag("--console", c.console, "also print each flush's lines to stdout");
  auto* o_repeat = sub.add_option("--repeat", c.repeat_to,
                                  "forward every received packet to HOST:PORT (repeatable)");
  auto* o_rproto = sub.add_option("--repeater-protocol", f->repeater_protocol, "udp4, udp6 or tcp")
                       ->capture_default_str();
  auto* o_prom = sub.add_option("--prometheus", c.prometheus,
                                "HOST:PORT serving GET /metrics (Prometheus text format)");
  auto* o_fwd = sub.add_option("--forward-to", c.forward_to,
                               "global aggregation: send each interval's aggregates to the "
                               "global node at HOST:PORT");
  auto* o_node =
      sub.add_option("--node-id", c.node_id,
                     "this local node's id at the global node (default hostname:udp-port)");
  auto* o_fbuf = sub.add_option("--forward-buffer-bytes", c.forward_buffer_bytes,
                                "unacked intervals kept while the global node is away")
                     ->capture_default_str();
  auto* o_fint = sub.add_option("--forward-buffer-intervals", c.forward_buffer_intervals,
                                "... and at most this many intervals (oldest dropped, counted)")
                     ->capture_default_str();
  auto* o_fexact = sub.add_option("--forward-timer-exact-max", c.forward_timer_exact_max,
                                  "timers with more values per interval are forwarded as a sketch")
                       ->capture_default_str();
  auto* o_glob = sub.add_option("--global,--global-listen", c.global_listen,
                                "be the global node: merge intervals forwarded to HOST:PORT (TCP)");
  auto* o_setx = sub.add_option("--set-exact-max", c.flush.set_exact_max,
                                "sets with more members are forwarded/kept as a HyperLogLog")
                     ->capture_default_str();
  auto* o_udp = sub.add_option("--udp", c.udp, "UDP listen address")->capture_default_str();
  auto* o_tcp = sub.add_option("--tcp", c.tcp, "TCP intake listen address (off when empty)");
  auto* o_admin = sub.add_option("--admin", c.admin, "admin interface address (off when empty)")
                      ->capture_default_str();
  auto* o_graphite = sub.add_option("--graphite", c.graphite,
                                    "carbon plaintext HOST:PORT (empty: compute, discard)");
  auto* o_flush =
      sub.add_option("--flush-interval", f->flush_interval, "flush interval (10s, 500ms)")
          ->capture_default_str();
  auto* o_pct = sub.add_option("--percentiles", f->percentiles,
                               "timer percentiles, comma-separated (negative: top N)")
                    ->capture_default_str();
  auto* o_hist = sub.add_option("--histogram", f->histograms,
                                "METRIC_SUBSTRING=BIN,BIN,...,inf (repeatable; first match wins)");
  auto* o_calc =
      sub.add_option("--calculated-timer-metrics", f->calculated,
                     "only these timer stats, comma-separated (e.g. count,upper_percent)");
  auto* o_legacy = sub.add_option("--legacy-namespace", f->legacy, "graphite legacyNamespace")
                       ->capture_default_str();
  auto* o_gp =
      sub.add_option("--global-prefix", c.flush.naming.global_prefix)->capture_default_str();
  auto* o_pc =
      sub.add_option("--prefix-counter", c.flush.naming.prefix_counter)->capture_default_str();
  auto* o_pt = sub.add_option("--prefix-timer", c.flush.naming.prefix_timer)->capture_default_str();
  auto* o_pg = sub.add_option("--prefix-gauge", c.flush.naming.prefix_gauge)->capture_default_str();
  auto* o_pset = sub.add_option("--prefix-set", c.flush.naming.prefix_set)->capture_default_str();
  auto* o_gs = sub.add_option("--global-suffix", f->global_suffix, "appended to every name");
  auto* o_ps = sub.add_option("--prefix-stats", c.flush.naming.prefix_stats)->capture_default_str();
  auto* o_fc =
      sub.add_option("--flush-counts", f->flush_counts, "send stats_counts")->capture_default_str();
  auto* o_di = sub.add_option("--delete-idle-stats", f->delete_idle, "default for the four below");
  auto* o_dc = sub.add_option("--delete-counters", f->del_counters);
  auto* o_dt = sub.add_option("--delete-timers", f->del_timers);
  auto* o_dg = sub.add_option("--delete-gauges", f->del_gauges);
  auto* o_ds = sub.add_option("--delete-sets", f->del_sets);
  auto* o_ttl = sub.add_option("--gauges-max-ttl", c.flush.gauges_max_ttl)->capture_default_str();
  auto* o_san = sub.add_option("--key-name-sanitize", f->sanitize)->capture_default_str();
  auto* o_strict = sub.add_flag("--strict", c.parse.strict, "unknown type letters are bad lines");
  auto* o_dog = sub.add_flag("--dogstatsd", c.parse.dogstatsd,
                             "h/d are histograms; DogStatsD events and service checks are counted");
  auto* o_recv = sub.add_option("--receivers", c.receivers,
                                "receive threads on SO_REUSEPORT sockets (0: half the CPUs)");
  auto* o_rcvbuf = sub.add_option("--rcvbuf", c.rcvbuf_bytes, "SO_RCVBUF bytes per socket")
                       ->capture_default_str();
  auto* o_exact =
      sub.add_option("--timer-exact-max", c.flush.timer_exact_max,
                     "timers with more samples per interval use a sketch (1 % error; 0: never)")
          ->capture_default_str();
  auto* o_names =
      sub.add_option("--max-names", c.flush.max_names,
                     "distinct names held; new ones past it are dropped (statsd.names_dropped)")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
  auto* o_nap = sub.add_option("--receive-nap-us", c.receive_nap_us,
                               "after a recvmmsg that emptied the socket, wait this long (0: off)")
                    ->capture_default_str();
  auto* o_gbuf = sub.add_option("--graphite-buffer-bytes", c.graphite_buffer_bytes,
                                "unsent flushes kept while Graphite is down")
                     ->capture_default_str();
  auto* o_health = sub.add_option("--health-status", c.health_status)->capture_default_str();
  sub.add_option("--log-level", f->log_level)->capture_default_str();

  return [f, o_udp, o_tcp, o_admin, o_graphite, o_flush, o_pct, o_hist, o_calc, o_legacy, o_gp,
          o_pc, o_pt, o_pg, o_pset, o_gs, o_ps, o_fc, o_di, o_dc, o_dt, o_dg, o_ds, o_ttl, o_san,
          o_strict, o_dog, o_recv, o_rcvbuf, o_exact, o_names, o_nap, o_gbuf, o_health, o_gproto,
          o_console, o_repeat, o_rproto, o_prom, o_fwd, o_node, o_fbuf, o_fint, o_fexact, o_glob,
          o_setx, &sub, proxy_cmd, proxy_main]() -> int {
    if (proxy_cmd->parsed()) return proxy_main();
    LogLevel level;
    if (ParseLogLevel(f->log_level, &level)) SetLogLevel(level);
    const bool log_level_given = sub.get_option("--log-level")->count() > 0;
    std::vector<std::string> warnings;
    // The file (if any), then the flags given on the command line over it.
    // Run again on SIGHUP: the file is re-read, the flags still win.
    auto build = [&]() -> Result<statsd::StatsdConfig> {
      statsd::StatsdConfig c;
      warnings.clear();
      if (!f->config_file.empty()) {
        Result<std::string> text = ReadFile(f->config_file);
        if (!text.ok()) return text.status();
        if (statsd::IsReferenceConfig(f->config_file, *text)) {
          Result<statsd::ReferenceConfig> ref = statsd::ParseReferenceConfig(*text, f->config_file);
          if (!ref.ok()) return ref.status();
          warnings = ref->warnings;
          if (ref->debug && !log_level_given) SetLogLevel(LogLevel::kDebug);
          c = std::move(ref->config);
        } else {
          Result<statsd::StatsdConfig> parsed =
              statsd::ParseStatsdConfigYaml(*text, f->config_file);
          if (!parsed.ok()) return parsed.status();
          c = std::move(*parsed);
        }
      }
      const statsd::StatsdConfig& fl = f->c;
      auto given = [](CLI::Option* o) { return o->count() > 0; };
      auto bad = [](const std::string& m) { return InvalidArgument(m); };
      if (given(o_udp)) c.udp = fl.udp;
      if (given(o_tcp)) c.tcp = fl.tcp;
      if (given(o_admin)) c.admin = fl.admin;
      if (given(o_graphite)) c.graphite = fl.graphite;
      if (given(o_flush)) {
        Result<Duration> d = ParseDuration(f->flush_interval);
        if (!d.ok() || d->count() <= 0)
          return bad("--flush-interval: expected a positive duration");
        c.flush.flush_interval_ms = d->count();
      }
      if (given(o_pct)) {
        Result<std::vector<double>> p = ParsePercentiles(f->percentiles);
        if (!p.ok()) return bad(p.status().message());
        c.flush.percentiles = *p;
      }
      for (const std::string& h : f->histograms) {
        size_t eq = h.find('=');
        if (eq == std::string::npos) return bad("--histogram: expected METRIC=BIN,BIN,...");
        Result<std::vector<double>> bins = statsd::ParseBins(h.substr(eq + 1));
        if (!bins.ok()) return bad("--histogram: " + bins.status().message());
        c.flush.histograms.push_back({h.substr(0, eq), *bins});
      }
      (void)o_hist;
      if (given(o_calc)) {
        c.flush.calculated_timer_metrics.clear();
        size_t start = 0;
        while (start <= f->calculated.size()) {
          size_t comma = f->calculated.find(',', start);
          std::string m = f->calculated.substr(
              start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!m.empty()) c.flush.calculated_timer_metrics.push_back(m);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      auto& n = c.flush.naming;
      if (given(o_legacy)) n.legacy_namespace = f->legacy;
      if (given(o_gp)) n.global_prefix = fl.flush.naming.global_prefix;
      if (given(o_pc)) n.prefix_counter = fl.flush.naming.prefix_counter;
      if (given(o_pt)) n.prefix_timer = fl.flush.naming.prefix_timer;
      if (given(o_pg)) n.prefix_gauge = fl.flush.naming.prefix_gauge;
      if (given(o_pset)) n.prefix_set = fl.flush.naming.prefix_set;
      if (given(o_gs)) n.global_suffix = f->global_suffix;
      if (given(o_ps)) n.prefix_stats = fl.flush.naming.prefix_stats;
      if (given(o_fc)) n.flush_counts = f->flush_counts;
      if (given(o_di)) {
        c.flush.delete_counters = c.flush.delete_timers = c.flush.delete_gauges =
            c.flush.delete_sets = f->delete_idle;
      }
      if (given(o_dc)) c.flush.delete_counters = f->del_counters;
      if (given(o_dt)) c.flush.delete_timers = f->del_timers;
      if (given(o_dg)) c.flush.delete_gauges = f->del_gauges;
      if (given(o_ds)) c.flush.delete_sets = f->del_sets;
      if (given(o_ttl))
        c.flush.gauges_max_ttl = fl.flush.gauges_max_ttl > 1 ? fl.flush.gauges_max_ttl : 1;
      if (given(o_san)) c.flush.key_name_sanitize = c.parse.sanitize = f->sanitize;
      if (given(o_strict)) c.parse.strict = fl.parse.strict;
      if (given(o_dog)) c.parse.dogstatsd = fl.parse.dogstatsd;
      if (given(o_recv)) c.receivers = fl.receivers;
      if (given(o_rcvbuf)) c.rcvbuf_bytes = fl.rcvbuf_bytes;
      if (given(o_exact)) c.flush.timer_exact_max = fl.flush.timer_exact_max;
      if (given(o_names)) c.flush.max_names = fl.flush.max_names;
      if (given(o_nap)) {
        if (fl.receive_nap_us < 0 || fl.receive_nap_us > 100000) {
          return bad("--receive-nap-us: must be 0..100000");
        }
        c.receive_nap_us = fl.receive_nap_us;
      }
      if (given(o_gbuf)) c.graphite_buffer_bytes = fl.graphite_buffer_bytes;
      if (given(o_health)) {
        if (fl.health_status != "up" && fl.health_status != "down") {
          return bad("--health-status: expected up or down");
        }
        c.health_status = fl.health_status;
      }
      if (given(o_gproto) &&
          !statsd::ParseGraphiteProtocol(f->graphite_protocol, &c.graphite_protocol)) {
        return bad("--graphite-protocol: expected text or pickle");
      }
      if (given(o_console)) c.console = fl.console;
      if (given(o_repeat)) c.repeat_to = fl.repeat_to;
      if (given(o_rproto) &&
          !statsd::ParseRepeaterProtocol(f->repeater_protocol, &c.repeater_protocol)) {
        return bad("--repeater-protocol: expected udp4, udp6 or tcp");
      }
      if (given(o_prom)) c.prometheus = fl.prometheus;
      if (given(o_fwd)) c.forward_to = fl.forward_to;
      if (given(o_node)) {
        if (fl.node_id.size() > 255) return bad("--node-id: at most 255 bytes");
        c.node_id = fl.node_id;
      }
      if (given(o_fbuf)) c.forward_buffer_bytes = fl.forward_buffer_bytes;
      if (given(o_fint)) c.forward_buffer_intervals = fl.forward_buffer_intervals;
      if (given(o_fexact)) c.forward_timer_exact_max = fl.forward_timer_exact_max;
      if (given(o_glob)) c.global_listen = fl.global_listen;
      if (given(o_setx)) c.flush.set_exact_max = fl.flush.set_exact_max;
      return c;
    };
    auto log_warnings = [&] {
      for (const std::string& w : warnings) Log(LogLevel::kWarn, "config: " + w);
    };
    Result<statsd::StatsdConfig> built = build();
    if (!built.ok()) {
      std::fprintf(stderr, "stopgap statsd: %s\n", built.status().message().c_str());
      return kExitUsage;
    }
    const statsd::StatsdConfig& c = *built;
    if (f->print_config) {
      for (const std::string& w : warnings) std::printf("warning: %s\n", w.c_str());
      std::fputs(statsd::DescribeConfig(c).c_str(), stdout);
      return kExitOk;
    }
    log_warnings();

    // Signals go to this thread only: block them before any server thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    Result<std::unique_ptr<statsd::StatsdServer>> server = statsd::StatsdServer::Start(c);
    if (!server.ok()) {
      std::fprintf(stderr, "stopgap statsd: %s\n", server.status().ToString().c_str());
      return server.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
    }
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        // Reopen: re-read the configuration, apply what can change while
        // running, and retry Graphite now. A bad file keeps the running one.
        Result<statsd::StatsdConfig> again = build();
        if (!again.ok()) {
          Log(LogLevel::kError, "SIGHUP: configuration not reloaded",
              {{"error", again.status().message()}});
          (*server)->Reopen();
          continue;
        }
        log_warnings();
        std::vector<std::string> kept = (*server)->Reload(*again);
        std::string names;
        for (const std::string& k : kept) names += (names.empty() ? "" : ",") + k;
        Log(LogLevel::kInfo, "SIGHUP: configuration reloaded, retrying graphite now",
            {{"needs_restart", names.empty() ? "none" : names}});
        continue;
      }
      Log(LogLevel::kInfo, "stopping: final flush", {{"signal", std::to_string(sig)}});
      (*server)->Stop(/*final_flush=*/true);
      return kExitOk;
    }
  };
}

}  // namespace stopgap::cli

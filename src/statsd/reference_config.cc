// ParseReferenceConfig: config.js keys -> StatsdConfig, one table row per key
// the reference reads (kKeys); everything else is a warning.
#include "statsd/reference_config.h"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include "statsd/js_literal.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

std::string HostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return "[" + host + "]:" + port;
  }
  return host + ":" + port;
}

// The state of one read: what was seen, then turned into StatsdConfig at the end.
class Mapper {
 public:
  Mapper(const std::string& file, StatsdConfig base) : file_(file) { r_.config = std::move(base); }

  Result<ReferenceConfig> Run(const JsValue& root) {
    for (const JsMember& m : root.members) {
      Status st = Key(m);
      if (!st.ok()) return st;
    }
    Status st = Finish();
    if (!st.ok()) return st;
    return std::move(r_);
  }

 private:
  std::string At(int line, int column) const {
    return file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  void Warn(const JsMember& m, const std::string& what) {
    r_.warnings.push_back(At(m.line, m.column) + m.key + ": " + what);
  }
  Status Bad(const JsValue& v, const std::string& name, const std::string& what) const {
    return InvalidArgument(At(v.line, v.column) + name + ": " + what);
  }

  // Number(x) of the reference: numbers, and strings Number() reads.
  Result<double> Num(const JsValue& v, const std::string& name) const {
    if (v.type == JsValue::Type::kNumber) return v.number;
    if (v.type == JsValue::Type::kString) {
      double d = JsStringToNumber(v.string);
      if (d == d) return d;
    }
    return Bad(v, name, "expected a number, found " + std::string(v.TypeName()));
  }
  Result<std::string> Str(const JsValue& v, const std::string& name) const {
    if (v.type == JsValue::Type::kString) return v.string;
    if (v.type == JsValue::Type::kNumber) return JsNumberToString(v.number);
    return Bad(v, name, "expected a string, found " + std::string(v.TypeName()));
  }
  Result<std::string> Port(const JsValue& v, const std::string& name) const {
    Result<double> d = Num(v, name);
    if (!d.ok()) return d.status();
    if (*d < 0 || *d > 65535 || *d != std::floor(*d)) return Bad(v, name, "not a port number");
    return JsNumberToString(*d);
  }

  Status Key(const JsMember& m) {
    const std::string& k = m.key;
    const JsValue& v = m.value;
    StatsdConfig& c = r_.config;
    FlushConfig& f = c.flush;
    GraphiteNaming& n = f.naming;
    auto str_into = [&](std::string* out) -> Status {
      Result<std::string> s = Str(v, k);
      if (!s.ok()) return s.status();
      *out = *s;
      return Status::Ok();
    };
    if (v.type == JsValue::Type::kUndefined) return Status::Ok();  // same as absent
    if (k == "port") {
      Result<std::string> p = Port(v, k);
      if (!p.ok()) return p.status();
      port_ = *p;
    } else if (k == "address") {
      STOPGAP_RETURN_IF_ERROR(str_into(&address_));
      address_set_ = true;
    } else if (k == "address_ipv6") {
      ipv6_ = v.Truthy();
    } else if (k == "server") {
      STOPGAP_RETURN_IF_ERROR(str_into(&server_));
      server_member_ = &m;
    } else if (k == "servers") {
      if (v.type != JsValue::Type::kArray) return Bad(v, k, "expected an array of servers");
      servers_ = &m;
    } else if (k == "mgmt_port") {
      Result<std::string> p = Port(v, k);
      if (!p.ok()) return p.status();
      mgmt_port_ = *p;
    } else if (k == "mgmt_address") {
      STOPGAP_RETURN_IF_ERROR(str_into(&mgmt_address_));
      mgmt_address_set_ = true;
    } else if (k == "graphiteHost") {
      STOPGAP_RETURN_IF_ERROR(str_into(&graphite_host_));
    } else if (k == "graphitePort") {
      Result<std::string> p = Port(v, k);
      if (!p.ok()) return p.status();
      graphite_port_ = *p;
    } else if (k == "graphitePicklePort") {
      Result<std::string> p = Port(v, k);
      if (!p.ok()) return p.status();
      graphite_pickle_port_ = *p;
    } else if (k == "graphiteProtocol") {
      // The reference: 'pickle' is pickle, anything else is text.
      std::string s;
      STOPGAP_RETURN_IF_ERROR(str_into(&s));
      c.graphite_protocol = s == "pickle" ? GraphiteProtocol::kPickle : GraphiteProtocol::kText;
      if (s != "pickle" && s != "text") Warn(m, "\"" + s + "\" is neither text nor pickle: text");
    } else if (k == "graphite") {
      if (v.type != JsValue::Type::kObject) return Bad(v, k, "expected an object");
      STOPGAP_RETURN_IF_ERROR(Graphite(v));
    } else if (k == "backends") {
      if (v.type != JsValue::Type::kArray) return Bad(v, k, "expected an array of backend names");
      backends_ = &m;
    } else if (k == "flushInterval") {
      if (!v.Truthy()) return Status::Ok();  // Number(x || 10000)
      Result<double> d = Num(v, k);
      if (!d.ok()) return d.status();
      if (!(*d >= 1) || *d > 86400000.0 * 366) return Bad(v, k, "must be a positive number of ms");
      f.flush_interval_ms = static_cast<int64_t>(*d);
    } else if (k == "percentThreshold") {
      if (!v.Truthy()) return Status::Ok();  // x || 90
      f.percentiles.clear();
      if (v.type == JsValue::Type::kArray) {
        for (const JsValue& p : v.items) {
          Result<double> d = Num(p, k);
          if (!d.ok()) return d.status();
          f.percentiles.push_back(*d);
        }
      } else {
        Result<double> d = Num(v, k);
        if (!d.ok()) return d.status();
        f.percentiles.push_back(*d);
      }
    } else if (k == "histogram") {
      if (v.type != JsValue::Type::kArray) return Bad(v, k, "expected an array of {metric, bins}");
      f.histograms.clear();
      for (const JsValue& h : v.items) {
        if (h.type != JsValue::Type::kObject) return Bad(h, k, "expected {metric, bins}");
        HistogramSpec spec;
        if (const JsValue* metric = h.Get("metric")) {
          Result<std::string> s = Str(*metric, "histogram.metric");
          if (!s.ok()) return s.status();
          spec.metric = *s;
        }
        const JsValue* bins = h.Get("bins");
        if (bins == nullptr || bins->type != JsValue::Type::kArray) {
          return Bad(h, k, "each entry needs bins: [ ... ]");
        }
        for (const JsValue& b : bins->items) {
          if (b.type == JsValue::Type::kString && b.string == "inf") {
            spec.bins.push_back(std::numeric_limits<double>::infinity());
            continue;
          }
          Result<double> d = Num(b, "histogram.bins");
          if (!d.ok()) return d.status();
          spec.bins.push_back(*d);
        }
        f.histograms.push_back(std::move(spec));
      }
    } else if (k == "calculatedTimerMetrics") {
      if (v.type != JsValue::Type::kArray) return Bad(v, k, "expected an array of names");
      f.calculated_timer_metrics.clear();
      for (const JsValue& s : v.items) {
        Result<std::string> name = Str(s, k);
        if (!name.ok()) return name.status();
        f.calculated_timer_metrics.push_back(*name);
      }
    } else if (k == "deleteIdleStats") {
      delete_idle_ = v.Truthy();
    } else if (k == "deleteCounters") {
      delete_counters_ = v.Truthy();
    } else if (k == "deleteTimers") {
      delete_timers_ = v.Truthy();
    } else if (k == "deleteSets") {
      delete_sets_ = v.Truthy();
    } else if (k == "deleteGauges") {
      delete_gauges_ = v.Truthy();
    } else if (k == "gaugesMaxTTL") {
      // Only an integer > 1 counts; anything else is 1.
      bool integer = v.type == JsValue::Type::kNumber && v.number == std::floor(v.number);
      f.gauges_max_ttl = integer && v.number > 1 ? static_cast<int>(std::min(v.number, 1e9)) : 1;
    } else if (k == "prefixStats") {
      STOPGAP_RETURN_IF_ERROR(str_into(&n.prefix_stats));
    } else if (k == "keyNameSanitize") {
      f.key_name_sanitize = c.parse.sanitize = v.Truthy();
    } else if (k == "flush_counts") {
      n.flush_counts = v.Truthy();
    } else if (k == "healthStatus") {
      std::string s;
      STOPGAP_RETURN_IF_ERROR(str_into(&s));
      if (s != "up" && s != "down") return Bad(v, k, "must be \"up\" or \"down\"");
      c.health_status = s;
    } else if (k == "debug") {
      r_.debug = v.Truthy();
    } else if (k == "dumpMessages") {
      if (v.Truthy()) {
        Warn(m,
             "not supported (logging every packet would cost the receive path); "
             "capture the traffic instead, e.g. tcpdump -A udp port 8125");
      }
    } else if (k == "keyFlush") {
      if (v.Truthy()) {
        Warn(m,
             "not supported: stopgap does not log the most frequent keys; admin "
             "`counters` lists them");
      }
    } else if (k == "title") {
      if (v.Truthy()) Warn(m, "ignored: stopgap does not rename its process");
    } else if (k == "log") {
      const JsValue* backend = v.type == JsValue::Type::kObject ? v.Get("backend") : nullptr;
      if (backend && backend->type == JsValue::Type::kString && backend->string == "syslog") {
        Warn(m,
             "syslog is not supported: stopgap logs to stderr (route it with your service "
             "manager)");
      }
    } else if (k == "automaticConfigReload") {
      if (v.Truthy()) {
        Warn(m, "stopgap does not watch the file: send SIGHUP to reload it");
      }
    } else if (k == "console") {
      const JsValue* pp = v.type == JsValue::Type::kObject ? v.Get("prettyprint") : nullptr;
      if (pp != nullptr)
        Warn(m,
             "prettyprint has no effect: the console backend prints the "
             "Graphite lines of each flush");
    } else if (k == "repeater") {
      if (v.type != JsValue::Type::kArray) return Bad(v, k, "expected an array of {host, port}");
      repeater_ = &m;
    } else if (k == "repeaterProtocol") {
      std::string s;
      STOPGAP_RETURN_IF_ERROR(str_into(&s));
      if (!ParseRepeaterProtocol(s, &c.repeater_protocol)) {
        c.repeater_protocol = RepeaterProtocol::kUdp4;  // the reference's else branch
        Warn(m, "\"" + s + "\" is not udp4, udp6 or tcp: udp4, as the reference does");
      }
    } else if (k == "nodes" || k == "checkInterval" || k == "cacheSize" || k == "forkCount" ||
               k == "udp_version" || k == "host") {
      Warn(m, "a proxy.js setting: `stopgap statsd` ignores it");
    } else {
      Warn(m, "not a setting of the reference statsd 0.9.0: ignored");
    }
    return Status::Ok();
  }

  Status Graphite(const JsValue& g) {
    GraphiteNaming& n = r_.config.flush.naming;
    for (const JsMember& m : g.members) {
      const JsValue& v = m.value;
      const std::string name = "graphite." + m.key;
      if (v.type == JsValue::Type::kUndefined) continue;
      auto str_into = [&](std::string* out) -> Status {
        Result<std::string> s = Str(v, name);
        if (!s.ok()) return s.status();
        *out = *s;
        return Status::Ok();
      };
      if (m.key == "legacyNamespace") {
        // The reference compares with === true and === false in two places.
        if (v.type != JsValue::Type::kBool) return Bad(v, name, "expected true or false");
        n.legacy_namespace = v.boolean;
      } else if (m.key == "globalPrefix") {
        STOPGAP_RETURN_IF_ERROR(str_into(&n.global_prefix));
      } else if (m.key == "prefixCounter") {
        STOPGAP_RETURN_IF_ERROR(str_into(&n.prefix_counter));
      } else if (m.key == "prefixTimer") {
        STOPGAP_RETURN_IF_ERROR(str_into(&n.prefix_timer));
      } else if (m.key == "prefixGauge") {
        STOPGAP_RETURN_IF_ERROR(str_into(&n.prefix_gauge));
      } else if (m.key == "prefixSet") {
        STOPGAP_RETURN_IF_ERROR(str_into(&n.prefix_set));
      } else if (m.key == "globalSuffix") {
        std::string s;
        STOPGAP_RETURN_IF_ERROR(str_into(&s));
        n.global_suffix = s;
      } else {
        r_.warnings.push_back(At(m.line, m.column) + name +
                              ": not a setting of the reference's graphite backend: ignored");
      }
    }
    return Status::Ok();
  }

  // One entry of `servers` (or the top level): UDP or TCP.
  Status Server(const JsValue& s, const JsMember& where) {
    std::string server = "./servers/udp", port = "8125", address;
    bool ipv6 = false, has_address = false;
    for (const JsMember& m : s.members) {
      const JsValue& v = m.value;
      if (v.type == JsValue::Type::kUndefined) continue;
      if (m.key == "server") {
        Result<std::string> x = Str(v, "servers.server");
        if (!x.ok()) return x.status();
        server = *x;
      } else if (m.key == "port") {
        Result<std::string> p = Port(v, "servers.port");
        if (!p.ok()) return p.status();
        port = *p;
      } else if (m.key == "address") {
        Result<std::string> x = Str(v, "servers.address");
        if (!x.ok()) return x.status();
        address = *x;
        has_address = true;
      } else if (m.key == "address_ipv6") {
        ipv6 = v.Truthy();
      } else if (m.key == "socket" || m.key == "socket_mod") {
        r_.warnings.push_back(At(m.line, m.column) + "servers." + m.key +
                              ": Unix domain sockets are not supported: ignored");
      } else {
        r_.warnings.push_back(At(m.line, m.column) + "servers." + m.key +
                              ": not a server setting of the reference: ignored");
      }
    }
    return AddServer(server, port, address, has_address, ipv6, where);
  }

  Status AddServer(const std::string& server, const std::string& port, std::string address,
                   bool has_address, bool ipv6, const JsMember& where) {
    std::string kind = server;
    size_t slash = kind.rfind('/');
    if (slash != std::string::npos) kind = kind.substr(slash + 1);
    if (kind.size() > 3 && kind.compare(kind.size() - 3, 3, ".js") == 0)
      kind.resize(kind.size() - 3);
    if (kind != "udp" && kind != "tcp") {
      return InvalidArgument(At(where.line, where.column) + where.key + ": server \"" + server +
                             "\" is not ./servers/udp or ./servers/tcp");
    }
    if (!has_address) {
      address = ipv6 ? "::1" : "127.0.0.1";
      unset_addresses_.push_back(kind);
    }
    std::string addr = HostPort(address, port);
    bool& seen = kind == "udp" ? udp_seen_ : tcp_seen_;
    if (seen) {
      r_.warnings.push_back(At(where.line, where.column) + where.key + ": a second " + kind +
                            " server (" + addr + "): stopgap listens on one; ignored");
      return Status::Ok();
    }
    seen = true;
    (kind == "udp" ? r_.config.udp : r_.config.tcp) = addr;
    return Status::Ok();
  }

  Status Finish() {
    StatsdConfig& c = r_.config;
    FlushConfig& f = c.flush;
    // Listeners: `servers`, or the top level (server, address, address_ipv6, port).
    if (servers_ != nullptr) {
      for (const JsValue& s : servers_->value.items) {
        if (s.type != JsValue::Type::kObject) return Bad(s, "servers", "expected an object");
        STOPGAP_RETURN_IF_ERROR(Server(s, *servers_));
      }
      if (!udp_seen_) {
        r_.warnings.push_back(At(servers_->line, servers_->column) +
                              "servers: no UDP server listed; stopgap still listens on UDP " +
                              c.udp);
      }
    } else {
      const JsMember top{"(top level)", {}, 1, 1};
      STOPGAP_RETURN_IF_ERROR(AddServer(server_.empty() ? "./servers/udp" : server_, port_,
                                        address_, address_set_, ipv6_,
                                        server_member_ ? *server_member_ : top));
      if (tcp_seen_ && !udp_seen_) {
        r_.warnings.push_back(At(server_member_->line, server_member_->column) +
                              "server: TCP only; stopgap also listens on UDP " + c.udp);
      }
    }
    for (const std::string& kind : unset_addresses_) {
      r_.warnings.push_back(file_ + ": address: not set, so the reference's " + kind +
                            " server listens on every interface; stopgap listens on loopback "
                            "(set address: \"0.0.0.0\" to listen on all)");
    }
    // Admin interface.
    std::string mgmt_addr = mgmt_address_set_ ? mgmt_address_ : "127.0.0.1";
    c.admin = HostPort(mgmt_addr, mgmt_port_);
    if (!mgmt_address_set_) {
      r_.warnings.push_back(file_ +
                            ": mgmt_address: not set, so the reference's admin interface "
                            "listens on every interface; stopgap listens on 127.0.0.1");
    }
    // deleteIdleStats is the default of the four; each set one wins.
    f.delete_counters = delete_counters_.value_or(delete_idle_);
    f.delete_timers = delete_timers_.value_or(delete_idle_);
    f.delete_sets = delete_sets_.value_or(delete_idle_);
    f.delete_gauges = delete_gauges_.value_or(delete_idle_);
    // Backends: graphite unless `backends` says otherwise.
    bool graphite = true, console = false, repeater = false;
    if (backends_ != nullptr) {
      graphite = false;
      for (const JsValue& b : backends_->value.items) {
        Result<std::string> name = Str(b, "backends");
        if (!name.ok()) return name.status();
        std::string kind = *name;
        size_t slash = kind.rfind('/');
        if (slash != std::string::npos) kind = kind.substr(slash + 1);
        if (kind.size() > 3 && kind.compare(kind.size() - 3, 3, ".js") == 0) {
          kind.resize(kind.size() - 3);
        }
        if (kind == "graphite") {
          graphite = true;
        } else if (kind == "console") {
          console = true;
        } else if (kind == "repeater") {
          repeater = true;
        } else {
          r_.warnings.push_back(At(b.line, b.column) + "backends: \"" + *name +
                                "\" is not built into stopgap (graphite, console, repeater): "
                                "ignored");
        }
      }
    }
    c.graphite.clear();
    if (graphite && !graphite_host_.empty()) {
      c.graphite = HostPort(graphite_host_, c.graphite_protocol == GraphiteProtocol::kPickle
                                                ? graphite_pickle_port_
                                                : graphite_port_);
    }
    c.console = console;
    c.repeat_to.clear();
    if (repeater_ != nullptr) {
      if (!repeater) {
        r_.warnings.push_back(At(repeater_->line, repeater_->column) +
                              "repeater: backends does not load ./backends/repeater: ignored");
      } else {
        for (const JsValue& t : repeater_->value.items) {
          if (t.type != JsValue::Type::kObject) return Bad(t, "repeater", "expected {host, port}");
          const JsValue* host = t.Get("host");
          const JsValue* port = t.Get("port");
          if (host == nullptr || port == nullptr) return Bad(t, "repeater", "needs host and port");
          Result<std::string> h = Str(*host, "repeater.host");
          if (!h.ok()) return h.status();
          Result<std::string> p = Port(*port, "repeater.port");
          if (!p.ok()) return p.status();
          c.repeat_to.push_back(HostPort(*h, *p));
        }
      }
    }
    return Status::Ok();
  }

  const std::string file_;
  ReferenceConfig r_;
  std::string port_ = "8125", address_, server_, mgmt_port_ = "8126", mgmt_address_;
  bool address_set_ = false, mgmt_address_set_ = false, ipv6_ = false;
  bool udp_seen_ = false, tcp_seen_ = false;
  const JsMember* server_member_ = nullptr;
  const JsMember* servers_ = nullptr;
  const JsMember* backends_ = nullptr;
  const JsMember* repeater_ = nullptr;
  std::string graphite_host_, graphite_port_ = "2003", graphite_pickle_port_ = "2004";
  std::vector<std::string> unset_addresses_;
  bool delete_idle_ = false;
  std::optional<bool> delete_counters_, delete_timers_, delete_sets_, delete_gauges_;
};

}  // namespace

Result<ReferenceConfig> ParseReferenceConfig(std::string_view text, const std::string& file,
                                             StatsdConfig base) {
  Result<JsValue> root = ParseJsLiteral(text);
  if (!root.ok()) return InvalidArgument(file + ": " + root.status().message());
  return Mapper(file, std::move(base)).Run(*root);
}

Result<ReferenceProxyConfig> ParseReferenceProxyConfig(std::string_view text,
                                                       const std::string& file) {
  Result<JsValue> root = ParseJsLiteral(text);
  if (!root.ok()) return InvalidArgument(file + ": " + root.status().message());
  ReferenceProxyConfig r;
  ProxyConfig& c = r.config;
  std::string port = "8125", address = "127.0.0.1", mgmt_port = "8126", mgmt_address = "127.0.0.1";
  auto at = [&](int line, int column) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  };
  auto bad = [&](const JsValue& v, const std::string& name, const std::string& what) {
    return InvalidArgument(at(v.line, v.column) + name + ": " + what);
  };
  auto num = [&](const JsValue& v, const std::string& name, double* out) -> Status {
    double d = v.type == JsValue::Type::kNumber   ? v.number
               : v.type == JsValue::Type::kString ? JsStringToNumber(v.string)
                                                  : std::nan("");
    if (d != d) return bad(v, name, "expected a number, found " + std::string(v.TypeName()));
    *out = d;
    return Status::Ok();
  };
  auto str = [&](const JsValue& v, const std::string& name, std::string* out) -> Status {
    if (v.type == JsValue::Type::kString) {
      *out = v.string;
    } else if (v.type == JsValue::Type::kNumber) {
      *out = JsNumberToString(v.number);
    } else {
      return bad(v, name, "expected a string, found " + std::string(v.TypeName()));
    }
    return Status::Ok();
  };
  bool address_set = false, mgmt_address_set = false;
  for (const JsMember& m : root->members) {
    const JsValue& v = m.value;
    const std::string& k = m.key;
    double d = 0;
    if (v.type == JsValue::Type::kUndefined) continue;
    if (k == "nodes") {
      if (v.type != JsValue::Type::kArray) return bad(v, k, "expected an array of nodes");
      for (const JsValue& n : v.items) {
        ProxyNode node;
        const JsValue* host = n.type == JsValue::Type::kObject ? n.Get("host") : nullptr;
        const JsValue* p = n.type == JsValue::Type::kObject ? n.Get("port") : nullptr;
        const JsValue* ap = n.type == JsValue::Type::kObject ? n.Get("adminport") : nullptr;
        if (!host || !p || !ap) return bad(n, k, "each node needs host, port and adminport");
        STOPGAP_RETURN_IF_ERROR(str(*host, "nodes.host", &node.host));
        STOPGAP_RETURN_IF_ERROR(num(*p, "nodes.port", &d));
        node.port = static_cast<int>(d);
        STOPGAP_RETURN_IF_ERROR(num(*ap, "nodes.adminport", &d));
        node.adminport = static_cast<int>(d);
        c.nodes.push_back(std::move(node));
      }
    } else if (k == "port") {
      STOPGAP_RETURN_IF_ERROR(num(v, k, &d));
      port = JsNumberToString(d);
    } else if (k == "address" || (k == "host" && !address_set)) {
      STOPGAP_RETURN_IF_ERROR(str(v, k, &address));
      address_set = k == "address";
    } else if (k == "host") {
      // address wins (servers/udp.js binds config.address)
    } else if (k == "mgmt_port") {
      STOPGAP_RETURN_IF_ERROR(num(v, k, &d));
      mgmt_port = JsNumberToString(d);
    } else if (k == "mgmt_address") {
      STOPGAP_RETURN_IF_ERROR(str(v, k, &mgmt_address));
      mgmt_address_set = true;
    } else if (k == "checkInterval") {
      STOPGAP_RETURN_IF_ERROR(num(v, k, &d));
      if (d >= 1) c.check_interval_ms = static_cast<int>(std::min(d, 3.6e6));
    } else if (k == "cacheSize") {
      STOPGAP_RETURN_IF_ERROR(num(v, k, &d));
      if (d >= 1) c.cache_size = static_cast<size_t>(std::min(d, 1e8));
    } else if (k == "forkCount") {
      if (v.Truthy() && !(v.type == JsValue::Type::kNumber && v.number <= 1)) {
        r.warnings.push_back(at(m.line, m.column) + k +
                             ": stopgap proxies on one receive thread (no forked children)");
      }
    } else if (k == "server") {
      std::string server;
      STOPGAP_RETURN_IF_ERROR(str(v, k, &server));
      if (server.find("tcp") != std::string::npos) {
        r.warnings.push_back(at(m.line, m.column) + k + ": the proxy listens on UDP only");
      }
    } else if (k == "udp_version" || k == "address_ipv6" || k == "log" || k == "debug" ||
               k == "title" || k == "automaticConfigReload") {
      // udp_version/address_ipv6 follow the address; log and debug: stopgap's log.
    } else {
      r.warnings.push_back(at(m.line, m.column) + k +
                           ": not a setting of the reference's proxy.js: ignored");
    }
  }
  if (c.nodes.empty()) return InvalidArgument(file + ": nodes: no StatsD nodes listed");
  if (address == "0.0.0.0" && !address_set) address = "127.0.0.1";
  if (!address_set) {
    r.warnings.push_back(file + ": address: not set; stopgap's proxy listens on " + address);
  }
  (void)mgmt_address_set;
  c.udp = HostPort(address, port);
  c.admin = HostPort(mgmt_address, mgmt_port);
  return r;
}

bool IsReferenceConfig(std::string_view file, std::string_view text) {
  if (file.size() >= 3 && file.substr(file.size() - 3) == ".js") return true;
  size_t i = 0;
  while (i < text.size()) {
    size_t ws = JsWhitespaceLen(text.data() + i, text.data() + text.size());
    if (ws > 0) {
      i += ws;
    } else if (text.substr(i, 2) == "//") {
      size_t nl = text.find('\n', i);
      i = nl == std::string_view::npos ? text.size() : nl + 1;
    } else if (text.substr(i, 2) == "/*") {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      return text[i] == '{' || text[i] == '(';
    }
  }
  return false;
}

}  // namespace stopgap::statsd

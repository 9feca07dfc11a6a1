// The reference StatsD's config.js (etsy/statsd 0.9.0) as a StatsdConfig:
// `stopgap statsd --config /etc/statsd/config.js`. The file is read with
// ParseJsLiteral (no JavaScript engine); every key the reference (stats.js,
// the graphite/console/repeater backends, the UDP/TCP servers, the admin
// server, the logger) reads maps to a stopgap setting (docs/statsd.md has the
// table). A key stopgap does not support, and any key the reference does not
// read, is named in a warning; a construct that is not a literal, or a value
// of the wrong type, is an error with its line and column.
//
//   Result<ReferenceConfig> r = ParseReferenceConfig(text, "/etc/statsd/config.js");
//   for (auto& w : r->warnings) Log(kWarn, w);   use(r->config);
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "statsd/config.h"
#include "statsd/proxy.h"

namespace stopgap::statsd {

struct ReferenceConfig {
  StatsdConfig config;
  // "config.js:12:3: keyFlush: ..." — one per key read but not (fully) honoured.
  std::vector<std::string> warnings;
  bool debug = false;  // the reference's `debug: true` (stopgap: --log-level debug)
};

// Reads a config.js over the defaults in `base`.
Result<ReferenceConfig> ParseReferenceConfig(std::string_view text, const std::string& file,
                                             StatsdConfig base = {});

// proxy.js's config (exampleProxyConfig.js) for `stopgap statsd proxy`:
// nodes, port, address (or host), mgmt_port, mgmt_address, checkInterval,
// cacheSize; forkCount, udp_version, server, log, debug and title are read
// and warned about when they ask for something stopgap does not do.
struct ReferenceProxyConfig {
  ProxyConfig config;
  std::vector<std::string> warnings;
};
Result<ReferenceProxyConfig> ParseReferenceProxyConfig(std::string_view text,
                                                       const std::string& file);

// True for a file to read as config.js rather than YAML: its name ends in
// ".js", or its first character after whitespace and JS comments is `{` or `(`.
bool IsReferenceConfig(std::string_view file, std::string_view text);

}  // namespace stopgap::statsd

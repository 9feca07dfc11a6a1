/* every key */ {
  port: 8125, address: "127.0.0.1", address_ipv6: false, mgmt_port: 8126, mgmt_address: '127.0.0.1',
  servers: [ { server: './servers/udp', address: '127.0.0.1', port: 8125 }, { server: './servers/tcp', port: 8125, socket: '/tmp/s', socket_mod: 0o777 } ],
  graphiteHost: "127.0.0.1", graphitePort: 2003, graphitePicklePort: 0x7d4, graphiteProtocol: 'pickle',
  backends: [ './backends/graphite', './backends/console', './backends/repeater' ],
  repeater: [ { host: '127.0.0.1', port: 8127 } ], repeaterProtocol: 'udp4',
  console: { prettyprint: true }, flushInterval: 1e4, percentThreshold: [ 90, -10, 99.9, ],
  histogram: [ { metric: 'render', bins: [ .01, 0.1, 1, 10, 'inf' ] } ],
  calculatedTimerMetrics: [ 'count', "upper_percent" ], deleteIdleStats: true, deleteCounters: false,
  deleteTimers: true, deleteSets: true, deleteGauges: true, gaugesMaxTTL: 3, prefixStats: 'statsd',
  keyNameSanitize: true, flush_counts: true, healthStatus: 'up', debug: false, dumpMessages: false,
  keyFlush: { interval: 0, percent: 100, log: '/tmp/k' }, title: "statsd", log: { backend: 'stdout', application: 'statsd', level: 'LOG_INFO' },
  automaticConfigReload: false,
  graphite: { legacyNamespace: false, globalPrefix: "stats", prefixCounter: "counters", prefixTimer: "timers", prefixGauge: "gauges", prefixSet: "sets", globalSuffix: 'h\u00e9\x41', },
  // trailing
};

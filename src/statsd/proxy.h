// StatsdProxy: `stopgap statsd proxy`, the job of the reference's proxy.js.
// Each metric line is routed by its name (the text before the first ':') to
// one StatsD node on proxy.js's consistent-hash ring (ProxyHashRing: the same
// node as proxy.js for every name), and lines bound for one node are packed
// into datagrams of at most `mtu` bytes (proxy.js sends one datagram per
// line), sent with UDP GSO where the kernel takes it (internal::NodeQueue). A health-check thread
// asks each node's admin port `health` every check interval: a node that does not answer "up"
// leaves the ring, and rejoins when it answers "up" again (proxy.js's rule).
//
//   Result<std::unique_ptr<StatsdProxy>> p = StatsdProxy::Start(config);
//   ...  (*p)->Stop();
//
// Threading: one receive thread (recvmmsg batches; a per-thread name -> node
// cache, dropped whenever the ring changes), one health-check thread, one
// admin thread. The ring is an immutable snapshot swapped under a mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "net/udp.h"
#include "statsd/hash_ring.h"

namespace stopgap::statsd {

namespace internal {
class LineServer;
}

struct ProxyNode {
  std::string host;
  int port = 0;
  int adminport = 0;
};

struct ProxyConfig {
  std::string udp = "127.0.0.1:8125";
  std::string admin = "127.0.0.1:8126";  // empty: no admin interface
  std::vector<ProxyNode> nodes;
  int check_interval_ms = 10000;
  size_t mtu = 1432;  // payload bytes per datagram sent to a node
  size_t cache_size = 10000;
  // After a batch that emptied the socket, the receive thread sleeps this
  // long so the next batch is full (far fewer wakeups; <= this much added
  // latency). Only with a receive buffer of >= 8 MiB; 0 = never.
  int receive_nap_us = 1000;
  // UDP GSO: a run of equal-length datagrams to a node goes down the stack as
  // one message, cut back into the same datagrams (internal::NodeQueue).
  bool gso = true;
  // UDP_GRO on the listening socket: coalesced datagrams split on receipt.
  bool gro = true;
};

struct ProxyCounters {
  uint64_t lines = 0;          // routed
  uint64_t datagrams = 0;      // sent to nodes
  uint64_t no_node = 0;        // lines dropped: no healthy node
  uint64_t send_drops = 0;     // datagrams the kernel refused (full buffer, refused port)
  uint64_t messages = 0;       // send messages (a GSO message carries several datagrams)
  uint64_t gso_fallbacks = 0;  // node sockets that refused GSO (sent without it since)
};

class StatsdProxy {
 public:
  static Result<std::unique_ptr<StatsdProxy>> Start(const ProxyConfig& config);
  ~StatsdProxy();
  StatsdProxy(const StatsdProxy&) = delete;
  StatsdProxy& operator=(const StatsdProxy&) = delete;
  void Stop();

  // The admin commands of proxy.js: help, health [up|down], status, config, quit.
  std::string HandleAdminLine(std::string_view line, bool* close);
  ProxyCounters Counters() const;
  std::vector<std::string> RingNodes() const;
  net::SocketAddress udp_address() const { return udp_addr_; }

 private:
  explicit StatsdProxy(const ProxyConfig& config);
  Status Init();
  void ReceiveLoop();
  void HealthLoop();
  bool CheckNode(const ProxyNode& node);
  std::shared_ptr<const ProxyHashRing> Ring() const;

  const ProxyConfig config_;
  std::vector<std::string> names_;   // "host:port", as proxy.js names nodes
  std::vector<net::UdpSocket> out_;  // per node, connected
  std::vector<int> failures_;        // health: consecutive failures (HealthLoop)
  mutable std::mutex ring_mu_;
  std::shared_ptr<const ProxyHashRing> ring_;  // guarded by ring_mu_
  std::atomic<uint64_t> ring_version_{0};
  net::UdpSocket in_;
  net::SocketAddress udp_addr_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> health_up_{true};
  std::atomic<uint64_t> lines_{0}, datagrams_{0}, no_node_{0}, send_drops_{0}, messages_{0},
      gso_fallbacks_{0};
  bool gro_ = false;  // UDP_GRO is on for in_
  int64_t startup_time_ = 0;
  std::mutex health_mu_;
  std::condition_variable health_cv_;
  std::unique_ptr<internal::LineServer> admin_server_;
  std::thread receive_thread_, health_thread_, admin_thread_;
  bool stopped_ = false;
};

}  // namespace stopgap::statsd

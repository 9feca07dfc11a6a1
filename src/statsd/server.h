// StatsdServer: `stopgap statsd` as a library. Receive threads (one
// SO_REUSEPORT UDP socket each, batched recvmmsg) aggregate into their own
// IntervalTable; a flush thread wakes on absolute monotonic deadlines, swaps
// each live table for a spare (intake never waits for the flush), merges into
// the MetricStore and hands the Graphite payload to the GraphiteSender. An
// optional TCP intake and the admin interface run on their own threads.
//
//   Result<std::unique_ptr<StatsdServer>> s = StatsdServer::Start(config);
//   (*s)->FlushNow();  (*s)->Stop(/*final_flush=*/true);
//
// Thread safety: all public methods may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "net/http_server.h"
#include "net/udp.h"
#include "statsd/config.h"
#include "statsd/forwarder.h"
#include "statsd/graphite_sender.h"
#include "statsd/interval_table.h"
#include "statsd/metric_store.h"
#include "statsd/prometheus.h"
#include "statsd/repeater.h"

namespace stopgap::statsd {

namespace internal {
class LineServer;
}

// The global node's intake of forwarded intervals (admin `stats`).
struct GlobalCounters {
  uint64_t intervals_merged = 0;
  uint64_t intervals_duplicate = 0;  // a sequence already merged (resent after a reconnect)
  uint64_t bad_frames = 0;           // undecodable frames (the connection is closed)
  uint64_t bytes_received = 0;
  uint64_t nodes = 0;
};

class StatsdServer {
 public:
  static Result<std::unique_ptr<StatsdServer>> Start(const StatsdConfig& config);
  ~StatsdServer();
  StatsdServer(const StatsdServer&) = delete;
  StatsdServer& operator=(const StatsdServer&) = delete;

  // Merges and flushes now (outside the schedule), e.g. on SIGTERM.
  void FlushNow();
  // Stops all threads; with final_flush, flushes once and waits up to
  // drain_ms for Graphite to take it.
  void Stop(bool final_flush, int drain_ms = 5000);
  // Retries Graphite now (SIGHUP).
  void Reopen();
  // SIGHUP with a re-read configuration: the flush settings (percentiles,
  // histograms, calculated timer metrics, namespaces and prefixes, delete*,
  // gauges TTL) apply from the next flush, and Graphite is retried now.
  // Settings that need new sockets or threads (addresses, receivers, buffers,
  // parsing, the flush interval) keep their running values; their names are
  // returned so that the caller can say a restart is needed.
  std::vector<std::string> Reload(const StatsdConfig& config);

  // One admin command line; sets *close for "quit". The reply text.
  std::string HandleAdminLine(std::string_view line, bool* close);

  net::SocketAddress udp_address() const { return udp_addr_; }
  net::SocketAddress admin_address() const { return admin_addr_; }
  net::SocketAddress tcp_address() const { return tcp_addr_; }
  int prometheus_port() const { return http_ ? http_->port() : 0; }
  // Totals since start (merged), for tests and admin.
  IntakeCounts Totals();
  GraphiteSenderCounters SenderCounters() const;
  RepeaterCounters RepeatCounters() const;
  ForwarderCounters ForwardCounters() const;
  GlobalCounters GlobalStats();
  net::SocketAddress global_address() const { return global_addr_; }
  size_t MemoryBytes();

 private:
  struct Shard {
    std::mutex mu;
    std::unique_ptr<IntervalTable> live = std::make_unique<IntervalTable>();
    std::unique_ptr<IntervalTable> spare = std::make_unique<IntervalTable>();
    net::UdpSocket socket;
    std::thread thread;
  };

  explicit StatsdServer(const StatsdConfig& config);
  Status Init();
  void ReceiveLoop(Shard* shard);
  void FlushLoop();
  void MergeShardsLocked();  // store_mu_ held
  void FlushLocked();        // store_mu_ held
  bool HandleTcpInput(std::string* input);
  // Global node: frames from one forwarding connection; acks go out at flush.
  bool HandleForwardInput(uint64_t conn, std::string* input, std::string* reply);
  void ForwardLocked();     // local node: this interval's frame to the forwarder; store_mu_ held
  void AckFlushedLocked();  // global node: after a flush; store_mu_ held

  StatsdConfig config_;
  int64_t startup_time_ = 0;  // unix seconds
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_msg_seen_{0};
  std::atomic<bool> health_up_{true};
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Shard> tcp_shard_;  // TCP intake's table (no socket)
  std::mutex store_mu_;
  MetricStore store_;
  std::unique_ptr<GraphiteSender> sender_;
  std::unique_ptr<Repeater> repeater_;          // backends/repeater (null: off)
  std::unique_ptr<PrometheusView> prometheus_;  // --prometheus (null: off); store_mu_
  std::unique_ptr<net::HttpServer> http_;
  GraphiteStats null_stats_;  // when no Graphite is configured
  std::thread flush_thread_;
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  std::unique_ptr<internal::LineServer> admin_server_, tcp_server_;
  std::thread admin_thread_;
  std::thread tcp_thread_;
  net::SocketAddress udp_addr_, admin_addr_, tcp_addr_;
  bool stopped_ = false;

  // Local node (--forward-to).
  std::unique_ptr<Forwarder> forwarder_;
  std::string node_id_;
  uint64_t session_ = 0;
  uint64_t seq_ = 0;  // store_mu_
  // Global node (--global-listen).
  struct NodeState {
    uint64_t session = 0, merged = 0, flushed = 0;
    uint64_t conn = 0;  // the connection its last frame came on
  };
  std::unordered_map<std::string, NodeState> nodes_;  // store_mu_
  int64_t last_flush_ts_ = 0;                         // store_mu_
  GlobalCounters global_counters_;                    // store_mu_
  std::mutex ack_mu_;
  std::unordered_map<uint64_t, std::string> acks_out_;  // conn -> latest ack; ack_mu_
  std::atomic<bool> global_closing_{false};             // Stop(): refuse frames, flush, ack
  std::atomic<bool> global_stop_{false};                // the forward listener outlives stop_
  std::unique_ptr<internal::LineServer> global_server_;
  std::thread global_thread_;
  net::SocketAddress global_addr_;
};

}  // namespace stopgap::statsd

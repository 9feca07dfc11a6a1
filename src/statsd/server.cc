// StatsdServer: threads, sockets, the flush schedule and the admin commands.
// Locks: a shard's mu (its receive thread per batch; the flusher for the
// O(1) swap), store_mu_ (flusher and admin). Never both the other way round.
#include "statsd/server.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <random>

#include "core/log.h"
#include "statsd/graphite_pickle.h"
#include "statsd/internal/receive_batch.h"
#include "statsd/internal/tcp.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
int64_t RoundSeconds(int64_t ms) {
  return static_cast<int64_t>(JsRound(static_cast<double>(ms) / 1000));
}
int64_t CoarseUnixMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
int64_t CoarseUnixSeconds() { return CoarseUnixMs() / 1000; }

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t sp = s.find(' ', start);
    out.push_back(s.substr(start, sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

}  // namespace

StatsdServer::StatsdServer(const StatsdConfig& config) : config_(config), store_(config.flush) {}

Result<std::unique_ptr<StatsdServer>> StatsdServer::Start(const StatsdConfig& config) {
  std::unique_ptr<StatsdServer> s(new StatsdServer(config));
  Status st = s->Init();
  if (!st.ok()) {
    s->Stop(false);
    return st;
  }
  return s;
}

Status StatsdServer::Init() {
  startup_time_ = RoundSeconds(NowMs());
  last_msg_seen_ = startup_time_;
  health_up_ = config_.health_status != "down";
  int n = config_.receivers;
  if (n <= 0) n = std::max(1u, std::thread::hardware_concurrency() / 2);
  // Bind every socket first so that errors come back before any thread runs.
  std::string udp = config_.udp;
  for (int i = 0; i < n; ++i) {
    auto shard = std::make_unique<Shard>();
    net::UdpOptions opts{
        .reuse_port = n > 1, .rcvbuf_bytes = config_.rcvbuf_bytes, .recv_timeout_ms = 200};
    Result<net::UdpSocket> sock = net::BindUdp(udp, opts);
    if (!sock.ok()) return sock.status();
    shard->socket = std::move(*sock);
    if (i == 0) {
      Result<net::SocketAddress> a = shard->socket.LocalAddress();
      if (!a.ok()) return a.status();
      udp_addr_ = *a;
      udp = a->ToString();  // port 0: the others join the port the first one got
    }
    shards_.push_back(std::move(shard));
  }
  if (shards_[0]->socket.ReceiveBufferBytes() < config_.rcvbuf_bytes) {
    Log(LogLevel::kWarn, "SO_RCVBUF is smaller than asked; raise net.core.rmem_max",
        {{"asked", std::to_string(config_.rcvbuf_bytes)},
         {"got", std::to_string(shards_[0]->socket.ReceiveBufferBytes())}});
  }
  if (!config_.graphite.empty()) {
    Result<net::SocketAddress> g = net::ResolveHostPort(config_.graphite, SOCK_STREAM);
    if (!g.ok()) return g.status().WithContext("--graphite");
    sender_ = std::make_unique<GraphiteSender>(*g, config_.graphite_buffer_bytes, startup_time_);
  } else {
    null_stats_.last_flush = startup_time_;
  }
  if (!config_.repeat_to.empty()) {
    Result<std::unique_ptr<Repeater>> r =
        Repeater::Start(config_.repeat_to, config_.repeater_protocol);
    if (!r.ok()) return r.status();
    repeater_ = std::move(*r);
  }
  if (!config_.prometheus.empty()) {
    prometheus_ = std::make_unique<PrometheusView>(config_.flush.max_names);
    prometheus_->Publish();
    net::HttpServerOptions opts;
    opts.listen = config_.prometheus;
    opts.threads = 1;
    opts.handler_threads = 1;
    http_ = std::make_unique<net::HttpServer>(opts);
    PrometheusView* view = prometheus_.get();
    http_->Handle("GET", "/metrics", [view](const net::HttpServerRequest&) {
      net::HttpServerResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = view->Text();
      return r;
    });
    Status st = http_->Start();
    if (!st.ok()) return st.WithContext("--prometheus");
  }
  if (!config_.admin.empty()) {
    Result<internal::Fd> fd = internal::TcpListen(config_.admin);
    if (!fd.ok()) return fd.status().WithContext("--admin");
    Result<net::SocketAddress> a = internal::LocalAddress(fd->get());
    if (!a.ok()) return a.status();
    admin_addr_ = *a;
    admin_server_ = std::make_unique<internal::LineServer>(
        std::move(*fd), [this](std::string* input, std::string* reply) {
          while (true) {
            size_t nl = input->find('\n');
            if (nl == std::string::npos) return true;
            std::string line = input->substr(0, nl);
            input->erase(0, nl + 1);
            bool close = false;
            *reply += HandleAdminLine(line, &close);
            if (close) return false;
          }
        });
  }
  if (!config_.tcp.empty()) {
    Result<internal::Fd> fd = internal::TcpListen(config_.tcp);
    if (!fd.ok()) return fd.status().WithContext("--tcp");
    Result<net::SocketAddress> a = internal::LocalAddress(fd->get());
    if (!a.ok()) return a.status();
    tcp_addr_ = *a;
    tcp_shard_ = std::make_unique<Shard>();
    tcp_server_ = std::make_unique<internal::LineServer>(
        std::move(*fd), [this](std::string* input, std::string*) { return HandleTcpInput(input); });
  }
  if (!config_.forward_to.empty()) {
    node_id_ = config_.node_id;
    if (node_id_.empty()) {
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      node_id_ = std::string(host) + ":" + std::to_string(udp_addr_.port());
    }
    std::random_device rd;
    session_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if (session_ == 0) session_ = 1;
    Result<std::unique_ptr<Forwarder>> f =
        Forwarder::Start(config_.forward_to, session_, config_.forward_buffer_bytes,
                         config_.forward_buffer_intervals);
    if (!f.ok()) return f.status();
    forwarder_ = std::move(*f);
  }
  if (!config_.global_listen.empty()) {
    Result<internal::Fd> fd = internal::TcpListen(config_.global_listen);
    if (!fd.ok()) return fd.status().WithContext("--global-listen");
    Result<net::SocketAddress> a = internal::LocalAddress(fd->get());
    if (!a.ok()) return a.status();
    global_addr_ = *a;
    internal::LineServer::Options opts;
    opts.max_input = kForwardHeaderBytes + kForwardMaxCompressed;
    opts.poll_ms = 20;  // how soon a flush's acks go out
    opts.outgoing = [this](uint64_t conn, std::string* out) {
      std::lock_guard<std::mutex> lk(ack_mu_);
      auto it = acks_out_.find(conn);
      if (it == acks_out_.end() || it->second.empty()) return;
      out->swap(it->second);
    };
    opts.closed = [this](uint64_t conn) {
      std::lock_guard<std::mutex> lk(ack_mu_);
      acks_out_.erase(conn);
    };
    global_server_ = std::make_unique<internal::LineServer>(
        std::move(*fd),
        [this](uint64_t conn, std::string* input, std::string* reply) {
          return HandleForwardInput(conn, input, reply);
        },
        std::move(opts));
  }
  auto set_limits = [&](Shard* s) {
    s->live->set_timer_exact_max(config_.flush.timer_exact_max);
    s->spare->set_timer_exact_max(config_.flush.timer_exact_max);
    s->live->set_max_names(config_.flush.max_names);
    s->spare->set_max_names(config_.flush.max_names);
  };
  if (tcp_shard_) set_limits(tcp_shard_.get());
  for (auto& shard : shards_) {
    Shard* p = shard.get();
    set_limits(p);
    p->thread = std::thread([this, p] { ReceiveLoop(p); });
  }
  if (admin_server_) admin_thread_ = std::thread([this] { admin_server_->Run(stop_); });
  if (tcp_server_) tcp_thread_ = std::thread([this] { tcp_server_->Run(stop_); });
  if (global_server_) {
    global_thread_ = std::thread([this] { global_server_->Run(global_stop_); });
  }
  flush_thread_ = std::thread([this] { FlushLoop(); });
  Log(LogLevel::kInfo, "statsd listening",
      {{"udp", udp_addr_.ToString()},
       {"receivers", std::to_string(shards_.size())},
       {"admin", config_.admin.empty() ? "off" : admin_addr_.ToString()},
       {"graphite", config_.graphite.empty() ? "off" : config_.graphite},
       {"forward_to", config_.forward_to.empty() ? "off" : config_.forward_to},
       {"node_id", node_id_.empty() ? "-" : node_id_},
       {"global_listen", global_server_ ? global_addr_.ToString() : "off"}});
  return Status::Ok();
}

StatsdServer::~StatsdServer() { Stop(false); }

void StatsdServer::ReceiveLoop(Shard* shard) {
  internal::ReceiveBatch batch(config_.batch, static_cast<size_t>(config_.max_packet_bytes));
  const ParseOptions opts = config_.parse;
  // Napping after a short batch trades <= nap of latency (nothing for a 10 s
  // flush) for far fewer wakeups; only with a buffer that holds many naps.
  const bool nap = config_.receive_nap_us > 0 && shard->socket.ReceiveBufferBytes() >= (8 << 20);
  const timespec nap_ts{0, static_cast<long>(config_.receive_nap_us) * 1000};
  Repeater* const repeater = repeater_.get();
  RepeatBatch repeat;
  while (!stop_.load(std::memory_order_relaxed)) {
    int n = batch.Receive(shard->socket.fd());
    if (n <= 0) {
      if (n < 0) {
        Log(LogLevel::kError, "recvmmsg failed", {{"errno", std::to_string(-n)}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    if (repeater != nullptr) {  // backends/repeater: every packet, before parsing
      for (int i = 0; i < n; ++i) {
        if (!batch.Truncated(i)) repeat.Add(batch.Packet(i));
      }
      repeater->Send(repeat);
      repeat.Clear();
    }
    const int64_t now_ms = CoarseUnixMs();
    {
      std::lock_guard<std::mutex> lk(shard->mu);
      IntervalTable& t = *shard->live;
      t.set_clock_ms(now_ms);
      for (int i = 0; i < n; ++i) {
        if (batch.Truncated(i)) {
          ++t.counts().oversized;
          continue;
        }
        t.AddPacket(batch.Packet(i), opts);
      }
    }
    last_msg_seen_.store(now_ms / 1000, std::memory_order_relaxed);
    if (nap && n < batch.capacity()) nanosleep(&nap_ts, nullptr);
  }
}

bool StatsdServer::HandleTcpInput(std::string* input) {
  // The reference's TCP server: everything up to the last newline is a packet.
  size_t last = input->rfind('\n');
  if (last == std::string::npos) return true;
  if (repeater_) {
    RepeatBatch repeat;
    repeat.Add(std::string_view(*input).substr(0, last + 1));
    repeater_->Send(repeat);
  }
  {
    std::lock_guard<std::mutex> lk(tcp_shard_->mu);
    tcp_shard_->live->set_clock_ms(CoarseUnixMs());
    tcp_shard_->live->AddPacket(std::string_view(*input).substr(0, last + 1), config_.parse);
  }
  input->erase(0, last + 1);
  last_msg_seen_.store(CoarseUnixSeconds(), std::memory_order_relaxed);
  return true;
}

void StatsdServer::MergeShardsLocked() {
  auto merge = [&](Shard* s) {
    {
      std::lock_guard<std::mutex> lk(s->mu);
      std::swap(s->live, s->spare);
    }
    store_.Merge(*s->spare);
    s->spare->Reset();
  };
  for (auto& s : shards_) merge(s.get());
  if (tcp_shard_) merge(tcp_shard_.get());
}

void StatsdServer::ForwardLocked() {
  ForwardEncoder enc({node_id_, session_, ++seq_, NowMs(), config_.flush.flush_interval_ms});
  store_.EncodeForward(&enc, config_.forward_timer_exact_max);
  forwarder_->Enqueue(seq_, enc.Finish());
}

void StatsdServer::AckFlushedLocked() {
  std::lock_guard<std::mutex> lk(ack_mu_);
  for (auto& [id, ns] : nodes_) {
    if (ns.flushed == ns.merged) continue;
    ns.flushed = ns.merged;
    if (ns.conn != 0) acks_out_[ns.conn] = EncodeForwardAck(ns.session, ns.flushed);
  }
}

bool StatsdServer::HandleForwardInput(uint64_t conn, std::string* input, std::string* reply) {
  size_t used = 0;
  bool keep = true;
  while (true) {
    std::string_view rest = std::string_view(*input).substr(used);
    Result<size_t> n = ForwardFrameSize(rest);
    Result<ForwardInterval> iv = n.ok() ? Result<ForwardInterval>(ForwardInterval{}) : n.status();
    if (n.ok() && *n == 0) break;
    if (n.ok()) {
      iv = DecodeForwardFrame(rest.substr(0, *n));
      used += *n;
    }
    std::lock_guard<std::mutex> lk(store_mu_);
    if (!iv.ok()) {
      ++global_counters_.bad_frames;
      Log(LogLevel::kWarn, "global: closing a forwarding connection",
          {{"error", iv.status().message()}});
      keep = false;
      break;
    }
    global_counters_.bytes_received += iv->compressed_bytes;
    auto it = nodes_.find(iv->header.node_id);
    if (it == nodes_.end()) {
      if (nodes_.size() >= 100000) {
        ++global_counters_.bad_frames;
        Log(LogLevel::kWarn, "global: more than 100000 node ids; frame refused");
        continue;
      }
      it = nodes_.emplace(iv->header.node_id, NodeState{}).first;
      global_counters_.nodes = nodes_.size();
    }
    NodeState& ns = it->second;
    if (ns.session != iv->header.session) ns = NodeState{iv->header.session, 0, 0, 0};
    ns.conn = conn;
    if (global_closing_) {
      // Stopping: not merged, not acked, so the local node keeps it for the
      // next instance; the connection stays for the final flush's ack.
    } else if (iv->header.seq <= ns.merged) {
      ++global_counters_.intervals_duplicate;
    } else {
      store_.MergeForward(*iv);
      ns.merged = iv->header.seq;
      ++global_counters_.intervals_merged;
    }
    if (ns.flushed > 0) *reply += EncodeForwardAck(ns.session, ns.flushed);
  }
  input->erase(0, used);
  return keep;
}

void StatsdServer::FlushLocked() {
  MergeShardsLocked();
  if (forwarder_) ForwardLocked();
  if (prometheus_) {
    store_.Export(prometheus_.get());
    prometheus_->Publish();
  }
  int64_t ts = RoundSeconds(NowMs());
  if (global_server_) {
    // Graphite keeps one value per name and second: a global node's flush
    // (e.g. the final one on SIGTERM) in the same second as the previous one
    // would overwrite the fleet's counts. Date it one second later instead.
    if (ts <= last_flush_ts_) ts = last_flush_ts_ + 1;
    last_flush_ts_ = ts;
  }
  GraphiteStats gs = sender_ ? sender_->Stats() : null_stats_;
  FlushOutput out = store_.Flush(ts, gs, [] { return NowMs(); });
  if (config_.console) {
    // backends/console: what this flush sends, after the reference's header line.
    time_t t = static_cast<time_t>(ts);
    struct tm tm;
    localtime_r(&t, &tm);
    char date[96];
    strftime(date, sizeof date, "%a %b %d %Y %H:%M:%S GMT%z (%Z)", &tm);
    std::string text = std::string("Flushing stats at  ") + date + "\n" + out.payload;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  if (sender_ && config_.graphite_protocol == GraphiteProtocol::kPickle) {
    out.payload = GraphitePickle(out.payload);
  }
  if (sender_) {
    sender_->Enqueue(std::move(out.payload), out.lines);
  } else {
    null_stats_.last_flush = ts;
  }
  if (global_server_) AckFlushedLocked();
}

void StatsdServer::FlushNow() {
  std::lock_guard<std::mutex> lk(store_mu_);
  FlushLocked();
}

void StatsdServer::FlushLoop() {
  const auto interval = std::chrono::milliseconds(config_.flush.flush_interval_ms);
  auto next = std::chrono::steady_clock::now() + interval;
  std::unique_lock<std::mutex> lk(flush_mu_);
  while (!stop_) {
    if (flush_cv_.wait_until(lk, next, [&] { return stop_.load(); })) break;
    {
      std::lock_guard<std::mutex> slk(store_mu_);
      FlushLocked();
    }
    // Absolute deadlines: no drift; deadlines missed while busy are skipped.
    next += interval;
    auto now = std::chrono::steady_clock::now();
    while (next <= now) next += interval;
  }
}

void StatsdServer::Stop(bool final_flush, int drain_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (http_) http_->Stop();
  // The forward listener refuses frames from now on (the local nodes keep
  // them), and stays up until the final flush's acks are out.
  global_closing_ = true;
  {
    std::lock_guard<std::mutex> lk(flush_mu_);
    stop_ = true;
  }
  flush_cv_.notify_all();
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
  if (flush_thread_.joinable()) flush_thread_.join();
  if (admin_thread_.joinable()) admin_thread_.join();
  if (tcp_thread_.joinable()) tcp_thread_.join();
  if (final_flush) {
    FlushNow();
    for (int i = 0; global_server_ && i < 100; ++i) {  // the acks of that flush
      {
        std::lock_guard<std::mutex> lk(ack_mu_);
        bool pending = false;
        for (auto& [conn, a] : acks_out_) pending = pending || !a.empty();
        if (!pending) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (sender_ && !sender_->Drain(drain_ms)) {
      Log(LogLevel::kWarn, "final flush not delivered to graphite before exit");
    }
    if (repeater_ && !repeater_->Drain(drain_ms)) {
      Log(LogLevel::kWarn, "repeater: packets not delivered before exit");
    }
    if (forwarder_ && !forwarder_->Drain(drain_ms)) {
      Log(LogLevel::kWarn, "forward: last intervals not sent to the global node before exit");
    }
  }
  forwarder_.reset();
  global_stop_ = true;
  if (global_thread_.joinable()) global_thread_.join();
  sender_.reset();
  repeater_.reset();
}

void StatsdServer::Reopen() {
  if (sender_) sender_->Kick();
}

std::vector<std::string> StatsdServer::Reload(const StatsdConfig& c) {
  std::vector<std::string> kept;
  const StatsdConfig& o = config_;
  if (c.udp != o.udp) kept.push_back("udp");
  if (c.tcp != o.tcp) kept.push_back("tcp");
  if (c.admin != o.admin) kept.push_back("admin");
  if (c.graphite != o.graphite) kept.push_back("graphite");
  if (c.receivers != o.receivers) kept.push_back("receivers");
  if (c.rcvbuf_bytes != o.rcvbuf_bytes) kept.push_back("rcvbuf");
  if (c.batch != o.batch || c.max_packet_bytes != o.max_packet_bytes) {
    kept.push_back("max_packet_bytes");
  }
  if (c.receive_nap_us != o.receive_nap_us) kept.push_back("receive_nap_us");
  if (c.graphite_protocol != o.graphite_protocol) kept.push_back("graphite_protocol");
  if (c.console != o.console) kept.push_back("console");
  if (c.repeat_to != o.repeat_to || c.repeater_protocol != o.repeater_protocol) {
    kept.push_back("repeater");
  }
  if (c.prometheus != o.prometheus) kept.push_back("prometheus");
  if (c.forward_to != o.forward_to || c.node_id != o.node_id ||
      c.forward_buffer_bytes != o.forward_buffer_bytes ||
      c.forward_buffer_intervals != o.forward_buffer_intervals ||
      c.forward_timer_exact_max != o.forward_timer_exact_max) {
    kept.push_back("forward");
  }
  if (c.global_listen != o.global_listen) kept.push_back("global_listen");
  if (c.graphite_buffer_bytes != o.graphite_buffer_bytes) kept.push_back("graphite_buffer_bytes");
  if (c.parse.strict != o.parse.strict) kept.push_back("strict");
  if (c.parse.dogstatsd != o.parse.dogstatsd) kept.push_back("dogstatsd");
  if (c.parse.sanitize != o.parse.sanitize) kept.push_back("key_name_sanitize");
  if (c.flush.flush_interval_ms != o.flush.flush_interval_ms) kept.push_back("flush_interval");
  FlushConfig flush = c.flush;
  flush.flush_interval_ms = o.flush.flush_interval_ms;  // the flush thread's schedule
  flush.key_name_sanitize = o.flush.key_name_sanitize;  // goes with the parser's
  {
    std::lock_guard<std::mutex> lk(store_mu_);
    config_.flush = flush;
    store_.set_config(flush);
    if (c.health_status != config_.health_status) {  // else keep an admin "health up|down"
      config_.health_status = c.health_status;
      health_up_ = c.health_status != "down";
    }
  }
  Reopen();
  return kept;
}

IntakeCounts StatsdServer::Totals() {
  std::lock_guard<std::mutex> lk(store_mu_);
  MergeShardsLocked();
  return store_.totals();
}

GraphiteSenderCounters StatsdServer::SenderCounters() const {
  return sender_ ? sender_->Counters() : GraphiteSenderCounters{};
}

ForwarderCounters StatsdServer::ForwardCounters() const {
  return forwarder_ ? forwarder_->Counters() : ForwarderCounters{};
}

GlobalCounters StatsdServer::GlobalStats() {
  std::lock_guard<std::mutex> lk(store_mu_);
  return global_counters_;
}

RepeaterCounters StatsdServer::RepeatCounters() const {
  return repeater_ ? repeater_->Counters() : RepeaterCounters{};
}

size_t StatsdServer::MemoryBytes() {
  size_t total = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> lk(s->mu);
    total += s->live->MemoryBytes() + s->spare->MemoryBytes();
  }
  return total;
}

std::string StatsdServer::HandleAdminLine(std::string_view line, bool* close) {
  *close = false;
  std::string_view trimmed = JsTrim(line);
  std::vector<std::string_view> words = SplitSpaces(trimmed);
  std::string_view cmd = words[0];
  std::vector<std::string> params(words.begin() + 1, words.end());
  if (cmd == "help") {
    return "Commands: stats, counters, timers, gauges, delcounters, deltimers, delgauges, "
           "health, config, quit\n\n";
  }
  if (cmd == "health") {
    if (!params.empty()) {
      std::string a = params[0];
      for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (a == "up") health_up_ = true;
      if (a == "down") health_up_ = false;
    }
    return std::string("health: ") + (health_up_ ? "up" : "down") + "\n";
  }
  if (cmd == "config") {
    std::lock_guard<std::mutex> lk(store_mu_);  // Reload() replaces config_.flush
    StatsdConfig c = config_;
    c.receivers = static_cast<int>(shards_.size());
    return "\n" + DescribeConfig(c);
  }
  if (cmd == "stats") {
    int64_t now = RoundSeconds(NowMs());
    std::lock_guard<std::mutex> lk(store_mu_);
    MergeShardsLocked();
    const IntakeCounts& t = store_.totals();
    GraphiteStats gs = sender_ ? sender_->Stats() : null_stats_;
    GraphiteSenderCounters gc = SenderCounters();
    std::string r = "uptime: " + std::to_string(now - startup_time_) + "\n";
    r += "messages.last_msg_seen: " + std::to_string(now - last_msg_seen_.load()) + "\n";
    r += "messages.bad_lines_seen: " + std::to_string(t.bad_lines) + "\n";
    r += "graphite.last_flush: " + std::to_string(now - gs.last_flush) + "\n";
    r += "graphite.last_exception: " + std::to_string(now - gs.last_exception) + "\n";
    r += "graphite.flush_time: " + std::to_string(gs.flush_time) + "\n";
    r += "graphite.flush_length: " + std::to_string(gs.flush_length) + "\n";
    r += "stopgap.packets_received: " + std::to_string(t.packets) + "\n";
    r += "stopgap.metrics_received: " + std::to_string(t.lines) + "\n";
    r += "stopgap.oversized_packets: " + std::to_string(t.oversized) + "\n";
    r += "stopgap.events_seen: " + std::to_string(t.events) + "\n";
    r += "stopgap.graphite_dropped_lines: " + std::to_string(gc.dropped_lines) + "\n";
    r += "stopgap.graphite_failures: " + std::to_string(gc.failures) + "\n";
    r += "stopgap.graphite_queued_bytes: " + std::to_string(gc.queued_bytes) + "\n";
    r += "stopgap.names: " + std::to_string(store_.name_count()) + "\n";
    r += "stopgap.names_dropped: " + std::to_string(store_.names_dropped()) + "\n";
    size_t receive_names = 0;  // the largest receive-thread table (each capped by max_names)
    for (auto& sh : shards_) {
      std::lock_guard<std::mutex> slk(sh->mu);
      receive_names = std::max({receive_names, sh->live->name_count(), sh->spare->name_count()});
    }
    r += "stopgap.receive_names: " + std::to_string(receive_names) + "\n";
    if (repeater_) {
      RepeaterCounters rc = repeater_->Counters();
      r += "stopgap.repeater_packets: " + std::to_string(rc.packets) + "\n";
      r += "stopgap.repeater_dropped: " + std::to_string(rc.dropped) + "\n";
      r += "stopgap.repeater_failures: " + std::to_string(rc.failures) + "\n";
    }
    if (forwarder_) {
      ForwarderCounters fc = forwarder_->Counters();
      r += "stopgap.forward_intervals_sent: " + std::to_string(fc.intervals_sent) + "\n";
      r += "stopgap.forward_intervals_resent: " + std::to_string(fc.intervals_resent) + "\n";
      r += "stopgap.forward_intervals_acked: " + std::to_string(fc.intervals_acked) + "\n";
      r += "stopgap.forward_intervals_dropped: " + std::to_string(fc.intervals_dropped) + "\n";
      r += "stopgap.forward_bytes_dropped: " + std::to_string(fc.bytes_dropped) + "\n";
      r += "stopgap.forward_intervals_evicted_unacked: " +
           std::to_string(fc.intervals_evicted_unacked) + "\n";
      r += "stopgap.forward_bytes_sent: " + std::to_string(fc.bytes_sent) + "\n";
      r += "stopgap.forward_queued_intervals: " + std::to_string(fc.queued_intervals) + "\n";
      r += "stopgap.forward_queued_bytes: " + std::to_string(fc.queued_bytes) + "\n";
      r += "stopgap.forward_connects: " + std::to_string(fc.connects) + "\n";
      r += "stopgap.forward_failures: " + std::to_string(fc.failures) + "\n";
    }
    if (global_server_) {
      const GlobalCounters& g = global_counters_;
      r += "stopgap.global_nodes: " + std::to_string(g.nodes) + "\n";
      r += "stopgap.global_intervals_merged: " + std::to_string(g.intervals_merged) + "\n";
      r += "stopgap.global_intervals_duplicate: " + std::to_string(g.intervals_duplicate) + "\n";
      r += "stopgap.global_bad_frames: " + std::to_string(g.bad_frames) + "\n";
      r += "stopgap.global_bytes_received: " + std::to_string(g.bytes_received) + "\n";
    }
    return r + "END\n\n";
  }
  if (cmd == "counters" || cmd == "timers" || cmd == "gauges") {
    std::lock_guard<std::mutex> lk(store_mu_);
    MergeShardsLocked();
    std::string body = cmd == "counters" ? store_.InspectCounters()
                       : cmd == "timers" ? store_.InspectTimers()
                                         : store_.InspectGauges();
    return body + "\nEND\n\n";
  }
  if (cmd == "delcounters" || cmd == "deltimers" || cmd == "delgauges") {
    std::lock_guard<std::mutex> lk(store_mu_);
    MergeShardsLocked();
    MetricStore::Kind k = cmd == "delcounters" ? MetricStore::Kind::kCounters
                          : cmd == "deltimers" ? MetricStore::Kind::kTimers
                                               : MetricStore::Kind::kGauges;
    return store_.Delete(k, params);
  }
  if (cmd == "quit") {
    *close = true;
    return "";
  }
  return "ERROR\n";
}

}  // namespace stopgap::statsd

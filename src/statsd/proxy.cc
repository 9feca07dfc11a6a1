// StatsdProxy: receive, route by proxy.js's ring, pack per node, health checks.
#include "statsd/proxy.h"

#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "core/log.h"
#include "statsd/internal/name_map.h"
#include "statsd/internal/node_queue.h"
#include "statsd/internal/receive_batch.h"
#include "statsd/internal/tcp.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {
int64_t NowSeconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}
}  // namespace

StatsdProxy::StatsdProxy(const ProxyConfig& config) : config_(config) {}

Result<std::unique_ptr<StatsdProxy>> StatsdProxy::Start(const ProxyConfig& config) {
  if (config.nodes.empty()) return InvalidArgument("statsd proxy: no nodes configured");
  std::unique_ptr<StatsdProxy> p(new StatsdProxy(config));
  Status st = p->Init();
  if (!st.ok()) {
    p->Stop();
    return st;
  }
  return p;
}

Status StatsdProxy::Init() {
  startup_time_ = NowSeconds();
  for (const ProxyNode& n : config_.nodes) {
    std::string name = n.host + ":" + std::to_string(n.port);
    Result<net::SocketAddress> a = net::ResolveHostPort(
        n.host.find(':') != std::string::npos ? "[" + n.host + "]:" + std::to_string(n.port) : name,
        SOCK_DGRAM);
    if (!a.ok()) return a.status().WithContext("node " + name);
    Result<net::UdpSocket> s = net::ConnectUdp(*a, {.sndbuf_bytes = 4 << 20, .nonblocking = true});
    if (!s.ok()) return s.status().WithContext("node " + name);
    names_.push_back(name);
    out_.push_back(std::move(*s));
    failures_.push_back(0);
  }
  ring_ = std::make_shared<const ProxyHashRing>(names_);
  Result<net::UdpSocket> in =
      net::BindUdp(config_.udp, {.rcvbuf_bytes = 32 << 20, .recv_timeout_ms = 200});
  if (!in.ok()) return in.status().WithContext("--udp");
  in_ = std::move(*in);
  if (config_.gro) {
    // Datagrams the kernel coalesced (a GSO sender on this host, GRO on the
    // NIC) arrive as one packet and are split by the UDP_GRO cmsg's size.
    int one = 1;
    gro_ = ::setsockopt(in_.fd(), SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  }
  Result<net::SocketAddress> a = in_.LocalAddress();
  if (!a.ok()) return a.status();
  udp_addr_ = *a;
  if (!config_.admin.empty()) {
    Result<internal::Fd> fd = internal::TcpListen(config_.admin);
    if (!fd.ok()) return fd.status().WithContext("--admin");
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
    admin_thread_ = std::thread([this] { admin_server_->Run(stop_); });
  }
  receive_thread_ = std::thread([this] { ReceiveLoop(); });
  health_thread_ = std::thread([this] { HealthLoop(); });
  Log(LogLevel::kInfo, "statsd proxy listening",
      {{"udp", udp_addr_.ToString()}, {"nodes", std::to_string(names_.size())}});
  return Status::Ok();
}

StatsdProxy::~StatsdProxy() { Stop(); }

void StatsdProxy::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lk(health_mu_);
    stop_ = true;
  }
  health_cv_.notify_all();
  if (receive_thread_.joinable()) receive_thread_.join();
  if (health_thread_.joinable()) health_thread_.join();
  if (admin_thread_.joinable()) admin_thread_.join();
}

std::shared_ptr<const ProxyHashRing> StatsdProxy::Ring() const {
  std::lock_guard<std::mutex> lk(ring_mu_);
  return ring_;
}

void StatsdProxy::ReceiveLoop() {
  internal::ReceiveBatch batch(64, 65536, gro_);
  // name -> node index for this ring version: the interner of the receive path
  // (seeded per process), cleared when the ring changes or it holds cache_size
  // names. A name is hashed once per line (the interner's hash); proxy.js's MD5
  // and ring search run only for a name the cache does not hold.
  internal::NameMap<int> node_of;
  std::unordered_map<std::string, int> index_of;
  for (size_t i = 0; i < names_.size(); ++i) index_of[names_[i]] = static_cast<int>(i);
  uint64_t version = ring_version_.load();
  std::shared_ptr<const ProxyHashRing> ring = Ring();
  std::vector<internal::NodeQueue> queues;
  queues.reserve(out_.size());
  for (const net::UdpSocket& s : out_) queues.emplace_back(s.fd(), config_.mtu, config_.gso);
  // Napping after a short batch, as the server does: at 1 M metrics/s the
  // thread otherwise wakes for every datagram or two, and the wakeups cost
  // more than the routing.
  const bool nap = config_.receive_nap_us > 0 && in_.ReceiveBufferBytes() >= (8 << 20);
  const timespec nap_ts{0, static_cast<long>(config_.receive_nap_us) * 1000};
  // A datagram still being packed waits for the next batch only while batches
  // come full (more lines are already queued), and at most this many batches.
  constexpr int kMaxFullBatchesPacking = 16;
  int full_batches = 0;
  uint64_t routed = 0, unrouted = 0;  // published once per batch
  while (!stop_.load(std::memory_order_relaxed)) {
    const int n = batch.Receive(in_.fd());
    if (n > 0 && ring_version_.load() != version) {
      version = ring_version_.load();
      ring = Ring();
      node_of.Clear();
    }
    for (int i = 0; i < n; ++i) {
      if (batch.Truncated(i)) continue;
      const std::string_view p = batch.Packet(i);
      // A packet coalesced by UDP_GRO is several datagrams of `seg` bytes
      // (the last one shorter): a datagram's end also ends its last line.
      const size_t seg = batch.SegmentSize(i);
      for (size_t off = 0; off<p.size(); off += seg> 0 ? seg : p.size()) {
        const char* s = p.data() + off;
        const char* const e = seg > 0 && p.size() - off > seg ? s + seg : p.data() + p.size();
        while (s < e) {  // every non-empty line, as proxy.js splits on "\n"
          const char* nl =
              static_cast<const char*>(std::memchr(s, '\n', static_cast<size_t>(e - s)));
          const char* le = nl != nullptr ? nl : e;
          if (le > s) {
            const std::string_view line(s, static_cast<size_t>(le - s));
            const char* colon = static_cast<const char*>(std::memchr(s, ':', line.size()));
            const std::string_view key(s, static_cast<size_t>((colon != nullptr ? colon : le) - s));
            if (node_of.size() >= config_.cache_size) node_of.Clear();
            bool inserted = false;
            int& node = node_of.at(node_of.FindOrInsert(key, &inserted)).value;
            if (inserted) {
              const std::string* name = ring->Get(key);
              node = name != nullptr ? index_of[*name] : -1;
            }
            if (node >= 0) {
              queues[static_cast<size_t>(node)].Add(line);
              ++routed;
            } else {
              ++unrouted;
            }
          }
          s = le + 1;
        }
      }
    }
    const bool drained = n < batch.capacity();
    full_batches = drained ? 0 : full_batches + 1;
    const bool close = drained || full_batches >= kMaxFullBatchesPacking;
    if (close) full_batches = 0;
    uint64_t sent = 0, refused = 0, fallbacks = 0, messages = 0;
    for (internal::NodeQueue& q : queues) {
      if (close) q.Close();
      q.Flush();
      q.TakeCounts(&sent, &refused);
      fallbacks += q.gso_fallbacks();
      messages += q.messages();
    }
    // The queues' running totals, published (one writer: this thread).
    gso_fallbacks_.store(fallbacks, std::memory_order_relaxed);
    messages_.store(messages, std::memory_order_relaxed);
    if (sent > 0) datagrams_.fetch_add(sent, std::memory_order_relaxed);
    if (refused > 0) send_drops_.fetch_add(refused, std::memory_order_relaxed);
    if (routed > 0) lines_.fetch_add(routed, std::memory_order_relaxed);
    if (unrouted > 0) no_node_.fetch_add(unrouted, std::memory_order_relaxed);
    routed = unrouted = 0;
    if (nap && n > 0 && drained) nanosleep(&nap_ts, nullptr);
  }
}

bool StatsdProxy::CheckNode(const ProxyNode& node) {
  std::string where = node.host.find(':') != std::string::npos
                          ? "[" + node.host + "]:" + std::to_string(node.adminport)
                          : node.host + ":" + std::to_string(node.adminport);
  Result<net::SocketAddress> a = net::ResolveHostPort(where, SOCK_STREAM);
  if (!a.ok()) return false;
  const int timeout = config_.check_interval_ms;
  Result<internal::Fd> fd = internal::TcpConnect(*a, timeout);
  if (!fd.ok()) return false;
  if (!internal::WriteAll(fd->get(), "health\r\n", timeout).ok()) return false;
  pollfd pfd{fd->get(), POLLIN, 0};
  if (::poll(&pfd, 1, timeout) <= 0) return false;
  char buf[256];
  ssize_t r = ::read(fd->get(), buf, sizeof buf);
  // proxy.js: the first data received must contain "up".
  return r > 0 && std::string_view(buf, static_cast<size_t>(r)).find("up") != std::string::npos;
}

void StatsdProxy::HealthLoop() {
  std::unique_lock<std::mutex> lk(health_mu_);
  while (!stop_) {
    lk.unlock();
    bool changed = false;
    std::vector<std::string> live;
    for (size_t i = 0; i < config_.nodes.size(); ++i) {
      bool ok = CheckNode(config_.nodes[i]);
      int& f = failures_[i];
      if (ok) {
        if (f > 0) {
          Log(LogLevel::kWarn, "adding node to the ring", {{"node", names_[i]}});
          changed = true;
        }
        f = 0;
      } else {
        if (f == 0) {
          Log(LogLevel::kWarn, "removing node from the ring", {{"node", names_[i]}});
          changed = true;
        }
        ++f;
      }
    }
    if (changed) {
      // proxy.js removes and re-adds nodes one by one; the ring only depends
      // on the set of nodes, except for order among equal points.
      std::shared_ptr<const ProxyHashRing> now = Ring();
      auto next = std::make_shared<ProxyHashRing>(*now);
      for (size_t i = 0; i < names_.size(); ++i) {
        if (failures_[i] > 0) next->Remove(names_[i]);
      }
      for (size_t i = 0; i < names_.size(); ++i) {
        if (failures_[i] == 0) next->Add(names_[i]);
      }
      {
        std::lock_guard<std::mutex> rlk(ring_mu_);
        ring_ = std::move(next);
      }
      ring_version_.fetch_add(1);
    }
    lk.lock();
    health_cv_.wait_for(lk, std::chrono::milliseconds(config_.check_interval_ms),
                        [&] { return stop_.load(); });
  }
}

std::vector<std::string> StatsdProxy::RingNodes() const { return Ring()->nodes(); }

ProxyCounters StatsdProxy::Counters() const {
  return ProxyCounters{lines_.load(),      datagrams_.load(), no_node_.load(),
                       send_drops_.load(), messages_.load(),  gso_fallbacks_.load()};
}

std::string StatsdProxy::HandleAdminLine(std::string_view line, bool* close) {
  *close = false;
  std::string_view t = JsTrim(line);
  std::string_view cmd = t.substr(0, t.find(' '));
  std::string_view arg = cmd.size() < t.size() ? JsTrim(t.substr(cmd.size())) : "";
  if (cmd == "help") return "Commands: config, health, status, quit\n\n";
  if (cmd == "health") {
    std::string a(arg);
    for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (a == "up") health_up_ = true;
    if (a == "down") health_up_ = false;
    return std::string("health: ") + (health_up_ ? "up" : "down") + "\n";
  }
  if (cmd == "status") {
    std::string r = "uptime: " + std::to_string(NowSeconds() - startup_time_) + "\nnodes: ";
    for (const std::string& n : RingNodes()) r += n + " ";
    ProxyCounters c = Counters();
    r += "\nstopgap.lines: " + std::to_string(c.lines) +
         "\nstopgap.datagrams: " + std::to_string(c.datagrams) +
         "\nstopgap.no_node: " + std::to_string(c.no_node) +
         "\nstopgap.send_drops: " + std::to_string(c.send_drops) +
         "\nstopgap.messages: " + std::to_string(c.messages) +
         "\nstopgap.gso_fallbacks: " + std::to_string(c.gso_fallbacks) + "\n";
    return r;
  }
  if (cmd == "config") {
    std::string r = "\nudp: " + config_.udp + "\nadmin: " + config_.admin +
                    "\ncheckInterval: " + std::to_string(config_.check_interval_ms) + "\n";
    for (const ProxyNode& n : config_.nodes) {
      r += "nodes > " + n.host + ":" + std::to_string(n.port) + " adminport " +
           std::to_string(n.adminport) + "\n";
    }
    return r;
  }
  if (cmd == "quit") {
    *close = true;
    return "";
  }
  return "ERROR\n";
}

}  // namespace stopgap::statsd

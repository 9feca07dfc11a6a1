// Repeater: UDP fan-out from the receive threads; TCP via its own thread.
#include "statsd/repeater.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"

namespace stopgap::statsd {
namespace {
int64_t MonoMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Result<std::unique_ptr<Repeater>> Repeater::Start(const std::vector<std::string>& targets,
                                                  RepeaterProtocol protocol,
                                                  size_t tcp_buffer_bytes) {
  std::unique_ptr<Repeater> r(new Repeater());
  r->protocol_ = protocol;
  r->tcp_cap_ = tcp_buffer_bytes;
  for (const std::string& t : targets) {
    bool tcp = protocol == RepeaterProtocol::kTcp;
    Result<net::SocketAddress> a = net::ResolveHostPort(t, tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (!a.ok()) return a.status().WithContext("repeater target " + t);
    if (protocol == RepeaterProtocol::kUdp6 && a->family() != AF_INET6) {
      return InvalidArgument("repeater target " + t +
                             ": repeaterProtocol udp6 needs an IPv6 "
                             "address");
    }
    if (protocol == RepeaterProtocol::kUdp4 && a->family() != AF_INET) {
      return InvalidArgument("repeater target " + t +
                             ": repeaterProtocol udp4 needs an IPv4 "
                             "address (use udp6)");
    }
    if (tcp) {
      TcpTarget target;
      target.addr = *a;
      r->tcp_.push_back(std::move(target));
    } else {
      Result<net::UdpSocket> s =
          net::ConnectUdp(*a, {.sndbuf_bytes = 4 << 20, .nonblocking = true});
      if (!s.ok()) return s.status().WithContext("repeater target " + t);
      r->udp_.push_back(std::move(*s));
    }
  }
  if (!r->tcp_.empty()) r->thread_ = std::thread([p = r.get()] { p->TcpLoop(); });
  return r;
}

Repeater::~Repeater() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Repeater::Send(const RepeatBatch& batch) {
  if (batch.empty()) return;
  if (!udp_.empty()) {
    std::vector<std::string_view> packets(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) packets[i] = batch.Packet(i);
    for (net::UdpSocket& s : udp_) {
      Result<size_t> sent = net::SendBatch(s.fd(), packets);
      size_t n = sent.ok() ? *sent : 0;  // ECONNREFUSED etc.: nobody listening, dropped
      udp_packets_.fetch_add(n, std::memory_order_relaxed);
      udp_dropped_.fetch_add(packets.size() - n, std::memory_order_relaxed);
    }
    return;
  }
  if (tcp_.empty()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (queued_.size() > tcp_cap_) {
      tcp_counters_.dropped += batch.size() * tcp_.size();
      return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      queued_.append(batch.Packet(i));
      queued_.push_back('\n');  // repeater.js writes packet.toString() + "\n"
    }
    queued_packets_ += batch.size();
  }
  cv_.notify_all();
}

RepeaterCounters Repeater::Counters() const {
  std::lock_guard<std::mutex> lk(mu_);
  RepeaterCounters c = tcp_counters_;
  c.packets += udp_packets_.load(std::memory_order_relaxed);
  c.dropped += udp_dropped_.load(std::memory_order_relaxed);
  return c;
}

bool Repeater::Drain(int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.notify_all();
  return drained_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] {
    if (!queued_.empty() || busy_) return false;
    for (const TcpTarget& t : tcp_) {
      if (!t.pending.empty()) return false;
    }
    return true;
  });
}

void Repeater::TcpLoop() {
  std::vector<uint64_t> pending_packets(tcp_.size(), 0);
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    bool waiting = false;
    for (const TcpTarget& t : tcp_) waiting = waiting || !t.pending.empty();
    auto ready = [&] { return stop_ || !queued_.empty(); };
    if (waiting) {
      cv_.wait_for(lk, std::chrono::milliseconds(50), ready);
    } else {
      cv_.wait(lk, ready);
    }
    if (stop_) return;
    std::string chunk;
    chunk.swap(queued_);
    uint64_t chunk_packets = queued_packets_;
    queued_packets_ = 0;
    busy_ = true;
    lk.unlock();
    uint64_t sent = 0, dropped = 0, failures = 0;
    const int64_t now = MonoMs();
    for (size_t i = 0; i < tcp_.size(); ++i) {
      TcpTarget& t = tcp_[i];
      if (!chunk.empty()) {
        if (t.pending.size() > tcp_cap_) {
          dropped += chunk_packets;  // this target is far behind: drop the newest
        } else {
          t.pending += chunk;
          pending_packets[i] += chunk_packets;
        }
      }
      if (t.pending.empty() || now < t.retry_at_ms) continue;
      if (t.fd.get() < 0) {
        Result<internal::Fd> fd = internal::TcpConnect(t.addr, 1000);
        if (fd.ok()) t.fd = std::move(*fd);
      }
      Status st = t.fd.get() < 0 ? Unavailable("connect failed")
                                 : internal::WriteAll(t.fd.get(), t.pending, 5000);
      if (st.ok()) {
        sent += pending_packets[i];
        pending_packets[i] = 0;
        t.pending.clear();
        t.backoff_ms = 0;
      } else {
        // A failed write may have delivered part of it: the retry resends the
        // whole pending data (at least once, never silently lost).
        ++failures;
        t.fd.reset();
        t.backoff_ms = t.backoff_ms == 0 ? 200 : std::min(t.backoff_ms * 2, 10000);
        t.retry_at_ms = MonoMs() + t.backoff_ms;
        Log(LogLevel::kWarn, "repeater: TCP target unavailable; will retry",
            {{"target", t.addr.ToString()}, {"error", st.message()}});
      }
    }
    lk.lock();
    busy_ = false;
    tcp_counters_.packets += sent;
    tcp_counters_.dropped += dropped;
    tcp_counters_.failures += failures;
    drained_.notify_all();
  }
}

}  // namespace stopgap::statsd

// StatsdClient: bounded queue + one sender thread packing lines into MTU-sized
// datagrams. The caller only takes a short mutex to append a line.
#include "statsd/client.h"

#include <chrono>

#include "statsd/js_number.h"

namespace stopgap::statsd {

std::vector<std::string> PackLines(const std::vector<std::string>& lines, size_t mtu) {
  std::vector<std::string> out;
  std::string cur;
  for (const std::string& l : lines) {
    if (l.empty()) continue;
    if (!cur.empty() && cur.size() + 1 + l.size() > mtu) {
      out.push_back(std::move(cur));
      cur.clear();
    }
    if (!cur.empty()) cur.push_back('\n');
    cur += l;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string FormatStatsdLine(std::string_view name, double value, std::string_view type,
                             double sample_rate) {
  std::string s(name);
  s.push_back(':');
  AppendJsNumber(value, &s);
  s.push_back('|');
  s.append(type);
  if (sample_rate != 1) {
    s += "|@";
    AppendJsNumber(sample_rate, &s);
  }
  return s;
}

Result<std::unique_ptr<StatsdClient>> StatsdClient::Create(StatsdClientOptions options) {
  Result<net::SocketAddress> addr = net::ResolveHostPort(options.address, SOCK_DGRAM);
  if (!addr.ok()) return addr.status();
  Result<net::UdpSocket> s = net::ConnectUdp(*addr, {.nonblocking = true});
  if (!s.ok()) return s.status();
  if (options.mtu < 64) options.mtu = 64;
  if (!options.prefix.empty() && options.prefix.back() != '.') options.prefix.push_back('.');
  return std::unique_ptr<StatsdClient>(new StatsdClient(std::move(options), std::move(*s)));
}

StatsdClient::StatsdClient(StatsdClientOptions options, net::UdpSocket socket)
    : options_(std::move(options)), socket_(std::move(socket)) {
  thread_ = std::thread([this] { Run(); });
}

StatsdClient::~StatsdClient() {
  Flush(1000);
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StatsdClient::Enqueue(std::string line) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (queue_.size() >= options_.queue_capacity) {
      ++counters_.dropped_lines;
      return;
    }
    queue_.push_back(std::move(line));
    ++enqueued_seq_;
    ++counters_.queued_lines;
    // Wake the sender early once a datagram's worth is waiting.
    wake = queue_.size() * 16 >= options_.mtu;
  }
  if (wake) cv_.notify_one();
}

void StatsdClient::Send(std::string_view line) { Enqueue(options_.prefix + std::string(line)); }

void StatsdClient::Count(std::string_view name, double value, double rate) {
  Enqueue(FormatStatsdLine(options_.prefix + std::string(name), value, "c", rate));
}
void StatsdClient::Gauge(std::string_view name, double value) {
  // A negative absolute gauge would read as a delta: send "0" then the delta.
  if (value < 0) {
    Enqueue(FormatStatsdLine(options_.prefix + std::string(name), 0, "g"));
  }
  Enqueue(FormatStatsdLine(options_.prefix + std::string(name), value, "g"));
}
void StatsdClient::GaugeDelta(std::string_view name, double delta) {
  std::string line = options_.prefix + std::string(name) + ":" + (delta >= 0 ? "+" : "");
  AppendJsNumber(delta, &line);
  Enqueue(line + "|g");
}
void StatsdClient::Timing(std::string_view name, double ms) {
  Enqueue(FormatStatsdLine(options_.prefix + std::string(name), ms, "ms"));
}
void StatsdClient::Set(std::string_view name, std::string_view member) {
  Enqueue(options_.prefix + std::string(name) + ":" + std::string(member) + "|s");
}

bool StatsdClient::Flush(int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  uint64_t target = enqueued_seq_;
  flush_requested_ = true;
  cv_.notify_all();
  return sent_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                           [&] { return done_seq_ >= target; });
}

StatsdClientCounters StatsdClient::Counters() const {
  std::lock_guard<std::mutex> lk(mu_);
  return counters_;
}

void StatsdClient::SendBatch(std::vector<std::string>& lines) {
  std::vector<std::string> packets = PackLines(lines, options_.mtu);
  std::vector<std::string_view> views(packets.begin(), packets.end());
  size_t sent = 0;
  Result<size_t> r = net::SendBatch(socket_.fd(), views);
  if (r.ok()) sent = *r;
  // Lines in packets that could not be sent are dropped (never block).
  uint64_t sent_lines = 0, dropped = 0;
  for (size_t i = 0; i < packets.size(); ++i) {
    uint64_t n = 1;
    for (char c : packets[i]) n += c == '\n';
    (i < sent ? sent_lines : dropped) += n;
  }
  std::lock_guard<std::mutex> lk(mu_);
  counters_.sent_lines += sent_lines;
  counters_.sent_packets += sent;
  counters_.dropped_lines += dropped;
}

void StatsdClient::Run() {
  std::vector<std::string> batch;
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    cv_.wait_for(lk, std::chrono::milliseconds(options_.flush_interval_ms),
                 [&] { return stop_ || flush_requested_ || queue_.size() * 16 >= options_.mtu; });
    flush_requested_ = false;
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    batch.swap(queue_);
    uint64_t n = batch.size();
    lk.unlock();
    SendBatch(batch);
    batch.clear();
    lk.lock();
    done_seq_ += n;
    sent_cv_.notify_all();
  }
}

}  // namespace stopgap::statsd

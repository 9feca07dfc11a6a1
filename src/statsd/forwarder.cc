// Forwarder thread: connect, write unacked frames in order, read acks,
// reconnect with backoff. See forwarder.h. Locks: mu_ only, released around
// connect and write.
#include "statsd/forwarder.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include "core/log.h"
#include "statsd/forward.h"

namespace stopgap::statsd {
namespace {

int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<Forwarder>> Forwarder::Start(const std::string& target, uint64_t session,
                                                    size_t cap_bytes, size_t cap_intervals) {
  Result<net::SocketAddress> a = net::ResolveHostPort(target, SOCK_STREAM);
  if (!a.ok()) return a.status().WithContext("--forward-to");
  std::unique_ptr<Forwarder> f(new Forwarder());
  f->addr_ = *a;
  f->session_ = session;
  f->cap_bytes_ = cap_bytes;
  f->cap_intervals_ = cap_intervals < 1 ? 1 : cap_intervals;
  f->thread_ = std::thread([p = f.get()] { p->Run(); });
  return f;
}

Forwarder::~Forwarder() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Forwarder::Enqueue(uint64_t seq, std::string frame) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    counters_.queued_bytes += frame.size();
    queue_.push_back({seq, std::make_shared<const std::string>(std::move(frame))});
    while (queue_.size() > 1 &&
           (counters_.queued_bytes > cap_bytes_ || queue_.size() > cap_intervals_)) {
      counters_.queued_bytes -= queue_.front().bytes->size();
      if (queue_.front().seq <= max_sent_seq_) {
        ++counters_.intervals_evicted_unacked;
      } else {
        counters_.bytes_dropped += queue_.front().bytes->size();
        ++counters_.intervals_dropped;
      }
      queue_.pop_front();
    }
    counters_.queued_intervals = queue_.size();
  }
  cv_.notify_all();
}

ForwarderCounters Forwarder::Counters() const {
  std::lock_guard<std::mutex> lk(mu_);
  return counters_;
}

bool Forwarder::Drain(int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  return drained_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] {
    return queue_.empty() || (fd_.get() >= 0 && written_seq_ >= queue_.back().seq);
  });
}

void Forwarder::Disconnect() {
  fd_.reset();
  acks_.clear();
  written_seq_ = 0;
  ++counters_.failures;
  backoff_ms_ = backoff_ms_ == 0 ? 100 : std::min(backoff_ms_ * 2, 2000);
  retry_at_ms_ = SteadyMs() + backoff_ms_;
}

const Forwarder::Frame* Forwarder::NextUnsent() {
  for (const Frame& f : queue_) {
    if (f.seq > written_seq_) return &f;
  }
  return nullptr;
}

void Forwarder::ReadAcks() {
  char buf[4096];
  bool lost = false;
  while (fd_.get() >= 0) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {  // closed (or broken): the acks read before still count
      lost = true;
      break;
    }
    acks_.append(buf, static_cast<size_t>(n));
  }
  size_t used = 0;
  while (acks_.size() - used >= kForwardAckBytes) {
    auto ack = DecodeForwardAck(std::string_view(acks_).substr(used));
    if (!ack) {
      Log(LogLevel::kWarn, "forward: the global node sent bytes that are not an ack");
      Disconnect();
      return;
    }
    used += kForwardAckBytes;
    if (ack->first != session_) continue;
    while (!queue_.empty() && queue_.front().seq <= ack->second) {
      counters_.queued_bytes -= queue_.front().bytes->size();
      ++counters_.intervals_acked;
      queue_.pop_front();
    }
    counters_.queued_intervals = queue_.size();
  }
  acks_.erase(0, used);
  if (lost) {
    Log(LogLevel::kWarn, "forward: connection to the global node lost",
        {{"global", addr_.ToString()}});
    Disconnect();
  }
}

void Forwarder::Run() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(50),
                 [&] { return stop_ || (fd_.get() >= 0 && NextUnsent() != nullptr); });
    if (stop_) break;
    if (fd_.get() < 0) {
      if (queue_.empty() || SteadyMs() < retry_at_ms_) continue;
      lk.unlock();
      Result<internal::Fd> c = internal::TcpConnect(addr_, 1000);
      lk.lock();
      if (!c.ok()) {
        if (!warned_) {  // once per outage, not once per retry
          warned_ = true;
          Log(LogLevel::kWarn, "forward: cannot reach the global node; buffering",
              {{"global", addr_.ToString()}, {"error", c.status().message()}});
        }
        Disconnect();
        continue;
      }
      fd_ = std::move(*c);
      if (warned_) Log(LogLevel::kInfo, "forward: reconnected", {{"global", addr_.ToString()}});
      warned_ = false;
      backoff_ms_ = 0;
      written_seq_ = 0;
      ++counters_.connects;
    }
    while (!stop_ && fd_.get() >= 0) {
      const Frame* f = NextUnsent();
      if (f == nullptr) break;
      Frame copy = *f;  // the buffer cap may drop it while we write unlocked
      int fd = fd_.get();
      lk.unlock();
      Status st = internal::WriteAll(fd, *copy.bytes, 5000);
      lk.lock();
      if (!st.ok()) {
        Log(LogLevel::kWarn, "forward: write to the global node failed",
            {{"global", addr_.ToString()}, {"error", st.message()}});
        Disconnect();
        break;
      }
      written_seq_ = copy.seq;
      counters_.bytes_sent += copy.bytes->size();
      if (copy.seq > max_sent_seq_) {
        max_sent_seq_ = copy.seq;
        ++counters_.intervals_sent;
      } else {
        ++counters_.intervals_resent;
      }
      ReadAcks();
    }
    ReadAcks();
    drained_.notify_all();
  }
  drained_.notify_all();
}

}  // namespace stopgap::statsd

// ExecutionQueue: slots, a deque and a fixed set of worker threads.
//
// Threading: one mutex guards the deque, the running set and the reservation
// count; workers wait on work_cv_, Shutdown waits on idle_cv_.
#include "server/work_queue.h"

#include "core/log.h"

namespace stopgap::server {

ExecutionQueue::Slot::~Slot() {
  if (q_) q_->Release();
}

ExecutionQueue::ExecutionQueue(int workers, size_t capacity, std::function<void(QueuedId)> run)
    : capacity_(capacity), run_(std::move(run)) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

ExecutionQueue::~ExecutionQueue() {
  (void)Shutdown(Duration{0});
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::optional<ExecutionQueue::Slot> ExecutionQueue::Reserve() {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_ || queue_.size() + reserved_ >= capacity_) return std::nullopt;
  ++reserved_;
  return Slot(this);
}

void ExecutionQueue::Release() {
  std::lock_guard<std::mutex> l(mu_);
  --reserved_;
}

void ExecutionQueue::Commit(Slot slot, QueuedId id) {
  slot.q_ = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    --reserved_;
    // A slot reserved before shutdown still counts: it is handed back in
    // never_started by Shutdown if no worker takes it.
    queue_.push_back(id);
  }
  work_cv_.notify_one();
}

size_t ExecutionQueue::depth() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

size_t ExecutionQueue::running() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_.size();
}

void ExecutionQueue::WorkerLoop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    work_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    QueuedId id = queue_.front();
    queue_.pop_front();
    running_.insert(id);
    l.unlock();
    try {
      run_(id);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "execution worker threw",
          {{"execution", std::to_string(id)}, {"error", e.what()}});
    }
    l.lock();
    running_.erase(id);
    idle_cv_.notify_all();
  }
}

ExecutionQueue::ShutdownResult ExecutionQueue::Shutdown(Duration grace) {
  ShutdownResult out;
  std::unique_lock<std::mutex> l(mu_);
  if (shut_down_) return out;
  stopping_ = true;
  out.never_started.assign(queue_.begin(), queue_.end());
  queue_.clear();
  work_cv_.notify_all();
  idle_cv_.wait_for(l, grace, [&] { return running_.empty(); });
  out.still_running.assign(running_.begin(), running_.end());
  shut_down_ = true;
  // Running ones past the grace: Join() or the destructor joins them.
  if (running_.empty()) JoinWorkers(l);
  return out;
}

bool ExecutionQueue::Join(Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  if (!idle_cv_.wait_for(l, timeout, [&] { return running_.empty(); })) return false;
  JoinWorkers(l);
  return true;
}

void ExecutionQueue::JoinWorkers(std::unique_lock<std::mutex>& l) {
  std::vector<std::thread> threads = std::move(threads_);
  l.unlock();
  for (auto& t : threads) t.join();
}

}  // namespace stopgap::server

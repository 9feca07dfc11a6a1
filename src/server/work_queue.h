// ExecutionQueue: the bounded queue between alert intake and the worker pool,
// and the pool itself. Intake reserves a slot *before* it records an
// execution, so an execution that was acknowledged always has a place in the
// queue; when no slot is free the sender gets 503 + Retry-After instead.
//
//   ExecutionQueue q(/*workers=*/4, /*capacity=*/1024, [&](ExecutionId id) { engine.Run(id); });
//   if (auto slot = q.Reserve()) { id = Begin(...); q.Commit(std::move(*slot), id); }
//   ...
//   auto left = q.Shutdown(grace);   // stop, wait for running ones, return the rest
//
// Thread safety: all methods are thread-safe. The run function is called on
// the pool's threads, one execution per call.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/time.h"

namespace stopgap::server {

using QueuedId = int64_t;

class ExecutionQueue {
 public:
  // A reserved place in the queue; released if neither committed nor moved.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : q_(other.q_) { other.q_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class ExecutionQueue;
    explicit Slot(ExecutionQueue* q) : q_(q) {}
    ExecutionQueue* q_;
  };

  ExecutionQueue(int workers, size_t capacity, std::function<void(QueuedId)> run);
  ~ExecutionQueue();  // Shutdown(0) when still running
  ExecutionQueue(const ExecutionQueue&) = delete;
  ExecutionQueue& operator=(const ExecutionQueue&) = delete;

  // A slot, or nullopt when the queue (queued + reserved) is full or shut down.
  std::optional<Slot> Reserve();
  // Puts `id` in the reserved place; a worker picks it up.
  void Commit(Slot slot, QueuedId id);

  size_t depth() const;    // queued, not yet running
  size_t running() const;  // being run by a worker
  size_t capacity() const { return capacity_; }

  struct ShutdownResult {
    std::vector<QueuedId> never_started;  // were queued; will not run
    std::vector<QueuedId> still_running;  // did not finish within the grace period
  };
  // Stops accepting, drops what is queued (returned), waits up to `grace` for
  // running ones and reports those still running after it (the destructor
  // then waits for them: a daemon that must exit now calls _exit). Idempotent.
  ShutdownResult Shutdown(Duration grace);
  // After Shutdown: waits up to `timeout` for the executions still running
  // and joins the workers; false if some are still running.
  bool Join(Duration timeout);

 private:
  void WorkerLoop();
  void Release();
  // Called with mu_ held and nothing running; returns with it released.
  void JoinWorkers(std::unique_lock<std::mutex>& l);

  const size_t capacity_;
  std::function<void(QueuedId)> run_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<QueuedId> queue_;
  std::set<QueuedId> running_;
  size_t reserved_ = 0;
  bool stopping_ = false;
  bool shut_down_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stopgap::server

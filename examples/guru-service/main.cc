// guru-service: an example C++ service linking libstopgap_guru. It runs a few
// named worker threads around a small job queue, registers its configuration
// (one value secret) and a "Job queue" section, writes a pidfile, and writes a
// Guru Meditation report on SIGUSR2 or when --trigger-file is touched.
//
//   guru-service --report-dir DIR [--pidfile F] [--trigger-file F] [--workers N]
//
// Threads: main (waits for SIGTERM/SIGINT), N workers, the guru reporter.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "guru/stopgap_guru.h"

namespace {

struct JobQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> jobs;
  std::atomic<long> done{0};
  bool stopping = false;
};

__attribute__((noinline)) void WaitForJob(JobQueue& q, std::unique_lock<std::mutex>& lock) {
  q.cv.wait(lock, [&] { return q.stopping || !q.jobs.empty(); });
}

__attribute__((noinline)) void WorkerLoop(JobQueue& q) {
  std::unique_lock<std::mutex> lock(q.mu);
  while (true) {
    WaitForJob(q, lock);
    if (q.stopping) return;
    q.jobs.pop_front();
    ++q.done;
  }
}

void PrintQueue(FILE* out, void* user) {
  auto* q = static_cast<JobQueue*>(user);
  std::lock_guard<std::mutex> lock(q->mu);
  std::fprintf(out, "pending = %zu\ncompleted = %ld\n", q->jobs.size(), q->done.load());
}

}  // namespace

int main(int argc, char** argv) {
  std::string report_dir, pidfile, trigger;
  int workers = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--report-dir")
      report_dir = argv[i + 1];
    else if (k == "--pidfile")
      pidfile = argv[i + 1];
    else if (k == "--trigger-file")
      trigger = argv[i + 1];
    else if (k == "--workers")
      workers = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "guru-service: unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  stopgap_guru_options o;
  std::memset(&o, 0, sizeof o);
  o.service = "guru-service";
  o.package = "stopgap-examples";
  o.version = "1.0.0";
  o.report_dir = report_dir.c_str();
  o.trigger_file = trigger.empty() ? nullptr : trigger.c_str();
  o.trigger_poll_ms = 100;
  if (stopgap_guru_install(&o) != 0) {
    std::perror("stopgap_guru_install");
    return 1;
  }
  JobQueue q;
  stopgap_guru_register_config("listen", "127.0.0.1:8774", 0);
  stopgap_guru_register_config("workers", std::to_string(workers).c_str(), 0);
  stopgap_guru_register_config("database_connection", "mysql://nova:dbpass-123@db/nova", 1);
  stopgap_guru_register_config("admin_password", "adminpass-456", 0);  // masked by its name
  stopgap_guru_register_section("Job queue", PrintQueue, &q);

  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&q] { WorkerLoop(q); });
    pthread_setname_np(threads.back().native_handle(), ("worker-" + std::to_string(i)).c_str());
  }
  {
    std::lock_guard<std::mutex> lock(q.mu);
    for (int i = 0; i < 5; ++i) q.jobs.push_back(i);
  }
  q.cv.notify_all();
  if (!pidfile.empty()) {
    FILE* f = std::fopen(pidfile.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "%d\n", getpid());
      std::fclose(f);
    }
  }
  std::printf("ready %d\n", getpid());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  {
    std::lock_guard<std::mutex> lock(q.mu);
    q.stopping = true;
  }
  q.cv.notify_all();
  for (auto& t : threads) t.join();
  stopgap_guru_uninstall();
  return 0;
}

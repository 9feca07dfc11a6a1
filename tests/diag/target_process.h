// Test helper: starts bench/diag_target (N sleeping threads + a ticker) as a
// real child process with the given extra argv and environment, waits for its
// "ready" line, and kills it on destruction.
// Thread safety: one owner.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace stopgap::diag::testing {

class TargetProcess {
 public:
  TargetProcess(int threads, std::vector<std::string> extra_args = {},
                std::vector<std::string> env = {"PATH=/usr/bin:/bin"}) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    std::vector<std::string> args = {DIAG_TARGET_PATH, std::to_string(threads), "/dev/null"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (::posix_spawn(&pid_, DIAG_TARGET_PATH, &fa, nullptr, argv.data(), envp.data()) != 0)
      pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    std::string line;
    char c;
    while (pid_ > 0 && ::read(fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(fds[0]);
    ready_ = line.rfind("ready", 0) == 0;
  }
  ~TargetProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = 0;
  bool ready_ = false;
};

}  // namespace stopgap::diag::testing

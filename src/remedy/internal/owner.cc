// Owner ids from /proc; see owner.h.
#include "remedy/internal/owner.h"

#include <unistd.h>

#include <mutex>

#include "core/file.h"

namespace stopgap::remedy::internal {
namespace {

std::string BootId() {
  Result<std::string> b = ReadFile("/proc/sys/kernel/random/boot_id", 4096);
  if (!b.ok()) return "unknown-boot";
  std::string s = *b;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot); "" when gone.
std::string StartTime(long pid) {
  Result<std::string> st = ReadFile("/proc/" + std::to_string(pid) + "/stat", 8192);
  if (!st.ok()) return "";
  size_t p = st->rfind(')');
  if (p == std::string::npos) return "";
  // After ") " come fields 3.. ; starttime is field 22 -> the 20th after ')'.
  size_t pos = p + 2;
  for (int field = 3; field < 22; ++field) {
    pos = st->find(' ', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  size_t end = st->find(' ', pos);
  std::string out = st->substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  // A zombie is not a live owner.
  if (p + 2 < st->size() && (*st)[p + 2] == 'Z') return "";
  return out;
}

}  // namespace

std::string SelfOwnerId() {
  // Recomputed after fork(): a child is a different owner.
  static std::mutex mu;
  static pid_t cached_pid = 0;
  static std::string cached;
  std::lock_guard lock(mu);
  pid_t pid = ::getpid();
  if (pid != cached_pid) {
    cached = BootId() + ":" + std::to_string(static_cast<long>(pid)) + ":" + StartTime(pid);
    cached_pid = pid;
  }
  return cached;
}

bool OwnerAlive(std::string_view owner) {
  size_t a = owner.rfind(':');
  if (a == std::string_view::npos || a == 0) return false;
  size_t b = owner.rfind(':', a - 1);
  if (b == std::string_view::npos) return false;
  static const std::string boot = BootId();
  if (owner.substr(0, b) != boot) return false;
  long pid = 0;
  for (char c : owner.substr(b + 1, a - b - 1)) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + (c - '0');
    if (pid > (1L << 30)) return false;
  }
  std::string start = StartTime(pid);
  return !start.empty() && start == owner.substr(a + 1);
}

}  // namespace stopgap::remedy::internal

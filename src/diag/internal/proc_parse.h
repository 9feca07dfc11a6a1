// Pure parsers for the /proc files the collectors read: task stat lines,
// "Key: value" files, NUL-separated lists, mounts, socket tables, maps.
// Each takes the text as read and never trusts it (fuzzed: fuzz/diag.cmake).
//
// Thread safety: pure functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace stopgap::diag::internal {

// /proc/PID/stat or /proc/PID/task/TID/stat.
struct TaskStat {
  pid_t pid = 0;
  std::string comm;
  char state = '?';
  pid_t ppid = 0;
  uint64_t utime = 0;  // clock ticks
  uint64_t stime = 0;
  int64_t num_threads = 0;
  uint64_t starttime = 0;
  uint64_t vsize = 0;     // bytes
  int64_t rss_pages = 0;  // pages
  int processor = -1;
};
Result<TaskStat> ParseTaskStat(std::string_view text);

// "Key: value" (or "key value" with sep ' ') lines, values trimmed.
std::vector<std::pair<std::string_view, std::string_view>> ParseKeyValueLines(std::string_view text,
                                                                              char sep = ':');
// Leading unsigned integer of a value ("123 kB" -> 123).
std::optional<uint64_t> ParseLeadingU64(std::string_view value);

// NUL-separated strings (cmdline, environ); a trailing NUL adds nothing.
std::vector<std::string> SplitNul(std::string_view text);

// /proc/self/mounts; octal escapes (\040) decoded.
struct MountEntry {
  std::string device, mountpoint, fstype, options;
};
std::vector<MountEntry> ParseMounts(std::string_view text);

// /proc/net/tcp, tcp6, udp, udp6 rows. Addresses as "1.2.3.4:80" / "[::1]:80".
struct SocketEntry {
  std::string local, remote;
  int state = 0;  // kernel TCP state number (1 ESTABLISHED ... 10 LISTEN)
  uint64_t tx_queue = 0, rx_queue = 0;
  uint32_t uid = 0;
  uint64_t inode = 0;
};
// Skips the header and malformed rows (counted in *bad when given).
std::vector<SocketEntry> ParseSocketTable(std::string_view text, size_t* bad = nullptr);
std::string_view TcpStateName(int state);

// /proc/PID/maps rows.
struct MapEntry {
  uint64_t start = 0, end = 0;
  std::string perms;
  uint64_t offset = 0;
  uint64_t inode = 0;
  std::string path;  // may be empty, "[stack]", "[heap]", a file
};
std::vector<MapEntry> ParseMaps(std::string_view text);

}  // namespace stopgap::diag::internal

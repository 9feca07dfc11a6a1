// Pure /proc parsers; see proc_parse.h. No allocation-heavy tricks, no trust
// in the input: every field is bounds-checked and malformed rows are skipped.
#include "diag/internal/proc_parse.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

#include "core/strings.h"

namespace stopgap::diag::internal {
namespace {

// Splits on runs of spaces/tabs.
std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool ToNum(std::string_view s, T* out, int base = 10) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string Unoctal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool DecodeAddress(std::string_view hex, std::string* out) {
  auto colon = hex.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view addr = hex.substr(0, colon);
  unsigned port = 0;
  if (!ToNum(hex.substr(colon + 1), &port, 16) || port > 65535) return false;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.size() == 8) {
    uint32_t v = 0;
    if (!ToNum(addr, &v, 16)) return false;
    // The kernel prints the address as a host-order u32 of network-order bytes.
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    *out = std::string(buf) + ":" + std::to_string(port);
    return true;
  }
  if (addr.size() == 32) {
    unsigned char b[16];
    for (int w = 0; w < 4; ++w) {
      uint32_t v = 0;
      if (!ToNum(addr.substr(static_cast<size_t>(w) * 8, 8), &v, 16)) return false;
      for (int i = 0; i < 4; ++i) b[w * 4 + i] = static_cast<unsigned char>(v >> (8 * i));
    }
    if (inet_ntop(AF_INET6, b, buf, sizeof buf) == nullptr) return false;
    *out = "[" + std::string(buf) + "]:" + std::to_string(port);
    return true;
  }
  return false;
}

}  // namespace

Result<TaskStat> ParseTaskStat(std::string_view text) {
  TaskStat st;
  auto open = text.find('(');
  auto close = text.rfind(')');  // comm may itself contain ')' or spaces
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return InvalidArgument("stat: no (comm) field");
  }
  if (!ToNum(TrimWhitespace(text.substr(0, open)), &st.pid))
    return InvalidArgument("stat: bad pid");
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  auto f = Fields(text.substr(close + 1));
  // f[0] is field 3 (state); field N is f[N-3].
  if (f.size() < 22) return InvalidArgument("stat: too few fields");
  if (f[0].size() != 1) return InvalidArgument("stat: bad state");
  st.state = f[0][0];
  bool ok = ToNum(f[1], &st.ppid) && ToNum(f[11], &st.utime) && ToNum(f[12], &st.stime) &&
            ToNum(f[17], &st.num_threads) && ToNum(f[19], &st.starttime) &&
            ToNum(f[20], &st.vsize) && ToNum(f[21], &st.rss_pages);
  if (!ok) return InvalidArgument("stat: bad number");
  if (f.size() > 36) {
    int cpu = -1;
    if (ToNum(f[36], &cpu)) st.processor = cpu;
  }
  return st;
}

std::vector<std::pair<std::string_view, std::string_view>> ParseKeyValueLines(std::string_view text,
                                                                              char sep) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto pos = line.find(sep);
    if (pos == std::string_view::npos || pos == 0) continue;
    out.emplace_back(TrimWhitespace(line.substr(0, pos)), TrimWhitespace(line.substr(pos + 1)));
  }
  return out;
}

std::optional<uint64_t> ParseLeadingU64(std::string_view value) {
  value = TrimWhitespace(value);
  uint64_t v = 0;
  auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec != std::errc() || r.ptr == value.data()) return std::nullopt;
  return v;
}

std::vector<std::string> SplitNul(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    auto z = text.find('\0', i);
    if (z == std::string_view::npos) z = text.size();
    out.emplace_back(text.substr(i, z - i));
    i = z + 1;
  }
  return out;
}

std::vector<MountEntry> ParseMounts(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto f = Fields(line);
    if (f.size() < 4) continue;
    out.push_back({Unoctal(f[0]), Unoctal(f[1]), std::string(f[2]), std::string(f[3])});
  }
  return out;
}

std::vector<SocketEntry> ParseSocketTable(std::string_view text, size_t* bad) {
  std::vector<SocketEntry> out;
  bool header = true;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (header) {
      header = false;
      if (line.find("local_address") != std::string_view::npos) continue;
    }
    auto f = Fields(line);
    if (f.empty()) continue;
    SocketEntry e;
    bool ok = f.size() >= 10 && !f[0].empty() && f[0].back() == ':' &&
              DecodeAddress(f[1], &e.local) && DecodeAddress(f[2], &e.remote) &&
              ToNum(f[3], &e.state, 16);
    if (ok) {
      auto colon = f[4].find(':');
      ok = colon != std::string_view::npos && ToNum(f[4].substr(0, colon), &e.tx_queue, 16) &&
           ToNum(f[4].substr(colon + 1), &e.rx_queue, 16) && ToNum(f[7], &e.uid) &&
           ToNum(f[9], &e.inode);
    }
    if (!ok) {
      if (bad != nullptr) ++*bad;
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string_view TcpStateName(int state) {
  static constexpr std::string_view kNames[] = {
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
  if (state < 0 || state >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[state];
}

std::vector<MapEntry> ParseMaps(std::string_view text) {
  std::vector<MapEntry> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto f = Fields(line);
    if (f.size() < 5) continue;
    MapEntry m;
    auto dash = f[0].find('-');
    if (dash == std::string_view::npos || !ToNum(f[0].substr(0, dash), &m.start, 16) ||
        !ToNum(f[0].substr(dash + 1), &m.end, 16) || m.end < m.start ||
        !ToNum(f[2], &m.offset, 16) || !ToNum(f[4], &m.inode)) {
      continue;
    }
    m.perms = std::string(f[1]);
    if (f.size() > 5) {
      // The path is the rest of the line after the 5th field (may hold spaces).
      auto pos = static_cast<size_t>(f[5].data() - line.data());
      m.path = std::string(TrimWhitespace(line.substr(pos)));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace stopgap::diag::internal

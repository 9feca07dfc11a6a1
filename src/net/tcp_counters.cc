// Parser for /proc/net/snmp and /proc/net/netstat: header line + value line
// pairs keyed by their "Section:" prefix. Pure apart from ReadTcpCounters.
#include "net/tcp_counters.h"

#include <charconv>
#include <limits>

#include "core/file.h"

namespace stopgap::net {
namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseValue(std::string_view s, int64_t* out) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size()) {
    *out = v;
    return true;
  }
  uint64_t u = 0;
  auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), u);
  if (ec2 == std::errc() && p2 == s.data() + s.size()) {
    *out = std::numeric_limits<int64_t>::max();  // clamp: above INT64_MAX
    return true;
  }
  return false;
}

Status ParseFile(std::string_view text, std::string_view file, TcpCounters* out) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    pos = nl + 1;
  }
  for (size_t i = 0; i < lines.size(); i += 2) {
    std::vector<std::string_view> head = SplitFields(lines[i]);
    if (head.empty() || head[0].back() != ':') {
      return InvalidArgument(std::string(file) + ": line " + std::to_string(i + 1) +
                             ": expected a \"Section:\" header");
    }
    std::string_view section = head[0].substr(0, head[0].size() - 1);
    if (i + 1 >= lines.size()) {
      return InvalidArgument(std::string(file) + ": section " + std::string(section) +
                             ": header without a value line");
    }
    std::vector<std::string_view> vals = SplitFields(lines[i + 1]);
    if (vals.empty() || vals[0] != head[0]) {
      return InvalidArgument(std::string(file) + ": section " + std::string(section) +
                             ": value line has a different prefix");
    }
    if (vals.size() != head.size()) {
      return InvalidArgument(std::string(file) + ": section " + std::string(section) + ": " +
                             std::to_string(head.size() - 1) + " names but " +
                             std::to_string(vals.size() - 1) + " values");
    }
    for (size_t k = 1; k < head.size(); ++k) {
      int64_t v = 0;
      if (!ParseValue(vals[k], &v)) {
        return InvalidArgument(std::string(file) + ": section " + std::string(section) +
                               ": field " + std::string(head[k]) +
                               ": not a number: " + std::string(vals[k]));
      }
      out->counters.push_back({std::string(section), std::string(head[k]), v});
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<int64_t> TcpCounters::Get(std::string_view section, std::string_view name) const {
  for (const ProcNetCounter& c : counters) {
    if (c.section == section && c.name == name) return c.value;
  }
  return std::nullopt;
}

std::vector<const ProcNetCounter*> TcpCounters::Section(std::string_view section) const {
  std::vector<const ProcNetCounter*> out;
  for (const ProcNetCounter& c : counters) {
    if (c.section == section) out.push_back(&c);
  }
  return out;
}

Result<TcpCounters> ParseTcpCounters(std::string_view snmp, std::string_view netstat) {
  TcpCounters out;
  STOPGAP_RETURN_IF_ERROR(ParseFile(snmp, "snmp", &out));
  STOPGAP_RETURN_IF_ERROR(ParseFile(netstat, "netstat", &out));
  return out;
}

Result<TcpCounters> ReadTcpCounters(const std::string& proc_root) {
  Result<std::string> snmp = ReadFile(proc_root + "/net/snmp");
  if (!snmp.ok()) return snmp.status();
  Result<std::string> netstat = ReadFile(proc_root + "/net/netstat");
  std::string netstat_text = netstat.ok() ? *netstat : std::string();
  return ParseTcpCounters(*snmp, netstat_text);
}

uint64_t CounterDelta(std::optional<int64_t> before, std::optional<int64_t> after) {
  if (!before || !after || *after < *before) return 0;
  return static_cast<uint64_t>(*after) - static_cast<uint64_t>(*before);
}

uint64_t CounterDelta(const TcpCounters& before, const TcpCounters& after, std::string_view section,
                      std::string_view name) {
  return CounterDelta(before.Get(section, name), after.Get(section, name));
}

double RetransmitRate(const TcpCounters& before, const TcpCounters& after) {
  uint64_t out = CounterDelta(before, after, "Tcp", "OutSegs");
  if (out == 0) return 0.0;
  uint64_t re = CounterDelta(before, after, "Tcp", "RetransSegs");
  return static_cast<double>(re) / static_cast<double>(out);
}

}  // namespace stopgap::net

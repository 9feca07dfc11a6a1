// Archive keys and metadata; see archive.h. Thread safety: pure functions.
#include "logship/archive.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "net/http_client.h"

namespace stopgap::logship {
namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

}  // namespace

Result<Layout> ParseLayout(std::string_view text) {
  if (text == "host") return Layout::kHost;
  if (text == "date") return Layout::kDate;
  return InvalidArgument("layout '" + std::string(text) + "' (want host or date)");
}

std::string DayPrefix(CivilDay day, const std::string& host) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d/", day.year, day.month, day.day);
  return buf + (host.empty() ? "" : host + "/");
}

std::string ArchiveKey(Layout layout, const std::string& host, const std::string& abs_path,
                       CivilDay day) {
  std::string rel = abs_path.starts_with("/") ? abs_path.substr(1) : abs_path;
  if (layout == Layout::kDate) return DayPrefix(day, host) + rel;
  return host + "/" + rel;
}

std::optional<KeyParts> SplitArchiveKey(Layout layout, std::string_view key) {
  KeyParts k;
  if (layout == Layout::kDate) {
    // YYYY/MM/DD/ then a host key.
    if (key.size() < 11 || key[4] != '/' || key[7] != '/' || key[10] != '/' ||
        !AllDigits(key.substr(0, 4)) || !AllDigits(key.substr(5, 2)) ||
        !AllDigits(key.substr(8, 2))) {
      return std::nullopt;
    }
    Result<CivilDay> d =
        ParseCivilDay(std::string(key.substr(0, 4)) + "-" + std::string(key.substr(5, 2)) + "-" +
                      std::string(key.substr(8, 2)));
    if (!d.ok()) return std::nullopt;
    k.day = *d;
    key.remove_prefix(11);
  }
  size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= key.size()) {
    return std::nullopt;
  }
  k.host = std::string(key.substr(0, slash));
  k.path = std::string(key.substr(slash));
  return k;
}

ObjectMeta ArchiveMeta(const std::string& host, const std::string& abs_path,
                       const std::optional<Rotation>& rotation,
                       std::optional<uint64_t> uncompressed_size) {
  ObjectMeta m;
  if (rotation) {
    char buf[64];
    const RotationTime& t = rotation->time;
    if (t.epoch) {
      std::time_t secs = static_cast<std::time_t>(*t.epoch);
      std::tm tm{};
      gmtime_r(&secs, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day,
                    t.hour, t.minute, t.second);
    }
    m.emplace_back(kMetaDate, buf);
  }
  m.emplace_back(kMetaHost, net::UrlEncode(host));
  m.emplace_back(kMetaPath, net::UrlEncode(abs_path, true));
  if (uncompressed_size) m.emplace_back(kMetaUncompressed, std::to_string(*uncompressed_size));
  return m;
}

MetaFacts ReadArchiveMeta(const ObjectMeta& meta) {
  MetaFacts f;
  std::string date = MetaValue(meta, kMetaDate);
  if (date.size() >= 10) {
    if (Result<CivilDay> d = ParseCivilDay(date.substr(0, 10)); d.ok()) f.day = *d;
  }
  f.host = PercentDecode(MetaValue(meta, kMetaHost));
  f.path = PercentDecode(MetaValue(meta, kMetaPath));
  std::string size = MetaValue(meta, kMetaUncompressed);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), v);
  if (!size.empty() && ec == std::errc() && p == size.data() + size.size()) {
    f.uncompressed_size = v;
  }
  return f;
}

}  // namespace stopgap::logship

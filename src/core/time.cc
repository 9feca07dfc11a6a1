// Duration and calendar parsing (pure functions) and the clocks.
#include "core/time.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

namespace stopgap {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t total_ms = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && IsDigit(rest[n])) ++n;
    if (n == 0) {
      return InvalidArgument("bad duration '" + std::string(text) +
                             "': expected a number followed by ms, s, m, h, d or w");
    }
    int64_t value = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + n, value);
    if (ec != std::errc())
      return InvalidArgument("duration out of range: '" + std::string(text) + "'");
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !IsDigit(rest[u])) ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    int64_t mult = 0;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else if (unit == "w")
      mult = 7 * 86'400'000LL;
    else {
      return InvalidArgument("bad duration '" + std::string(text) + "': unknown unit '" +
                             std::string(unit) + "' (use ms, s, m, h, d or w)");
    }
    if (value > std::numeric_limits<int64_t>::max() / mult ||
        total_ms > std::numeric_limits<int64_t>::max() - value * mult) {
      return InvalidArgument("duration out of range: '" + std::string(text) + "'");
    }
    total_ms += value * mult;
  }
  return Duration(total_ms);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysSinceEpoch(CivilDay d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (d.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDay CivilDayFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDay{static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

CivilDay CivilDayOf(WallTime t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  return CivilDayFromDays(days);
}

static bool ParseFixedInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsDigit(c)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc();
}

Result<CivilDay> ParseCivilDay(std::string_view text) {
  CivilDay d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !ParseFixedInt(text.substr(0, 4), d.year) || !ParseFixedInt(text.substr(5, 2), d.month) ||
      !ParseFixedInt(text.substr(8, 2), d.day)) {
    return InvalidArgument("bad date '" + std::string(text) + "': expected YYYY-MM-DD");
  }
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 ||
      CivilDayFromDays(DaysSinceEpoch(d)) != d) {
    return InvalidArgument("bad date '" + std::string(text) + "': no such day");
  }
  return d;
}

std::string FormatCivilDay(CivilDay d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string FormatRfc3339(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  CivilDay d = CivilDayFromDays(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.year, d.month, d.day,
                static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                static_cast<int>(sod % 60), static_cast<int>(frac));
  return buf;
}

Result<WallTime> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return InvalidArgument("bad timestamp '" + std::string(s) + "': expected RFC 3339");
  };
  if (s.size() < 20) return bad();
  auto day = ParseCivilDay(s.substr(0, 10));
  if (!day.ok() || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return bad();
  // WallTime counts nanoseconds in 64 bits: only years 1678..2261 fit.
  if (day->year < 1678 || day->year > 2261) {
    return InvalidArgument("timestamp '" + std::string(s) + "' is outside years 1678-2261");
  }
  int hh = 0, mm = 0, ss = 0;
  if (s[13] != ':' || s[16] != ':' || !ParseFixedInt(s.substr(11, 2), hh) ||
      !ParseFixedInt(s.substr(14, 2), mm) || !ParseFixedInt(s.substr(17, 2), ss) || hh > 23 ||
      mm > 59 || ss > 60) {
    return bad();
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return bad();
    while (digits++ < 9) nanos *= 10;
  }
  int64_t offset_s = 0;
  if (i >= s.size()) return bad();
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh = 0, om = 0;
    if (i + 6 != s.size() || s[i + 3] != ':' || !ParseFixedInt(s.substr(i + 1, 2), oh) ||
        !ParseFixedInt(s.substr(i + 4, 2), om)) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  int64_t secs = DaysSinceEpoch(*day) * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(secs) +
                                                                 std::chrono::nanoseconds(nanos)));
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

WallTime ManualClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}
MonoTime ManualClock::Monotonic() const {
  std::lock_guard<std::mutex> l(mu_);
  return MonoTime(mono_);
}
void ManualClock::Advance(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  now_ += d;
  mono_ += d;
}
void ManualClock::Set(WallTime t) {
  std::lock_guard<std::mutex> l(mu_);
  now_ = t;
}

}  // namespace stopgap

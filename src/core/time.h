// Clocks and durations. Code that needs the time takes a Clock& so tests can
// use ManualClock (simulated time, no sleeps); only SystemClock reads the OS.
//
// Durations in stopgap's config are "<number><unit>" with units ms, s, m, h,
// d, w (e.g. "500ms", "10m", "90d"), or a sum like "1h30m".
//
// Thread safety: SystemClock is stateless; ManualClock is internally locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap {

using Duration = std::chrono::milliseconds;
using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

// Parses "10m", "1h30m", "500ms", "90d". Rejects empty, negative, unknown units,
// and values that overflow.
Result<Duration> ParseDuration(std::string_view text);
// Formats a duration the way ParseDuration reads it ("1h30m", "0s").
std::string FormatDuration(Duration d);

// A calendar day as written in the catalog ("2027-01-31"); UTC.
struct CivilDay {
  int year = 0;
  int month = 0;
  int day = 0;
  auto operator<=>(const CivilDay&) const = default;
};
Result<CivilDay> ParseCivilDay(std::string_view text);
std::string FormatCivilDay(CivilDay day);
// Days since 1970-01-01 (may be negative).
int64_t DaysSinceEpoch(CivilDay day);
CivilDay CivilDayFromDays(int64_t days);
CivilDay CivilDayOf(WallTime t);

// RFC 3339 UTC with milliseconds: "2026-11-25T14:29:30.123Z".
std::string FormatRfc3339(WallTime t);
// Accepts RFC 3339 with "Z" or a numeric offset and optional fraction.
Result<WallTime> ParseRfc3339(std::string_view text);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
  // A process-wide instance.
  static const SystemClock& Instance();
};

// Simulated time for tests: moves only when Advance() is called.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start) : now_(start) {}
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  void Advance(Duration d);
  void Set(WallTime t);

 private:
  mutable std::mutex mu_;
  WallTime now_;
  Duration mono_{0};
};

}  // namespace stopgap

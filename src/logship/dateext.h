// logrotate `dateext` names: parse and format rotation file names per
// logrotate 3.21's `dateformat` (only %Y %m %d %H %M %S %V %s are allowed),
// with an optional compression suffix (.gz, .xz, .zst, .bz2).
//
//   Result<DateFormat> f = DateFormat::Parse("-%Y%m%d");
//   auto r = ParseRotation(*f, "app.log-20261125.gz", "app.log");  // date + ".gz"
//
// Pure functions over strings; thread-safe. Fuzzed (fuzz/logship.cmake).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::logship {

// The calendar fields a rotation name carries; unset fields are 0 (month/day 1).
struct RotationTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  // Seconds since the epoch when the name holds %s (then it wins over fields).
  std::optional<int64_t> epoch;
  CivilDay Day() const;  // the calendar day (UTC for %s)
};

class DateFormat {
 public:
  // Accepts the specifiers logrotate 3.21 allows; anything else after '%'
  // (or a trailing '%') is InvalidArgument naming it.
  static Result<DateFormat> Parse(std::string_view format);
  // logrotate's default, "-%Y%m%d".
  static DateFormat Default();

  // Matches `text` exactly against the format; nullopt when it doesn't.
  std::optional<RotationTime> Match(std::string_view text) const;
  // Renders the format for a broken-down local time (what logrotate writes).
  std::string Format(const std::tm& local) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

struct Rotation {
  std::string live_name;    // "app.log"
  std::string date_text;    // "-20261125"
  std::string compression;  // "", ".gz", ".xz", ".zst", ".bz2"
  RotationTime time;
};

// The compression suffix of a file name, or "".
std::string_view CompressionSuffix(std::string_view file_name);

// `file_name` is `live_name` + a date in `format` + an optional compression
// suffix. Names only (no directories).
std::optional<Rotation> ParseRotation(const DateFormat& format, std::string_view file_name,
                                      std::string_view live_name);
// Like ParseRotation but the live name is unknown: the date is matched at the
// end of the name (before any compression suffix); the live name is what
// precedes it and must be non-empty.
std::optional<Rotation> ParseRotationAnyBase(const DateFormat& format, std::string_view file_name);

// Recognises the common logrotate dateext forms without being told the
// dateformat: -%Y%m%d-%s, -%Y%m%d%H, -%Y-%m-%d, -%Y%m%d, and -%Y%m%d.N
// (a second rotation of the same day), each with an optional compression
// suffix. Years outside 1990..2199 are not taken for dates. nullopt when
// none matches.
std::optional<Rotation> RecogniseRotation(std::string_view file_name);

// A numbered rotation `live.N[.gz]` (N >= 1): the number, or nullopt.
struct NumberedRotation {
  int number = 0;
  std::string compression;
};
std::optional<NumberedRotation> ParseNumbered(std::string_view file_name,
                                              std::string_view live_name);

}  // namespace stopgap::logship

// logrotate dateext name parsing/formatting. Pure functions; thread-safe.
#include "logship/dateext.h"

#include <array>
#include <charconv>

namespace stopgap::logship {
namespace {

constexpr std::array<std::string_view, 4> kCompression = {".gz", ".xz", ".zst", ".bz2"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at text[*pos].
bool ReadFixed(std::string_view text, size_t* pos, int width, int* out) {
  if (*pos + static_cast<size_t>(width) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[*pos + static_cast<size_t>(i)];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(width);
  *out = v;
  return true;
}

CivilDay IsoWeekMonday(int year, int week) {
  int64_t jan4 = DaysSinceEpoch(CivilDay{year, 1, 4});
  // 1970-01-01 was a Thursday: weekday 0 = Monday.
  int64_t wd = ((jan4 % 7) + 7 + 3) % 7;
  return CivilDayFromDays(jan4 - wd + int64_t{week - 1} * 7);
}

}  // namespace

CivilDay RotationTime::Day() const {
  if (epoch) {
    int64_t days = *epoch / 86400 - (*epoch % 86400 < 0 ? 1 : 0);
    return CivilDayFromDays(days);
  }
  return CivilDay{year, month, day};
}

Result<DateFormat> DateFormat::Parse(std::string_view format) {
  if (format.empty()) return InvalidArgument("dateformat is empty");
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '/') return InvalidArgument("dateformat must not contain '/'");
    if (format[i] != '%') continue;
    if (i + 1 >= format.size()) return InvalidArgument("dateformat ends with a lone '%'");
    char c = format[++i];
    if (std::string_view("YmdHMSVs").find(c) == std::string_view::npos) {
      return InvalidArgument(std::string("dateformat: %") + c +
                             " is not allowed (logrotate allows %Y %m %d %H %M %S %V %s)");
    }
  }
  DateFormat f;
  f.text_ = std::string(format);
  return f;
}

DateFormat DateFormat::Default() {
  DateFormat f;
  f.text_ = "-%Y%m%d";
  return f;
}

std::optional<RotationTime> DateFormat::Match(std::string_view text) const {
  RotationTime t;
  size_t pos = 0;
  int week = 0;
  bool has_week = false, has_month = false, has_day = false;
  for (size_t i = 0; i < text_.size(); ++i) {
    char f = text_[i];
    if (f != '%') {
      if (pos >= text.size() || text[pos] != f) return std::nullopt;
      ++pos;
      continue;
    }
    char c = text_[++i];
    int v = 0;
    switch (c) {
      case 'Y':
        if (!ReadFixed(text, &pos, 4, &t.year)) return std::nullopt;
        break;
      case 'm':
        if (!ReadFixed(text, &pos, 2, &v) || v < 1 || v > 12) return std::nullopt;
        t.month = v;
        has_month = true;
        break;
      case 'd':
        if (!ReadFixed(text, &pos, 2, &v) || v < 1 || v > 31) return std::nullopt;
        t.day = v;
        has_day = true;
        break;
      case 'H':
        if (!ReadFixed(text, &pos, 2, &v) || v > 23) return std::nullopt;
        t.hour = v;
        break;
      case 'M':
        if (!ReadFixed(text, &pos, 2, &v) || v > 59) return std::nullopt;
        t.minute = v;
        break;
      case 'S':
        if (!ReadFixed(text, &pos, 2, &v) || v > 60) return std::nullopt;
        t.second = v;
        break;
      case 'V':
        if (!ReadFixed(text, &pos, 2, &v) || v < 1 || v > 53) return std::nullopt;
        week = v;
        has_week = true;
        break;
      case 's': {
        size_t start = pos;
        while (pos < text.size() && IsDigit(text[pos]) && pos - start < 18) ++pos;
        if (pos == start || (pos < text.size() && IsDigit(text[pos]))) return std::nullopt;
        int64_t e = 0;
        std::from_chars(text.data() + start, text.data() + pos, e);
        t.epoch = e;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (has_week && !has_month && !has_day) {
    CivilDay d = IsoWeekMonday(t.year, week);
    t.year = d.year;
    t.month = d.month;
    t.day = d.day;
  }
  return t;
}

std::string DateFormat::Format(const std::tm& local) const {
  std::string out;
  auto put = [&out](int v, int width) {
    std::string s = std::to_string(v);
    if (static_cast<int>(s.size()) < width) out.append(static_cast<size_t>(width) - s.size(), '0');
    out += s;
  };
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] != '%' || i + 1 >= text_.size()) {
      out.push_back(text_[i]);
      continue;
    }
    char c = text_[++i];
    switch (c) {
      case 'Y':
        put(local.tm_year + 1900, 4);
        break;
      case 'm':
        put(local.tm_mon + 1, 2);
        break;
      case 'd':
        put(local.tm_mday, 2);
        break;
      case 'H':
        put(local.tm_hour, 2);
        break;
      case 'M':
        put(local.tm_min, 2);
        break;
      case 'S':
        put(local.tm_sec, 2);
        break;
      case 'V': {
        char buf[8];
        std::strftime(buf, sizeof buf, "%V", &local);
        out += buf;
        break;
      }
      case 's': {
        std::tm copy = local;
        out += std::to_string(static_cast<int64_t>(std::mktime(&copy)));
        break;
      }
      default:
        out.push_back('%');
        out.push_back(c);
    }
  }
  return out;
}

std::string_view CompressionSuffix(std::string_view file_name) {
  for (std::string_view s : kCompression) {
    if (file_name.size() > s.size() && file_name.ends_with(s)) return s;
  }
  return {};
}

std::optional<Rotation> ParseRotation(const DateFormat& format, std::string_view file_name,
                                      std::string_view live_name) {
  if (live_name.empty() || !file_name.starts_with(live_name)) return std::nullopt;
  std::string_view rest = file_name.substr(live_name.size());
  std::string_view comp = CompressionSuffix(rest);
  rest.remove_suffix(comp.size());
  std::optional<RotationTime> t = format.Match(rest);
  if (!t) return std::nullopt;
  return Rotation{std::string(live_name), std::string(rest), std::string(comp), *t};
}

std::optional<Rotation> ParseRotationAnyBase(const DateFormat& format, std::string_view file_name) {
  std::string_view comp = CompressionSuffix(file_name);
  std::string_view body = file_name.substr(0, file_name.size() - comp.size());
  for (size_t i = 1; i < body.size(); ++i) {
    std::optional<RotationTime> t = format.Match(body.substr(i));
    if (t) {
      return Rotation{std::string(body.substr(0, i)), std::string(body.substr(i)),
                      std::string(comp), *t};
    }
  }
  return std::nullopt;
}

std::optional<Rotation> RecogniseRotation(std::string_view file_name) {
  // Longest forms first: "-%Y%m%d" would otherwise read the end of an hourly name.
  static const char* const kForms[] = {"-%Y%m%d-%s", "-%Y%m%d%H", "-%Y-%m-%d", "-%Y%m%d"};
  auto plausible = [](const Rotation& r) {
    if (r.time.epoch) return *r.time.epoch >= 631152000 && *r.time.epoch < 7258118400;
    return r.time.year >= 1990 && r.time.year < 2200;
  };
  for (const char* form : kForms) {
    Result<DateFormat> f = DateFormat::Parse(form);
    if (!f.ok()) continue;
    std::optional<Rotation> r = ParseRotationAnyBase(*f, file_name);
    if (r && plausible(*r)) return r;
  }
  // -%Y%m%d.N: the date, then a same-day sequence number.
  std::string_view comp = CompressionSuffix(file_name);
  std::string_view body = file_name.substr(0, file_name.size() - comp.size());
  size_t dot = body.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 == body.size() || dot + 7 < body.size()) {
    return std::nullopt;
  }
  for (char c : body.substr(dot + 1)) {
    if (!IsDigit(c)) return std::nullopt;
  }
  std::optional<Rotation> r = ParseRotationAnyBase(DateFormat::Default(), body.substr(0, dot));
  if (!r || !plausible(*r)) return std::nullopt;
  r->date_text += body.substr(dot);
  r->compression = std::string(comp);
  return r;
}

std::optional<NumberedRotation> ParseNumbered(std::string_view file_name,
                                              std::string_view live_name) {
  if (live_name.empty() || file_name.size() <= live_name.size() + 1 ||
      !file_name.starts_with(live_name) || file_name[live_name.size()] != '.') {
    return std::nullopt;
  }
  std::string_view rest = file_name.substr(live_name.size() + 1);
  std::string_view comp = CompressionSuffix(rest);
  rest.remove_suffix(comp.size());
  if (rest.empty() || rest.size() > 6 || rest[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : rest) {
    if (!IsDigit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return NumberedRotation{n, std::string(comp)};
}

}  // namespace stopgap::logship

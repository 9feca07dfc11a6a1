// The logger: formats a line and writes it to fd 2 in one write(2).
#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>

#include "core/time.h"

namespace stopgap {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kAuto)};

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool UseJson() {
  auto f = static_cast<LogFormat>(g_format.load());
  if (f == LogFormat::kAuto) return isatty(2) == 0;
  return f == LogFormat::kJson;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }

bool ParseLogLevel(std::string_view t, LogLevel* out) {
  if (t == "debug")
    *out = LogLevel::kDebug;
  else if (t == "info")
    *out = LogLevel::kInfo;
  else if (t == "warn")
    *out = LogLevel::kWarn;
  else if (t == "error")
    *out = LogLevel::kError;
  else
    return false;
  return true;
}

bool LooksLikeSecretName(std::string_view name) {
  std::string up;
  up.reserve(name.size());
  for (char c : name) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (std::string_view w : {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "KEY",
                             "CREDENTIAL", "AUTHORIZATION"}) {
    if (up.find(w) != std::string::npos) return true;
  }
  // Short forms as whole words only: MYSQL_PWD, --pass, DB_PASS, PASS_FILE
  // (but not the shell's PWD/OLDPWD, nor BYPASS or COMPASS).
  if (up == "PASS") return true;
  for (char sep : {'_', '-', '.'}) {
    std::string s(1, sep);
    if (up.ends_with(s + "PWD") || up.ends_with(s + "PASS") || up.starts_with("PASS" + s)) {
      return true;
    }
  }
  return false;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line;
  std::string ts = FormatRfc3339(SystemClock::Instance().Now());
  if (UseJson()) {
    line = "{\"ts\":\"" + ts + "\",\"level\":\"" + LevelName(level) + "\",\"msg\":\"" +
           JsonEscape(message) + "\"";
    for (const LogField& f : fields) {
      line += ",\"" + JsonEscape(f.key) + "\":\"" +
              (LooksLikeSecretName(f.key) ? std::string("***") : JsonEscape(f.value)) + "\"";
    }
    line += "}\n";
  } else {
    line = ts + " " + LevelName(level) + " " + std::string(message);
    for (const LogField& f : fields) {
      line += " " + std::string(f.key) + "=" +
              (LooksLikeSecretName(f.key) ? std::string("***") : f.value);
    }
    line += "\n";
  }
  ssize_t r = ::write(2, line.data(), line.size());
  (void)r;
}

}  // namespace stopgap

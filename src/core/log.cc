// The logger: formats a line and writes it to fd 2 in one write(2), or sends
// one journal entry (sd_journal_sendv, one datagram).
#include "core/log.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <vector>

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

// syslog priorities (sd-journal's PRIORITY field).
const char* Priority(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "7";
    case LogLevel::kInfo:
      return "6";
    case LogLevel::kWarn:
      return "4";
    case LogLevel::kError:
      return "3";
  }
  return "6";
}

// systemd sets JOURNAL_STREAM=<dev>:<inode> to the stream it connected
// stdout/stderr to; it only counts when fd 2 is still that stream.
bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st;
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

LogFormat Resolve(LogFormat f) {
  if (f != LogFormat::kAuto) return f;
  static const LogFormat detected = StderrIsJournal() ? LogFormat::kJournal
                                    : isatty(2)       ? LogFormat::kText
                                                      : LogFormat::kJson;
  return detected;
}

// One journal entry; false when the journal did not take it.
bool SendToJournal(LogLevel level, std::string_view message,
                   std::initializer_list<LogField> fields) {
  std::vector<std::string> items;
  items.reserve(fields.size() + 3);
  items.push_back("MESSAGE=" + std::string(message));
  items.push_back(std::string("PRIORITY=") + Priority(level));
  items.push_back("SYSLOG_IDENTIFIER=stopgap");
  for (const LogField& f : fields) {
    items.push_back(JournalFieldName(f.key) + "=" +
                    (LooksLikeSecretName(f.key) ? std::string("***") : f.value));
  }
  std::vector<iovec> iov;
  iov.reserve(items.size());
  for (std::string& i : items) iov.push_back({i.data(), i.size()});
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0;
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

bool ParseLogFormat(std::string_view t, LogFormat* out) {
  if (t == "auto")
    *out = LogFormat::kAuto;
  else if (t == "journal")
    *out = LogFormat::kJournal;
  else if (t == "json")
    *out = LogFormat::kJson;
  else if (t == "text")
    *out = LogFormat::kText;
  else
    return false;
  return true;
}

LogFormat EffectiveLogFormat() { return Resolve(static_cast<LogFormat>(g_format.load())); }

std::string JournalFieldName(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 8);
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) && c < 0x80) {
      out.push_back(static_cast<char>(std::toupper(c)));
    } else {
      out.push_back('_');
    }
  }
  static constexpr std::string_view kReserved[] = {
      "MESSAGE",       "MESSAGE_ID",         "PRIORITY",      "ERRNO", "TID",
      "INVOCATION_ID", "USER_INVOCATION_ID", "DOCUMENTATION", "UNIT",  "USER_UNIT"};
  bool reserved = out.empty() || out[0] == '_' || std::isdigit(static_cast<unsigned char>(out[0]));
  for (std::string_view r : kReserved) reserved = reserved || out == r;
  reserved = reserved || out.starts_with("CODE_") || out.starts_with("SYSLOG_") ||
             out.starts_with("OBJECT_") || out.starts_with("COREDUMP_");
  if (reserved) out = "STOPGAP_" + out;
  // journald accepts names of at most 64 characters.
  if (out.size() > 64) out.resize(64);
  return out;
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
  LogFormat format = EffectiveLogFormat();
  if (format == LogFormat::kJournal) {
    if (SendToJournal(level, message, fields)) return;
    format = LogFormat::kText;  // no journal here: still say it on stderr
  }
  std::string line;
  std::string ts = FormatRfc3339(SystemClock::Instance().Now());
  if (format == LogFormat::kJson) {
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

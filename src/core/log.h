// Structured logging: one JSON object per line on stderr, plain text when
// stderr is a TTY, or, under systemd with stderr on the journal (the
// JOURNAL_STREAM it sets names stderr), one journal entry per line with each
// field as a journal field (MESSAGE, PRIORITY, EXECUTION=..., WORKAROUND=...)
// through sd_journal_send. Fields whose key looks like a secret (token,
// password, secret, key, authorization) are written as "***".
//
//   Log(LogLevel::kInfo, "alert accepted", {{"fingerprint", fp}, {"workaround", id}});
//
// Thread safety: Log() may be called from any thread; each line is written
// with one write(2).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace stopgap {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
// kAuto: journal when JOURNAL_STREAM names stderr, text on a TTY, else JSON.
// kJournal falls back to a text line on stderr when the journal is unreachable.
enum class LogFormat { kAuto, kJournal, kJson, kText };

struct LogField {
  std::string_view key;
  std::string value;
};

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
// Parses "debug|info|warn|error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);
// Parses "auto|journal|json|text"; false when unknown.
bool ParseLogFormat(std::string_view text, LogFormat* out);
// The format kAuto resolves to in this process (never kAuto).
LogFormat EffectiveLogFormat();
// The journal field name a log field's key is sent under: upper case, every
// character outside [A-Z0-9] becomes '_', a leading digit or '_' gets
// "STOPGAP_" in front, and so do the names journald itself interprets
// (MESSAGE, PRIORITY, CODE_*, SYSLOG_*, ERRNO, ...).
std::string JournalFieldName(std::string_view key);

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// True when a name (env var, config key, argv flag, header) looks like it
// holds a secret: contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, KEY,
// CREDENTIAL or AUTHORIZATION, or is PASS or ends in _PWD/_PASS (also with
// '-' or '.'), case-insensitively.
bool LooksLikeSecretName(std::string_view name);

// JSON string escaping (no surrounding quotes), for hand-written JSON lines.
std::string JsonEscape(std::string_view s);

}  // namespace stopgap

// Structured logging to stderr: one JSON object per line, or plain text when
// stderr is a TTY (or when asked). Fields whose key looks like a secret
// (token, password, secret, key, authorization) are written as "***".
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
enum class LogFormat { kAuto, kJson, kText };

struct LogField {
  std::string_view key;
  std::string value;
};

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
// Parses "debug|info|warn|error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// True when a name (env var, config key, argv flag, header) looks like it
// holds a secret: contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, KEY,
// CREDENTIAL or AUTHORIZATION, or is PASS or ends in _PWD/_PASS (also with
// '-' or '.'), case-insensitively.
bool LooksLikeSecretName(std::string_view name);

// JSON string escaping (no surrounding quotes), for hand-written JSON lines.
std::string JsonEscape(std::string_view s);

}  // namespace stopgap

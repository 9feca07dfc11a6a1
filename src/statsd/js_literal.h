// ParseJsLiteral: reads a JavaScript object literal — the reference StatsD's
// config.js — into a JsValue tree without a JavaScript engine. What it reads:
// `//` and `/* */` comments; keys unquoted, quoted or numeric; strings in
// single, double or back quotes (no `${}`) with JS escapes; numbers as JS
// writes them (1e3, .5, 0x1F, 0o17, 0b101, legacy 017, 1_000, unary +/-,
// Infinity, NaN); true/false/null/undefined; nested objects and arrays;
// trailing and leading commas; an optional `;` or surrounding `( )`. Anything
// else (a function call, an expression, a variable) is an error naming its
// line and column, because the reference would have run it as code.
//
//   Result<JsValue> v = ParseJsLiteral(text);
//   if (const JsValue* p = v->Get("port")) ... p->number ...
//
// Thread safety: pure function over the input text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::statsd {

struct JsMember;

struct JsValue {
  enum class Type { kUndefined, kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kUndefined;
  bool boolean = false;
  double number = 0;
  std::string string;             // kString: the decoded text (UTF-8)
  std::vector<JsValue> items;     // kArray
  std::vector<JsMember> members;  // kObject, in source order; duplicate keys keep the last
  int line = 0, column = 0;       // where the value starts (1-based)

  // The member `key` of an object, or nullptr.
  const JsValue* Get(std::string_view key) const;
  // "line 3, column 5"
  std::string Where() const;
  // JavaScript truthiness (the reference tests most flags with `if (x)`).
  bool Truthy() const;
  // The type as JavaScript's typeof-like word: "a string", "an array", ...
  std::string_view TypeName() const;
};

struct JsMember {
  std::string key;
  JsValue value;
  int line = 0, column = 0;  // of the key
};

// The whole text must be one object literal (comments and whitespace around
// it). Nesting deeper than 64 levels is an error.
Result<JsValue> ParseJsLiteral(std::string_view text);

}  // namespace stopgap::statsd

// ParseJsLiteral: a recursive-descent reader of the JavaScript literal subset
// that reference StatsD config files use (see js_literal.h). Pure.
#include "statsd/js_literal.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

constexpr int kMaxDepth = 64;

bool IsIdStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IsIdPart(char c) { return IsIdStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Result<JsValue> Document() {
    STOPGAP_RETURN_IF_ERROR(Skip());
    int parens = 0;
    while (Peek() == '(') {  // ({ ... }) is the same object
      Advance();
      ++parens;
      STOPGAP_RETURN_IF_ERROR(Skip());
    }
    if (Peek() != '{') return Error("expected the configuration object `{ ... }`");
    JsValue v;
    STOPGAP_RETURN_IF_ERROR(Value(&v, 0));
    for (; parens > 0; --parens) {
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (Peek() != ')') return Error("expected `)`");
      Advance();
    }
    STOPGAP_RETURN_IF_ERROR(Skip());
    while (Peek() == ';') {
      Advance();
      STOPGAP_RETURN_IF_ERROR(Skip());
    }
    if (!AtEnd()) return Error("unexpected text after the configuration object");
    return v;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  void Advance() {
    char c = s_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column_;  // count characters, not UTF-8 continuation bytes
    }
  }
  Status Error(const std::string& what) const { return ErrorAt(line_, column_, what); }
  static Status ErrorAt(int line, int column, const std::string& what) {
    return InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(column) +
                           ": " + what);
  }
  std::string Found() const {
    if (AtEnd()) return "the end of the file";
    size_t n = 1;
    while (pos_ + n < s_.size() && n < 20 && IsIdPart(s_[pos_ + n]) && IsIdPart(s_[pos_])) ++n;
    return "`" + std::string(s_.substr(pos_, n)) + "`";
  }

  // Whitespace (JS's, including NBSP and friends) and comments.
  Status Skip() {
    while (!AtEnd()) {
      size_t ws = JsWhitespaceLen(s_.data() + pos_, s_.data() + s_.size());
      if (ws > 0) {
        for (size_t i = 0; i < ws; ++i) Advance();
        continue;
      }
      if (Peek() == '/' && Peek(1) == '/') {
        while (!AtEnd() && Peek() != '\n') Advance();
        continue;
      }
      if (Peek() == '/' && Peek(1) == '*') {
        int l = line_, c = column_;
        Advance();
        Advance();
        while (!(Peek() == '*' && Peek(1) == '/')) {
          if (AtEnd()) return ErrorAt(l, c, "comment `/*` is never closed");
          Advance();
        }
        Advance();
        Advance();
        continue;
      }
      break;
    }
    return Status::Ok();
  }

  Status Value(JsValue* v, int depth) {
    if (depth > kMaxDepth) return Error("nested more than 64 levels deep");
    v->line = line_;
    v->column = column_;
    char c = Peek();
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"' || c == '\'' || c == '`') {
      v->type = JsValue::Type::kString;
      return String(&v->string);
    }
    if (c == '-' || c == '+') {
      bool neg = c == '-';
      Advance();
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (!IsDigit(Peek()) && Peek() != '.' && !(Peek() == 'I' || Peek() == 'N')) {
        return Error("expected a number after `" + std::string(1, c) + "`, found " + Found());
      }
      const int l = v->line, col = v->column;
      STOPGAP_RETURN_IF_ERROR(Value(v, depth + 1));
      if (v->type != JsValue::Type::kNumber) return Error("`-`/`+` only before a number");
      if (neg) v->number = -v->number;
      v->line = l;
      v->column = col;
      return Status::Ok();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) {
      v->type = JsValue::Type::kNumber;
      return Number(&v->number);
    }
    if (IsIdStart(c)) {
      size_t start = pos_;
      int l = line_, col = column_;
      while (IsIdPart(Peek())) Advance();
      std::string_view word = s_.substr(start, pos_ - start);
      if (word == "true" || word == "false") {
        v->type = JsValue::Type::kBool;
        v->boolean = word == "true";
      } else if (word == "null") {
        v->type = JsValue::Type::kNull;
      } else if (word == "undefined") {
        v->type = JsValue::Type::kUndefined;
      } else if (word == "Infinity") {
        v->type = JsValue::Type::kNumber;
        v->number = std::numeric_limits<double>::infinity();
      } else if (word == "NaN") {
        v->type = JsValue::Type::kNumber;
        v->number = std::numeric_limits<double>::quiet_NaN();
      } else {
        return ErrorAt(l, col,
                       "`" + std::string(word) +
                           "` is JavaScript code, not a value; stopgap reads literal values "
                           "only (write the value it computes)");
      }
      return Status::Ok();
    }
    return Error("expected a value, found " + Found());
  }

  Status Object(JsValue* v, int depth) {
    v->type = JsValue::Type::kObject;
    Advance();  // {
    while (true) {
      STOPGAP_RETURN_IF_ERROR(Skip());
      char c = Peek();
      if (c == '}') {
        Advance();
        return Status::Ok();
      }
      if (c == ',') {  // leading (laxcomma) and trailing commas; JS allows only one between
        Advance();
        continue;
      }
      JsMember m;
      m.line = line_;
      m.column = column_;
      if (c == '"' || c == '\'') {
        STOPGAP_RETURN_IF_ERROR(String(&m.key));
      } else if (IsIdStart(c)) {
        size_t start = pos_;
        while (IsIdPart(Peek())) Advance();
        m.key = std::string(s_.substr(start, pos_ - start));
      } else if (IsDigit(c) || c == '.') {
        double n = 0;
        STOPGAP_RETURN_IF_ERROR(Number(&n));
        m.key = JsNumberToString(n);
      } else if (AtEnd()) {
        return ErrorAt(v->line, v->column, "object `{` is never closed");
      } else {
        return Error("expected a key or `}`, found " + Found());
      }
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (Peek() != ':') return Error("expected `:` after the key \"" + m.key + "\"");
      Advance();
      STOPGAP_RETURN_IF_ERROR(Skip());
      STOPGAP_RETURN_IF_ERROR(Value(&m.value, depth + 1));
      bool replaced = false;
      for (JsMember& old : v->members) {
        if (old.key == m.key) {
          old = std::move(m);
          replaced = true;
          break;
        }
      }
      if (!replaced) v->members.push_back(std::move(m));
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (Peek() == ',') {
        Advance();
      } else if (Peek() != '}') {
        if (AtEnd()) return ErrorAt(v->line, v->column, "object `{` is never closed");
        return Error("expected `,` or `}`, found " + Found());
      }
    }
  }

  Status Array(JsValue* v, int depth) {
    v->type = JsValue::Type::kArray;
    Advance();  // [
    while (true) {
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (Peek() == ']') {
        Advance();
        return Status::Ok();
      }
      if (AtEnd()) return ErrorAt(v->line, v->column, "array `[` is never closed");
      if (Peek() == ',') {  // a hole: [1,,2] has an undefined element
        v->items.emplace_back();
        v->items.back().line = line_;
        v->items.back().column = column_;
        Advance();
        continue;
      }
      JsValue item;
      STOPGAP_RETURN_IF_ERROR(Value(&item, depth + 1));
      v->items.push_back(std::move(item));
      STOPGAP_RETURN_IF_ERROR(Skip());
      if (Peek() == ',') {
        Advance();
      } else if (Peek() != ']') {
        if (AtEnd()) return ErrorAt(v->line, v->column, "array `[` is never closed");
        return Error("expected `,` or `]`, found " + Found());
      }
    }
  }

  Status String(std::string* out) {
    const char quote = Peek();
    const int l = line_, col = column_;
    Advance();
    while (true) {
      if (AtEnd()) return ErrorAt(l, col, "string is never closed");
      char c = Peek();
      if (c == quote) {
        Advance();
        return Status::Ok();
      }
      if (c == '\n' && quote != '`') return Error("line break inside a string");
      if (quote == '`' && c == '$' && Peek(1) == '{') {
        return Error("`${...}` is JavaScript code; write the value it computes");
      }
      if (c != '\\') {
        out->push_back(c);
        Advance();
        continue;
      }
      Advance();  // backslash
      if (AtEnd()) return ErrorAt(l, col, "string is never closed");
      char e = Peek();
      Advance();
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'v':
          out->push_back('\v');
          break;
        case '0':
          if (IsDigit(Peek())) return Error("octal escapes are not supported in strings");
          out->push_back('\0');
          break;
        case '\r':
          if (Peek() == '\n') Advance();
          break;
        case '\n':
          break;  // line continuation
        case 'x': {
          int h1 = HexValue(Peek()), h2 = HexValue(Peek(1));
          if (h1 < 0 || h2 < 0) return Error("`\\x` needs two hex digits");
          Advance();
          Advance();
          AppendUtf8(static_cast<uint32_t>(h1 * 16 + h2), out);
          break;
        }
        case 'u': {
          uint32_t cp = 0;
          STOPGAP_RETURN_IF_ERROR(UnicodeEscape(&cp));
          // A surrogate pair written as two escapes.
          if (cp >= 0xD800 && cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            Advance();
            Advance();
            uint32_t lo = 0;
            STOPGAP_RETURN_IF_ERROR(UnicodeEscape(&lo));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              AppendUtf8(0xFFFD, out);
              cp = lo;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
          AppendUtf8(cp, out);
          break;
        }
        default:
          if (IsDigit(e)) return Error("octal escapes are not supported in strings");
          out->push_back(e);  // \' \" \\ \/ and any other character stand for themselves
          // (a multi-byte character: its remaining bytes follow as ordinary bytes)
          break;
      }
    }
  }

  Status UnicodeEscape(uint32_t* cp) {
    *cp = 0;
    if (Peek() == '{') {
      Advance();
      int digits = 0;
      while (Peek() != '}') {
        int h = HexValue(Peek());
        if (h < 0) return Error("`\\u{...}` needs hex digits");
        *cp = *cp * 16 + static_cast<uint32_t>(h);
        if (*cp > 0x10FFFF) return Error("`\\u{...}` is past U+10FFFF");
        Advance();
        ++digits;
      }
      if (digits == 0) return Error("`\\u{}` is empty");
      Advance();
      return Status::Ok();
    }
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(Peek());
      if (h < 0) return Error("`\\u` needs four hex digits");
      *cp = *cp * 16 + static_cast<uint32_t>(h);
      Advance();
    }
    return Status::Ok();
  }

  Status Number(double* out) {
    const int l = line_, col = column_;
    size_t start = pos_;
    while (IsIdPart(Peek()) || Peek() == '.' ||
           ((Peek() == '+' || Peek() == '-') && pos_ > start &&
            (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E') &&
            !(pos_ - start >= 2 && (s_[start + 1] == 'x' || s_[start + 1] == 'X')))) {
      Advance();
    }
    std::string text(s_.substr(start, pos_ - start));
    auto bad = [&] { return ErrorAt(l, col, "`" + text + "` is not a number"); };
    // Numeric separators: one `_` between two digits.
    std::string plain;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '_') {
        if (i == 0 || i + 1 == text.size() || HexValue(text[i - 1]) < 0 ||
            HexValue(text[i + 1]) < 0) {
          return bad();
        }
        continue;
      }
      plain.push_back(text[i]);
    }
    // Legacy octal (sloppy-mode eval, as the reference runs its config): 017 is 15;
    // 019 is decimal 19.
    if (plain.size() > 1 && plain[0] == '0' && IsDigit(plain[1])) {
      bool octal = true;
      for (char c : plain) {
        if (!IsDigit(c)) return bad();
        if (c > '7') octal = false;
      }
      if (text.find('_') != std::string::npos) return bad();
      double v = 0;
      for (char c : plain) v = v * (octal ? 8 : 10) + (c - '0');
      *out = v;
      return Status::Ok();
    }
    if (plain.empty() || plain.find_first_of(" \t") != std::string::npos) return bad();
    double v = JsStringToNumber(plain);
    if (v != v) return bad();
    *out = v;
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

const JsValue* JsValue::Get(std::string_view key) const {
  for (const JsMember& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::string JsValue::Where() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool JsValue::Truthy() const {
  switch (type) {
    case Type::kUndefined:
    case Type::kNull:
      return false;
    case Type::kBool:
      return boolean;
    case Type::kNumber:
      return number != 0 && number == number;
    case Type::kString:
      return !string.empty();
    case Type::kArray:
    case Type::kObject:
      return true;
  }
  return false;
}

std::string_view JsValue::TypeName() const {
  switch (type) {
    case Type::kUndefined:
      return "undefined";
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kArray:
      return "an array";
    case Type::kObject:
      return "an object";
  }
  return "?";
}

Result<JsValue> ParseJsLiteral(std::string_view text) { return Reader(text).Document(); }

}  // namespace stopgap::statsd

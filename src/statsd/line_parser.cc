// StatsD line parsing with the reference 0.9.0 semantics (stats.js handlePacket,
// lib/helpers.js is_valid_packet). See docs/statsd.md for every quirk kept.
// Pure; no shared state.
#include "statsd/line_parser.h"

#include "statsd/internal/name_scan.h"
#include "statsd/js_number.h"

namespace stopgap::statsd {
namespace {

constexpr const uint8_t* kAllowed = internal::kNameBytes.allowed;

// Position of the first "|#" in s, or npos.
size_t FindTagMark(std::string_view s) {
  size_t pos = 0;
  while (true) {
    const void* bar = std::memchr(s.data() + pos, '|', s.size() - pos);
    if (bar == nullptr) return std::string_view::npos;
    size_t i = static_cast<size_t>(static_cast<const char*>(bar) - s.data());
    if (i + 1 < s.size() && s[i + 1] == '#') return i;
    pos = i + 1;
  }
}

// isValidSampleRate + the rate the reference then takes: Number of the
// /^@([\d.]+)/ match. A field that passes the first test but not the regex
// crashes the reference (TypeError); here it is a bad line.
bool ParseSampleRate(std::string_view f, double* rate) {
  if (f.size() < 2 || f[0] != '@') return false;
  std::string_view num = f.substr(1);
  double ignored;
  if (!JsIsNumber(num, &ignored) || num[0] == '-') return false;
  size_t n = 0;
  while (n < num.size() && ((num[n] >= '0' && num[n] <= '9') || num[n] == '.')) ++n;
  if (n == 0) return false;
  double r = JsStringToNumber(num.substr(0, n));
  if (r != r) return false;
  *rate = r;
  return true;
}

// One ":value|type[|@rate]..." part. Returns false for a bad part.
bool ParseValuePart(std::string_view part, const ParseOptions& opts, MetricSample* s) {
  size_t bar1 = part.find('|');
  if (bar1 == std::string_view::npos) return false;  // fields[1] undefined
  std::string_view f0 = part.substr(0, bar1);
  std::string_view rest = part.substr(bar1 + 1);
  size_t bar2 = rest.find('|');
  std::string_view f1 = rest.substr(0, bar2);
  double rate = 1;
  if (bar2 != std::string_view::npos) {
    std::string_view after = rest.substr(bar2 + 1);
    std::string_view f2 = after.substr(0, after.find('|'));
    if (!ParseSampleRate(f2, &rate)) return false;
  }
  // Validity is judged on the raw type field; the kind on the trimmed one.
  double v = 0;
  if (f1 == "s") {
    // any value
  } else if (f1 == "ms") {
    if (!JsIsNumber(f0, &v) || !(v >= 0)) return false;
  } else {
    if (!JsIsNumber(f0, &v)) return false;  // "g" and every other type letter
  }
  std::string_view type = (f1.size() == 1 || f1 == "ms") ? f1 : JsTrim(f1);
  if (type == "c" || type.empty()) {
    s->kind = MetricKind::kCounter;
  } else if (type == "ms") {
    s->kind = MetricKind::kTimer;
  } else if (type == "g") {
    s->kind = MetricKind::kGauge;
  } else if (type == "s") {
    s->kind = MetricKind::kSet;
  } else if (opts.dogstatsd && (type == "h" || type == "d")) {
    s->kind = MetricKind::kTimer;
  } else if (opts.strict) {
    return false;
  } else {
    s->kind = MetricKind::kCounter;  // reference: anything else counts
  }
  if (opts.strict && type.empty()) return false;
  switch (s->kind) {
    case MetricKind::kCounter:
      s->value = v * (1 / rate);
      break;
    case MetricKind::kTimer:
      s->value = v;
      s->timer_count = 1 / rate;
      break;
    case MetricKind::kGauge:
      s->value = v;
      s->gauge_delta = !f0.empty() && (f0[0] == '+' || f0[0] == '-');
      break;
    case MetricKind::kSet:
      s->set_member = f0.empty() ? std::string_view("0") : f0;
      break;
  }
  return true;
}

// Every ':'-separated "value|type[|@rate]" part after the name.
void ParseValueParts(std::string_view values, const ParseOptions& opts, ParsedLine* out) {
  while (true) {
    size_t next = values.find(':');
    std::string_view part = values.substr(0, next);
    MetricSample s;
    if (ParseValuePart(part, opts, &s)) {
      out->samples.push_back(s);
    } else {
      ++out->bad;
    }
    if (next == std::string_view::npos) break;
    values = values.substr(next + 1);
  }
}

}  // namespace

void SanitizeKey(std::string_view key, std::string* out) {
  const char* p = key.data();
  const char* end = p + key.size();
  bool in_ws = false;
  while (p < end) {
    size_t ws = JsWhitespaceLen(p, end);
    if (ws > 0) {
      if (!in_ws) out->push_back('_');
      in_ws = true;
      p += ws;
      continue;
    }
    in_ws = false;
    auto c = static_cast<unsigned char>(*p++);
    if (c == '/') {
      out->push_back('-');
    } else if (kAllowed[c]) {
      out->push_back(static_cast<char>(c));
    }
  }
}

void ParseLine(std::string_view line, const ParseOptions& opts, ParseScratch* scratch,
               ParsedLine* out) {
  out->samples.clear();
  out->bad = 0;
  out->event = false;
  if (opts.dogstatsd && (line.starts_with("_e{") || line.starts_with("_sc|"))) {
    out->key = {};
    out->event = true;
    return;
  }
  // Fast path: a clean name, then ':' and value parts without tags. One scan
  // of the name (no '|' or '#' can hide in it), then a short scan of the rest.
  if (opts.sanitize) {
    const auto* p = reinterpret_cast<const unsigned char*>(line.data());
    size_t n = line.size();
    size_t i = 0;
    // Eight bytes per branch while the name is clean, then byte by byte.
    while (i + 8 <= n &&
           (kAllowed[p[i]] & kAllowed[p[i + 1]] & kAllowed[p[i + 2]] & kAllowed[p[i + 3]] &
            kAllowed[p[i + 4]] & kAllowed[p[i + 5]] & kAllowed[p[i + 6]] & kAllowed[p[i + 7]])) {
      i += 8;
    }
    while (i < n && kAllowed[p[i]]) ++i;
    if (i < n && p[i] == ':') {
      bool simple = true;
      for (size_t j = i + 1; j + 1 < n; ++j) {
        if (p[j] == '|' && p[j + 1] == '#') {
          simple = false;
          break;
        }
      }
      if (simple) {
        out->key = line.substr(0, i);
        ParseValueParts(line.substr(i + 1), opts, out);
        return;
      }
    }
  }
  std::string_view main = line;
  std::string_view tags;
  size_t mark = FindTagMark(line);
  if (mark != std::string_view::npos) {
    main = line.substr(0, mark);
    tags = line.substr(mark + 2);
    size_t next = FindTagMark(tags);
    if (next != std::string_view::npos) tags = tags.substr(0, next);
  }
  size_t colon = main.find(':');
  std::string_view raw_key = main.substr(0, colon);
  // Key: the fast path keeps a clean, untagged name in place.
  bool clean = tags.empty() || !opts.sanitize;
  if (clean && opts.sanitize) {
    for (char c : raw_key) {
      if (!kAllowed[static_cast<unsigned char>(c)]) {
        clean = false;
        break;
      }
    }
  }
  if (clean && tags.empty()) {
    out->key = raw_key;
  } else {
    std::string* target = opts.sanitize ? &scratch->joined : &scratch->key;
    target->clear();
    target->append(raw_key);
    if (!tags.empty()) {
      size_t start = 0;
      while (true) {
        size_t comma = tags.find(',', start);
        std::string_view tag = tags.substr(start, comma - start);
        target->push_back(';');
        size_t base = target->size();
        target->append(tag);
        // tag.replace(';', '_').replace(':', '='): first occurrence of each only.
        size_t semi = target->find(';', base);
        if (semi != std::string::npos) (*target)[semi] = '_';
        size_t col = target->find(':', base);
        if (col != std::string::npos) (*target)[col] = '=';
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
    if (opts.sanitize) {
      scratch->key.clear();
      SanitizeKey(scratch->joined, &scratch->key);
    }
    out->key = scratch->key;
  }
  if (colon == std::string_view::npos) {
    out->bad = 1;  // no value: the reference tries "1" with no type
    return;
  }
  ParseValueParts(main.substr(colon + 1), opts, out);
}

}  // namespace stopgap::statsd

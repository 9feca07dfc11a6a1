// IntervalTable: per-thread interval aggregation. Hot path: AddPacket.
#include "statsd/interval_table.h"

#include <cstring>

#include "statsd/internal/name_scan.h"

namespace stopgap::statsd {
namespace {

constexpr size_t kMaxLeadingDeltas = 4096;

inline bool Truthy(double v) { return v != 0 && v == v; }

}  // namespace

template <typename Cell>
Cell* IntervalTable::Touch(internal::NameMap<Cell>& map, std::vector<uint32_t>& touched,
                           std::string_view key, uint64_t hash) {
  bool inserted;
  uint32_t i = map.FindOrInsert(key, hash, &inserted, !full_);
  if (i == internal::NameMap<Cell>::kNotFound) {
    ++counts_.names_dropped;
    return nullptr;
  }
  if (inserted) full_ = Names() >= max_names_;
  Cell& c = map.at(i).value;
  if (!c.touched) {
    c.touched = true;
    touched.push_back(i);
  }
  return &c;
}

void IntervalTable::AddPacket(std::string_view packet, const ParseOptions& opts) {
  ++counts_.packets;
  const char* p = packet.data();
  const char* const end = p + packet.size();
  while (p < end) {
    if (*p == '\n') {  // empty line: skipped, not counted
      ++p;
      continue;
    }
    ++counts_.lines;
    // Fast path, one pass over the line: a clean name, ':', 1-15 digits, '|',
    // then c or ms and the end of the line. The same result as ParseLine
    // (a digits-only value is its own JS Number, no rate, no tags, no sign).
    if (opts.sanitize) {
      const char* q = internal::ScanCleanName(p, end);
      if (q < end && *q == ':') {
        const char* d = q + 1;
        const char* dmax = end - d > 15 ? d + 15 : end;
        uint64_t v = 0;
        while (d < dmax && static_cast<unsigned>(*d - '0') <= 9) {
          v = v * 10 + static_cast<unsigned>(*d - '0');
          ++d;
        }
        if (d > q + 1 && d + 1 < end && *d == '|') {
          const char* t = d + 1;
          const std::string_view key(p, static_cast<size_t>(q - p));
          const double value = static_cast<double>(v);
          if (t[0] == 'c' && (t + 1 == end || t[1] == '\n')) {
            CounterCell* c = Touch(counters_, touched_counters_, key, internal::HashName(key));
            if (c != nullptr) c->value += value;
            p = t + 1 < end ? t + 2 : end;
            continue;
          }
          if (t[0] == 'm' && t + 1 < end && t[1] == 's' && (t + 2 == end || t[2] == '\n')) {
            TimerCell* c = Touch(timers_, touched_timers_, key, internal::HashName(key));
            if (c != nullptr) {
              AddTimerValue(*c, value);
              c->count += 1;
            }
            p = t + 2 < end ? t + 3 : end;
            continue;
          }
        }
      }
    }
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* e = nl ? nl : end;
    AddLine(std::string_view(p, static_cast<size_t>(e - p)), opts);
    p = nl ? nl + 1 : end;
  }
}

void IntervalTable::AddLine(std::string_view line, const ParseOptions& opts) {
  ParseLine(line, opts, &scratch_, &line_);
  counts_.bad_lines += line_.bad;
  if (line_.event) {
    ++counts_.events;
    return;
  }
  for (const MetricSample& s : line_.samples) AddSample(line_.key, s);
}

void IntervalTable::AddSample(std::string_view key, const MetricSample& s) {
  switch (s.kind) {
    case MetricKind::kCounter: {
      CounterCell* c = Touch(counters_, touched_counters_, key, internal::HashName(key));
      if (c != nullptr) c->value += s.value;
      break;
    }
    case MetricKind::kTimer: {
      TimerCell* c = Touch(timers_, touched_timers_, key, internal::HashName(key));
      if (c == nullptr) break;
      AddTimerValue(*c, s.value);
      c->count += s.timer_count;
      break;
    }
    case MetricKind::kGauge: {
      GaugeCell* cell = Touch(gauges_, touched_gauges_, key, internal::HashName(key));
      if (cell == nullptr) break;
      GaugeCell& c = *cell;
      c.ts_ms = clock_ms_;
      if (c.absolute) {
        c.value = (s.gauge_delta && Truthy(c.value)) ? c.value + s.value : s.value;
      } else if (!s.gauge_delta) {
        c.absolute = true;
        c.value = s.value;
        c.leading_deltas.clear();
      } else if (c.leading_deltas.size() < kMaxLeadingDeltas) {
        c.leading_deltas.push_back(s.value);
      } else {
        c.leading_deltas.back() += s.value;  // bounded; documented approximation
      }
      break;
    }
    case MetricKind::kSet: {
      // The reference stores members as object keys: "__proto__" never counts.
      if (s.set_member == "__proto__") break;
      set_key_.assign(key);
      set_key_.push_back('\0');
      set_key_.append(s.set_member);
      SetCell* c = Touch(sets_, touched_sets_, set_key_, internal::HashName(set_key_));
      if (c != nullptr) c->name_len = static_cast<uint32_t>(key.size());
      break;
    }
  }
}

void IntervalTable::AddTimerValue(TimerCell& c, double v) {
  if (c.sketch) {
    c.sketch->Add(v);
    return;
  }
  c.values.push_back(v);
  if (timer_exact_max_ > 0 && c.values.size() > timer_exact_max_) {
    c.sketch = std::make_unique<TimerSketch>();
    for (double x : c.values) c.sketch->Add(x);
    c.values.clear();
  }
}

void IntervalTable::Reset() {
  size_t touched = touched_counters_.size() + touched_timers_.size() + touched_gauges_.size() +
                   touched_sets_.size();
  size_t names = counters_.size() + timers_.size() + gauges_.size() + sets_.size();
  if (names > 4 * touched + 4096) {
    counters_.Clear();
    timers_.Clear();
    gauges_.Clear();
    sets_.Clear();
  } else {
    for (uint32_t i : touched_counters_) counters_.at(i).value = CounterCell{};
    for (uint32_t i : touched_timers_) {
      TimerCell& c = timers_.at(i).value;
      c.values.clear();
      c.sketch.reset();
      c.count = 0;
      c.touched = false;
    }
    for (uint32_t i : touched_gauges_) {
      GaugeCell& c = gauges_.at(i).value;
      c.value = 0;
      c.absolute = false;
      c.touched = false;
      c.leading_deltas.clear();
    }
    for (uint32_t i : touched_sets_) sets_.at(i).value.touched = false;
  }
  full_ = Names() >= max_names_;
  touched_counters_.clear();
  touched_timers_.clear();
  touched_gauges_.clear();
  touched_sets_.clear();
  counts_ = IntakeCounts{};
}

size_t IntervalTable::MemoryBytes() const {
  return counters_.MemoryBytes() + timers_.MemoryBytes() + gauges_.MemoryBytes() +
         sets_.MemoryBytes();
}

}  // namespace stopgap::statsd

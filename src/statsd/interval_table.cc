// IntervalTable: per-thread interval aggregation. Hot path: AddPacket.
#include "statsd/interval_table.h"

namespace stopgap::statsd {
namespace {

constexpr size_t kMaxLeadingDeltas = 4096;

template <typename Cell>
Cell& Touch(internal::NameMap<Cell>& map, std::vector<uint32_t>& touched, std::string_view key) {
  bool inserted;
  uint32_t i = map.FindOrInsert(key, &inserted);
  Cell& c = map.at(i).value;
  if (!c.touched) {
    c.touched = true;
    touched.push_back(i);
  }
  return c;
}

inline bool Truthy(double v) { return v != 0 && v == v; }

}  // namespace

void IntervalTable::AddPacket(std::string_view packet, const ParseOptions& opts) {
  ++counts_.packets;
  ForEachLine(packet, [&](std::string_view line) {
    ++counts_.lines;
    ParseLine(line, opts, &scratch_, &line_);
    counts_.bad_lines += line_.bad;
    if (line_.event) {
      ++counts_.events;
      return;
    }
    for (const MetricSample& s : line_.samples) AddSample(line_.key, s);
  });
}

void IntervalTable::AddSample(std::string_view key, const MetricSample& s) {
  switch (s.kind) {
    case MetricKind::kCounter: {
      CounterCell& c = Touch(counters_, touched_counters_, key);
      c.value += s.value;
      break;
    }
    case MetricKind::kTimer: {
      TimerCell& c = Touch(timers_, touched_timers_, key);
      c.values.push_back(s.value);
      c.count += s.timer_count;
      break;
    }
    case MetricKind::kGauge: {
      GaugeCell& c = Touch(gauges_, touched_gauges_, key);
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
      SetCell& c = Touch(sets_, touched_sets_, set_key_);
      c.name_len = static_cast<uint32_t>(key.size());
      break;
    }
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

// TimerSketch: log-bucketed, mergeable timer summary (see timer_sketch.h).
// Not thread-safe.
#include "statsd/timer_sketch.h"

#include <algorithm>
#include <cmath>

#include "statsd/internal/wire.h"

namespace stopgap::statsd {
namespace {

constexpr int kMinIndex = -1100, kMaxIndex = 36000;
constexpr double kGamma =
    (1 + TimerSketch::kRelativeAccuracy) / (1 - TimerSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

int IndexOf(double magnitude) {  // magnitude >= kZeroBelow
  double i = std::ceil(std::log(magnitude) / kLogGamma);
  // 1e-9 .. DBL_MAX span about -1040 .. 35900; Infinity lands in the last bucket.
  return static_cast<int>(std::clamp(i, double{kMinIndex}, double{kMaxIndex}));
}
double Representative(int index) {
  return 2 * std::pow(kGamma, static_cast<double>(index)) / (kGamma + 1);
}

}  // namespace

void TimerSketch::Buckets::Add(int index, uint64_t n) {
  if (counts.empty()) {
    offset = index;
    counts.assign(1, 0);
  } else if (index < offset) {
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (index >= offset + static_cast<int>(counts.size())) {
    counts.resize(static_cast<size_t>(index - offset + 1), 0);
  }
  counts[static_cast<size_t>(index - offset)] += n;
}

void TimerSketch::Add(double v) {
  if (v != v) return;  // NaN never reaches a timer (the parser rejects it)
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  sum_ += v;
  sum_sq_ += v * v;
  double d = v - mean_;
  mean_ += d / static_cast<double>(count_);
  m2_ += d * (v - mean_);
  double m = std::fabs(v);
  if (m < kZeroBelow) {
    ++zeros_;
  } else if (v > 0) {
    pos_.Add(IndexOf(m), 1);
  } else {
    neg_.Add(IndexOf(m), 1);
  }
}

void TimerSketch::Merge(const TimerSketch& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    *this = o;
    return;
  }
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  // Chan et al.: combine two Welford states.
  double n1 = static_cast<double>(count_), n2 = static_cast<double>(o.count_);
  double d = o.mean_ - mean_;
  mean_ += d * n2 / (n1 + n2);
  m2_ += o.m2_ + d * d * n1 * n2 / (n1 + n2);
  count_ += o.count_;
  sum_ += o.sum_;
  sum_sq_ += o.sum_sq_;
  zeros_ += o.zeros_;
  for (size_t i = 0; i < o.pos_.counts.size(); ++i) {
    if (o.pos_.counts[i]) pos_.Add(o.pos_.offset + static_cast<int>(i), o.pos_.counts[i]);
  }
  for (size_t i = 0; i < o.neg_.counts.size(); ++i) {
    if (o.neg_.counts[i]) neg_.Add(o.neg_.offset + static_cast<int>(i), o.neg_.counts[i]);
  }
}

double TimerSketch::stddev() const {
  return count_ ? std::sqrt(std::max(0.0, m2_) / static_cast<double>(count_)) : 0;
}

template <typename Fn>
void TimerSketch::ForEachAscending(Fn&& fn) const {
  for (size_t i = neg_.counts.size(); i-- > 0;) {
    if (neg_.counts[i]) fn(-Representative(neg_.offset + static_cast<int>(i)), neg_.counts[i]);
  }
  if (zeros_) fn(0.0, zeros_);
  for (size_t i = 0; i < pos_.counts.size(); ++i) {
    if (pos_.counts[i]) fn(Representative(pos_.offset + static_cast<int>(i)), pos_.counts[i]);
  }
}

double TimerSketch::ValueAtRank(uint64_t k) const {
  if (k >= count_) return max_;
  if (k <= 1) return min_;
  uint64_t seen = 0;
  double out = max_;
  bool found = false;
  ForEachAscending([&](double rep, uint64_t n) {
    if (found) return;
    seen += n;
    if (seen >= k) {
      out = rep;
      found = true;
    }
  });
  return std::clamp(out, min_, max_);
}

template <typename Fn>
void TimerSketch::ForEachDescending(Fn&& fn) const {
  for (size_t i = pos_.counts.size(); i-- > 0;) {
    if (pos_.counts[i]) fn(Representative(pos_.offset + static_cast<int>(i)), pos_.counts[i]);
  }
  if (zeros_) fn(0.0, zeros_);
  for (size_t i = 0; i < neg_.counts.size(); ++i) {
    if (neg_.counts[i]) fn(-Representative(neg_.offset + static_cast<int>(i)), neg_.counts[i]);
  }
}

template <typename F>
double TimerSketch::SumOf(uint64_t k, bool ascending, F f) const {
  double s = 0;
  uint64_t left = k;
  auto take = [&](double rep, uint64_t n) {
    uint64_t t = std::min(left, n);
    s += f(std::clamp(rep, min_, max_)) * static_cast<double>(t);
    left -= t;
  };
  if (ascending) {
    ForEachAscending(take);
  } else {
    ForEachDescending(take);
  }
  return s;
}

double TimerSketch::SumSmallest(uint64_t k) const {
  return k >= count_ ? sum_ : SumOf(k, true, [](double r) { return r; });
}
double TimerSketch::SumSquaresSmallest(uint64_t k) const {
  return k >= count_ ? sum_sq_ : SumOf(k, true, [](double r) { return r * r; });
}
double TimerSketch::SumLargest(uint64_t k) const {
  return k >= count_ ? sum_ : SumOf(k, false, [](double r) { return r; });
}
double TimerSketch::SumSquaresLargest(uint64_t k) const {
  return k >= count_ ? sum_sq_ : SumOf(k, false, [](double r) { return r * r; });
}

double TimerSketch::CountBelow(double x) const {
  if (x > max_) return static_cast<double>(count_);
  if (x <= min_) return 0;
  double c = 0;
  ForEachAscending([&](double rep, uint64_t n) {
    if (rep < x) c += static_cast<double>(n);
  });
  return c;
}

size_t TimerSketch::MemoryBytes() const {
  return sizeof(*this) + (pos_.counts.capacity() + neg_.counts.capacity()) * sizeof(uint64_t);
}

void TimerSketch::Encode(std::string* out) const {
  internal::ByteWriter w(out);
  w.Varint(count_);
  for (double d : {min_, max_, sum_, sum_sq_, mean_, m2_}) w.F64(d);
  w.Varint(zeros_);
  for (const Buckets* b : {&pos_, &neg_}) {
    w.Varint(static_cast<uint64_t>(b->offset - kMinIndex));
    w.Varint(b->counts.size());
    for (uint64_t c : b->counts) w.Varint(c);
  }
}

bool TimerSketch::Decode(std::string_view* in) {
  *this = TimerSketch{};
  internal::ByteReader r(*in);
  TimerSketch s;
  s.count_ = r.Varint();
  double* fields[6] = {&s.min_, &s.max_, &s.sum_, &s.sum_sq_, &s.mean_, &s.m2_};
  for (double* d : fields) *d = r.F64();
  s.zeros_ = r.Varint();
  uint64_t total = s.zeros_;
  bool ok = r.ok();
  for (Buckets* b : {&s.pos_, &s.neg_}) {
    uint64_t off = r.Varint();
    uint64_t n = r.Varint();
    constexpr uint64_t kSpan = kMaxIndex - kMinIndex + 1;
    if (!r.ok() || off >= kSpan || n > kSpan - off || n > r.left()) return false;
    b->offset = static_cast<int>(off) + kMinIndex;
    b->counts.resize(n);
    for (uint64_t& c : b->counts) {
      c = r.Varint();
      if (__builtin_add_overflow(total, c, &total)) ok = false;
    }
  }
  if (!ok || !r.ok() || total != s.count_) return false;
  if (s.count_ > 0 && !(s.min_ <= s.max_)) return false;  // also rejects NaN
  *this = std::move(s);
  in->remove_prefix(in->size() - r.left());
  return true;
}

}  // namespace stopgap::statsd

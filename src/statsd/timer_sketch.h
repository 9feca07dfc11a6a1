// TimerSketch: a mergeable summary of a large timer's values, used instead of
// keeping and sorting every value once a timer has more than
// `timer_exact_max` samples in one flush interval (exact below that, as the
// reference). Log-spaced buckets (DDSketch-style): bucket i holds values in
// (g^(i-1), g^i] with g = (1+a)/(1-a), and reports 2g^i/(g+1), so any value
// read back at a rank is within relative error a (kRelativeAccuracy = 1 %)
// of the true value at that rank. Count, sum, sum of squares, min, max and
// the standard deviation (Welford) are kept exactly. Negative values use
// mirrored buckets; |v| < kZeroBelow counts as 0. Merging adds buckets.
//
// Thread safety: none (one owner: a receive thread's table or the store).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stopgap::statsd {

class TimerSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr double kZeroBelow = 1e-9;

  void Add(double v);
  void Merge(const TimerSketch& o);

  uint64_t count() const { return count_; }
  double min() const { return min_; }
  double max() const { return max_; }
  double sum() const { return sum_; }
  double sum_squares() const { return sum_sq_; }
  double stddev() const;  // population standard deviation, as the reference's std

  // The k-th smallest value (1-based, 1 <= k <= count), within relative
  // error kRelativeAccuracy, clamped to [min, max].
  double ValueAtRank(uint64_t k) const;
  // Sum (and sum of squares) of the k smallest values (k <= count): each value
  // taken at its bucket's representative.
  double SumSmallest(uint64_t k) const;
  double SumSquaresSmallest(uint64_t k) const;
  // The same for the k largest values (the reference's negative percentiles).
  double SumLargest(uint64_t k) const;
  double SumSquaresLargest(uint64_t k) const;
  // How many values are < x (values within relative error of x may land on
  // either side).
  double CountBelow(double x) const;
  size_t MemoryBytes() const;

  // The forward wire format (docs/statsd.md, "Global aggregation"): exact
  // state, buckets as varints. Decode replaces *this; false on malformed or
  // inconsistent input (bucket counts that do not add up to the count, indexes
  // out of range, NaN bounds), leaving *this empty.
  void Encode(std::string* out) const;
  bool Decode(std::string_view* in);

 private:
  // Counts for bucket indexes [offset, offset + counts.size()).
  struct Buckets {
    int offset = 0;
    std::vector<uint64_t> counts;
    void Add(int index, uint64_t n);
  };
  // Calls fn(representative, count) for every non-empty bucket, ascending.
  template <typename Fn>
  void ForEachAscending(Fn&& fn) const;
  template <typename Fn>
  void ForEachDescending(Fn&& fn) const;
  // Sum of f(value) over the k smallest (ascending) or largest values.
  template <typename F>
  double SumOf(uint64_t k, bool ascending, F f) const;

  Buckets pos_, neg_;  // neg_ indexes |v|
  uint64_t zeros_ = 0;
  uint64_t count_ = 0;
  double min_ = 0, max_ = 0, sum_ = 0, sum_sq_ = 0;
  double mean_ = 0, m2_ = 0;  // Welford
};

}  // namespace stopgap::statsd

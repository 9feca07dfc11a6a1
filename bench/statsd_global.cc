// Global aggregation benchmark (bench/statsd_global.sh): NODES local nodes
// each aggregate one interval of NAMES distinct names (70 % counters, 10 %
// gauges, 15 % timers of 5 values, 5 % sets of 3 members) and encode it as a
// forward frame; the global node's MetricStore then decodes and merges all
// frames, once cold (names new) and REPS times warm (names known), and
// flushes. Prints frame size, encode time, decode+merge time per interval
// (median of the warm ones), flush time and heap growth per name, as JSON.
// Times are CPU time of this single-threaded process (the machine is shared).
//   statsd_global_merge [NODES=10] [NAMES=1000000] [REPS=5]
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "statsd/forward.h"
#include "statsd/interval_table.h"
#include "statsd/metric_store.h"

using namespace stopgap::statsd;
using stopgap::Result;

namespace {

// CPU time of this (single-threaded) process: the work, whatever else runs
// on the machine (wall time is printed beside it on stderr).
struct Clock {
  std::chrono::steady_clock::time_point wall;
  double cpu_ms;
};
Clock Now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return {std::chrono::steady_clock::now(), ts.tv_sec * 1e3 + ts.tv_nsec / 1e6};
}
double Ms(const Clock& a, const Clock& b) { return b.cpu_ms - a.cpu_ms; }
double WallMs(const Clock& a, const Clock& b) {
  return std::chrono::duration<double, std::milli>(b.wall - a.wall).count();
}

// Heap bytes in use (malloc's count, not RSS: freed memory that malloc keeps
// would hide or inflate the store's own growth).
double HeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 10;
  const int names = argc > 2 ? std::atoi(argv[2]) : 1000000;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  FlushConfig cfg;
  cfg.max_names = 4'000'000;
  cfg.flush_interval_ms = 10000;
  std::vector<std::string> frames;
  std::vector<double> encode_ms;
  size_t frame_bytes = 0;
  std::mt19937_64 rng(1);
  for (int n = 0; n < nodes; ++n) {
    MetricStore local(cfg);
    {
      IntervalTable t;
      t.set_max_names(cfg.max_names);
      t.set_clock_ms(1000 + n);
      char line[96];
      std::string packet;
      for (int i = 0; i < names; ++i) {
        int pct = i % 100;
        packet.clear();
        if (pct < 70) {
          snprintf(line, sizeof line, "bench.global.c%07d:%d|c", i,
                   static_cast<int>(rng() % 9 + 1));
          packet = line;
        } else if (pct < 80) {
          snprintf(line, sizeof line, "bench.global.g%07d:%d|g", i, static_cast<int>(rng() % 1000));
          packet = line;
        } else if (pct < 95) {
          for (int k = 0; k < 5; ++k) {
            snprintf(line, sizeof line, "bench.global.t%07d:%d|ms\n", i,
                     static_cast<int>(rng() % 500));
            packet += line;
          }
        } else {
          for (int k = 0; k < 3; ++k) {
            snprintf(line, sizeof line, "bench.global.s%07d:u%d|s\n", i,
                     static_cast<int>(rng() % 100));
            packet += line;
          }
        }
        t.AddPacket(packet, {});
      }
      local.Merge(t);
    }
    auto t0 = Now();
    ForwardEncoder enc({"node" + std::to_string(n), 1, 1, 0, cfg.flush_interval_ms});
    local.EncodeForward(&enc, 64);
    frames.push_back(enc.Finish());
    encode_ms.push_back(Ms(t0, Now()));
    frame_bytes += frames.back().size();
  }
  const double heap0 = HeapBytes();
  MetricStore global(cfg);
  std::vector<double> merge_ms, flush_ms;
  double heap_after_first = 0;
  for (int r = 0; r <= reps; ++r) {
    auto t0 = Now();
    for (const std::string& f : frames) {
      Result<ForwardInterval> iv = DecodeForwardFrame(f);
      if (!iv.ok()) {
        std::fprintf(stderr, "decode: %s\n", iv.status().message().c_str());
        return 1;
      }
      global.MergeForward(*iv);
    }
    auto t1 = Now();
    FlushOutput out = global.Flush(1000 + r, GraphiteStats{}, [] { return int64_t{0}; });
    auto t2 = Now();
    const size_t lines = out.lines;
    std::string().swap(out.payload);  // the payload is not the store's memory
    if (r == 0) {
      heap_after_first = HeapBytes();
      std::fprintf(stderr,
                   "cold interval: decode+merge %.0f ms CPU (%.0f wall), flush %.0f ms CPU "
                   "(%zu lines)\n",
                   Ms(t0, t1), WallMs(t0, t1), Ms(t1, t2), lines);
      continue;
    }
    std::fprintf(stderr, "heap per name after interval %d: %.0f bytes\n", r,
                 (HeapBytes() - heap0) / names);
    merge_ms.push_back(Ms(t0, t1));
    flush_ms.push_back(Ms(t1, t2));
    std::fprintf(stderr,
                 "warm interval %d: decode+merge %.0f ms CPU (%.0f wall), flush %.0f ms CPU\n", r,
                 Ms(t0, t1), WallMs(t0, t1), Ms(t1, t2));
  }
  const double heap1 = HeapBytes();
  std::printf(
      "{\"nodes\": %d, \"names\": %d, \"frame_bytes_per_node\": %.0f, "
      "\"frame_bytes_per_name\": %.2f, \"encode_ms_median\": %.1f, "
      "\"merge_ms_median\": %.1f, \"merge_ns_per_name_per_node\": %.1f, "
      "\"flush_ms_median\": %.1f, \"heap_per_name_bytes\": %.0f, "
      "\"heap_per_name_after_first_bytes\": %.0f, \"global_names\": %zu}\n",
      nodes, names, static_cast<double>(frame_bytes) / nodes,
      static_cast<double>(frame_bytes) / nodes / names, Median(encode_ms), Median(merge_ms),
      Median(merge_ms) * 1e6 / (static_cast<double>(names) * nodes), Median(flush_ms),
      (heap1 - heap0) / names, (heap_after_first - heap0) / names, global.name_count());
  return 0;
}

// In-process micro-benchmark of the StatsD hot path without the kernel:
// IntervalTable::AddPacket over the same datagrams bench/statsd_loadgen.cc
// sends (20 counter lines of ~64-byte names, 1,000 names), packets laid out
// in 64 KiB slots like the receive batch. Prints ns per metric (CPU time).
// Single-threaded. Usage: statsd_parse [--names N] [--seconds S]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "statsd/interval_table.h"

namespace {
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

int main(int argc, char** argv) {
  long names = 1000, per = 20;
  double seconds = 2;
  size_t stride = 65536;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--names") names = std::atol(argv[i + 1]);
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--stride") stride = static_cast<size_t>(std::atol(argv[i + 1]));
  }
  long npk = (names + per - 1) / per;
  std::vector<std::string> packets(static_cast<size_t>(npk));
  std::vector<long> lines_in(static_cast<size_t>(npk), 0);
  char name[128];
  for (long k = 0; k < npk; ++k) {
    for (long j = 0; j < per; ++j) {
      long n = (k * per + j) % names;
      if (k * per + j >= names && j > 0) break;
      std::snprintf(name, sizeof name,
                    "bench.stopgap.load.generator.metric.name.padding.%010ld:1|c", n);
      if (j) packets[static_cast<size_t>(k)].push_back('\n');
      packets[static_cast<size_t>(k)] += name;
      ++lines_in[static_cast<size_t>(k)];
    }
  }
  // Batches of 64 packets in slots of `stride` bytes, as recvmmsg fills them.
  constexpr size_t kBatch = 64;
  std::vector<char> buf(kBatch * stride);
  stopgap::statsd::IntervalTable table;
  stopgap::statsd::ParseOptions opts;
  long metrics = 0;
  size_t next = 0;
  double t0 = CpuNow(), t = t0;
  while (t - t0 < seconds) {
    for (int rep = 0; rep < 50; ++rep) {
      size_t lens[kBatch];
      for (size_t i = 0; i < kBatch; ++i) {
        const std::string& p = packets[next];
        std::memcpy(buf.data() + i * stride, p.data(), p.size());
        lens[i] = p.size();
        metrics += lines_in[next];
        next = (next + 1) % packets.size();
      }
      for (size_t i = 0; i < kBatch; ++i) {
        table.AddPacket(std::string_view(buf.data() + i * stride, lens[i]), opts);
      }
    }
    t = CpuNow();
  }
  double sum = 0;
  for (const auto& e : table.counters().entries()) sum += e.value.value;
  std::printf("{\"ns_per_metric\": %.2f, \"metrics\": %ld, \"check\": %.0f, \"names\": %zu}\n",
              (t - t0) * 1e9 / static_cast<double>(metrics), metrics, sum, table.counters().size());
  return sum == static_cast<double>(metrics) ? 0 : 1;
}

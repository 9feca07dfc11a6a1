// Microbenchmark: MD5 throughput of OpenSSL (one stream) vs the multi-buffer
// kernels (8 or 16 streams in SIMD lanes) vs the whole Md5Hasher (file ranges
// through pread, lanes refilled as ranges end). Bytes/s counts every lane.
// Single-threaded; run on a quiet machine for stable figures.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "logship/internal/md5.h"
#include "logship/internal/md5_hasher.h"
#include "logship/internal/md5_mb.h"

namespace {

using namespace stopgap::logship::internal;

constexpr size_t kBuf = 1 << 20;  // per stream

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(1);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

void BM_OpenSslMd5(benchmark::State& state) {
  std::string data = RandomBytes(kBuf);
  for (auto _ : state) {
    Md5 md5;
    md5.Update(data);
    benchmark::DoNotOptimize(md5.Digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBuf));
}
BENCHMARK(BM_OpenSslMd5);

void BM_Md5Mb(benchmark::State& state) {
  const auto isa = static_cast<Md5Isa>(state.range(0));
  if (!Md5IsaSupported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const int lanes = Md5LaneCount(isa);
  std::vector<std::string> bufs;
  const unsigned char* data[kMd5MaxLanes] = {};
  for (int l = 0; l < lanes; ++l) bufs.push_back(RandomBytes(kBuf));
  for (int l = 0; l < lanes; ++l) {
    data[l] = reinterpret_cast<const unsigned char*>(bufs[static_cast<size_t>(l)].data());
  }
  Md5Lanes s{};
  for (auto _ : state) {
    for (int l = 0; l < lanes; ++l) Md5InitLane(&s, l);
    Md5MbBlocks(isa, &s, data, kBuf / 64);
    benchmark::DoNotOptimize(s);
  }
  state.SetLabel(Md5IsaName(isa));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBuf * lanes));
}
BENCHMARK(BM_Md5Mb)->Arg(static_cast<int>(Md5Isa::kAvx2))->Arg(static_cast<int>(Md5Isa::kAvx512));

// 16 ranges of a 64 MiB file (page cache), like 16 multipart parts.
void BM_Md5Hasher(benchmark::State& state) {
  const auto isa = static_cast<Md5Isa>(state.range(0));
  if (!Md5IsaSupported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  char path[] = "/var/tmp/md5_bench_XXXXXX";
  int fd = ::mkstemp(path);
  const size_t size = 64u << 20;
  std::string chunk = RandomBytes(kBuf);
  for (size_t i = 0; i < size; i += kBuf) {
    if (::write(fd, chunk.data(), kBuf) != static_cast<ssize_t>(kBuf)) std::abort();
  }
  ::close(fd);
  std::vector<FileRange> ranges;
  for (size_t i = 0; i < 16; ++i) ranges.push_back({path, i * (size / 16), size / 16});
  Md5Hasher::Options opt;
  opt.isa = isa;
  Md5Hasher hasher(opt);
  for (auto _ : state) benchmark::DoNotOptimize(hasher.HashAll(ranges));
  ::unlink(path);
  state.SetLabel(Md5IsaName(isa));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_Md5Hasher)
    ->Arg(static_cast<int>(Md5Isa::kScalar))
    ->Arg(static_cast<int>(Md5Isa::kAvx2))
    ->Arg(static_cast<int>(Md5Isa::kAvx512))
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

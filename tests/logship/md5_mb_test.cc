// Tests for multi-buffer MD5 (every kernel this CPU runs: scalar, AVX2,
// AVX-512), the Md5Hasher job manager and PartDigests, all against
// OpenSSL's MD5.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "logship/internal/http_store.h"
#include "logship/internal/md5.h"
#include "logship/internal/md5_hasher.h"
#include "logship/internal/md5_mb.h"
#include "temp_dir.h"

namespace stopgap::logship::internal {
namespace {

using testing::TempDir;
using testing::WriteText;

std::string OpenSslMd5(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::vector<Md5Isa> SupportedIsas() {
  std::vector<Md5Isa> out;
  for (Md5Isa isa : {Md5Isa::kScalar, Md5Isa::kAvx2, Md5Isa::kAvx512}) {
    if (Md5IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

TEST(Md5MbTest, KnownVectors) {
  // RFC 1321's test suite through the scalar lane functions.
  const std::pair<std::string, std::string> cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  for (const auto& [in, want] : cases) {
    Md5Lanes s{};
    Md5InitLane(&s, 3);
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    Md5LaneBlocks(&s, 3, p, in.size() / 64);
    size_t whole = in.size() / 64 * 64;
    EXPECT_EQ(Hex(Md5LaneFinish(&s, 3, p + whole, in.size() - whole, in.size())), want) << in;
  }
}

// Every lane gets different data and a different tail length; the kernel
// runs all lanes in lockstep, each lane is then finished on its own.
TEST(Md5MbTest, EveryKernelMatchesOpenSslPerLane) {
  std::mt19937_64 rng(42);
  for (Md5Isa isa : SupportedIsas()) {
    const int lanes = Md5LaneCount(isa);
    for (size_t nblocks : {0, 1, 2, 3, 17, 64}) {
      std::vector<std::string> msgs;
      for (int l = 0; l < lanes; ++l) {
        size_t tail = static_cast<size_t>((l * 7 + nblocks) % 64);
        msgs.push_back(RandomBytes(rng, nblocks * 64 + tail));
      }
      Md5Lanes s{};
      const unsigned char* data[kMd5MaxLanes] = {};
      for (int l = 0; l < lanes; ++l) {
        Md5InitLane(&s, l);
        data[l] = reinterpret_cast<const unsigned char*>(msgs[static_cast<size_t>(l)].data());
      }
      Md5MbBlocks(isa, &s, data, nblocks);
      for (int l = 0; l < lanes; ++l) {
        const std::string& m = msgs[static_cast<size_t>(l)];
        std::string got =
            Md5LaneFinish(&s, l, data[l] + nblocks * 64, m.size() - nblocks * 64, m.size());
        EXPECT_EQ(Hex(got), Hex(OpenSslMd5(m)))
            << Md5IsaName(isa) << " lane " << l << " blocks " << nblocks;
      }
    }
  }
}

// A single differing byte in one lane changes only that lane's digest.
TEST(Md5MbTest, LanesAreIndependent) {
  for (Md5Isa isa : SupportedIsas()) {
    const int lanes = Md5LaneCount(isa);
    std::string base(64 * 4, 'x');
    std::vector<std::string> msgs(static_cast<size_t>(lanes), base);
    msgs.back()[100] = 'y';
    Md5Lanes s{};
    const unsigned char* data[kMd5MaxLanes] = {};
    for (int l = 0; l < lanes; ++l) {
      Md5InitLane(&s, l);
      data[l] = reinterpret_cast<const unsigned char*>(msgs[static_cast<size_t>(l)].data());
    }
    Md5MbBlocks(isa, &s, data, 4);
    for (int l = 0; l < lanes; ++l) {
      std::string got = Md5LaneFinish(&s, l, nullptr, 0, base.size());
      EXPECT_EQ(got, OpenSslMd5(msgs[static_cast<size_t>(l)])) << Md5IsaName(isa) << " " << l;
    }
  }
}

class Md5HasherTest : public ::testing::TestWithParam<std::tuple<Md5Isa, size_t>> {};

TEST_P(Md5HasherTest, ManyRangesOfMixedLengthsMatchOpenSsl) {
  auto [isa, chunk] = GetParam();
  if (!Md5IsaSupported(isa)) GTEST_SKIP() << Md5IsaName(isa) << " not on this CPU";
  TempDir dir;
  std::mt19937_64 rng(7);
  const std::vector<size_t> sizes = {
      0,       1,    55,   56,   63,    64,    65,    119,    120,    127,    128,
      129,     1000, 4095, 4096, 65535, 65536, 65537, 262143, 262144, 262145, (1u << 20) + 13,
      3u << 20};
  std::vector<FileRange> ranges;
  std::vector<std::string> want;
  int n = 0;
  for (size_t size : sizes) {
    std::string path = dir / ("f" + std::to_string(n++));
    std::string data = RandomBytes(rng, size);
    WriteText(path, data);
    ranges.push_back({path, 0, size});
    want.push_back(OpenSslMd5(data));
    if (size > 1000) {  // parts of it, like multipart / SLO segments
      uint64_t off = size / 3 + 1, len = size / 2 - 5;
      ranges.push_back({path, off, len});
      want.push_back(OpenSslMd5(std::string_view(data).substr(off, len)));
    }
  }
  // Plus random ranges of one file.
  std::string big = RandomBytes(rng, 700'000);
  WriteText(dir / "big", big);
  for (int i = 0; i < 60; ++i) {
    uint64_t off = rng() % big.size();
    uint64_t len = rng() % (big.size() - off + 1);
    if (i % 4 == 0) len %= 200;
    ranges.push_back({dir / "big", off, len});
    want.push_back(OpenSslMd5(std::string_view(big).substr(off, len)));
  }
  Md5Hasher::Options opt;
  opt.isa = isa;
  opt.chunk_bytes = chunk;
  Md5Hasher hasher(opt);
  std::vector<Result<std::string>> got = hasher.HashAll(ranges);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << got[i].status().ToString();
    EXPECT_EQ(Hex(*got[i]), Hex(want[i])) << Md5IsaName(isa) << " range " << i << " off "
                                          << ranges[i].offset << " len " << ranges[i].length;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, Md5HasherTest,
    ::testing::Combine(::testing::Values(Md5Isa::kScalar, Md5Isa::kAvx2, Md5Isa::kAvx512),
                       ::testing::Values(size_t{64}, size_t{4096}, size_t{256 * 1024})));

TEST(Md5HasherErrors, MissingAndShortFilesAreErrorsOthersStillHash) {
  TempDir dir;
  WriteText(dir / "short", std::string(100, 'a'));
  WriteText(dir / "ok", std::string(5000, 'b'));
  Md5Hasher hasher;
  std::vector<Result<std::string>> got =
      hasher.HashAll({{dir / "missing", 0, 10}, {dir / "short", 0, 200}, {dir / "ok", 0, 5000}});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FALSE(got[0].ok());
  EXPECT_FALSE(got[1].ok());
  EXPECT_NE(got[1].status().ToString().find("shrank"), std::string::npos);
  ASSERT_TRUE(got[2].ok());
  EXPECT_EQ(*got[2], OpenSslMd5(std::string(5000, 'b')));
}

TEST(Md5HasherPrefetch, TakeReusesAPrefetchOnlyForTheSameFileVersion) {
  TempDir dir;
  std::string p = dir / "f";
  WriteText(p, std::string(10000, 'c'));
  testing::SetMtime(p, 1'700'000'000);
  Md5Hasher hasher;
  hasher.Prefetch({p, 0, 10000});
  Md5Hasher::Ticket t1 = hasher.Take({p, 0, 10000});
  Md5Hasher::Ticket t2 = hasher.Take({p, 0, 10000});  // the prefetch was taken: a new job
  EXPECT_NE(t1, t2);
  EXPECT_EQ(*Md5Hasher::Wait(t1), OpenSslMd5(std::string(10000, 'c')));

  hasher.Prefetch({p, 0, 10000});
  WriteText(p, std::string(10000, 'd'));  // same size, new content and mtime
  testing::SetMtime(p, 1'700'000'100);
  Md5Hasher::Ticket t3 = hasher.Take({p, 0, 10000});
  EXPECT_EQ(*Md5Hasher::Wait(t3), OpenSslMd5(std::string(10000, 'd')));
}

}  // namespace
}  // namespace stopgap::logship::internal

namespace stopgap::logship::internal {
namespace {

// The parts of one file, asked for out of order (as parallel part uploads
// finish), each match OpenSSL's MD5 of that range.
TEST(PartDigestsTest, EveryPartInAnyOrder) {
  TempDir dir;
  std::mt19937_64 rng(3);
  std::string data = RandomBytes(rng, 100 * 1000 + 17);
  std::string path = dir / "big";
  WriteText(path, data);
  std::vector<Part> parts = PlanParts(data.size(), 1000);
  ASSERT_EQ(parts.size(), 101u);
  Md5Hasher hasher;
  PartDigests md5s(hasher, path, parts);
  std::vector<size_t> order(parts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin() + 40, order.end(), rng);  // uploads run ahead and finish out of order
  for (size_t i : order) {
    md5s.Start(i);
    Result<std::string> got = md5s.Get(i);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, OpenSslMd5(std::string_view(data).substr(parts[i].offset, parts[i].length)))
        << "part " << i;
  }
}

}  // namespace
}  // namespace stopgap::logship::internal

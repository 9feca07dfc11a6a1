// libFuzzer target: the global node's decoder of forwarded intervals (outside
// input from the network). The bytes go through DecodeForwardFrame as is, as
// an uncompressed payload, and wrapped in a valid uncompressed header; what
// decodes is merged into a MetricStore (tiny exact limits: sketches and HLLs),
// flushed, re-encoded and must decode again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "statsd/forward.h"
#include "statsd/metric_store.h"

using namespace stopgap::statsd;
using stopgap::Result;

namespace {

void MergeAndRoundTrip(const ForwardInterval& iv) {
  FlushConfig cfg;
  cfg.percentiles = {90, -10};
  cfg.timer_exact_max = 3;
  cfg.set_exact_max = 2;
  cfg.max_names = 1000;
  MetricStore store(cfg);
  store.MergeForward(iv);
  store.MergeForward(iv);
  ForwardEncoder enc({"again", 1, 2, 3, 1000});
  store.EncodeForward(&enc, 2);
  Result<ForwardInterval> back = DecodeForwardFrame(enc.Finish());
  if (!back.ok()) abort();  // what we encode, we must read
  store.MergeForward(*back);
  if (store.Flush(1, GraphiteStats{}, [] { return int64_t{0}; }).payload.empty()) abort();
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<size_t> n = ForwardFrameSize(in);
  if (n.ok() && *n > 0) {
    Result<ForwardInterval> iv = DecodeForwardFrame(in.substr(0, *n));
    if (iv.ok()) MergeAndRoundTrip(*iv);
  }
  Result<ForwardInterval> p = DecodeForwardPayload(std::string(in));
  if (p.ok()) MergeAndRoundTrip(*p);
  std::string frame("SGFW\x01\x00\x00\x00", 8);
  PutU32(&frame, static_cast<uint32_t>(size));
  PutU32(&frame, static_cast<uint32_t>(size));
  frame.append(in);
  Result<ForwardInterval> w = DecodeForwardFrame(frame);
  if (w.ok() != p.ok()) abort();  // the raw path reads the same payload
  (void)DecodeForwardAck(in);
  return 0;
}

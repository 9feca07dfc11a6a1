// Forward frame codec (see forward.h): header, zstd, and a bounds-checked
// decoder of outside input (fuzzed: fuzz/statsd/statsd_forward_fuzz.cc).
// Pure functions; no shared state.
#include "statsd/forward.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "statsd/internal/wire.h"

namespace stopgap::statsd {
namespace {

constexpr char kMagic[4] = {'S', 'G', 'F', 'W'};
constexpr char kAckMagic[4] = {'S', 'G', 'A', 'K'};
constexpr uint8_t kFlagZstd = 1;
enum : uint8_t { kExact = 0, kSketch = 1 };

uint32_t ReadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

Status Bad(const std::string& what) { return InvalidArgument("forward frame: " + what); }

}  // namespace

void ForwardEncoder::Counter(std::string_view name, double sum) {
  internal::ByteWriter w(&sec_[0]);
  w.Bytes(name);
  w.F64(sum);
  ++n_[0];
}

void ForwardEncoder::Gauge(std::string_view name, double value, int64_t ts_ms) {
  internal::ByteWriter w(&sec_[1]);
  w.Bytes(name);
  w.F64(value);
  w.I64(ts_ms);
  ++n_[1];
}

void ForwardEncoder::TimerExact(std::string_view name, double count,
                                const std::vector<double>& values) {
  internal::ByteWriter w(&sec_[2]);
  w.Bytes(name);
  w.F64(count);
  w.U8(kExact);
  w.Varint(values.size());
  for (double v : values) w.F64(v);
  ++n_[2];
}

void ForwardEncoder::TimerSketched(std::string_view name, double count, const TimerSketch& sk) {
  internal::ByteWriter w(&sec_[2]);
  w.Bytes(name);
  w.F64(count);
  w.U8(kSketch);
  sk.Encode(&sec_[2]);
  ++n_[2];
}

void ForwardEncoder::SetExact(std::string_view name, const std::vector<std::string_view>& members) {
  internal::ByteWriter w(&sec_[3]);
  w.Bytes(name);
  w.U8(kExact);
  w.Varint(members.size());
  for (std::string_view m : members) w.Bytes(m);
  ++n_[3];
}

void ForwardEncoder::SetHll(std::string_view name, const Hll& hll) {
  internal::ByteWriter w(&sec_[3]);
  w.Bytes(name);
  w.U8(kSketch);
  w.U8(Hll::kPrecision);
  const std::vector<uint8_t>& r = hll.registers();
  w.Raw(std::string_view(reinterpret_cast<const char*>(r.data()), r.size()));
  ++n_[3];
}

std::string ForwardEncoder::Finish(int zstd_level) const {
  std::string payload;
  internal::ByteWriter w(&payload);
  w.Bytes(std::string_view(h_.node_id).substr(0, kForwardMaxNodeId));
  w.U64(h_.session);
  w.U64(h_.seq);
  w.I64(h_.time_ms);
  w.Varint(static_cast<uint64_t>(std::max<int64_t>(h_.interval_ms, 0)));
  for (int i = 0; i < 4; ++i) {
    w.Varint(n_[i]);
    w.Raw(sec_[i]);
  }
  std::string frame(kMagic, 4);
  frame.push_back(static_cast<char>(kForwardVersion));
  frame.push_back(static_cast<char>(kFlagZstd));
  frame.append(2, '\0');
  size_t bound = ZSTD_compressBound(payload.size());
  std::string body(bound, '\0');
  size_t n = ZSTD_compress(body.data(), bound, payload.data(), payload.size(), zstd_level);
  body.resize(ZSTD_isError(n) ? 0 : n);  // cannot fail with a bound-sized buffer
  PutU32(&frame, static_cast<uint32_t>(body.size()));
  PutU32(&frame, static_cast<uint32_t>(payload.size()));
  frame += body;
  return frame;
}

Result<size_t> ForwardFrameSize(std::string_view buf) {
  size_t have = std::min<size_t>(buf.size(), 4);
  if (std::memcmp(buf.data(), kMagic, have) != 0) return Bad("bad magic (not a stopgap forwarder)");
  if (buf.size() < kForwardHeaderBytes) return size_t{0};
  if (static_cast<uint8_t>(buf[4]) != kForwardVersion) {
    return Bad("version " + std::to_string(static_cast<uint8_t>(buf[4])) + " (this node reads 1)");
  }
  uint32_t clen = ReadU32(buf.data() + 8);
  if (clen > kForwardMaxCompressed) return Bad("frame of " + std::to_string(clen) + " bytes");
  size_t total = kForwardHeaderBytes + clen;
  return buf.size() >= total ? total : size_t{0};
}

Result<ForwardInterval> DecodeForwardFrame(std::string_view frame) {
  Result<size_t> size = ForwardFrameSize(frame);
  if (!size.ok()) return size.status();
  if (*size == 0 || *size != frame.size()) return Bad("truncated");
  const uint8_t flags = static_cast<uint8_t>(frame[5]);
  if ((flags & ~kFlagZstd) != 0 || frame[6] != 0 || frame[7] != 0) return Bad("unknown flags");
  const uint32_t clen = ReadU32(frame.data() + 8);
  const uint32_t rlen = ReadU32(frame.data() + 12);
  std::string_view body = frame.substr(kForwardHeaderBytes);
  std::string payload;
  if (flags & kFlagZstd) {
    if (rlen > kForwardMaxRaw || rlen > std::max<size_t>(1u << 20, size_t{clen} * 1024)) {
      return Bad("payload of " + std::to_string(rlen) + " bytes");
    }
    unsigned long long content = ZSTD_getFrameContentSize(body.data(), body.size());
    if (content != rlen) return Bad("zstd content size does not match the header");
    payload.resize(rlen);
    size_t n = ZSTD_decompress(payload.data(), payload.size(), body.data(), body.size());
    if (ZSTD_isError(n)) return Bad(std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != rlen) return Bad("zstd payload shorter than the header says");
  } else {
    if (rlen != clen) return Bad("raw length mismatch");
    payload.assign(body);
  }
  Result<ForwardInterval> iv = DecodeForwardPayload(std::move(payload));
  if (iv.ok()) iv->compressed_bytes = frame.size();
  return iv;
}

Result<ForwardInterval> DecodeForwardPayload(std::string payload) {
  ForwardInterval iv;
  iv.payload = std::make_unique<std::string>(std::move(payload));
  internal::ByteReader r(*iv.payload);
  iv.header.node_id = std::string(r.Bytes(kForwardMaxNodeId));
  iv.header.session = r.U64();
  iv.header.seq = r.U64();
  iv.header.time_ms = r.I64();
  uint64_t interval = r.Varint();
  if (!r.ok() || interval > (uint64_t{1} << 40)) return Bad("bad header fields");
  iv.header.interval_ms = static_cast<int64_t>(interval);
  // Every entry takes at least 2 bytes: a count larger than what is left is a lie.
  auto count = [&]() -> uint64_t {
    uint64_t n = r.Varint();
    if (n > r.left() / 2) r.Fail();
    return r.ok() ? n : 0;
  };
  uint64_t n = count();
  iv.counters.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string_view name = r.Bytes(kForwardMaxName);
    double v = r.F64();
    iv.counters.emplace_back(name, v);
  }
  n = count();
  iv.gauges.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    ForwardGauge g;
    g.name = r.Bytes(kForwardMaxName);
    g.value = r.F64();
    g.ts_ms = r.I64();
    iv.gauges.push_back(g);
  }
  n = count();
  iv.timers.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    ForwardTimer t;
    t.name = r.Bytes(kForwardMaxName);
    t.count = r.F64();
    uint8_t kind = r.U8();
    if (kind == kExact) {
      uint64_t k = r.Varint();
      if (k > r.left() / 8) return Bad("timer '" + std::string(t.name) + "': value count");
      t.values.resize(k);
      for (double& v : t.values) {
        v = r.F64();
        if (v != v) return Bad("timer '" + std::string(t.name) + "': NaN value");
      }
    } else if (kind == kSketch) {
      std::string_view rest = std::string_view(*iv.payload).substr(iv.payload->size() - r.left());
      size_t before = rest.size();
      t.sketch = std::make_unique<TimerSketch>();
      if (!r.ok() || !t.sketch->Decode(&rest)) {
        return Bad("timer '" + std::string(t.name) + "': bad sketch");
      }
      r.Raw(before - rest.size());
    } else {
      return Bad("timer kind " + std::to_string(kind));
    }
    iv.timers.push_back(std::move(t));
  }
  n = count();
  iv.sets.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    ForwardSet s;
    s.name = r.Bytes(kForwardMaxName);
    uint8_t kind = r.U8();
    if (kind == kExact) {
      uint64_t k = r.Varint();
      if (k > r.left()) return Bad("set '" + std::string(s.name) + "': member count");
      s.members.reserve(k);
      for (uint64_t j = 0; j < k && r.ok(); ++j) s.members.push_back(r.Bytes(kForwardMaxName));
    } else if (kind == kSketch) {
      uint8_t p = r.U8();
      if (p != Hll::kPrecision) return Bad("set '" + std::string(s.name) + "': HLL precision");
      s.hll = std::make_unique<Hll>();
      if (!s.hll->SetRegisters(r.Raw(Hll::kRegisters))) {
        return Bad("set '" + std::string(s.name) + "': HLL registers");
      }
    } else {
      return Bad("set kind " + std::to_string(kind));
    }
    iv.sets.push_back(std::move(s));
  }
  if (!r.ok()) return Bad("truncated payload");
  if (r.left() != 0) return Bad(std::to_string(r.left()) + " trailing bytes");
  return iv;
}

std::string EncodeForwardAck(uint64_t session, uint64_t seq) {
  std::string out(kAckMagic, 4);
  internal::ByteWriter w(&out);
  w.U64(session);
  w.U64(seq);
  return out;
}

std::optional<std::pair<uint64_t, uint64_t>> DecodeForwardAck(std::string_view buf) {
  if (buf.size() < kForwardAckBytes || std::memcmp(buf.data(), kAckMagic, 4) != 0) {
    return std::nullopt;
  }
  internal::ByteReader r(buf.substr(4, 16));
  uint64_t session = r.U64();
  uint64_t seq = r.U64();
  return std::make_pair(session, seq);
}

}  // namespace stopgap::statsd

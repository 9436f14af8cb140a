// Per-packet cost of the wire codec: parsing and emitting a DSS data segment and an MP_CAPABLE
// SYN, and the DSS checksum. Run with `bazel run -c opt //mptcp/wire:wire_benchmark --
// --benchmark_repetitions=5 --benchmark_report_aggregates_only=true`.
// Figures are recorded in docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "mptcp/address.h"
#include "mptcp/seq.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "mptcp/wire/tcp_options.h"

namespace mptcp::wire {
namespace {

constexpr size_t kPayload = 1400;
const IpAddress kSrc = IpAddress::V4(10, 0, 0, 1);
const IpAddress kDst = IpAddress::V4(10, 0, 0, 2);

std::vector<uint8_t> Payload() {
  std::vector<uint8_t> p(kPayload);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 31 + 7);
  return p;
}

void Die(const char* what) {
  std::fprintf(stderr, "wire_benchmark: %s\n", what);
  std::abort();
}

// RFC 8684 §3.3: 8-octet Data ACK, 8-octet DSN mapping with checksum (28 bytes); with
// NOP NOP TS the option space is exactly full (40 bytes).
Dss DataDss(uint64_t n, uint16_t dss_checksum) {
  Dss d;
  d.data_ack = DataAck{0x0000001000000000ULL + n, true};
  d.mapping = DssMapping{0x0000002000000000ULL + n * kPayload, true,
                         static_cast<uint32_t>(1 + n * kPayload), kPayload, dss_checksum};
  return d;
}

// The options of a data segment, built as a sender would per segment.
TcpOptions DataOptions(uint64_t n, uint16_t dss_checksum) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{static_cast<uint32_t>(1000 + n), 2000};
  std::array<uint8_t, 32> dss;
  const auto len = EmitMptcpOption(DataDss(n, dss_checksum), dss);
  if (!len.ok() || !o.AddMptcpOption(std::span<const uint8_t>(dss).first(*len))) Die("DSS");
  return o;
}

TcpRepr DataSegment(uint64_t n, uint16_t dss_checksum, std::span<const uint8_t> payload) {
  TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 443;
  t.seq = SeqNum32(static_cast<uint32_t>(1 + n * kPayload));
  t.ack = SeqNum32(5001);
  t.flags = TcpFlag::kAck | TcpFlag::kPsh;
  t.window = 502;
  t.options = DataOptions(n, dss_checksum);
  t.payload = payload;
  return t;
}

// RFC 8684 §3.1: MSS, SACK-permitted, timestamps, window scale and a 4-byte MP_CAPABLE v1
// (A and H set), as Linux sends it.
TcpRepr MpCapableSyn(uint32_t n) {
  TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 443;
  t.seq = SeqNum32(0x12345678 + n);
  t.flags = TcpFlag::kSyn;
  t.window = 64240;
  t.options.mss = 1460;
  t.options.sack_permitted = true;
  t.options.timestamps = TcpTimestamps{n, 0};
  t.options.window_scale = 7;
  MpCapable cap;
  cap.flags = MpCapable::kFlagA | MpCapable::kFlagH;
  std::array<uint8_t, 8> opt;
  const auto len = EmitMptcpOption(cap, opt);
  if (!len.ok() || !t.options.AddMptcpOption(std::span<const uint8_t>(opt).first(*len))) {
    Die("MP_CAPABLE");
  }
  return t;
}

std::vector<uint8_t> Encode(const TcpRepr& t) {
  std::vector<uint8_t> out(t.EncodedLength());
  if (!t.Emit(std::span<uint8_t>(out), kSrc, kDst).ok()) Die("emit");
  return out;
}

// Parse = TcpRepr::Parse + ParseMptcpOption on each MPTCP option it carries.
void ParseSegmentAndMptcp(benchmark::State& state, const std::vector<uint8_t>& seg) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(seg.data());
    const auto t = TcpRepr::Parse(seg);
    if (!t.ok()) Die("parse");
    for (std::span<const uint8_t> o : t->options.mptcp_options()) {
      const auto m = ParseMptcpOption(o);
      if (!m.ok()) Die("parse MPTCP");
      benchmark::DoNotOptimize(m);
    }
    benchmark::DoNotOptimize(t);
  }
}

void BM_DssSegment_Parse(benchmark::State& state) {
  const auto payload = Payload();
  const auto seg = Encode(DataSegment(1, 0x1234, payload));
  ParseSegmentAndMptcp(state, seg);
}
BENCHMARK(BM_DssSegment_Parse);

// Emit = build the options (timestamps + DSS) and write the segment. The payload already sits
// in the output buffer (as when a sender copies from its send buffer into the packet), so
// without the TCP checksum this is the header and option cost alone.
void BM_DssSegment_EmitNoTcpChecksum(benchmark::State& state) {
  std::vector<uint8_t> out(60 + kPayload);
  const auto payload = Payload();
  std::copy(payload.begin(), payload.end(), out.begin() + 60);
  const std::span<const uint8_t> in_place = std::span<const uint8_t>(out).subspan(60);
  uint64_t n = 0;
  for (auto _ : state) {
    const TcpRepr t = DataSegment(++n, 0x1234, in_place);
    const auto len = t.Emit(std::span<uint8_t>(out));
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DssSegment_EmitNoTcpChecksum);

// The same plus the TCP checksum over pseudo-header, header and 1400 bytes of payload.
void BM_DssSegment_EmitTcpChecksum(benchmark::State& state) {
  std::vector<uint8_t> out(60 + kPayload);
  const auto payload = Payload();
  std::copy(payload.begin(), payload.end(), out.begin() + 60);
  const std::span<const uint8_t> in_place = std::span<const uint8_t>(out).subspan(60);
  uint64_t n = 0;
  for (auto _ : state) {
    const TcpRepr t = DataSegment(++n, 0x1234, in_place);
    const auto len = t.Emit(std::span<uint8_t>(out), kSrc, kDst);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DssSegment_EmitTcpChecksum);

// As above, but the payload is copied into the packet by Emit.
void BM_DssSegment_EmitCopyTcpChecksum(benchmark::State& state) {
  std::vector<uint8_t> out(60 + kPayload);
  const auto payload = Payload();
  uint64_t n = 0;
  for (auto _ : state) {
    const TcpRepr t = DataSegment(++n, 0x1234, payload);
    const auto len = t.Emit(std::span<uint8_t>(out), kSrc, kDst);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DssSegment_EmitCopyTcpChecksum);

// What a checksum-negotiated sender pays per segment: DSS checksum, options, TCP checksum.
void BM_DssSegment_EmitDssAndTcpChecksum(benchmark::State& state) {
  std::vector<uint8_t> out(60 + kPayload);
  const auto payload = Payload();
  std::copy(payload.begin(), payload.end(), out.begin() + 60);
  const std::span<const uint8_t> in_place = std::span<const uint8_t>(out).subspan(60);
  uint64_t n = 0;
  for (auto _ : state) {
    ++n;
    const uint16_t dss_checksum =
        DssChecksum(0x0000002000000000ULL + n * kPayload, static_cast<uint32_t>(1 + n * kPayload),
                    kPayload, in_place);
    const TcpRepr t = DataSegment(n, dss_checksum, in_place);
    const auto len = t.Emit(std::span<uint8_t>(out), kSrc, kDst);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DssSegment_EmitDssAndTcpChecksum);

void BM_MpCapableSyn_Parse(benchmark::State& state) {
  const auto seg = Encode(MpCapableSyn(1));
  ParseSegmentAndMptcp(state, seg);
}
BENCHMARK(BM_MpCapableSyn_Parse);

void BM_MpCapableSyn_EmitNoTcpChecksum(benchmark::State& state) {
  std::array<uint8_t, 60> out;
  uint32_t n = 0;
  for (auto _ : state) {
    const TcpRepr t = MpCapableSyn(++n);
    const auto len = t.Emit(std::span<uint8_t>(out));
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_MpCapableSyn_EmitNoTcpChecksum);

void BM_MpCapableSyn_EmitTcpChecksum(benchmark::State& state) {
  std::array<uint8_t, 60> out;
  uint32_t n = 0;
  for (auto _ : state) {
    const TcpRepr t = MpCapableSyn(++n);
    const auto len = t.Emit(std::span<uint8_t>(out), kSrc, kDst);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_MpCapableSyn_EmitTcpChecksum);

// RFC 8684 §3.3.1: pseudo-header (DSN, subflow sequence, length) + 1400 bytes.
void BM_DssChecksum1400(benchmark::State& state) {
  const auto payload = Payload();
  uint64_t dsn = 0x0000002000000000ULL;
  for (auto _ : state) {
    benchmark::DoNotOptimize(payload.data());
    benchmark::DoNotOptimize(DssChecksum(++dsn, 1, kPayload, payload));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayload));
}
BENCHMARK(BM_DssChecksum1400);

}  // namespace
}  // namespace mptcp::wire

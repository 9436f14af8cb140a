// Conversation-test helpers for TcpEngine: build a segment fluently, inject it at time t, and
// expect exactly one segment (or none) back, compared field by field as a TcpRepr.
#ifndef MPTCP_TESTING_ENGINE_TEST_UTIL_H_
#define MPTCP_TESTING_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/stream_pattern.h"
#include "mptcp/tcp/engine.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::tcp::testing {

using wire::TcpFlag::kAck;
using wire::TcpFlag::kFin;
using wire::TcpFlag::kPsh;
using wire::TcpFlag::kRst;
using wire::TcpFlag::kSyn;

inline Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

// A segment description that owns its payload.
class Seg {
 public:
  Seg() = default;
  Seg& Flags(uint8_t f) { r_.flags = f; return *this; }
  Seg& SeqN(uint32_t s) { r_.seq = SeqNum32(s); return *this; }
  Seg& AckN(uint32_t a) { r_.ack = SeqNum32(a); r_.flags |= kAck; return *this; }
  Seg& Win(uint16_t w) { r_.window = w; return *this; }
  Seg& Mss(uint16_t m) { r_.options.mss = m; return *this; }
  Seg& Wscale(uint8_t s) { r_.options.window_scale = s; return *this; }
  Seg& SackOk() { r_.options.sack_permitted = true; return *this; }
  Seg& Ts(uint32_t val, uint32_t ecr) {
    r_.options.timestamps = wire::TcpTimestamps{val, ecr};
    return *this;
  }
  Seg& Sack(uint32_t left, uint32_t right) {
    r_.options.AddSackBlock({SeqNum32(left), SeqNum32(right)});
    return *this;
  }
  Seg& Data(size_t n, uint8_t fill = 'x') {
    payload_.assign(n, fill);
    return *this;
  }
  Seg& Bytes(std::vector<uint8_t> b) {
    payload_ = std::move(b);
    return *this;
  }
  Seg& Ports(uint16_t src, uint16_t dst) {
    r_.src_port = src;
    r_.dst_port = dst;
    return *this;
  }
  // The repr, with its payload pointing into this object.
  wire::TcpRepr repr() const {
    wire::TcpRepr r = r_;
    r.payload = payload_;
    return r;
  }
  const std::vector<uint8_t>& payload() const { return payload_; }

 private:
  wire::TcpRepr r_;
  std::vector<uint8_t> payload_;
};

// An engine under test, seen from the peer's side: ports are filled in automatically.
class Conversation {
 public:
  static constexpr uint16_t kLocalPort = 40000;
  static constexpr uint16_t kRemotePort = 80;

  static FourTuple Tuple() {
    return FourTuple{{IpAddress::V4(192, 0, 2, 1), kLocalPort},
                     {IpAddress::V4(198, 51, 100, 1), kRemotePort}};
  }
  static FourTuple Tuple6() {
    return FourTuple{{*IpAddress::Parse("2001:db8:1::1"), kLocalPort},
                     {*IpAddress::Parse("2001:db8:2::1"), kRemotePort}};
  }

  // A small, exact-number config: MSS 1000, 20000-byte buffers, no window scaling or
  // timestamps (tests that want them turn them on), SACK on.
  static TcpConfig DefaultConfig() {
    TcpConfig c;
    c.mss = 1000;
    c.send_buffer = 20000;
    c.recv_buffer = 20000;
    c.window_scaling = false;
    c.timestamps = false;
    c.sack = true;
    c.congestion_control = cc::CcAlgorithm::kNewReno;
    return c;
  }

  explicit Conversation(TcpConfig config = DefaultConfig(), uint32_t iss = 1000,
                        const FourTuple& tuple = Tuple())
      : tuple_(tuple), engine_(config, tuple, SeqNum32(iss)) {}

  TcpEngine& engine() { return engine_; }

  SegmentOutcome Send(Timestamp now, Seg seg) {
    seg.Ports(kRemotePort, kLocalPort);
    const wire::TcpRepr r = seg.repr();
    return engine_.OnSegment(now, r);
  }

  // The next segment the engine emits at `now` (running due timers first), parsed.
  std::optional<wire::TcpRepr> Poll(Timestamp now) {
    if (engine_.NextDeadline().DueBy(now)) engine_.OnTimeout(now);
    auto n = engine_.PollTransmit(now, buf_);
    if (!n) return std::nullopt;
    EXPECT_TRUE(wire::VerifyTcpChecksum(tuple_.local.ip, tuple_.remote.ip,
                                        std::span<const uint8_t>(buf_, *n)));
    auto parsed = wire::TcpRepr::Parse(std::span<const uint8_t>(buf_, *n));
    EXPECT_TRUE(parsed.ok()) << parsed.error();
    if (!parsed.ok()) return std::nullopt;
    last_payload_.assign(parsed->payload.begin(), parsed->payload.end());
    wire::TcpRepr r = *parsed;
    r.payload = last_payload_;
    return r;
  }

  // Expects exactly `want` (ports filled in) as the next segment.
  void Expect(Timestamp now, Seg want, const char* what = "") {
    want.Ports(kLocalPort, kRemotePort);
    auto got = Poll(now);
    ASSERT_TRUE(got.has_value()) << what << ": expected " << want.repr() << ", got nothing";
    EXPECT_EQ(*got, want.repr()) << what << "\n  got:  " << *got << "\n  want: " << want.repr();
  }

  void ExpectNothing(Timestamp now, const char* what = "") {
    auto got = Poll(now);
    EXPECT_FALSE(got.has_value()) << what << ": unexpected " << *got;
  }

  const std::vector<uint8_t>& last_payload() const { return last_payload_; }

  // Active open completed at t = 100 ms: SYN at 0, the peer's SYN-ACK (ISS 5000) at 100 ms, so
  // SRTT = 100 ms, RTTVAR = 50 ms, RTO = 300 ms. Our next sequence number is 1001, theirs 5001.
  // With `peer_ts` the SYN-ACK carries timestamps (TSval 5000), for a config that asks for them.
  void EstablishActive(uint16_t peer_window = 30000, bool peer_sack = true, bool peer_ts = false) {
    engine_.Connect(Ms(0));
    Poll(Ms(0));
    Seg synack = Seg().Flags(kSyn).SeqN(5000).AckN(engine_.iss().value() + 1).Win(peer_window)
                     .Mss(1460);
    if (peer_sack) synack.SackOk();
    if (peer_ts) synack.Ts(5000, 0);
    Send(Ms(100), synack);
    Poll(Ms(100));  // the third ACK
    Events();
  }

  // Queues the next `n` bytes of the conversation's stream (PatternBytes).
  size_t WritePattern(size_t n) {
    const size_t w = engine_.Write(PatternBytes(written_, n));
    written_ += w;
    return w;
  }
  // The conversation's stream, bytes [from, from + n): the project's one generator
  // (io::StreamPattern) under a fixed seed, so expected segments can be built from offsets.
  static std::vector<uint8_t> PatternBytes(size_t from, size_t n) {
    std::vector<uint8_t> v(n);
    io::StreamPattern(kPatternSeed).Fill(from, v);
    return v;
  }
  static constexpr uint64_t kPatternSeed = 3;

  std::vector<TcpEvent> Events() {
    std::vector<TcpEvent> v;
    while (auto e = engine_.PollEvent()) v.push_back(*e);
    return v;
  }

 private:
  FourTuple tuple_;
  TcpEngine engine_;
  uint8_t buf_[2048];
  std::vector<uint8_t> last_payload_;
  size_t written_ = 0;
};

}  // namespace mptcp::tcp::testing

#endif  // MPTCP_TESTING_ENGINE_TEST_UTIL_H_

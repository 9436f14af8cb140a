// The wire fuzzer's seed corpus, built with the encoder: every MPTCP option form, realistic
// TCP segments and option blocks, IP packets, and starting points for the structured modes.
// make_corpus writes these files; the corpus test checks the committed copies still match.
#ifndef MPTCP_FUZZ_SEED_INPUTS_H_
#define MPTCP_FUZZ_SEED_INPUTS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/wire_checks.h"
#include "mptcp/address.h"
#include "mptcp/random.h"
#include "mptcp/seq.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "mptcp/wire/tcp_options.h"

namespace mptcp::fuzz {

struct SeedInput {
  std::string name;           // the file name in the corpus directory
  std::vector<uint8_t> data;  // mode byte first
};

namespace seed_internal {

using Bytes = std::vector<uint8_t>;
namespace w = ::mptcp::wire;

inline Bytes WithMode(FuzzMode mode, std::span<const uint8_t> body) {
  // Sized up front: gcc 12's -Warray-bounds misfires on inserting into a 1-element vector.
  Bytes b(1 + body.size());
  b[0] = static_cast<uint8_t>(mode);
  std::copy(body.begin(), body.end(), b.begin() + 1);
  return b;
}

// The encoder must accept every seed; a seed it rejects is a bug in this file.
[[noreturn]] inline void SeedError(const std::string& what) {
  std::fprintf(stderr, "seed_inputs.h: cannot encode %s\n", what.c_str());
  std::abort();
}

inline Bytes Option(const w::MptcpOption& o, w::MptcpVersion v = w::MptcpVersion::kV1) {
  std::array<uint8_t, 64> buf;
  const auto n = w::EmitMptcpOption(o, buf, v);
  if (!n.ok()) SeedError(w::ToString(o) + ": " + n.error().ToString());
  return Bytes(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*n));
}

inline Bytes Payload(size_t n, uint8_t salt) {
  Bytes p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>('a' + (i * 7 + salt) % 26);
  return p;
}

inline w::TcpOptions SynOptions(uint32_t tsval) {
  w::TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = w::TcpTimestamps{tsval, 0};
  o.window_scale = 7;
  return o;
}

inline w::TcpOptions TsOptions(uint32_t tsval, uint32_t tsecr) {
  w::TcpOptions o;
  o.timestamps = w::TcpTimestamps{tsval, tsecr};
  return o;
}

inline w::TcpOptions& With(w::TcpOptions& o, const w::MptcpOption& m,
                           w::MptcpVersion v = w::MptcpVersion::kV1) {
  if (!o.AddMptcpOption(Option(m, v))) SeedError("options: " + w::ToString(m));
  return o;
}

inline w::TcpRepr Segment(uint8_t flags, uint32_t seq, uint32_t ack, w::TcpOptions options,
                          std::span<const uint8_t> payload = {}) {
  w::TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 443;
  t.seq = SeqNum32(seq);
  t.ack = SeqNum32(ack);
  t.flags = flags;
  t.window = 502;
  t.options = options;
  t.payload = payload;
  return t;
}

inline Bytes EmitSegment(const w::TcpRepr& t, const IpAddress& src, const IpAddress& dst) {
  Bytes out(t.EncodedLength());
  const auto n = t.Emit(std::span<uint8_t>(out), src, dst);
  if (!n.ok()) SeedError(t.ToString() + ": " + n.error().ToString());
  return out;
}

inline Bytes EmitPacket(const w::TcpRepr& t, const IpAddress& src, const IpAddress& dst) {
  const Bytes seg = EmitSegment(t, src, dst);
  w::IpRepr ip;
  ip.src = src;
  ip.dst = dst;
  ip.ident = 0x1c46;
  ip.payload_len = static_cast<uint16_t>(seg.size());
  ip.flow_label = src.is_v6() ? 0x5a5a5 : 0;
  Bytes out(ip.HeaderLength());
  const auto n = ip.Emit(std::span<uint8_t>(out));
  if (!n.ok()) SeedError("IP header: " + n.error().ToString());
  out.insert(out.end(), seg.begin(), seg.end());
  return out;
}

inline IpAddress V6(uint8_t last) {
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  return IpAddress::V6FromBytes(b.data());
}

inline w::Dss DssAckMap(uint64_t data_ack, uint64_t dsn, uint32_t sseq, uint16_t len,
                        std::optional<uint16_t> csum, bool wide) {
  w::Dss d;
  d.data_ack = w::DataAck{data_ack, wide};
  d.mapping = w::DssMapping{dsn, wide, sseq, len, csum};
  return d;
}

// Every subtype form of RFC 8684 §3 and RFC 6824 §3 (ADD_ADDR and MP_PRIO in both layouts).
inline std::vector<std::pair<std::string, w::MptcpOption>> OptionForms() {
  constexpr uint64_t kKeyA = 0x0123456789abcdefULL, kKeyB = 0xfedcba9876543210ULL;
  std::vector<std::pair<std::string, w::MptcpOption>> f;
  w::MpCapable cap;
  cap.flags = w::MpCapable::kFlagA | w::MpCapable::kFlagH;
  f.emplace_back("mp_capable_v1_syn", cap);
  cap.sender_key = kKeyA;
  f.emplace_back("mp_capable_v1_synack", cap);
  cap.receiver_key = kKeyB;
  f.emplace_back("mp_capable_v1_ack", cap);
  cap.data_len = 1400;
  f.emplace_back("mp_capable_v1_ack_data", cap);
  cap.checksum = 0xbeef;
  f.emplace_back("mp_capable_v1_ack_data_csum", cap);
  w::MpCapable cap0;
  cap0.version = 0;
  cap0.flags = w::MpCapable::kFlagA | w::MpCapable::kFlagH;
  cap0.sender_key = kKeyA;
  f.emplace_back("mp_capable_v0_syn", cap0);
  cap0.receiver_key = kKeyB;
  f.emplace_back("mp_capable_v0_ack", cap0);

  f.emplace_back("mp_join_syn", w::MpJoinSyn{true, 2, 0xdeadbeef, 0x12345678, 0});
  f.emplace_back("mp_join_synack", w::MpJoinSynAck{false, 3, 0x1122334455667788ULL, 0x9abcdef0, 0});
  w::MpJoinAck jack;
  for (size_t i = 0; i < jack.hmac.size(); ++i) jack.hmac[i] = static_cast<uint8_t>(0xa0 + i);
  f.emplace_back("mp_join_ack", jack);

  w::Dss d;
  d.data_ack = w::DataAck{0x01020304, false};
  f.emplace_back("dss_ack32", d);
  d.data_ack = w::DataAck{0x0102030405060708ULL, true};
  f.emplace_back("dss_ack64", d);
  d = w::Dss{};
  d.mapping = w::DssMapping{0x10000, false, 1, 1400, std::nullopt};
  f.emplace_back("dss_map32", d);
  d.mapping = w::DssMapping{0x1000000000ULL, true, 1, 1400, 0x1d2e};
  f.emplace_back("dss_map64_csum", d);
  f.emplace_back("dss_ack64_map64_csum",
                 DssAckMap(0xaaaabbbbccccULL, 0x111122223333ULL, 1449, 1448, 0x4242, true));
  f.emplace_back("dss_ack32_map32",
                 DssAckMap(0xaabbccdd, 0x11223344, 2897, 1448, std::nullopt, false));
  d = DssAckMap(5000, 4999, 1449, 1, 0x7777, false);
  d.data_fin = true;
  f.emplace_back("dss_data_fin", d);
  f.emplace_back("dss_infinite_mapping", DssAckMap(9000, 8000, 3000, 0, std::nullopt, false));

  auto add = [](bool echo, IpAddress a, std::optional<uint16_t> port) {
    w::AddAddr x;
    x.echo = echo;
    x.address_id = 5;
    x.address = a;
    x.port = port;
    if (!echo) x.hmac = 0x8877665544332211ULL;
    return x;
  };
  const IpAddress v4 = IpAddress::V4(198, 51, 100, 7);
  f.emplace_back("add_addr_v1_ipv4_hmac", add(false, v4, std::nullopt));
  f.emplace_back("add_addr_v1_ipv4_port_hmac", add(false, v4, 8080));
  f.emplace_back("add_addr_v1_ipv4_echo", add(true, v4, std::nullopt));
  f.emplace_back("add_addr_v1_ipv4_port_echo", add(true, v4, 8080));
  f.emplace_back("add_addr_v1_ipv6_hmac", add(false, V6(7), std::nullopt));
  f.emplace_back("add_addr_v1_ipv6_port_hmac", add(false, V6(7), 443));
  f.emplace_back("add_addr_v1_ipv6_echo", add(true, V6(7), std::nullopt));
  f.emplace_back("add_addr_v1_ipv6_port_echo", add(true, V6(7), 443));

  f.emplace_back("remove_addr_1", w::RemoveAddr::Of({4}));
  f.emplace_back("remove_addr_3", w::RemoveAddr::Of({1, 2, 3}));
  f.emplace_back("mp_prio_backup", w::MpPrio{true, std::nullopt, 0});
  f.emplace_back("mp_fail", w::MpFail{0x0000123400005678ULL, 0});
  f.emplace_back("mp_fastclose", w::MpFastclose{kKeyB, 0});
  f.emplace_back("mp_tcprst", w::MpTcpRst{w::MpTcpRst::kFlagT, 0x06});
  return f;
}

// The v0-only layouts (RFC 6824 §3.4.1 ADD_ADDR with IPVer, §3.3.8 MP_PRIO with an ID).
inline std::vector<std::pair<std::string, w::MptcpOption>> OptionFormsV0() {
  std::vector<std::pair<std::string, w::MptcpOption>> f;
  auto add = [](IpAddress a, std::optional<uint16_t> port) {
    w::AddAddr x;
    x.address_id = 6;
    x.address = a;
    x.port = port;
    return x;
  };
  f.emplace_back("add_addr_v0_ipv4", add(IpAddress::V4(203, 0, 113, 9), std::nullopt));
  f.emplace_back("add_addr_v0_ipv4_port", add(IpAddress::V4(203, 0, 113, 9), 8443));
  f.emplace_back("add_addr_v0_ipv6", add(V6(9), std::nullopt));
  f.emplace_back("add_addr_v0_ipv6_port", add(V6(9), 8443));
  f.emplace_back("mp_prio_v0_address_id", w::MpPrio{false, 3, 0});
  return f;
}

// A v1 connection's life as segments: handshake, data, SACK, join, address signals, close.
inline std::vector<std::pair<std::string, w::TcpRepr>> Segments(const Bytes& payload,
                                                                const Bytes& fin_payload) {
  namespace F = w::TcpFlag;
  std::vector<std::pair<std::string, w::TcpRepr>> s;
  w::MpCapable cap;
  cap.flags = w::MpCapable::kFlagA | w::MpCapable::kFlagH;
  w::TcpOptions o = SynOptions(100);
  s.emplace_back("syn_mp_capable", Segment(F::kSyn, 1000, 0, With(o, cap)));
  cap.sender_key = 0xb0b0b0b0b0b0b0b0ULL;
  o = SynOptions(200);
  o.timestamps->tsecr = 100;
  s.emplace_back("synack_mp_capable", Segment(F::kSyn | F::kAck, 5000, 1001, With(o, cap)));
  cap.receiver_key = 0xa0a0a0a0a0a0a0a0ULL;
  o = TsOptions(101, 200);
  s.emplace_back("ack_mp_capable", Segment(F::kAck, 1001, 5001, With(o, cap)));
  cap.data_len = static_cast<uint16_t>(payload.size());
  cap.checksum = w::DssChecksum(1, 1, cap.data_len.value(), payload);
  o = w::TcpOptions();
  s.emplace_back("data_mp_capable_csum",
                 Segment(F::kAck | F::kPsh, 1001, 5001, With(o, cap), payload));
  o = TsOptions(102, 201);
  s.emplace_back("data_dss_csum",
                 Segment(F::kAck | F::kPsh, 1001 + static_cast<uint32_t>(payload.size()), 5001,
                         With(o, DssAckMap(0x9000000000ULL, 0x8000000041ULL, 65, 64,
                                           w::DssChecksum(0x8000000041ULL, 65, 64, payload), true)),
                         payload));
  o = TsOptions(103, 202);
  s.emplace_back("data_dss_no_csum",
                 Segment(F::kAck, 2000, 5001,
                         With(o, DssAckMap(7000, 3000, 999, 64, std::nullopt, false)), payload));
  o = TsOptions(104, 203);
  o.AddSackBlock({SeqNum32(3000), SeqNum32(4000)});
  o.AddSackBlock({SeqNum32(5000), SeqNum32(6000)});
  w::Dss ack;
  ack.data_ack = w::DataAck{7064, false};
  s.emplace_back("ack_sack_dss", Segment(F::kAck, 5001, 2000, With(o, ack)));
  w::Dss fin = DssAckMap(7064, 3064, 1063, static_cast<uint16_t>(fin_payload.size() + 1),
                         std::nullopt, false);
  fin.data_fin = true;
  o = TsOptions(105, 204);
  s.emplace_back("fin_dss_data_fin",
                 Segment(F::kFin | F::kAck, 2064, 5001, With(o, fin), fin_payload));

  o = SynOptions(300);
  s.emplace_back("syn_mp_join",
                 Segment(F::kSyn, 9000, 0, With(o, w::MpJoinSyn{false, 1, 0x5eed5eed, 7, 0})));
  o = SynOptions(400);
  o.timestamps->tsecr = 300;
  s.emplace_back("synack_mp_join",
                 Segment(F::kSyn | F::kAck, 7000, 9001,
                         With(o, w::MpJoinSynAck{false, 0, 0x0102030405060708ULL, 9, 0})));
  w::MpJoinAck jack;
  jack.hmac.fill(0x3c);
  o = TsOptions(301, 400);
  s.emplace_back("ack_mp_join", Segment(F::kAck, 9001, 7001, With(o, jack)));

  w::AddAddr add;
  add.address_id = 2;
  add.address = IpAddress::V4(198, 51, 100, 2);
  add.hmac = 0x1234567890abcdefULL;
  o = TsOptions(106, 205);
  s.emplace_back("ack_add_addr_dss", Segment(F::kAck, 5001, 2065, With(With(o, add), ack)));
  o = TsOptions(107, 206);
  s.emplace_back("ack_remove_addr_mp_prio",
                 Segment(F::kAck, 5001, 2065,
                         With(With(o, w::RemoveAddr::Of({2})), w::MpPrio{true, std::nullopt, 0})));
  o = TsOptions(108, 207);
  s.emplace_back("ack_mp_fail", Segment(F::kAck, 2065, 5001, With(o, w::MpFail{3064, 0})));
  o = w::TcpOptions();
  s.emplace_back(
      "rst_mp_tcprst_fastclose",
      Segment(F::kRst | F::kAck, 2065, 5001,
              With(With(o, w::MpTcpRst{0, 0x02}), w::MpFastclose{0xa0a0a0a0a0a0a0a0ULL, 0})));
  s.emplace_back("syn_plain_tcp", Segment(F::kSyn, 42, 0, SynOptions(1)));
  return s;
}

inline Bytes RandomBytes(Random& rng, size_t n) {
  Bytes b(n);
  for (uint8_t& c : b) c = static_cast<uint8_t>(rng.Next());
  return b;
}

}  // namespace seed_internal

inline std::vector<SeedInput> SeedInputs() {
  using namespace seed_internal;  // NOLINT: this file's helpers only
  std::vector<SeedInput> out;
  auto add = [&out](std::string name, FuzzMode mode, std::span<const uint8_t> body) {
    out.push_back(SeedInput{std::move(name), WithMode(mode, body)});
  };

  for (const auto& [name, o] : OptionForms()) add("opt-" + name, FuzzMode::kMptcpOption, Option(o));
  for (const auto& [name, o] : OptionFormsV0()) {
    add("opt-" + name, FuzzMode::kMptcpOption, Option(o, w::MptcpVersion::kV0));
  }

  const Bytes payload = Payload(64, 0);
  const Bytes fin_payload = Payload(16, 5);
  const IpAddress a4 = IpAddress::V4(192, 0, 2, 1), b4 = IpAddress::V4(192, 0, 2, 2);
  const auto segments = Segments(payload, fin_payload);
  for (const auto& [name, t] : segments) {
    add("tcp-" + name, FuzzMode::kTcpSegment, EmitSegment(t, a4, b4));
  }

  // Option blocks: two real ones, and one with NOPs, an unknown kind and EOL before junk.
  for (const auto& [name, t] : segments) {
    if (name != "syn_mp_capable" && name != "ack_add_addr_dss") continue;
    const Bytes seg = EmitSegment(t, a4, b4);
    add("blk-" + name, FuzzMode::kTcpOptionBlock,
        std::span<const uint8_t>(seg).subspan(20, t.HeaderLength() - 20));
  }
  const Bytes odd_block = {1,    1,  254, 4,    0xf9, 0x89, 2,    4,    5,
                           0xb4, 30, 4,   0x00, 0x81, 0,    0xff, 0xff, 0xff};
  add("blk-nop_unknown_eol", FuzzMode::kTcpOptionBlock, odd_block);

  // IP packets carrying some of the segments, both families.
  for (const auto& [name, t] : segments) {
    if (name == "syn_mp_capable" || name == "data_dss_csum" || name == "ack_add_addr_dss") {
      add("ip4-" + name, FuzzMode::kIpPacket, EmitPacket(t, a4, b4));
    }
    if (name == "synack_mp_capable" || name == "data_dss_csum" ||
        name == "rst_mp_tcprst_fastclose") {
      add("ip6-" + name, FuzzMode::kIpPacket, EmitPacket(t, V6(1), V6(2)));
    }
  }
  // IPv4 with a 4-byte option (NOP NOP NOP EOL), IHL 6.
  {
    Bytes pkt = EmitPacket(segments.front().second, a4, b4);
    pkt.insert(pkt.begin() + 20, {1, 1, 1, 0});
    pkt[0] = 0x46;
    w::StoreBe16(pkt.data() + 2, static_cast<uint16_t>(pkt.size()));
    w::StoreBe16(pkt.data() + 10, 0);
    w::StoreBe16(pkt.data() + 10,
                 w::InternetChecksum::Compute(std::span<const uint8_t>(pkt).first(24)));
    add("ip4-options-syn_mp_capable", FuzzMode::kIpPacket, pkt);
  }

  // Starting points for the structured modes: fixed pseudo-random field values.
  Random rng(0x5eed);
  for (uint8_t form = 0; form < 11; ++form) {
    Bytes body = RandomBytes(rng, 48);
    body[0] = form;
    body[1] = 0;  // in-range field values
    add("repr-form" + std::to_string(form), FuzzMode::kMptcpRepr, body);
    body[1] = 0x0f;  // `wild`: unmasked values, for the encoder's kInvalidField paths
    add("repr-form" + std::to_string(form) + "-wild", FuzzMode::kMptcpRepr, body);
  }
  for (int i = 0; i < 3; ++i) {
    Bytes body = RandomBytes(rng, 80 + 40 * i);
    body[0] = static_cast<uint8_t>(i == 1 ? 0x01 : 0x04);  // IPv4, IPv6
    add("tcpip-" + std::to_string(i), FuzzMode::kTcpIpRepr, body);
  }
  add("csum-short", FuzzMode::kChecksum, RandomBytes(rng, 40));
  add("csum-mss", FuzzMode::kChecksum, RandomBytes(rng, 24 + 1448));
  return out;
}

}  // namespace mptcp::fuzz

#endif  // MPTCP_FUZZ_SEED_INPUTS_H_

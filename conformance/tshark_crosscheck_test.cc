// Independent cross-check of the MPTCP option encoder against Wireshark's dissector.
//
// Builds one IPv4 or IPv6 TCP segment (correct IP and TCP checksums) per option variant that
// mptcp/wire/mptcp_options.h can emit, writes them to a pcap with io/pcap_writer.h, runs
// tshark over it, and compares every MPTCP field tshark reports with the value we encoded.
// Fields tshark reports that a variant does not encode fail the test too, as do malformed
// packets, expert errors, unexpected expert warnings and bad checksums.
//
// Wireshark is a second implementation of RFC 8684 / RFC 6824 written by other people, so
// agreement here is evidence the byte layouts are right, not just self-consistent.
//
// Every frame is its own TCP connection (distinct ports) and TCP/MPTCP sequence analysis is
// off, so each frame is dissected standalone. Needs `tshark` (scripts/install-deps.sh
// installs it); without it the test is skipped.
//
// MPTCP v0 (RFC 6824): Wireshark has no version preference; it reads the version from the
// bytes (MP_CAPABLE's version nibble, ADD_ADDR's IPVer nibble 4/6 vs v1's E bit, MP_PRIO's
// length 4), so v0 frames need no special options and are checked like the v1 ones.
//
// Where tshark 4.0 and RFC 8684 differ, the expectation follows the RFC and the difference is
// spelled out beside it (Expectation::optional / ::warnings), never hidden:
//   - the DSS checksum is never shown (Wireshark's length test is off by 2);
//   - a v1 MP_CAPABLE with flag C draws an "Unsupported algorithm" warning (Wireshark masks
//     C..H, 0x3f, as the crypto bits; in v1 C is "no more subflows");
//   - MP_JOIN / MP_PRIO / MP_TCPRST "flags" is the whole subtype octet (display choice).

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "io/pcap_writer.h"
#include "mptcp/address.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/time.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/prerequisites.h"

namespace mptcp::conformance {
namespace {

using wire::AddAddr;
using wire::DataAck;
using wire::Dss;
using wire::DssMapping;
using wire::MpCapable;
using wire::MpFail;
using wire::MpFastclose;
using wire::MpJoinAck;
using wire::MpJoinSyn;
using wire::MpJoinSynAck;
using wire::MpPrio;
using wire::MptcpOption;
using wire::MptcpVersion;
using wire::MpTcpRst;
using wire::RemoveAddr;
namespace TcpFlag = wire::TcpFlag;

// ---------------------------------------------------------------------------------------------
// Distinctive values (some above 2^63, no two fields alike), so that a shifted, truncated,
// sign-extended or swapped field shows.
// ---------------------------------------------------------------------------------------------
constexpr uint64_t kKeyA = 0x1a2b3c4d5e6f7081;  // the initiator's key
constexpr uint64_t kKeyB = 0xf1e2d3c4b5a69788;  // the listener's key (> 2^63)
constexpr uint32_t kNonceA = 0x8badf00d;
constexpr uint32_t kNonceB = 0x0ddba11c;
// Keys for the MP_CAPABLE frames, one per frame (see AllFrames()), alternating high bit.
constexpr uint64_t CapableKey(int n) {
  return (n % 2 ? kKeyB : kKeyA) + static_cast<uint64_t>(n) * 0x0102030405060709u;
}

// How tshark prints a value in `-T fields` output.
std::string Dec(uint64_t v) { return absl::StrCat(v); }
std::string Hex8(uint8_t v) { return absl::StrFormat("0x%02x", v); }
std::string Hex16(uint16_t v) { return absl::StrFormat("0x%04x", v); }
// Single-bit fields. tshark 4.0 prints FT_BOOLEAN fields (MP_TCPRST's U V W T) as 1/0, newer
// releases as True/False, so what tshark prints goes through Normalize() first.
std::string Bit(bool b) { return b ? "1" : "0"; }
std::string Normalize(const std::string& v) {
  if (v == "True") return "1";
  if (v == "False") return "0";
  return v;
}
std::string HexBytes(std::span<const uint8_t> b) {
  std::string s;
  for (uint8_t x : b) absl::StrAppendFormat(&s, "%02x", x);
  return s;
}

using FieldMap = std::map<std::string, std::string>;

constexpr char kMptcp[] = "tcp.options.mptcp.";
std::string F(const char* name) { return absl::StrCat(kMptcp, name); }

// What one option puts in tshark's tree, field by field.
struct Expectation {
  FieldMap fields;
  // Fields tshark reports whose value this test cannot predict (the reason is given where one
  // is added); their presence is still allowed.
  std::set<std::string> unchecked;
  // Fields this tshark may omit, but that must have this value when it shows them.
  FieldMap optional;
  // Substrings of expert-info messages (warning level) that this variant legitimately gets.
  std::vector<std::string> warnings;
};

// The MPTCP subtype byte as it is on the wire (tshark shows it as "flags" for several
// subtypes, because it hangs their flag bitmask on that byte).
uint8_t SubtypeByte(wire::MptcpSubtype s, uint8_t low_nibble) {
  return static_cast<uint8_t>(static_cast<uint8_t>(s) << 4 | low_nibble);
}

// RFC 8684 §3.1 / RFC 6824 §3.1.
Expectation Expect(const MpCapable& m, MptcpVersion) {
  Expectation e;
  FieldMap& f = e.fields;
  f[F("subtype")] = "0";
  f[F("version")] = Dec(m.version);
  f[F("flags")] = Hex8(m.flags);
  f[F("checksumreq.flags")] = Bit(m.flags & MpCapable::kFlagA);
  f[F("extensibility.flag")] = Bit(m.flags & MpCapable::kFlagB);
  // Wireshark picks the flag layout from the version nibble: only 1 has C and SHA-256.
  if (m.version == 1) {
    f[F("nomoresubflows.flag")] = Bit(m.flags & MpCapable::kFlagC);
    f[F("sha256.flag")] = Bit(m.flags & MpCapable::kFlagH);
    f[F("reserved.flag")] = Hex8((m.flags & 0x1e) >> 1);
  } else {
    f[F("sha1.flag")] = Bit(m.flags & MpCapable::kFlagH);
    f[F("reserved.flag")] = Hex8((m.flags & 0x3e) >> 1);
  }
  if (m.sender_key) {
    f[F("sendkey")] = Dec(*m.sender_key);
    if (m.version == 1) {
      // tshark derives token and IDSN with SHA-256 itself: this cross-checks crypto/keys.h.
      f["mptcp.expected_token"] = Dec(crypto::KeyToken(*m.sender_key));
      f["mptcp.expected_idsn"] = Dec(crypto::KeyIdsn(*m.sender_key));
    } else {
      // v0 derives them with SHA-1 (RFC 6824 §3.1), which this code base does not implement.
      e.unchecked = {"mptcp.expected_token", "mptcp.expected_idsn"};
    }
  }
  if (m.receiver_key) f[F("recvkey")] = Dec(*m.receiver_key);
  if (m.data_len) f[F("datalvllen")] = Dec(*m.data_len);
  if (m.checksum) f[F("checksum")] = Hex16(*m.checksum);
  // Wireshark 4.0 masks the flags with 0x3f (MPTCP_CAPABLE_CRYPTO_MASK) and calls anything
  // but exactly H "unsupported", so a legal v1 C flag (RFC 8684 §3.1) draws this warning.
  if ((m.flags & 0x3f) != MpCapable::kFlagH) e.warnings.push_back("nsupported algorithm");
  return e;
}

// RFC 8684 §3.2.
Expectation Expect(const MpJoinSyn& j, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "1"},
      {F("flags"), Hex8(SubtypeByte(wire::MptcpSubtype::kMpJoin,
                                    static_cast<uint8_t>(j.reserved << 1 | j.backup)))},
      {F("backup.flag"), Bit(j.backup)},
      {F("addrid"), Dec(j.address_id)},
      {F("recvtok"), Dec(j.receiver_token)},
      {F("sendrand"), Dec(j.sender_nonce)},
  };
  return e;
}
Expectation Expect(const MpJoinSynAck& j, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "1"},
      {F("flags"), Hex8(SubtypeByte(wire::MptcpSubtype::kMpJoin,
                                    static_cast<uint8_t>(j.reserved << 1 | j.backup)))},
      {F("backup.flag"), Bit(j.backup)},
      {F("addrid"), Dec(j.address_id)},
      {F("sendtrunchmac"), Dec(j.truncated_hmac)},
      {F("sendrand"), Dec(j.sender_nonce)},
  };
  return e;
}
Expectation Expect(const MpJoinAck& j, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "1"},
      {F("reserved"), Hex16(j.reserved)},
      {F("sendhmac"), HexBytes(j.hmac)},
  };
  return e;
}

// RFC 8684 §3.3.
Expectation Expect(const Dss& d, MptcpVersion) {
  Expectation e;
  FieldMap& f = e.fields;
  const uint8_t flags = d.flags();
  f[F("subtype")] = "2";
  f[F("flags")] = Hex8(flags);
  f[F("datafin.flag")] = Bit(flags & Dss::kFlagF);
  f[F("dseqn8.flag")] = Bit(flags & Dss::kFlagm);
  f[F("dseqnpresent.flag")] = Bit(flags & Dss::kFlagM);
  f[F("dataack8.flag")] = Bit(flags & Dss::kFlaga);
  f[F("dataackpresent.flag")] = Bit(flags & Dss::kFlagA);
  if (d.data_ack) f[F("rawdataack")] = Dec(d.data_ack->value);
  if (d.mapping) {
    f[F("rawdataseqno")] = Dec(d.mapping->dsn);
    f[F("subflowseqno")] = Dec(d.mapping->subflow_seq);
    f[F("datalvllen")] = Dec(d.mapping->data_len);
    // Wireshark (4.0 and earlier) shows the DSS checksum only when the option is 2 bytes
    // longer than the checksum's end (it tests optlen >= consumed + 4, not + 2), so it never
    // shows it; RFC 8684 §3.3 puts it in the last 2 bytes, as we do (tcp.option_len and the
    // preceding fields, which tshark does check, pin that down).
    if (d.mapping->checksum) e.optional[F("checksum")] = Hex16(*d.mapping->checksum);
  }
  return e;
}

// RFC 8684 §3.4.1 (v1) / RFC 6824 §3.4.1 (v0).
Expectation Expect(const AddAddr& a, MptcpVersion version) {
  Expectation e;
  FieldMap& f = e.fields;
  f[F("subtype")] = "3";
  if (version == MptcpVersion::kV0) {
    f[F("ipver")] = a.address.is_v6() ? "6" : "4";
  } else {
    f[F("echo")] = Bit(a.echo);
  }
  f[F("addrid")] = Dec(a.address_id);
  f[F(a.address.is_v6() ? "ipv6" : "ipv4")] = a.address.ToString();
  if (a.port) f[F("port")] = Dec(*a.port);
  if (a.hmac) f[F("addaddrtrunchmac")] = Dec(*a.hmac);
  return e;
}

// RFC 8684 §3.4.2.
Expectation Expect(const RemoveAddr& r, MptcpVersion) {
  Expectation e;
  std::vector<std::string> ids;
  for (uint8_t id : r.address_ids()) ids.push_back(Dec(id));
  e.fields = {
      {F("subtype"), "4"},
      {"mptcp.rm_addr.count", Dec(r.address_ids().size())},
      {F("addrid"), absl::StrJoin(ids, "|")},
  };
  return e;
}

// RFC 8684 §3.3.8 (v1) / RFC 6824 §3.3.8 (v0, optional address ID).
Expectation Expect(const MpPrio& m, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "5"},
      {F("flags"), Hex8(SubtypeByte(wire::MptcpSubtype::kMpPrio,
                                    static_cast<uint8_t>(m.reserved << 1 | m.backup)))},
      {F("backup.flag"), Bit(m.backup)},
  };
  if (m.address_id) e.fields[F("addrid")] = Dec(*m.address_id);
  return e;
}

// RFC 8684 §3.7.
Expectation Expect(const MpFail& m, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "6"},
      {F("reserved"), Hex16(m.reserved)},
      {F("rawdataseqno"), Dec(m.dsn)},
  };
  return e;
}

// RFC 8684 §3.5.
Expectation Expect(const MpFastclose& m, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "7"},
      {F("reserved"), Hex16(m.reserved)},
      {F("recvkey"), Dec(m.receiver_key)},
  };
  return e;
}

// RFC 8684 §3.6.
Expectation Expect(const MpTcpRst& r, MptcpVersion) {
  Expectation e;
  e.fields = {
      {F("subtype"), "8"},
      {F("flags"), Hex8(SubtypeByte(wire::MptcpSubtype::kMpTcpRst, r.flags))},
      {F("flag_U.flag"), Bit(r.flags & MpTcpRst::kFlagU)},
      {F("flag_V.flag"), Bit(r.flags & MpTcpRst::kFlagV)},
      {F("flag_W.flag"), Bit(r.flags & MpTcpRst::kFlagW)},
      {F("flag_T.flag"), Bit(r.flags & MpTcpRst::kFlagT)},
      {F("rst_reason"), Hex8(r.reason)},
  };
  return e;
}

// ---------------------------------------------------------------------------------------------
// The frames.
// ---------------------------------------------------------------------------------------------

struct Frame {
  std::string name;
  MptcpOption option;
  MptcpVersion version = MptcpVersion::kV1;
  uint8_t tcp_flags = TcpFlag::kAck;
  bool ipv6 = false;
  std::vector<uint8_t> payload;
  std::vector<uint8_t> packet;  // filled by Build()
  Expectation expect;
};

std::vector<uint8_t> Payload(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed ^ (i * 131 + (i >> 8)));
  return v;
}

const IpAddress kV4Src = IpAddress::V4(192, 0, 2, 10);
const IpAddress kV4Dst = IpAddress::V4(198, 51, 100, 20);
const IpAddress kV6Src = *IpAddress::Parse("2001:db8:1:2::a");
const IpAddress kV6Dst = *IpAddress::Parse("2001:db8:fedc:ba98::14");

// Emits the option, wraps it in TCP and IP with correct checksums.
::testing::AssertionResult Build(Frame& fr, size_t index) {
  std::array<uint8_t, 64> opt{};
  const wire::WireResult<size_t> n = wire::EmitMptcpOption(fr.option, opt, fr.version);
  if (!n.ok()) return ::testing::AssertionFailure() << "emit: " << n.error();
  if (*n != wire::EncodedLength(fr.option, fr.version)) {
    return ::testing::AssertionFailure() << "EncodedLength disagrees with Emit";
  }
  wire::TcpRepr tcp;
  tcp.src_port = static_cast<uint16_t>(50000 + index);  // one TCP connection per frame
  tcp.dst_port = 61000;
  tcp.seq = SeqNum32(0x70000000u + static_cast<uint32_t>(index) * 0x01010101u);
  tcp.ack = (fr.tcp_flags & TcpFlag::kAck) ? SeqNum32(0x3c000000u + static_cast<uint32_t>(index))
                                           : SeqNum32(0);
  tcp.flags = fr.tcp_flags;
  tcp.window = 0xfa00;
  if (!tcp.options.AddMptcpOption(std::span<const uint8_t>(opt.data(), *n))) {
    return ::testing::AssertionFailure() << "option does not fit";
  }
  tcp.payload = fr.payload;

  wire::IpRepr ip;
  ip.src = fr.ipv6 ? kV6Src : kV4Src;
  ip.dst = fr.ipv6 ? kV6Dst : kV4Dst;
  ip.ident = static_cast<uint16_t>(0x1000 + index);
  ip.payload_len = static_cast<uint16_t>(tcp.EncodedLength());
  fr.packet.assign(ip.PacketLength(), 0);
  const auto ih = ip.Emit(fr.packet);
  if (!ih.ok()) return ::testing::AssertionFailure() << "ip emit: " << ih.error();
  const auto th = tcp.Emit(std::span<uint8_t>(fr.packet).subspan(*ih), ip.src, ip.dst);
  if (!th.ok()) return ::testing::AssertionFailure() << "tcp emit: " << th.error();

  fr.expect = std::visit([&](const auto& o) { return Expect(o, fr.version); }, fr.option);
  // The TCP option list: our option, then NOP padding to a 4-byte boundary.
  std::vector<std::string> kinds = {"30"};
  for (size_t i = *n; i % 4 != 0; ++i) kinds.push_back("1");
  fr.expect.fields["tcp.option_kind"] = absl::StrJoin(kinds, "|");
  fr.expect.fields["tcp.option_len"] = Dec(*n);
  fr.expect.fields["tcp.flags"] = absl::StrFormat("0x%04x", fr.tcp_flags);
  if (fr.tcp_flags & TcpFlag::kRst) fr.expect.warnings.push_back("Connection reset (RST)");
  return ::testing::AssertionSuccess();
}

std::vector<Frame> AllFrames() {
  std::vector<Frame> out;
  auto add = [&](std::string name, MptcpOption o, uint8_t flags, bool ipv6 = false,
                 MptcpVersion v = MptcpVersion::kV1, std::vector<uint8_t> payload = {}) {
    Frame f;
    f.name = std::move(name);
    f.option = o;
    f.version = v;
    f.tcp_flags = flags;
    f.ipv6 = ipv6;
    f.payload = std::move(payload);
    out.push_back(std::move(f));
  };
  constexpr uint8_t kSyn = TcpFlag::kSyn;
  constexpr uint8_t kSynAck = TcpFlag::kSyn | TcpFlag::kAck;
  constexpr uint8_t kAck = TcpFlag::kAck;
  constexpr uint8_t kPshAck = TcpFlag::kPsh | TcpFlag::kAck;

  // --- MP_CAPABLE v1, RFC 8684 §3.1: SYN 4, SYN/ACK 12, ACK 20, ACK + data 22 / 24. Each
  // frame has keys of its own: Wireshark ties TCP connections with the same key (token) into
  // one MPTCP connection even with analysis off, and would then compare keys across frames. ---
  {
    MpCapable syn{.version = 1, .flags = MpCapable::kFlagA | MpCapable::kFlagH};
    add("MP_CAPABLE v1 SYN (len 4, A+H)", syn, kSyn);
    MpCapable syn_v2{.version = 2, .flags = MpCapable::kFlagH};
    add("MP_CAPABLE v2 offer SYN (len 4)", syn_v2, kSyn, true);
    MpCapable synack{.version = 1, .flags = MpCapable::kFlagC | MpCapable::kFlagH,
                     .sender_key = CapableKey(1)};
    add("MP_CAPABLE v1 SYN/ACK (len 12, C+H)", synack, kSynAck);
    MpCapable ack{.version = 1, .flags = MpCapable::kFlagH, .sender_key = CapableKey(2),
                  .receiver_key = CapableKey(3)};
    add("MP_CAPABLE v1 ACK (len 20)", ack, kAck, true);
    MpCapable data{.version = 1, .flags = MpCapable::kFlagH, .sender_key = CapableKey(4),
                   .receiver_key = CapableKey(5), .data_len = 679};
    add("MP_CAPABLE v1 ACK+data (len 22)", data, kPshAck, false, MptcpVersion::kV1,
        Payload(679, 0x5a));
    // RFC 8684 §3.1: the checksum covers the implicit mapping DSN = IDSN + 1, subflow seq 1.
    const std::vector<uint8_t> p = Payload(1021, 0xa5);
    MpCapable csum{.version = 1, .flags = MpCapable::kFlagA | MpCapable::kFlagH,
                   .sender_key = CapableKey(6), .receiver_key = CapableKey(7),
                   .data_len = 1021};
    csum.checksum = wire::DssChecksum(crypto::KeyIdsn(*csum.sender_key) + 1, 1, 1021, p);
    add("MP_CAPABLE v1 ACK+data+checksum (len 24)", csum, kPshAck, true, MptcpVersion::kV1, p);
  }
  // --- MP_CAPABLE v0, RFC 6824 §3.1: SYN and SYN/ACK 12, ACK 20. ---
  {
    MpCapable syn{.version = 0, .flags = MpCapable::kFlagA | MpCapable::kFlagH,
                  .sender_key = CapableKey(8)};
    add("MP_CAPABLE v0 SYN (len 12)", syn, kSyn, false, MptcpVersion::kV0);
    MpCapable synack{.version = 0, .flags = MpCapable::kFlagA | MpCapable::kFlagH,
                     .sender_key = CapableKey(9)};
    add("MP_CAPABLE v0 SYN/ACK (len 12)", synack, kSynAck, true, MptcpVersion::kV0);
    MpCapable ack{.version = 0, .flags = MpCapable::kFlagA | MpCapable::kFlagH,
                  .sender_key = CapableKey(10), .receiver_key = CapableKey(11)};
    add("MP_CAPABLE v0 ACK (len 20)", ack, kAck, false, MptcpVersion::kV0);
  }
  // --- MP_JOIN, RFC 8684 §3.2, with the real token and HMACs for keys A/B. ---
  {
    MpJoinSyn syn{.backup = true, .address_id = 0x2a, .receiver_token = crypto::KeyToken(kKeyB),
                  .sender_nonce = kNonceA};
    add("MP_JOIN SYN (backup)", syn, kSyn);
    MpJoinSyn syn6{.backup = false, .address_id = 0xd7,
                   .receiver_token = crypto::KeyToken(kKeyA), .sender_nonce = kNonceB};
    add("MP_JOIN SYN (no backup, IPv6)", syn6, kSyn, true);
    MpJoinSynAck synack{.backup = false, .address_id = 0x99,
                        .truncated_hmac = crypto::JoinSynAckHmac(kKeyB, kKeyA, kNonceB, kNonceA),
                        .sender_nonce = kNonceB};
    add("MP_JOIN SYN/ACK", synack, kSynAck);
    MpJoinSynAck synack_b = synack;
    synack_b.backup = true;
    add("MP_JOIN SYN/ACK (backup, IPv6)", synack_b, kSynAck, true);
    MpJoinAck ack{.hmac = crypto::JoinAckHmac(kKeyA, kKeyB, kNonceA, kNonceB)};
    add("MP_JOIN ACK", ack, kAck);
  }
  // --- DSS, RFC 8684 §3.3: every F/m/M/a/A combination, and each mapping +/- checksum. The
  // 'a' and 'm' bits without 'A' / 'M' size absent fields; the encoder still emits them. ---
  for (uint8_t flags = 0; flags < 32; ++flags) {
    for (bool checksum : {false, true}) {
      const bool has_map = (flags & Dss::kFlagM) != 0;
      if (checksum && !has_map) continue;
      Dss d;
      d.data_fin = (flags & Dss::kFlagF) != 0;
      if (flags & Dss::kFlagA) {
        const bool a64 = (flags & Dss::kFlaga) != 0;
        d.data_ack = DataAck{.value = a64 ? 0x8877665544332211u : 0xcafebabeu, .is_64bit = a64};
      } else {
        d.stray_flags |= flags & Dss::kFlaga;
      }
      std::vector<uint8_t> payload;
      if (has_map) {
        const bool m64 = (flags & Dss::kFlagm) != 0;
        DssMapping m{.dsn = m64 ? 0xfedcba9876543210u : 0xdeadbeefu,
                     .dsn_is_64bit = m64,
                     .subflow_seq = 0x00c0ffeeu + flags,
                     // RFC 8684 §3.3.3: a DATA_FIN occupies one octet of the mapping.
                     .data_len = static_cast<uint16_t>(300 + flags + (d.data_fin ? 1 : 0))};
        payload = Payload(300 + flags, flags);
        if (checksum) {
          m.checksum = wire::DssChecksum(m.dsn, m.subflow_seq, m.data_len, payload);
        }
        d.mapping = m;
      } else {
        d.stray_flags |= flags & Dss::kFlagm;
      }
      const std::string name = absl::StrFormat(
          "DSS flags=0x%02x [%c%c%c%c%c]%s", flags, (flags & Dss::kFlagF) ? 'F' : '.',
          (flags & Dss::kFlagm) ? 'm' : '.', (flags & Dss::kFlagM) ? 'M' : '.',
          (flags & Dss::kFlaga) ? 'a' : '.', (flags & Dss::kFlagA) ? 'A' : '.',
          checksum ? " +checksum" : "");
      add(name, d, payload.empty() ? kAck : kPshAck, flags % 3 == 0, MptcpVersion::kV1, payload);
    }
  }
  // --- ADD_ADDR v1, RFC 8684 §3.4.1: IPv4/IPv6 x port x (HMAC | echo). ---
  for (bool v6 : {false, true}) {
    for (bool port : {false, true}) {
      for (bool echo : {false, true}) {
        AddAddr a;
        a.echo = echo;
        a.address_id = v6 ? 0xe6 : 0x4d;
        a.address = v6 ? *IpAddress::Parse("2001:db8:a0b:12f0::1:c0de")
                       : IpAddress::V4(203, 0, 113, 199);
        if (port) a.port = 48879;
        if (!echo) a.hmac = crypto::AddAddrHmac(kKeyB, kKeyA, a.address_id, a.address, a.port);
        add(absl::StrFormat("ADD_ADDR v1 %s%s %s", v6 ? "IPv6" : "IPv4", port ? "+port" : "",
                            echo ? "echo" : "HMAC"),
            a, kAck, v6);
      }
    }
  }
  // --- ADD_ADDR v0, RFC 6824 §3.4.1: IPVer nibble, no HMAC. ---
  for (bool v6 : {false, true}) {
    for (bool port : {false, true}) {
      AddAddr a;
      a.address_id = v6 ? 0x3c : 0x81;
      a.address = v6 ? *IpAddress::Parse("fd12:3456:789a:1::beef") : IpAddress::V4(100, 64, 7, 9);
      if (port) a.port = 8443;
      add(absl::StrFormat("ADD_ADDR v0 %s%s", v6 ? "IPv6" : "IPv4", port ? "+port" : ""), a,
          kAck, !v6, MptcpVersion::kV0);
    }
  }
  // --- REMOVE_ADDR, RFC 8684 §3.4.2: one ID, several, and the 37 that fill the option space.
  add("REMOVE_ADDR 1 ID", RemoveAddr::Of({0x5c}), kAck);
  add("REMOVE_ADDR 5 IDs", RemoveAddr::Of({1, 9, 42, 200, 255}), kAck, true);
  {
    RemoveAddr r;
    for (int i = 0; i < static_cast<int>(RemoveAddr::kMaxIds); ++i) {
      r.Add(static_cast<uint8_t>(i * 7 + 3));
    }
    add("REMOVE_ADDR 37 IDs (40-byte option)", r, kAck);
  }
  // --- MP_PRIO: v1 (RFC 8684 §3.3.8) length 3; v0 (RFC 6824 §3.3.8) may name the address.
  add("MP_PRIO v1 backup", MpPrio{.backup = true}, kAck);
  add("MP_PRIO v1 no backup", MpPrio{.backup = false}, kAck, true);
  add("MP_PRIO v0 backup + address ID", MpPrio{.backup = true, .address_id = 0x17}, kAck, false,
      MptcpVersion::kV0);
  add("MP_PRIO v0 no backup (len 3)", MpPrio{.backup = false}, kAck, true, MptcpVersion::kV0);
  // --- MP_FAIL (RFC 8684 §3.7), MP_FASTCLOSE (§3.5), MP_TCPRST (§3.6). ---
  add("MP_FAIL", MpFail{.dsn = 0x0123456789abcdef}, kAck);
  add("MP_FAIL on RST (IPv6)", MpFail{.dsn = 0xf00dfacefeedbeef}, TcpFlag::kRst, true);
  add("MP_FASTCLOSE", MpFastclose{.receiver_key = kKeyB}, kAck);
  add("MP_FASTCLOSE on RST (IPv6)", MpFastclose{.receiver_key = kKeyA},
      TcpFlag::kRst | TcpFlag::kAck, true);
  add("MP_TCPRST T, too much outstanding data",
      MpTcpRst{.flags = MpTcpRst::kFlagT, .reason = 0x04}, TcpFlag::kRst);
  add("MP_TCPRST UVWT, middlebox interference",
      MpTcpRst{.flags = 0x0f, .reason = 0x06}, TcpFlag::kRst | TcpFlag::kAck, true);
  add("MP_TCPRST no flags, unassigned reason", MpTcpRst{.flags = 0, .reason = 0x7f},
      TcpFlag::kRst);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running tshark.
// ---------------------------------------------------------------------------------------------

std::optional<std::string> FindTshark() {
  std::vector<std::string> dirs = absl::StrSplit(
      std::getenv("PATH") != nullptr ? std::getenv("PATH") : "", ':', absl::SkipEmpty());
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/local/bin");
  for (const std::string& d : dirs) {
    const std::string p = d + "/tshark";
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs tshark with `args` and a private, empty configuration directory, so that nobody's
// Wireshark preferences change what is dissected.
RunResult RunTshark(const std::string& tshark, const std::vector<std::string>& args) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string err_path = dir + "/tshark.stderr";
  std::string cmd = absl::StrCat("HOME=", ShellQuote(dir), " XDG_CONFIG_HOME=", ShellQuote(dir),
                                 " ", ShellQuote(tshark));
  for (const std::string& a : args) absl::StrAppend(&cmd, " ", ShellQuote(a));
  absl::StrAppend(&cmd, " 2>", ShellQuote(err_path));
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFile(err_path);
  return r;
}

// Every field tshark registers under the MPTCP option: compared, or required to be absent
// unless listed here.
std::vector<std::string> MptcpFieldNames(const std::string& tshark) {
  const RunResult r = RunTshark(tshark, {"-G", "fields"});
  std::vector<std::string> names;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  for (const std::string& line : lines) {
    const std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3 || cols[0] != "F") continue;
    if (absl::StartsWith(cols[2], kMptcp) || absl::StartsWith(cols[2], "mptcp.")) {
      names.push_back(cols[2]);
    }
  }
  return names;
}

// Derived or per-capture values, not wire fields: MPTCP-level sequence numbers that tshark
// computes only with its analysis on (which is off), its connection index, and expert-info
// markers (checked through the expert messages).
const std::set<std::string>& IgnoredFields() {
  static const auto* s = new std::set<std::string>{
      "mptcp.ack",          "mptcp.dsn",           "mptcp.rawdsn64",
      "mptcp.dss.dsn",      "mptcp.analysis",      "mptcp.related_mapping",
      "mptcp.reinjection_of", "mptcp.reinjected_in", "mptcp.analysis.subflows",
      "mptcp.stream",       "mptcp.master",
      "mptcp.connection.echoed_key_mismatch", "mptcp.connection.missing_algorithm",
      "mptcp.connection.unsupported_algorithm", "mptcp.dss.infinite_mapping",
      "mptcp.dss.missing_mapping",
  };
  return *s;
}

// Fields every frame is checked on besides the MPTCP ones.
const std::vector<std::string>& FrameFields() {
  static const auto* v = new std::vector<std::string>{
      "frame.number",   "frame.protocols", "tcp.flags",         "tcp.option_kind",
      "tcp.option_len", "tcp.checksum.status", "ip.checksum.status", "_ws.malformed",
      "_ws.expert.severity", "_ws.expert.message",
  };
  return *v;
}

// tshark's expert severities (epan/proto.h PI_*), as -T fields prints them.
constexpr uint32_t kPiWarn = 0x00600000;
constexpr uint32_t kPiError = 0x00800000;

TEST(TsharkCrossCheckTest, EveryEncodedMptcpOptionDissectsToTheSameValues) {
  const std::optional<std::string> tshark = FindTshark();
  if (!tshark) {
    MPTCP_SKIP_MISSING_PREREQUISITE(
        "tshark not found on PATH or in /usr/bin: this cross-check needs Wireshark's tshark "
        "(scripts/install-deps.sh installs it)");
  }
  const RunResult version = RunTshark(*tshark, {"--version"});
  std::cout << "Using " << version.out.substr(0, version.out.find('\n')) << "\n";

  std::vector<Frame> frames = AllFrames();
  io::PcapWriter pcap;
  // Kept as a test output (bazel-testlogs/.../test.outputs) for a look in Wireshark.
  const char* out_dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (out_dir == nullptr) out_dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      std::string(out_dir != nullptr ? out_dir : "/tmp") + "/mptcp_options.pcap";
  ASSERT_TRUE(pcap.Open(path).ok());
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(Build(frames[i], i)) << frames[i].name;
    pcap.WritePacket(Timestamp::FromNanos(1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000),
                     frames[i].packet);
  }
  ASSERT_TRUE(pcap.Close().ok()) << pcap.status();

  // The fields: frame-level ones, then every MPTCP field this tshark knows.
  const std::vector<std::string> mptcp_fields = MptcpFieldNames(*tshark);
  ASSERT_GT(mptcp_fields.size(), 30u) << "tshark -G fields lists no MPTCP fields";
  std::vector<std::string> fields = FrameFields();
  for (const std::string& f : mptcp_fields) {
    if (!IgnoredFields().contains(f)) fields.push_back(f);
  }
  // Every field the expectations name must exist in this tshark, or the comparison below
  // would be vacuous for it.
  {
    std::set<std::string> known(fields.begin(), fields.end());
    for (const Frame& fr : frames) {
      for (const FieldMap* m : {&fr.expect.fields, &fr.expect.optional}) {
        for (const auto& [name, value] : *m) {
          ASSERT_TRUE(known.contains(name)) << "tshark has no field " << name;
        }
      }
    }
  }

  std::vector<std::string> args = {
      "-n", "-r", path,
      // Standalone dissection: no TCP or MPTCP stream analysis, which would add expert
      // info about segments that were never captured.
      "-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "mptcp.analyze_mptcp:FALSE",
      "-o", "mptcp.analyze_mappings:FALSE", "-o", "mptcp.intersubflows_retransmission:FALSE",
      "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
      "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|",
      "-E", "quote=n", "-E", "header=n"};
  for (const std::string& f : fields) {
    args.push_back("-e");
    args.push_back(f);
  }
  const RunResult run = RunTshark(*tshark, args);
  ASSERT_EQ(run.exit_code, 0) << "tshark failed:\n" << run.err;

  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), frames.size()) << run.out << run.err;
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& fr = frames[i];
    SCOPED_TRACE(absl::StrFormat("frame %u: %s (%s)", i + 1, fr.name, wire::ToString(fr.option)));
    std::vector<std::string> cols = absl::StrSplit(lines[i], '\t');
    ASSERT_EQ(cols.size(), fields.size()) << lines[i];
    std::map<std::string, std::string> got;
    for (size_t c = 0; c < fields.size(); ++c) got[fields[c]] = Normalize(cols[c]);

    EXPECT_EQ(got["frame.number"], Dec(i + 1));
    const std::string ip = fr.ipv6 ? "ipv6" : "ip";
    const std::string proto = absl::StrCat("raw:", ip, ":tcp:mptcp");
    EXPECT_TRUE(got["frame.protocols"] == proto ||
                (!fr.payload.empty() && got["frame.protocols"] == proto + ":data"))
        << got["frame.protocols"];
    // Checksum status 1 is PROTO_CHECKSUM_E_GOOD (tshark verifies it: -o *.check_checksum).
    EXPECT_EQ(got["tcp.checksum.status"], "1") << "TCP checksum not good";
    EXPECT_EQ(got["ip.checksum.status"], fr.ipv6 ? "" : "1") << "IPv4 checksum not good";
    EXPECT_EQ(got["_ws.malformed"], "");

    // Expert info: no errors; warnings only those this variant is known to draw.
    const std::vector<std::string> sev = absl::StrSplit(got["_ws.expert.severity"], '|',
                                                        absl::SkipEmpty());
    const std::vector<std::string> msg = absl::StrSplit(got["_ws.expert.message"], '|',
                                                        absl::SkipEmpty());
    for (size_t k = 0; k < sev.size(); ++k) {
      const uint32_t level = static_cast<uint32_t>(std::strtoul(sev[k].c_str(), nullptr, 0));
      const std::string m = k < msg.size() ? msg[k] : "?";
      EXPECT_LT(level, kPiError) << "expert error: " << m;
      if (level >= kPiWarn) {
        bool allowed = false;
        for (const std::string& w : fr.expect.warnings) allowed |= absl::StrContains(m, w);
        EXPECT_TRUE(allowed) << "unexpected expert warning: " << m;
      }
    }

    for (const std::string& f : fields) {
      if (f == "frame.number" || f == "frame.protocols" || absl::StartsWith(f, "_ws.") ||
          absl::EndsWith(f, "checksum.status") || fr.expect.unchecked.contains(f)) {
        continue;
      }
      const auto it = fr.expect.fields.find(f);
      const auto opt = fr.expect.optional.find(f);
      if (it != fr.expect.fields.end()) {
        EXPECT_EQ(got[f], it->second) << "field " << f;
      } else if (opt != fr.expect.optional.end()) {
        if (!got[f].empty()) {
          EXPECT_EQ(got[f], opt->second) << "field " << f;
        }
      } else {
        EXPECT_EQ(got[f], "") << "tshark reports " << f << " which this option does not carry";
      }
    }
  }
}

}  // namespace
}  // namespace mptcp::conformance

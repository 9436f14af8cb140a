// The properties the wire-codec fuzzer checks on one input, shared by the libFuzzer target and
// the corpus replay test: round trips (bytes -> Repr -> bytes, Repr -> bytes -> Repr), sane
// errors on rejected input, and crash-free ToString(). A violated property prints what failed
// and traps, which libFuzzer reports as a crash and saves the input.
#ifndef MPTCP_FUZZ_WIRE_CHECKS_H_
#define MPTCP_FUZZ_WIRE_CHECKS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mptcp/address.h"
#include "mptcp/seq.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "mptcp/wire/tcp_options.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::fuzz {

// The first input byte, modulo kNumFuzzModes, selects what the rest of the input is.
enum class FuzzMode : uint8_t {
  kTcpSegment = 0,      // a TCP segment for TcpRepr::Parse
  kTcpOptionBlock = 1,  // the bytes between the TCP header and the data offset
  kMptcpOption = 2,     // one whole MPTCP option, parsed as v0 and as v1
  kIpPacket = 3,        // an IPv4 or IPv6 packet for ParseIpPacket (then TCP, if protocol 6)
  kMptcpRepr = 4,       // field values for an MptcpOption, encoded then decoded
  kTcpIpRepr = 5,       // field values for an IpRepr + TcpRepr, encoded then decoded
  kChecksum = 6,        // checksum identities over arbitrary data
};
inline constexpr uint8_t kNumFuzzModes = 7;

[[noreturn]] inline void Violation(int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "\n*** wire fuzz check failed (fuzz/wire_checks.h:%d): %s\n    %s\n", line,
               condition, detail.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

// MPTCP_FUZZ_CHECK(cond, detail...): the details (absl::StrCat arguments) are built only on
// failure.
#define MPTCP_FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      ::mptcp::fuzz::Violation(__LINE__, #cond, absl::StrCat("" __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                                         \
  } while (0)

namespace checks_internal {

using wire::MptcpOption;
using wire::MptcpVersion;
using wire::WireError;
using wire::WireErrorCode;

inline std::string Hex(std::span<const uint8_t> b) {
  std::string s;
  for (uint8_t x : b) absl::StrAppend(&s, absl::Hex(x, absl::kZeroPad2));
  return s;
}

// Keeps a string's computation from being optimised away.
inline void Touch(const std::string& s) {
  volatile size_t sink = s.size();
  (void)sink;
}

inline void TouchError(const WireError& e) {
  Touch(e.ToString());
  Touch(std::string(e.ToStatus().message()));
}

inline const char* VersionName(MptcpVersion v) { return v == MptcpVersion::kV0 ? "v0" : "v1"; }

// Reads field values from the front of the input; past its end every read yields zeros.
class FuzzReader {
 public:
  explicit FuzzReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t U8() {
    if (data_.empty()) return 0;
    const uint8_t v = data_[0];
    data_ = data_.subspan(1);
    return v;
  }
  uint16_t U16() {
    const uint16_t hi = U8();
    return static_cast<uint16_t>(hi << 8 | U8());
  }
  uint32_t U32() {
    const uint32_t hi = U16();
    return hi << 16 | U16();
  }
  uint64_t U64() {
    const uint64_t hi = U32();
    return hi << 32 | U32();
  }
  bool Bool() { return (U8() & 1) != 0; }
  std::span<const uint8_t> Bytes(size_t n) {
    n = std::min(n, data_.size());
    std::span<const uint8_t> out = data_.first(n);
    data_ = data_.subspan(n);
    return out;
  }
  std::span<const uint8_t> Rest() { return Bytes(data_.size()); }

 private:
  std::span<const uint8_t> data_;
};

// 4 or 16 bytes from the input, zero-padded when it runs out.
inline IpAddress ReadAddress(FuzzReader& in, bool v6) {
  std::array<uint8_t, 16> b{};
  const auto raw = in.Bytes(v6 ? 16 : 4);
  std::copy(raw.begin(), raw.end(), b.begin());
  return v6 ? IpAddress::V6FromBytes(b.data()) : IpAddress::V4FromBytes(b.data());
}

// ---- MPTCP options ----

constexpr uint8_t SubtypeNumber(const MptcpOption& o) {
  return static_cast<uint8_t>(wire::SubtypeOf(o));
}

// Rejected option bytes: the error must name what the bytes actually contain.
inline void CheckMptcpParseError(std::span<const uint8_t> b, MptcpVersion v, const WireError& e) {
  TouchError(e);
  const std::string ctx = absl::StrCat(VersionName(v), " ", e.ToString(), " for ", Hex(b));
  const size_t size = b.size();
  if (size < 2) {
    MPTCP_FUZZ_CHECK(e.code == WireErrorCode::kTruncated && e.option_kind == 30 &&
                         e.subtype == WireError::kNoSubtype && e.length == size,
                     ctx);
    return;
  }
  if (b[0] != wire::kMptcpOptionKind) {
    MPTCP_FUZZ_CHECK(e.code == WireErrorCode::kInvalidField && e.option_kind == b[0] &&
                         e.subtype == WireError::kNoSubtype &&
                         e.length == std::min<size_t>(size, 0xffff),
                     ctx);
    return;
  }
  const size_t len = b[1];
  const uint8_t subtype = size >= 3 ? static_cast<uint8_t>(b[2] >> 4) : WireError::kNoSubtype;
  MPTCP_FUZZ_CHECK(e.option_kind == 30 && e.length == len && e.subtype == subtype, ctx);
  switch (e.code) {
    case WireErrorCode::kTruncated:
      MPTCP_FUZZ_CHECK(len > size, ctx);
      break;
    case WireErrorCode::kBadOptionLength:
      MPTCP_FUZZ_CHECK(len < 3 || len < size, ctx);
      break;
    case WireErrorCode::kBadMptcpLength:
    case WireErrorCode::kBadVersion:
      MPTCP_FUZZ_CHECK(len == size && size >= 3 && subtype <= 8, ctx);
      break;
    case WireErrorCode::kUnknownSubtype:
      MPTCP_FUZZ_CHECK(len == size && size >= 3 && subtype >= 9, ctx);
      break;
    default:
      MPTCP_FUZZ_CHECK(false, "unexpected error code: ", ctx);
  }
  // RFC 8684 §8: subtypes 9..15 have no layout; a well-delimited one must say so.
  if (len == size && size >= 3 && subtype >= 9) {
    MPTCP_FUZZ_CHECK(e.code == WireErrorCode::kUnknownSubtype, ctx);
  }
}

// An accepted option: re-encoding gives the same bytes, the same length, and the same Repr.
inline void CheckAcceptedMptcpOption(std::span<const uint8_t> b, MptcpVersion v,
                                     const MptcpOption& x) {
  const std::string desc = wire::ToString(x);
  const std::string ctx = absl::StrCat(VersionName(v), " ", desc, " from ", Hex(b));
  MPTCP_FUZZ_CHECK(
      b.size() >= 3 && b.size() <= wire::kMaxTcpOptionBytes && b[0] == 30 && b[1] == b.size(), ctx);
  MPTCP_FUZZ_CHECK(SubtypeNumber(x) == b[2] >> 4, ctx);
  MPTCP_FUZZ_CHECK(wire::PeekMptcpSubtype(b) == std::optional<uint8_t>(SubtypeNumber(x)), ctx);
  MPTCP_FUZZ_CHECK(wire::EncodedLength(x, v) == b.size(), "EncodedLength ",
                   wire::EncodedLength(x, v), ": ", ctx);

  std::array<uint8_t, 256> buf;
  buf.fill(0xa5);
  const auto n = wire::EmitMptcpOption(x, buf, v);
  MPTCP_FUZZ_CHECK(n.ok(), "emit failed: ", n.ok() ? "" : n.error().ToString(), ": ", ctx);
  MPTCP_FUZZ_CHECK(*n == b.size() && std::equal(b.begin(), b.end(), buf.begin()), "emitted ",
                   Hex(std::span<const uint8_t>(buf).first(std::min<size_t>(*n, 64))), ": ", ctx);
  MPTCP_FUZZ_CHECK(std::all_of(buf.begin() + static_cast<ptrdiff_t>(*n), buf.end(),
                               [](uint8_t c) { return c == 0xa5; }),
                   "wrote past its length: ", ctx);

  const auto y = wire::ParseMptcpOption(std::span<const uint8_t>(buf).first(*n), v);
  MPTCP_FUZZ_CHECK(y.ok() && *y == x,
                   "re-parse: ", y.ok() ? wire::ToString(*y) : y.error().ToString(), ": ", ctx);

  // One byte short: kBufferTooSmall and nothing written.
  buf.fill(0xa5);
  const auto s = wire::EmitMptcpOption(x, std::span<uint8_t>(buf).first(*n - 1), v);
  MPTCP_FUZZ_CHECK(!s.ok() && s.error().code == WireErrorCode::kBufferTooSmall &&
                       s.error().option_kind == 30 && s.error().subtype == SubtypeNumber(x) &&
                       s.error().length == *n - 1,
                   "short buffer: ", s.ok() ? "accepted" : s.error().ToString(), ": ", ctx);
  MPTCP_FUZZ_CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t c) { return c == 0xa5; }),
                   "short buffer written to: ", ctx);
}

// One whole MPTCP option, as the TCP option walker would delimit it, under both versions.
inline void CheckMptcpOptionBytes(std::span<const uint8_t> b) {
  const auto r0 = wire::ParseMptcpOption(b, MptcpVersion::kV0);
  const auto r1 = wire::ParseMptcpOption(b, MptcpVersion::kV1);
  if (r0.ok()) {
    CheckAcceptedMptcpOption(b, MptcpVersion::kV0, *r0);
  } else {
    CheckMptcpParseError(b, MptcpVersion::kV0, r0.error());
  }
  if (r1.ok()) {
    CheckAcceptedMptcpOption(b, MptcpVersion::kV1, *r1);
  } else {
    CheckMptcpParseError(b, MptcpVersion::kV1, r1.error());
  }
  // Only ADD_ADDR and MP_PRIO have version-specific layouts.
  const auto sub = wire::PeekMptcpSubtype(b);
  if (!sub || (*sub != 3 && *sub != 5)) {
    const std::string ctx = Hex(b);
    MPTCP_FUZZ_CHECK(r0.ok() == r1.ok(), "v0/v1 disagree on ", ctx);
    if (r0.ok()) {
      MPTCP_FUZZ_CHECK(*r0 == *r1, "v0/v1 disagree on ", ctx);
    } else {
      MPTCP_FUZZ_CHECK(r0.error() == r1.error(), "v0/v1 disagree on ", ctx);
    }
  }
}

// Field values for any Repr form, mostly in range; one in 16 leaves them unmasked so that the
// encoder's kInvalidField paths are reached too.
inline MptcpOption ReadMptcpOption(FuzzReader& in) {
  const uint8_t form = in.U8();
  const bool wild = (in.U8() & 0x0f) == 0x0f;
  auto m8 = [&](uint8_t mask) {
    const uint8_t v = in.U8();
    return wild ? v : static_cast<uint8_t>(v & mask);
  };
  auto m16 = [&](uint16_t mask) {
    const uint16_t v = in.U16();
    return wild ? v : static_cast<uint16_t>(v & mask);
  };
  switch (form % 11) {
    case 0: {
      wire::MpCapable m;
      m.version = m8(0x0f);
      m.flags = in.U8();
      // Without `wild`, one of the five shapes; with it, any presence combination.
      const uint8_t shape =
          wild ? in.U8() : static_cast<uint8_t>((uint8_t{0x0f} >> (4 - in.U8() % 5)) & 0x0f);
      if (shape & 1) m.sender_key = in.U64();
      if (shape & 2) m.receiver_key = in.U64();
      if (shape & 4) m.data_len = in.U16();
      if (shape & 8) m.checksum = in.U16();
      return m;
    }
    case 1: {
      wire::MpJoinSyn j;
      j.backup = in.Bool();
      j.address_id = in.U8();
      j.receiver_token = in.U32();
      j.sender_nonce = in.U32();
      j.reserved = m8(0x07);
      return j;
    }
    case 2: {
      wire::MpJoinSynAck j;
      j.backup = in.Bool();
      j.address_id = in.U8();
      j.truncated_hmac = in.U64();
      j.sender_nonce = in.U32();
      j.reserved = m8(0x07);
      return j;
    }
    case 3: {
      wire::MpJoinAck j;
      for (uint8_t& c : j.hmac) c = in.U8();
      j.reserved = m16(0x0fff);
      return j;
    }
    case 4: {
      wire::Dss d;
      const uint8_t f = in.U8();
      d.data_fin = (f & 1) != 0;
      if (f & 2) {
        wire::DataAck a;
        a.is_64bit = (f & 4) != 0;
        a.value = in.U64();
        if (!a.is_64bit && !wild) a.value &= 0xffffffffu;
        d.data_ack = a;
      }
      if (f & 8) {
        wire::DssMapping mp;
        mp.dsn_is_64bit = (f & 16) != 0;
        mp.dsn = in.U64();
        if (!mp.dsn_is_64bit && !wild) mp.dsn &= 0xffffffffu;
        mp.subflow_seq = in.U32();
        mp.data_len = in.U16();
        if (f & 32) mp.checksum = in.U16();
        d.mapping = mp;
      }
      d.stray_flags = m8(wire::Dss::kFlaga | wire::Dss::kFlagm);
      d.reserved = m8(0x7f);
      return d;
    }
    case 5: {
      wire::AddAddr a;
      const uint8_t f = in.U8();
      a.echo = (f & 1) != 0;
      a.address_id = in.U8();
      a.address = ReadAddress(in, (f & 2) != 0);
      if (f & 4) a.port = in.U16();
      // RFC 8684 §3.4.1: an HMAC iff not an echo; `wild` or bit 3 breaks the rule.
      if ((!a.echo) != ((f & 8) != 0)) a.hmac = in.U64();
      a.reserved = m8(0x07);
      return a;
    }
    case 6: {
      wire::RemoveAddr r;
      r.count = wild ? in.U8() : static_cast<uint8_t>(1 + in.U8() % wire::RemoveAddr::kMaxIds);
      for (size_t i = 0; i < std::min<size_t>(r.count, r.ids.size()); ++i) r.ids[i] = in.U8();
      r.reserved = m8(0x0f);
      return r;
    }
    case 7: {
      wire::MpPrio m;
      const uint8_t f = in.U8();
      m.backup = (f & 1) != 0;
      if (f & 2) m.address_id = in.U8();
      m.reserved = m8(0x07);
      return m;
    }
    case 8: {
      wire::MpFail m;
      m.dsn = in.U64();
      m.reserved = m16(0x0fff);
      return m;
    }
    case 9: {
      wire::MpFastclose m;
      m.receiver_key = in.U64();
      m.reserved = m16(0x0fff);
      return m;
    }
    default: {
      wire::MpTcpRst r;
      r.flags = m8(0x0f);
      r.reason = in.U8();
      return r;
    }
  }
}

// A Repr built from field values: if it encodes, it decodes to itself; if not, the encoder
// says kInvalidField and EncodedLength() is 0. Either way nothing is written on error.
inline void CheckMptcpRepr(const MptcpOption& x) {
  const std::string desc = wire::ToString(x);
  for (MptcpVersion v : {MptcpVersion::kV0, MptcpVersion::kV1}) {
    const std::string ctx = absl::StrCat(VersionName(v), " ", desc);
    const size_t len = wire::EncodedLength(x, v);
    std::array<uint8_t, 64> buf;
    buf.fill(0xa5);
    const auto n = wire::EmitMptcpOption(x, buf, v);
    if (!n.ok()) {
      const WireError& e = n.error();
      TouchError(e);
      MPTCP_FUZZ_CHECK(len == 0 && e.code == WireErrorCode::kInvalidField && e.option_kind == 30 &&
                           e.subtype == SubtypeNumber(x),
                       e.ToString(), " len ", len, ": ", ctx);
      MPTCP_FUZZ_CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t c) { return c == 0xa5; }),
                       "failed emit wrote: ", ctx);
      continue;
    }
    const std::span<const uint8_t> bytes = std::span<const uint8_t>(buf).first(*n);
    MPTCP_FUZZ_CHECK(*n == len && len >= 3 && len <= wire::kMaxTcpOptionBytes && buf[0] == 30 &&
                         buf[1] == len && buf[2] >> 4 == SubtypeNumber(x),
                     "emitted ", Hex(bytes), ": ", ctx);
    MPTCP_FUZZ_CHECK(std::all_of(buf.begin() + static_cast<ptrdiff_t>(len), buf.end(),
                                 [](uint8_t c) { return c == 0xa5; }),
                     "wrote past its length: ", ctx);
    const auto y = wire::ParseMptcpOption(bytes, v);
    MPTCP_FUZZ_CHECK(y.ok() && *y == x, "decoded ",
                     y.ok() ? wire::ToString(*y) : y.error().ToString(), " from ", Hex(bytes), ": ",
                     ctx);
    // And the bytes round-trip as received bytes (both versions, errors included).
    CheckMptcpOptionBytes(bytes);
  }
}

// ---- TCP options and segments ----

// Rejected option block: the error names an option kind and length byte found in the block.
inline void CheckTcpOptionsError(std::span<const uint8_t> block, const WireError& e) {
  TouchError(e);
  const std::string ctx = absl::StrCat(e.ToString(), " for ", Hex(block));
  MPTCP_FUZZ_CHECK(e.code == WireErrorCode::kBadOptionLength &&
                       e.subtype == WireError::kNoSubtype && e.option_kind >= 2 && !block.empty(),
                   ctx);
  bool pair_found = false;
  for (size_t i = 0; i + 1 < block.size(); ++i) {
    pair_found |= block[i] == e.option_kind && block[i + 1] == e.length;
  }
  MPTCP_FUZZ_CHECK(pair_found || (e.length == 0 && block.back() == e.option_kind), ctx);
}

// Whether `bytes` is a run of whole kind-30 options, as CheckTcpOptions() requires.
inline bool IsWholeMptcpRun(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (bytes.size() - i < 2 || bytes[i] != 30 || bytes[i + 1] < 2 ||
        bytes[i + 1] > bytes.size() - i) {
      return false;
    }
    i += bytes[i + 1];
  }
  return true;
}

// Any TcpOptions value: emit succeeds exactly when it is encodable, and then decodes to itself
// and re-encodes to the same bytes.
inline void CheckTcpOptionsRoundTrip(const wire::TcpOptions& o) {
  const std::string desc = o.ToString();
  // Walking arbitrary MPTCP bytes stays in bounds.
  for (std::span<const uint8_t> m : o.mptcp_options()) MPTCP_FUZZ_CHECK(m.size() >= 2, desc);
  const bool encodable = o.num_sack_blocks <= wire::kMaxSackBlocks &&
                         o.mptcp_len <= wire::kMaxTcpOptionsLength && IsWholeMptcpRun(o.mptcp()) &&
                         o.EncodedLength() <= wire::kMaxTcpOptionsLength;
  std::array<uint8_t, 64> buf;
  buf.fill(0xa5);
  const auto n = wire::EmitTcpOptions(o, buf);
  MPTCP_FUZZ_CHECK(n.ok() == encodable, "emit ", n.ok() ? "accepted" : n.error().ToString(), ": <",
                   desc, "> len ", o.EncodedLength());
  if (!n.ok()) {
    TouchError(n.error());
    MPTCP_FUZZ_CHECK(n.error().code == WireErrorCode::kInvalidField, desc);
    MPTCP_FUZZ_CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t c) { return c == 0xa5; }),
                     desc);
    return;
  }
  const std::span<const uint8_t> bytes = std::span<const uint8_t>(buf).first(*n);
  MPTCP_FUZZ_CHECK(*n == o.EncodedLength() && *n % 4 == 0, desc);
  const auto p = wire::ParseTcpOptions(bytes);
  MPTCP_FUZZ_CHECK(p.ok() && *p == o, "decoded ", p.ok() ? p->ToString() : p.error().ToString(),
                   " from ", Hex(bytes), ": <", desc, ">");
  std::array<uint8_t, 64> again;
  const auto n2 = wire::EmitTcpOptions(*p, again);
  MPTCP_FUZZ_CHECK(n2.ok() && *n2 == *n && std::equal(bytes.begin(), bytes.end(), again.begin()),
                   "not canonical: ", Hex(bytes), ": <", desc, ">");
  if (*n > 0) {
    buf.fill(0xa5);
    const auto s = wire::EmitTcpOptions(o, std::span<uint8_t>(buf).first(*n - 1));
    MPTCP_FUZZ_CHECK(!s.ok() && s.error().code == WireErrorCode::kBufferTooSmall, desc);
    MPTCP_FUZZ_CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t c) { return c == 0xa5; }),
                     desc);
  }
}

// Options the parser accepted: every MPTCP option it kept is whole and checked on its own.
inline void CheckParsedTcpOptions(const wire::TcpOptions& o) {
  const std::string desc = o.ToString();
  MPTCP_FUZZ_CHECK(o.num_sack_blocks <= wire::kMaxSackBlocks && o.mptcp_len <= 40, desc);
  size_t covered = 0;
  for (std::span<const uint8_t> m : o.mptcp_options()) {
    MPTCP_FUZZ_CHECK(m.size() >= 2 && m[0] == 30 && m[1] == m.size(), desc);
    covered += m.size();
    CheckMptcpOptionBytes(m);
  }
  MPTCP_FUZZ_CHECK(covered == o.mptcp_len, "MPTCP bytes not whole options: ", desc);
  CheckTcpOptionsRoundTrip(o);
}

inline void CheckTcpOptionBlock(std::span<const uint8_t> block) {
  const auto r = wire::ParseTcpOptions(block);
  if (!r.ok()) {
    CheckTcpOptionsError(block, r.error());
    return;
  }
  CheckParsedTcpOptions(*r);
}

inline bool AllEqual(std::span<const uint8_t> b, uint8_t v) {
  return std::all_of(b.begin(), b.end(), [v](uint8_t c) { return c == v; });
}

// Any TcpRepr: emit succeeds exactly when its options are encodable; the result decodes to the
// same Repr, re-encodes to the same bytes, and carries a valid checksum for src/dst.
inline void CheckTcpReprRoundTrip(const wire::TcpRepr& x, const IpAddress& src,
                                  const IpAddress& dst) {
  const std::string desc = x.ToString();
  const bool encodable = wire::CheckTcpOptions(x.options).ok();
  const size_t len = x.EncodedLength();
  std::vector<uint8_t> buf(len + 1, 0xa5);
  const auto n = x.Emit(std::span<uint8_t>(buf), src, dst);
  MPTCP_FUZZ_CHECK(n.ok() == (encodable && src.family() == dst.family()), "emit ",
                   n.ok() ? "accepted" : n.error().ToString(), ": ", desc);
  if (!n.ok()) {
    TouchError(n.error());
    MPTCP_FUZZ_CHECK(n.error().code == WireErrorCode::kInvalidField && AllEqual(buf, 0xa5), desc);
    return;
  }
  MPTCP_FUZZ_CHECK(*n == len && buf[len] == 0xa5, "length ", *n, " vs ", len, ": ", desc);
  const std::span<const uint8_t> seg = std::span<const uint8_t>(buf).first(len);
  MPTCP_FUZZ_CHECK(wire::VerifyTcpChecksum(src, dst, seg), "bad checksum: ", desc);
  const auto y = wire::TcpRepr::Parse(seg);
  MPTCP_FUZZ_CHECK(y.ok() && *y == x, "decoded ", y.ok() ? y->ToString() : y.error().ToString(),
                   ": ", desc);

  // Without addresses: the same bytes with a zero checksum field.
  std::vector<uint8_t> plain(len, 0x5a);
  const auto n2 = x.Emit(std::span<uint8_t>(plain));
  MPTCP_FUZZ_CHECK(n2.ok() && *n2 == len && plain[16] == 0 && plain[17] == 0, desc);
  MPTCP_FUZZ_CHECK(std::equal(plain.begin(), plain.begin() + 16, seg.begin()) &&
                       std::equal(plain.begin() + 18, plain.end(), seg.begin() + 18),
                   "checksum variant differs: ", desc);

  // Payload already in place in the output buffer (documented to work).
  std::vector<uint8_t> in_place(len, 0x5a);
  const size_t hlen = x.HeaderLength();
  std::copy(x.payload.begin(), x.payload.end(), in_place.begin() + static_cast<ptrdiff_t>(hlen));
  wire::TcpRepr z = x;
  z.payload = std::span<const uint8_t>(in_place).subspan(hlen);
  const auto n3 = z.Emit(std::span<uint8_t>(in_place));
  MPTCP_FUZZ_CHECK(n3.ok() && std::equal(in_place.begin(), in_place.end(), plain.begin()),
                   "in-place emit differs: ", desc);

  // One byte short: kBufferTooSmall and nothing written.
  std::vector<uint8_t> small(len - 1, 0xa5);
  const auto s = x.Emit(std::span<uint8_t>(small), src, dst);
  MPTCP_FUZZ_CHECK(
      !s.ok() && s.error().code == WireErrorCode::kBufferTooSmall && AllEqual(small, 0xa5),
      "short buffer: ", desc);
}

// The fixed address pairs segments are checksummed against when no IP header is at hand.
inline IpAddress TestV4(uint8_t last) { return IpAddress::V4(192, 0, 2, last); }
inline IpAddress TestV6(uint8_t last) {
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
  b[15] = last;
  return IpAddress::V6FromBytes(b.data());
}

inline void CheckTcpParseError(std::span<const uint8_t> seg, const WireError& e) {
  TouchError(e);
  const std::string ctx =
      absl::StrCat(e.ToString(), " for ", Hex(seg.first(std::min<size_t>(seg.size(), 64))));
  switch (e.code) {
    case WireErrorCode::kTruncated:
      MPTCP_FUZZ_CHECK(seg.size() < 20 && e.length == seg.size() && e.option_kind == 0 &&
                           e.subtype == WireError::kNoSubtype,
                       ctx);
      return;
    case WireErrorCode::kBadHeaderLength: {
      MPTCP_FUZZ_CHECK(seg.size() >= 20 && e.option_kind == 0 && e.subtype == WireError::kNoSubtype,
                       ctx);
      const size_t offset = static_cast<size_t>(seg[12] >> 4) * 4;
      MPTCP_FUZZ_CHECK(e.length == offset && (offset < 20 || offset > seg.size()), ctx);
      return;
    }
    case WireErrorCode::kBadOptionLength: {
      MPTCP_FUZZ_CHECK(seg.size() >= 20, ctx);
      const size_t offset = static_cast<size_t>(seg[12] >> 4) * 4;
      MPTCP_FUZZ_CHECK(offset >= 20 && offset <= seg.size(), ctx);
      const std::span<const uint8_t> block = seg.subspan(20, offset - 20);
      const auto again = wire::ParseTcpOptions(block);
      MPTCP_FUZZ_CHECK(!again.ok() && again.error() == e, ctx);
      CheckTcpOptionsError(block, e);
      return;
    }
    default:
      MPTCP_FUZZ_CHECK(false, "unexpected error code: ", ctx);
  }
}

// A received TCP segment. `src`/`dst` are the IP addresses it came with, if any.
inline void CheckTcpSegment(std::span<const uint8_t> seg, const IpAddress& src,
                            const IpAddress& dst) {
  const auto r = wire::TcpRepr::Parse(seg);
  if (!r.ok()) {
    CheckTcpParseError(seg, r.error());
    return;
  }
  const wire::TcpRepr& x = *r;
  const std::string desc = x.ToString();
  const size_t offset = static_cast<size_t>(seg[12] >> 4) * 4;
  MPTCP_FUZZ_CHECK(
      x.payload.data() == seg.data() + offset && x.payload.size() == seg.size() - offset,
      "payload not the bytes after the header: ", desc);
  (void)wire::VerifyTcpChecksum(src, dst, seg);
  CheckParsedTcpOptions(x.options);
  CheckTcpReprRoundTrip(x, src, dst);
}

inline wire::TcpOptions ReadTcpOptions(FuzzReader& in) {
  wire::TcpOptions o;
  const uint8_t f = in.U8();
  const bool wild = (f & 0x80) != 0 && (in.U8() & 0x07) == 0x07;
  if (f & 1) o.mss = in.U16();
  if (f & 2) o.window_scale = in.U8();
  o.sack_permitted = (f & 4) != 0;
  if (f & 8) o.timestamps = wire::TcpTimestamps{in.U32(), in.U32()};
  if (f & 16) {
    o.num_sack_blocks = static_cast<uint8_t>(in.U8() % (wild ? 8 : 5));
    for (size_t i = 0; i < std::min<size_t>(o.num_sack_blocks, wire::kMaxSackBlocks); ++i) {
      o.sack_blocks[i] = wire::SackBlock{SeqNum32(in.U32()), SeqNum32(in.U32())};
    }
  }
  if (wild) {
    // Raw MPTCP bytes, possibly not whole options or longer than the option space.
    o.mptcp_len = static_cast<uint8_t>(in.U8() % 48);
    const auto raw = in.Bytes(std::min<size_t>(o.mptcp_len, o.mptcp_bytes.size()));
    std::copy(raw.begin(), raw.end(), o.mptcp_bytes.begin());
  } else {
    for (int i = 0, k = (f >> 5) & 3; i < k; ++i) {
      std::array<uint8_t, 64> buf;
      const auto n = wire::EmitMptcpOption(ReadMptcpOption(in), buf);
      if (n.ok()) (void)o.AddMptcpOption(std::span<const uint8_t>(buf).first(*n));
    }
  }
  return o;
}

// ---- IP ----

inline void CheckIpParseError(std::span<const uint8_t> pkt, const WireError& e) {
  TouchError(e);
  const std::string ctx =
      absl::StrCat(e.ToString(), " for ", Hex(pkt.first(std::min<size_t>(pkt.size(), 64))));
  MPTCP_FUZZ_CHECK(e.option_kind == 0 && e.subtype == WireError::kNoSubtype, ctx);
  const uint8_t version = pkt.empty() ? 0 : pkt[0] >> 4;
  switch (e.code) {
    case WireErrorCode::kTruncated:
      MPTCP_FUZZ_CHECK(e.length == pkt.size() && pkt.size() < (version == 6 ? 40u : 20u), ctx);
      return;
    case WireErrorCode::kBadVersion:
      MPTCP_FUZZ_CHECK(e.length == version && version != 4 && version != 6, ctx);
      return;
    case WireErrorCode::kBadHeaderLength:
      if (version == 4) {
        const size_t ihl = static_cast<size_t>(pkt[0] & 0x0f) * 4;
        const size_t total = wire::LoadBe16(pkt.data() + 2);
        MPTCP_FUZZ_CHECK((ihl < 20 && e.length == ihl) ||
                             (e.length == total && (total < ihl || total > pkt.size())),
                         ctx);
      } else {
        MPTCP_FUZZ_CHECK(version == 6 && e.length == wire::LoadBe16(pkt.data() + 4) &&
                             40u + e.length > pkt.size(),
                         ctx);
      }
      return;
    case WireErrorCode::kBadChecksum: {
      MPTCP_FUZZ_CHECK(version == 4, ctx);
      const size_t ihl = static_cast<size_t>(pkt[0] & 0x0f) * 4;
      MPTCP_FUZZ_CHECK(e.length == ihl && ihl <= pkt.size() &&
                           wire::InternetChecksum::Compute(pkt.first(ihl)) != 0,
                       ctx);
      return;
    }
    case WireErrorCode::kInvalidField:
      // Only for IPv4 fragments (MF or a non-zero offset).
      MPTCP_FUZZ_CHECK(
          version == 4 && e.length == wire::LoadBe16(pkt.data() + 6) && (e.length & 0x3fff) != 0,
          ctx);
      return;
    default:
      MPTCP_FUZZ_CHECK(false, "unexpected error code: ", ctx);
  }
}

// Emits `ip`'s header followed by `payload`; decoding gives `expected` and the same payload.
inline void CheckIpRoundTrip(const wire::IpRepr& ip, std::span<const uint8_t> payload,
                             const wire::IpRepr& expected) {
  const std::string ctx = absl::StrCat(ip.src.ToString(), " > ", ip.dst.ToString(), " proto ",
                                       ip.protocol, " len ", ip.payload_len);
  std::vector<uint8_t> pkt(ip.PacketLength() + 1, 0xa5);
  const auto n = ip.Emit(std::span<uint8_t>(pkt));
  const bool encodable = ip.src.family() == ip.dst.family() &&
                         (ip.src.is_v4() ? ip.PacketLength() <= 0xffff : ip.flow_label <= 0xfffffu);
  MPTCP_FUZZ_CHECK(n.ok() == encodable, "emit ", n.ok() ? "accepted" : n.error().ToString(), ": ",
                   ctx);
  if (!n.ok()) {
    TouchError(n.error());
    MPTCP_FUZZ_CHECK(n.error().code == wire::WireErrorCode::kInvalidField && AllEqual(pkt, 0xa5),
                     ctx);
    return;
  }
  MPTCP_FUZZ_CHECK(*n == ip.HeaderLength() && payload.size() == ip.payload_len, ctx);
  std::copy(payload.begin(), payload.end(), pkt.begin() + static_cast<ptrdiff_t>(*n));
  const auto p = wire::ParseIpPacket(std::span<const uint8_t>(pkt));  // incl. trailing byte
  MPTCP_FUZZ_CHECK(p.ok(), "decode: ", p.ok() ? "" : p.error().ToString(), ": ", ctx);
  MPTCP_FUZZ_CHECK(p->ip == expected && std::ranges::equal(p->payload, payload),
                   "decoded differs: ", ctx);
  std::vector<uint8_t> small(ip.HeaderLength() - 1, 0xa5);
  const auto s = ip.Emit(std::span<uint8_t>(small));
  MPTCP_FUZZ_CHECK(
      !s.ok() && s.error().code == WireErrorCode::kBufferTooSmall && AllEqual(small, 0xa5), ctx);
}

inline void CheckIpPacket(std::span<const uint8_t> pkt) {
  const auto r = wire::ParseIpPacket(pkt);
  if (!r.ok()) {
    CheckIpParseError(pkt, r.error());
    return;
  }
  const wire::IpRepr& ip = r->ip;
  const std::span<const uint8_t> payload = r->payload;
  const std::string ctx = absl::StrCat(ip.src.ToString(), " > ", ip.dst.ToString());
  const bool v6 = (pkt[0] >> 4) == 6;
  MPTCP_FUZZ_CHECK(ip.src.is_v6() == v6 && ip.dst.is_v6() == v6, ctx);
  MPTCP_FUZZ_CHECK(payload.data() >= pkt.data() &&
                       payload.data() + payload.size() <= pkt.data() + pkt.size() &&
                       payload.size() == ip.payload_len && ip.flow_label <= 0xfffffu,
                   ctx);
  CheckIpRoundTrip(ip, payload, ip);
  if (ip.protocol == wire::kIpProtoTcp) CheckTcpSegment(payload, ip.src, ip.dst);
}

// ---- structured Reprs and checksums ----

inline void CheckTcpIpRepr(FuzzReader& in) {
  const uint8_t f = in.U8();
  wire::IpRepr ip;
  const bool v6 = (f & 1) != 0;
  const bool mixed = (f & 0x82) == 0x82;  // now and then: src and dst of different families
  ip.src = ReadAddress(in, v6);
  ip.dst = ReadAddress(in, mixed ? !v6 : v6);
  ip.protocol = in.U8();
  ip.ttl = in.U8();
  ip.tos = in.U8();
  ip.ident = in.U16();
  ip.dont_fragment = (f & 4) != 0;
  // Now and then a flow label wider than its 20 bits (kInvalidField for IPv6).
  ip.flow_label = (f & 0x48) == 0x48 ? in.U32() : in.U32() & 0xfffffu;
  // Any length now and then (kInvalidField for IPv4 past 65535 in all), else a short one.
  ip.payload_len = (f & 0x30) == 0x30 ? in.U16() : static_cast<uint16_t>(in.U16() % 2048);

  wire::TcpRepr tcp;
  tcp.src_port = in.U16();
  tcp.dst_port = in.U16();
  tcp.seq = SeqNum32(in.U32());
  tcp.ack = SeqNum32(in.U32());
  tcp.flags = in.U8();
  tcp.window = in.U16();
  tcp.urgent = in.U16();
  tcp.options = ReadTcpOptions(in);
  tcp.payload = in.Rest();
  CheckTcpOptionsRoundTrip(tcp.options);
  CheckTcpReprRoundTrip(tcp, ip.src, ip.dst);

  // The IP header alone, for a payload of zeros.
  wire::IpRepr expected = ip;
  if (v6) {
    expected.ident = 0;
    expected.dont_fragment = true;
  } else {
    expected.flow_label = 0;
  }
  std::vector<uint8_t> zeros(ip.payload_len, 0);
  CheckIpRoundTrip(ip, zeros, expected);

  // The whole packet, when the segment is encodable: IP header + TCP segment with checksum.
  if (mixed || !wire::CheckTcpOptions(tcp.options).ok()) return;
  const size_t tcp_len = tcp.EncodedLength();
  if (tcp_len + ip.HeaderLength() > 0xffff) return;
  ip.protocol = wire::kIpProtoTcp;
  ip.payload_len = static_cast<uint16_t>(tcp_len);
  if (!v6 || ip.flow_label <= 0xfffffu) {
    std::vector<uint8_t> pkt(ip.PacketLength());
    const auto h = ip.Emit(std::span<uint8_t>(pkt));
    MPTCP_FUZZ_CHECK(h.ok(), tcp.ToString());
    const auto t = tcp.Emit(std::span<uint8_t>(pkt).subspan(*h), ip.src, ip.dst);
    MPTCP_FUZZ_CHECK(t.ok() && *t == tcp_len, tcp.ToString());
    const auto p = wire::ParseIpPacket(pkt);
    MPTCP_FUZZ_CHECK(p.ok() && p->payload.size() == tcp_len, tcp.ToString());
    MPTCP_FUZZ_CHECK(wire::VerifyTcpChecksum(p->ip.src, p->ip.dst, p->payload), tcp.ToString());
    const auto q = wire::TcpRepr::Parse(p->payload);
    MPTCP_FUZZ_CHECK(q.ok() && *q == tcp, tcp.ToString());
  }
}

// RFC 1071 §1, summed 16 bits at a time: the reference for the optimised InternetChecksum.
inline uint16_t ReferenceChecksum(std::span<const uint8_t> data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += uint32_t{data[i]} << 8 | (i + 1 < data.size() ? data[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

inline void CheckChecksums(FuzzReader& in) {
  const uint64_t dsn = in.U64();
  const uint32_t sseq = in.U32();
  const uint16_t dlen = in.U16();
  const uint16_t flip = in.U16();
  const size_t split = in.U16();
  const std::span<const uint8_t> data = in.Rest();
  const std::string ctx = absl::StrCat("dsn ", dsn, " sseq ", sseq, " len ", dlen, " data ",
                                       data.size(), " split ", split);
  const size_t cut = data.empty() ? 0 : split % (data.size() + 1);

  // The optimised sum agrees with the textbook one, and splitting at any offset (odd included)
  // changes nothing.
  const uint16_t whole = wire::InternetChecksum::Compute(data);
  MPTCP_FUZZ_CHECK(whole == ReferenceChecksum(data), ctx);
  wire::InternetChecksum parts;
  parts.Add(data.first(cut));
  parts.Add(data.subspan(cut));
  MPTCP_FUZZ_CHECK(parts.Finish() == whole && parts.odd() == (data.size() % 2 == 1), ctx);
  wire::InternetChecksum head, tail;
  head.Add(data.first(cut));
  tail.Add(data.subspan(cut));
  head.Add(tail);
  MPTCP_FUZZ_CHECK(head.Finish() == whole, ctx);

  // AddU16/32/64 are Add over the big-endian bytes.
  std::array<uint8_t, 14> be;
  wire::StoreBe64(be.data(), dsn);
  wire::StoreBe32(be.data() + 8, sseq);
  wire::StoreBe16(be.data() + 12, dlen);
  wire::InternetChecksum a, b;
  a.AddU64(dsn);
  a.AddU32(sseq);
  a.AddU16(dlen);
  b.Add(be);
  MPTCP_FUZZ_CHECK(a.Finish() == b.Finish(), ctx);

  // RFC 8684 §3.3.1: the DSS checksum verifies, also from a split payload sum, and any other
  // value fails unless it is the other ones' complement zero.
  const uint16_t c = wire::DssChecksum(dsn, sseq, dlen, data);
  MPTCP_FUZZ_CHECK(wire::VerifyDssChecksum(dsn, sseq, dlen, data, c), ctx);
  MPTCP_FUZZ_CHECK(wire::DssChecksumFromPayloadSum(dsn, sseq, dlen, parts) == c, ctx);
  std::vector<uint8_t> pseudo(be.begin(), be.end());
  pseudo.push_back(0);
  pseudo.push_back(0);
  pseudo.insert(pseudo.end(), data.begin(), data.end());
  MPTCP_FUZZ_CHECK(c == ReferenceChecksum(pseudo), ctx);
  // Any received value verifies exactly when the reference sum over the pseudo-header with it
  // in the checksum slot is zero (so both encodings of zero, unless the data is all zero).
  const uint16_t other = static_cast<uint16_t>(c ^ flip);
  wire::StoreBe16(pseudo.data() + 14, other);
  MPTCP_FUZZ_CHECK(
      wire::VerifyDssChecksum(dsn, sseq, dlen, data, other) == (ReferenceChecksum(pseudo) == 0),
      ctx, " received ", other);

  // A segment-shaped buffer gets a checksum that verifies for both families.
  if (data.size() >= 20) {
    std::vector<uint8_t> seg(data.begin(), data.end());
    for (const auto& [s, d] : {std::pair{TestV4(1), TestV4(2)}, std::pair{TestV6(1), TestV6(2)}}) {
      wire::FillTcpChecksum(s, d, std::span<uint8_t>(seg));
      MPTCP_FUZZ_CHECK(wire::VerifyTcpChecksum(s, d, seg), ctx);
    }
  }
}

}  // namespace checks_internal

// Runs every check that applies to one fuzzer input. Traps on a violated property.
inline void CheckWireInput(std::span<const uint8_t> input) {
  using namespace checks_internal;  // NOLINT: the internal helpers only
  if (input.empty()) return;
  const auto mode = static_cast<FuzzMode>(input[0] % kNumFuzzModes);
  const std::span<const uint8_t> rest = input.subspan(1);
  FuzzReader in(rest);
  switch (mode) {
    case FuzzMode::kTcpSegment:
      CheckTcpSegment(rest, TestV4(1), TestV4(2));
      break;
    case FuzzMode::kTcpOptionBlock:
      CheckTcpOptionBlock(rest);
      break;
    case FuzzMode::kMptcpOption:
      CheckMptcpOptionBytes(rest);
      break;
    case FuzzMode::kIpPacket:
      CheckIpPacket(rest);
      break;
    case FuzzMode::kMptcpRepr:
      CheckMptcpRepr(ReadMptcpOption(in));
      break;
    case FuzzMode::kTcpIpRepr:
      CheckTcpIpRepr(in);
      break;
    case FuzzMode::kChecksum:
      CheckChecksums(in);
      break;
  }
}

}  // namespace mptcp::fuzz

#endif  // MPTCP_FUZZ_WIRE_CHECKS_H_

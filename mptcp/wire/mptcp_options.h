// Codec for the Multipath TCP option (TCP option kind 30): one plain struct per subtype form of
// RFC 8684 §3 (MPTCP v1) and RFC 6824 §3 (v0), a parser from one whole option's bytes, and an
// allocation-free emitter that reproduces every accepted option byte for byte.
//
// Scope: this is the wire layer only. Rules that need the segment or connection (which TCP
// flags may carry which form, whether checksums were negotiated, whether flag B/H are
// acceptable, what a DATA_FIN without a mapping means) belong to the caller; the parser accepts
// every layout the RFCs define and preserves reserved and meaningless bits so that
// Emit(Parse(b)) == b.
//
// Errors (all with option_kind 30):
//   kTruncated        the span is shorter than 2 bytes, or shorter than its length byte says
//   kBadOptionLength  the length byte is < 2, is smaller than the span, or is 2 (no subtype byte)
//   kBadMptcpLength   a subtype at a length no MPTCP version defines for it (or that its flags
//                     contradict, e.g. DSS, ADD_ADDR's E bit)
//   kBadVersion       a length defined only for another MPTCP version (MP_CAPABLE's own version
//                     nibble; the caller's version for ADD_ADDR and MP_PRIO), or an ADD_ADDR v0
//                     IPVer that does not match the length
//   kUnknownSubtype   subtype 9..15 (incl. MP_EXPERIMENTAL): the caller skips the option
//   kInvalidField     emit only: a value with no encoding (see EmitMptcpOption)
#ifndef MPTCP_WIRE_MPTCP_OPTIONS_H_
#define MPTCP_WIRE_MPTCP_OPTIONS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_format.h"
#include "mptcp/address.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::wire {

// RFC 8684 §8 / IANA "TCP Option Kind Numbers".
inline constexpr uint8_t kMptcpOptionKind = 30;
// RFC 9293 §3.1: the data offset is at most 15 words, so options occupy at most 40 bytes.
inline constexpr size_t kMaxTcpOptionBytes = 40;

// RFC 8684 §8, Table "MPTCP Option Subtypes".
enum class MptcpSubtype : uint8_t {
  kMpCapable = 0,
  kMpJoin = 1,
  kDss = 2,
  kAddAddr = 3,
  kRemoveAddr = 4,
  kMpPrio = 5,
  kMpFail = 6,
  kMpFastclose = 7,
  kMpTcpRst = 8,
  kMpExperimental = 0xf,
};

// The protocol version in use on the connection. ADD_ADDR and MP_PRIO have different layouts
// in v0 and v1 that the bytes alone cannot tell apart, so the parser is told which applies.
enum class MptcpVersion : uint8_t { kV0 = 0, kV1 = 1 };

constexpr const char* MptcpSubtypeName(uint8_t subtype) {
  switch (subtype) {
    case 0: return "MP_CAPABLE";
    case 1: return "MP_JOIN";
    case 2: return "DSS";
    case 3: return "ADD_ADDR";
    case 4: return "REMOVE_ADDR";
    case 5: return "MP_PRIO";
    case 6: return "MP_FAIL";
    case 7: return "MP_FASTCLOSE";
    case 8: return "MP_TCPRST";
    case 0xf: return "MP_EXPERIMENTAL";
  }
  return "unknown";
}

// The subtype nibble of a raw option (kind, length, subtype byte, ...), or nullopt when the
// bytes are too short to hold one. Lets a caller classify or skip an option without parsing it.
constexpr std::optional<uint8_t> PeekMptcpSubtype(std::span<const uint8_t> option) {
  if (option.size() < 3 || option[0] != kMptcpOptionKind) return std::nullopt;
  return static_cast<uint8_t>(option[2] >> 4);
}

// ---------------------------------------------------------------------------------------------
// Reprs. Reserved fields hold the bits the RFC reserves ("MUST be zero" on send, ignored on
// receive); they are kept only so that re-encoding a parsed option gives the same bytes.
// ---------------------------------------------------------------------------------------------

// MP_CAPABLE, RFC 8684 §3.1 (v1) and RFC 6824 §3.1 (v0). The fields present select the form
// and hence the length: none = 4 (v1 SYN), sender_key = 12 (v1 SYN/ACK; v0 SYN and SYN/ACK),
// both keys = 20 (third ACK), + data_len = 22 (v1 ACK with data), + checksum = 24.
struct MpCapable {
  // The flags octet A..H, most significant bit first (RFC 8684 §3.1).
  static constexpr uint8_t kFlagA = 0x80;  // checksum required
  static constexpr uint8_t kFlagB = 0x40;  // extensibility, MUST be 0 today
  static constexpr uint8_t kFlagC = 0x20;  // v1: no further subflows to the source addr/port
  static constexpr uint8_t kFlagH = 0x01;  // v1: HMAC-SHA256; v0: HMAC-SHA1

  uint8_t version = 1;  // the 4-bit version nibble as sent (0..15)
  uint8_t flags = 0;    // raw A..H bits
  std::optional<uint64_t> sender_key{};
  std::optional<uint64_t> receiver_key{};
  std::optional<uint16_t> data_len{};  // Data-Level Length (v1 only)
  std::optional<uint16_t> checksum{};  // DSS checksum as read big-endian (v1 only)

  constexpr bool checksum_required() const { return (flags & kFlagA) != 0; }
  constexpr bool extensibility() const { return (flags & kFlagB) != 0; }
  constexpr bool no_more_subflows() const { return version == 1 && (flags & kFlagC) != 0; }
  constexpr bool hmac_sha256() const { return version == 1 && (flags & kFlagH) != 0; }
  constexpr bool hmac_sha1() const { return version == 0 && (flags & kFlagH) != 0; }

  friend bool operator==(const MpCapable&, const MpCapable&) = default;
};

// MP_JOIN on a SYN, RFC 8684 §3.2: length 12.
struct MpJoinSyn {
  bool backup = false;
  uint8_t address_id = 0;
  uint32_t receiver_token = 0;
  uint32_t sender_nonce = 0;
  uint8_t reserved = 0;  // the 3 bits between subtype and B

  friend bool operator==(const MpJoinSyn&, const MpJoinSyn&) = default;
};

// MP_JOIN on a SYN/ACK, RFC 8684 §3.2: length 16.
struct MpJoinSynAck {
  bool backup = false;
  uint8_t address_id = 0;
  uint64_t truncated_hmac = 0;
  uint32_t sender_nonce = 0;
  uint8_t reserved = 0;  // the 3 bits between subtype and B

  friend bool operator==(const MpJoinSynAck&, const MpJoinSynAck&) = default;
};

// MP_JOIN on the third ACK, RFC 8684 §3.2: length 24.
struct MpJoinAck {
  std::array<uint8_t, 20> hmac{};
  uint16_t reserved = 0;  // 12 bits

  friend bool operator==(const MpJoinAck&, const MpJoinAck&) = default;
};

struct DataAck {
  uint64_t value = 0;
  bool is_64bit = false;  // flag 'a'

  friend bool operator==(const DataAck&, const DataAck&) = default;
};

struct DssMapping {
  uint64_t dsn = 0;  // the wire value; 32-bit DSNs are expanded by the caller (seq.h)
  bool dsn_is_64bit = false;  // flag 'm'
  uint32_t subflow_seq = 0;   // relative to the subflow ISN (RFC 8684 §3.3.1)
  uint16_t data_len = 0;      // 0 = infinite mapping (RFC 8684 §3.3.1)
  std::optional<uint16_t> checksum{};  // as read big-endian; presence is inferred from the length

  friend bool operator==(const DssMapping&, const DssMapping&) = default;
};

// Data Sequence Signal, RFC 8684 §3.3. Length = 4 + (A ? (a ? 8 : 4) : 0)
// + (M ? (m ? 8 : 4) + 4 + 2 + (checksum ? 2 : 0) : 0).
struct Dss {
  // The low five bits of the second subtype-specific octet (RFC 8684 §3.3).
  static constexpr uint8_t kFlagA = 0x01;  // Data ACK present
  static constexpr uint8_t kFlaga = 0x02;  // Data ACK is 8 octets
  static constexpr uint8_t kFlagM = 0x04;  // mapping present
  static constexpr uint8_t kFlagm = 0x08;  // DSN is 8 octets
  static constexpr uint8_t kFlagF = 0x10;  // DATA_FIN

  // F is kept as sent even without a mapping; such a DATA_FIN carries no DSN, so it cannot
  // signal anything (RFC 8684 §3.3.3) and the connection layer ignores it.
  bool data_fin = false;
  std::optional<DataAck> data_ack{};
  std::optional<DssMapping> mapping{};
  // 'a' without 'A' and 'm' without 'M' (kFlaga / kFlagm only): meaningless, since they size a
  // field that is absent, so the parser accepts them and they are kept for re-encoding.
  uint8_t stray_flags = 0;
  uint8_t reserved = 0;  // the 7 reserved bits, the 4 after the subtype then the 3 before F

  // The F m M a A octet as it goes on the wire (without the reserved bits).
  constexpr uint8_t flags() const {
    uint8_t f = stray_flags;
    if (data_fin) f |= kFlagF;
    if (data_ack) f |= static_cast<uint8_t>(kFlagA | (data_ack->is_64bit ? kFlaga : 0));
    if (mapping) f |= static_cast<uint8_t>(kFlagM | (mapping->dsn_is_64bit ? kFlagm : 0));
    return f;
  }

  friend bool operator==(const Dss&, const Dss&) = default;
};

// ADD_ADDR. v1 (RFC 8684 §3.4.1): E flag; an 8-octet truncated HMAC iff E = 0;
// IPv4 lengths 8/10 (echo, without/with port) and 16/18 (HMAC); IPv6 20/22 and 28/30.
// v0 (RFC 6824 §3.4.1): IPVer nibble (4 or 6), never an HMAC; 8/10 and 20/22.
struct AddAddr {
  bool echo = false;  // v1 only
  uint8_t address_id = 0;
  IpAddress address{};  // v0: IPVer follows the family
  std::optional<uint16_t> port{};
  std::optional<uint64_t> hmac{};  // v1: present iff !echo; v0: never
  uint8_t reserved = 0;          // v1 only: the 3 bits between subtype and E

  friend bool operator==(const AddAddr&, const AddAddr&) = default;
};

// REMOVE_ADDR, RFC 8684 §3.4.2: length 3 + n, n >= 1. A fixed array keeps the Repr
// trivially copyable and allocation-free; 37 IDs fill the whole 40-byte option space.
struct RemoveAddr {
  static constexpr size_t kMaxIds = kMaxTcpOptionBytes - 3;

  std::array<uint8_t, kMaxIds> ids{};
  uint8_t count = 0;     // IDs in use; 1..kMaxIds to be encodable
  uint8_t reserved = 0;  // the 4 bits after the subtype

  static RemoveAddr Of(std::initializer_list<uint8_t> address_ids) {
    RemoveAddr r;
    for (uint8_t id : address_ids) r.Add(id);
    return r;
  }
  // False (and nothing added) when the list is full.
  bool Add(uint8_t id) {
    if (count >= kMaxIds) return false;
    ids[count++] = id;
    return true;
  }
  std::span<const uint8_t> address_ids() const {
    return {ids.data(), std::min<size_t>(count, kMaxIds)};
  }

  friend bool operator==(const RemoveAddr& a, const RemoveAddr& b) {
    return a.count == b.count && a.reserved == b.reserved &&
           std::ranges::equal(a.address_ids(), b.address_ids());
  }
};

// MP_PRIO. v1 (RFC 8684 §3.3.8): length 3, no address ID. v0 (RFC 6824 §3.3.8
//): length 3, or 4 with the address ID of the subflow to change.
struct MpPrio {
  bool backup = false;
  std::optional<uint8_t> address_id{};  // v0 only
  uint8_t reserved = 0;               // the 3 bits between subtype and B

  friend bool operator==(const MpPrio&, const MpPrio&) = default;
};

// MP_FAIL, RFC 8684 §3.7: length 12.
struct MpFail {
  uint64_t dsn = 0;
  uint16_t reserved = 0;  // 12 bits

  friend bool operator==(const MpFail&, const MpFail&) = default;
};

// MP_FASTCLOSE, RFC 8684 §3.5: length 12.
struct MpFastclose {
  uint64_t receiver_key = 0;
  uint16_t reserved = 0;  // 12 bits

  friend bool operator==(const MpFastclose&, const MpFastclose&) = default;
};

// MP_TCPRST reason codes, RFC 8684 §3.6 (IANA "MPTCP MP_TCPRST Reason Codes").
enum class MpTcpRstReason : uint8_t {
  kUnspecified = 0x00,
  kMptcpSpecific = 0x01,
  kLackOfResources = 0x02,
  kAdministrativelyProhibited = 0x03,
  kTooMuchOutstandingData = 0x04,
  kUnacceptablePerformance = 0x05,
  kMiddleboxInterference = 0x06,
};

constexpr const char* MpTcpRstReasonName(uint8_t reason) {
  switch (reason) {
    case 0x00: return "Unspecified error";
    case 0x01: return "MPTCP-specific error";
    case 0x02: return "Lack of resources";
    case 0x03: return "Administratively prohibited";
    case 0x04: return "Too much outstanding data";
    case 0x05: return "Unacceptable performance";
    case 0x06: return "Middlebox interference";
  }
  return "Unknown";
}

// MP_TCPRST, RFC 8684 §3.6: length 4.
struct MpTcpRst {
  static constexpr uint8_t kFlagU = 0x8;
  static constexpr uint8_t kFlagV = 0x4;
  static constexpr uint8_t kFlagW = 0x2;
  static constexpr uint8_t kFlagT = 0x1;  // transient: the subflow may be retried

  uint8_t flags = 0;   // U V W T
  uint8_t reason = 0;  // MpTcpRstReason, or an unassigned code kept as sent

  constexpr bool transient() const { return (flags & kFlagT) != 0; }

  friend bool operator==(const MpTcpRst&, const MpTcpRst&) = default;
};

using MptcpOption = std::variant<MpCapable, MpJoinSyn, MpJoinSynAck, MpJoinAck, Dss, AddAddr,
                                 RemoveAddr, MpPrio, MpFail, MpFastclose, MpTcpRst>;

template <typename T>
inline constexpr bool kIsMptcpRepr =
    std::is_same_v<T, MpCapable> || std::is_same_v<T, MpJoinSyn> ||
    std::is_same_v<T, MpJoinSynAck> || std::is_same_v<T, MpJoinAck> || std::is_same_v<T, Dss> ||
    std::is_same_v<T, AddAddr> || std::is_same_v<T, RemoveAddr> || std::is_same_v<T, MpPrio> ||
    std::is_same_v<T, MpFail> || std::is_same_v<T, MpFastclose> || std::is_same_v<T, MpTcpRst>;

constexpr MptcpSubtype SubtypeOf(const MptcpOption& o) {
  constexpr MptcpSubtype kByIndex[] = {
      MptcpSubtype::kMpCapable, MptcpSubtype::kMpJoin,     MptcpSubtype::kMpJoin,
      MptcpSubtype::kMpJoin,    MptcpSubtype::kDss,        MptcpSubtype::kAddAddr,
      MptcpSubtype::kRemoveAddr, MptcpSubtype::kMpPrio,    MptcpSubtype::kMpFail,
      MptcpSubtype::kMpFastclose, MptcpSubtype::kMpTcpRst,
  };
  static_assert(std::size(kByIndex) == std::variant_size_v<MptcpOption>);
  return kByIndex[o.index()];
}

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------

// Parses one whole MPTCP option: `option` runs from the kind byte (30) through the option's
// last byte, as delimited by the TCP option walker, so the length byte must equal its size.
// Never reads outside `option`; never allocates.
inline WireResult<MptcpOption> ParseMptcpOption(std::span<const uint8_t> option,
                                                MptcpVersion version = MptcpVersion::kV1);

// Bytes EmitMptcpOption would write, or 0 when the value has no encoding.
inline size_t EncodedLength(const MptcpOption& option, MptcpVersion version = MptcpVersion::kV1);
template <typename T>
  requires kIsMptcpRepr<T>
size_t EncodedLength(const T& option, MptcpVersion version = MptcpVersion::kV1);

// Writes the option (kind and length bytes included) to the front of `out` and returns the
// bytes written. kBufferTooSmall when `out` is short (nothing written); kInvalidField for a
// value with no encoding: a field wider than its wire slot (version > 15, reserved bits,
// a 32-bit DSN or Data ACK above 2^32 - 1, MP_TCPRST flags > 0xf), an MP_CAPABLE field
// combination with no form (receiver key without sender key, ...) or not defined for its
// version, ADD_ADDR with echo == has HMAC (v1) or with echo/HMAC (v0), MP_PRIO with an address
// ID in v1, REMOVE_ADDR with 0 or more than 37 IDs, DSS stray flags that clash with a present
// field. Never allocates.
inline WireResult<size_t> EmitMptcpOption(const MptcpOption& option, std::span<uint8_t> out,
                                          MptcpVersion version = MptcpVersion::kV1);
template <typename T>
  requires kIsMptcpRepr<T>
WireResult<size_t> EmitMptcpOption(const T& option, std::span<uint8_t> out,
                                   MptcpVersion version = MptcpVersion::kV1);

// One line with Wireshark's field names, for logs and test messages.
inline std::string ToString(const MptcpOption& option);

template <typename T>
  requires kIsMptcpRepr<T>
std::ostream& operator<<(std::ostream& os, const T& option) {
  return os << ToString(MptcpOption(option));
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

namespace detail {

// Big-endian helpers, private to this codec (bytes.h offers the same for the other codecs).
constexpr uint16_t MptcpLoad16(const uint8_t* p) {
  return static_cast<uint16_t>(uint16_t{p[0]} << 8 | uint16_t{p[1]});
}
constexpr uint32_t MptcpLoad32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}
constexpr uint64_t MptcpLoad64(const uint8_t* p) {
  return uint64_t{MptcpLoad32(p)} << 32 | uint64_t{MptcpLoad32(p + 4)};
}
constexpr void MptcpStore16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
constexpr void MptcpStore32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
constexpr void MptcpStore64(uint8_t* p, uint64_t v) {
  MptcpStore32(p, static_cast<uint32_t>(v >> 32));
  MptcpStore32(p + 4, static_cast<uint32_t>(v));
}

constexpr WireError MptcpError(WireErrorCode code, uint8_t subtype, size_t length) {
  return WireError{code, kMptcpOptionKind, subtype,
                   static_cast<uint16_t>(std::min<size_t>(length, 0xffff))};
}
constexpr uint8_t SubtypeNumber(MptcpSubtype s) { return static_cast<uint8_t>(s); }

template <typename T>
inline constexpr MptcpSubtype kSubtypeOf =
    std::is_same_v<T, MpCapable>     ? MptcpSubtype::kMpCapable
    : std::is_same_v<T, Dss>         ? MptcpSubtype::kDss
    : std::is_same_v<T, AddAddr>     ? MptcpSubtype::kAddAddr
    : std::is_same_v<T, RemoveAddr>  ? MptcpSubtype::kRemoveAddr
    : std::is_same_v<T, MpPrio>      ? MptcpSubtype::kMpPrio
    : std::is_same_v<T, MpFail>      ? MptcpSubtype::kMpFail
    : std::is_same_v<T, MpFastclose> ? MptcpSubtype::kMpFastclose
    : std::is_same_v<T, MpTcpRst>    ? MptcpSubtype::kMpTcpRst
                                     : MptcpSubtype::kMpJoin;  // the three MP_JOIN forms

// RFC 8684 §3.1: 4 (SYN), 12 (SYN/ACK), 20 (ACK), 22 (ACK + data), 24 (+ checksum).
// RFC 6824 §3.1: 12 (SYN and SYN/ACK), 20 (ACK).
constexpr bool IsMpCapableLength(size_t len) {
  return len == 4 || len == 12 || len == 20 || len == 22 || len == 24;
}
// Whether MP_CAPABLE version `v` has a form of length `len` (len already one of the above).
// Versions >= 2 are only meaningful in a 4-byte SYN: a v1 host answers such an offer with v1
// (RFC 8684 §3.1), so only that form is accepted (as Linux does).
constexpr bool MpCapableVersionHasLength(uint8_t version, size_t len) {
  if (version == 0) return len == 12 || len == 20;
  if (version == 1) return true;
  return len == 4;
}
// Length implied by which optional fields are set; 0 when the combination has no form.
constexpr size_t MpCapableShapeLength(const MpCapable& m) {
  if (!m.sender_key) return (m.receiver_key || m.data_len || m.checksum) ? 0 : 4;
  if (!m.receiver_key) return (m.data_len || m.checksum) ? 0 : 12;
  if (!m.data_len) return m.checksum ? 0 : 20;
  return m.checksum ? 24 : 22;
}

constexpr size_t DssLength(bool has_ack, bool ack64, bool has_map, bool dsn64, bool csum) {
  size_t n = 4;
  if (has_ack) n += ack64 ? 8 : 4;
  if (has_map) n += (dsn64 ? 8 : 4) + 4 + 2 + (csum ? 2 : 0);
  return n;
}

// ---- parse, one function per subtype; `len` == option size, >= 3 ----

inline WireResult<MptcpOption> ParseMpCapable(const uint8_t* p, size_t len) {
  constexpr uint8_t kSub = SubtypeNumber(MptcpSubtype::kMpCapable);
  if (!IsMpCapableLength(len)) return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
  const uint8_t version = p[2] & 0x0f;
  if (!MpCapableVersionHasLength(version, len)) {
    return MptcpError(WireErrorCode::kBadVersion, kSub, len);
  }
  MpCapable m;
  m.version = version;
  m.flags = p[3];
  if (len >= 12) m.sender_key = MptcpLoad64(p + 4);
  if (len >= 20) m.receiver_key = MptcpLoad64(p + 12);
  // RFC 8684 §3.1: "Data-Level Length" and an optional checksum on the first data packet;
  // checksum presence follows from the length, not from flag A (Linux does the same).
  if (len >= 22) m.data_len = MptcpLoad16(p + 20);
  if (len == 24) m.checksum = MptcpLoad16(p + 22);
  return MptcpOption(m);
}

inline WireResult<MptcpOption> ParseMpJoin(const uint8_t* p, size_t len) {
  // RFC 8684 §3.2: 12 on the SYN, 16 on the SYN/ACK, 24 on the third ACK.
  switch (len) {
    case 12: {
      MpJoinSyn j;
      j.reserved = (p[2] >> 1) & 0x07;
      j.backup = (p[2] & 0x01) != 0;
      j.address_id = p[3];
      j.receiver_token = MptcpLoad32(p + 4);
      j.sender_nonce = MptcpLoad32(p + 8);
      return MptcpOption(j);
    }
    case 16: {
      MpJoinSynAck j;
      j.reserved = (p[2] >> 1) & 0x07;
      j.backup = (p[2] & 0x01) != 0;
      j.address_id = p[3];
      j.truncated_hmac = MptcpLoad64(p + 4);
      j.sender_nonce = MptcpLoad32(p + 12);
      return MptcpOption(j);
    }
    case 24: {
      MpJoinAck j;
      j.reserved = static_cast<uint16_t>((p[2] & 0x0f) << 8 | p[3]);
      std::copy_n(p + 4, j.hmac.size(), j.hmac.begin());
      return MptcpOption(j);
    }
  }
  return MptcpError(WireErrorCode::kBadMptcpLength, SubtypeNumber(MptcpSubtype::kMpJoin), len);
}

inline WireResult<MptcpOption> ParseDss(const uint8_t* p, size_t len) {
  constexpr uint8_t kSub = SubtypeNumber(MptcpSubtype::kDss);
  // RFC 8684 §3.3: the flags octet is the 4th byte.
  if (len < 4) return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
  const uint8_t f = p[3];
  const bool has_ack = (f & Dss::kFlagA) != 0;
  const bool ack64 = (f & Dss::kFlaga) != 0;
  const bool has_map = (f & Dss::kFlagM) != 0;
  const bool dsn64 = (f & Dss::kFlagm) != 0;
  const size_t base = DssLength(has_ack, ack64, has_map, dsn64, false);
  // RFC 8684 §3.3: the checksum is part of the mapping and present iff negotiated, so it can
  // only be inferred from the length (as Linux does). Without M there is no checksum slot:
  // Linux tolerates 2 extra bytes there, this codec rejects them.
  bool has_csum = false;
  if (len != base) {
    if (!has_map || len != base + 2) return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
    has_csum = true;
  }
  Dss d;
  d.reserved = static_cast<uint8_t>((p[2] & 0x0f) << 3 | f >> 5);
  d.data_fin = (f & Dss::kFlagF) != 0;
  d.stray_flags = static_cast<uint8_t>((has_ack ? 0 : (f & Dss::kFlaga)) |
                                       (has_map ? 0 : (f & Dss::kFlagm)));
  const uint8_t* q = p + 4;
  if (has_ack) {
    DataAck a;
    a.is_64bit = ack64;
    a.value = ack64 ? MptcpLoad64(q) : MptcpLoad32(q);
    q += ack64 ? 8 : 4;
    d.data_ack = a;
  }
  if (has_map) {
    DssMapping m;
    m.dsn_is_64bit = dsn64;
    m.dsn = dsn64 ? MptcpLoad64(q) : MptcpLoad32(q);
    q += dsn64 ? 8 : 4;
    m.subflow_seq = MptcpLoad32(q);
    m.data_len = MptcpLoad16(q + 4);
    if (has_csum) m.checksum = MptcpLoad16(q + 6);
    d.mapping = m;
  }
  return MptcpOption(d);
}

inline WireResult<MptcpOption> ParseAddAddr(const uint8_t* p, size_t len, MptcpVersion version) {
  constexpr uint8_t kSub = SubtypeNumber(MptcpSubtype::kAddAddr);
  AddAddr a;
  bool v6 = false;
  if (version == MptcpVersion::kV0) {
    // RFC 6824 §3.4.1: IPv4 8 (10 with port), IPv6 20 (22); the IPVer nibble must agree.
    switch (len) {
      case 8: case 10: v6 = false; break;
      case 20: case 22: v6 = true; break;
      case 16: case 18: case 28: case 30:  // v1-only (HMAC) forms
        return MptcpError(WireErrorCode::kBadVersion, kSub, len);
      default:
        return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
    }
    if ((p[2] & 0x0f) != (v6 ? 6 : 4)) return MptcpError(WireErrorCode::kBadVersion, kSub, len);
  } else {
    // RFC 8684 §3.4.1: E = 1 (echo, no HMAC): 8/10 IPv4, 20/22 IPv6;
    // E = 0 (8-octet truncated HMAC): 16/18 IPv4, 28/30 IPv6.
    a.echo = (p[2] & 0x01) != 0;
    a.reserved = (p[2] >> 1) & 0x07;
    const size_t body = a.echo ? len : len - 8;
    if ((!a.echo && len < 16) || (body != 8 && body != 10 && body != 20 && body != 22)) {
      return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
    }
    v6 = body >= 20;
  }
  a.address_id = p[3];
  a.address = v6 ? IpAddress::V6FromBytes(p + 4) : IpAddress::V4FromBytes(p + 4);
  const uint8_t* q = p + 4 + (v6 ? 16 : 4);
  const size_t without_port = (v6 ? 20 : 8) + (a.echo || version == MptcpVersion::kV0 ? 0 : 8);
  if (len == without_port + 2) {
    a.port = MptcpLoad16(q);
    q += 2;
  }
  if (version == MptcpVersion::kV1 && !a.echo) a.hmac = MptcpLoad64(q);
  return MptcpOption(a);
}

inline WireResult<MptcpOption> ParseRemoveAddr(const uint8_t* p, size_t len) {
  // RFC 8684 §3.4.2: length 3 + n with n >= 1; the option space caps n at 37. (Linux accepts
  // at most 8 IDs, MPTCP_RM_IDS_MAX; that is a local limit, not the RFC's.)
  if (len < 4 || len > kMaxTcpOptionBytes) {
    return MptcpError(WireErrorCode::kBadMptcpLength, SubtypeNumber(MptcpSubtype::kRemoveAddr),
                      len);
  }
  RemoveAddr r;
  r.reserved = p[2] & 0x0f;
  r.count = static_cast<uint8_t>(len - 3);
  std::copy_n(p + 3, r.count, r.ids.begin());
  return MptcpOption(r);
}

inline WireResult<MptcpOption> ParseMpPrio(const uint8_t* p, size_t len, MptcpVersion version) {
  constexpr uint8_t kSub = SubtypeNumber(MptcpSubtype::kMpPrio);
  // RFC 8684 §3.3.8: length 3. RFC 6824 §3.3.8: 3, or 4 with an address ID, a form v1
  // dropped. (Linux, v1 only, accepts just 3; Wireshark reads the ID when the length is 4.)
  if (len != 3 && len != 4) return MptcpError(WireErrorCode::kBadMptcpLength, kSub, len);
  if (len == 4 && version == MptcpVersion::kV1) {
    return MptcpError(WireErrorCode::kBadVersion, kSub, len);
  }
  MpPrio m;
  m.reserved = (p[2] >> 1) & 0x07;
  m.backup = (p[2] & 0x01) != 0;
  if (len == 4) m.address_id = p[3];
  return MptcpOption(m);
}

inline WireResult<MptcpOption> ParseMpFail(const uint8_t* p, size_t len) {
  // RFC 8684 §3.7: 12 bits reserved, then the 64-bit DSN; length 12.
  if (len != 12) {
    return MptcpError(WireErrorCode::kBadMptcpLength, SubtypeNumber(MptcpSubtype::kMpFail), len);
  }
  MpFail m;
  m.reserved = static_cast<uint16_t>((p[2] & 0x0f) << 8 | p[3]);
  m.dsn = MptcpLoad64(p + 4);
  return MptcpOption(m);
}

inline WireResult<MptcpOption> ParseMpFastclose(const uint8_t* p, size_t len) {
  // RFC 8684 §3.5: 12 bits reserved, then the receiver's key; length 12.
  if (len != 12) {
    return MptcpError(WireErrorCode::kBadMptcpLength, SubtypeNumber(MptcpSubtype::kMpFastclose),
                      len);
  }
  MpFastclose m;
  m.reserved = static_cast<uint16_t>((p[2] & 0x0f) << 8 | p[3]);
  m.receiver_key = MptcpLoad64(p + 4);
  return MptcpOption(m);
}

inline WireResult<MptcpOption> ParseMpTcpRst(const uint8_t* p, size_t len) {
  // RFC 8684 §3.6: U V W T flags and a reason octet; length 4. (Only meaningful on
  // a RST segment; that check is the caller's.) Defined by v1 only, but harmless to decode
  // under v0 too.
  if (len != 4) {
    return MptcpError(WireErrorCode::kBadMptcpLength, SubtypeNumber(MptcpSubtype::kMpTcpRst),
                      len);
  }
  MpTcpRst r;
  r.flags = p[2] & 0x0f;
  r.reason = p[3];
  return MptcpOption(r);
}

// ---- emit: validation + length, then writing ----

inline WireError InvalidField(MptcpSubtype s, size_t len) {
  return MptcpError(WireErrorCode::kInvalidField, SubtypeNumber(s), len);
}

inline WireResult<size_t> CheckedLength(const MpCapable& m, MptcpVersion) {
  const size_t len = MpCapableShapeLength(m);
  if (len == 0 || m.version > 0x0f || !MpCapableVersionHasLength(m.version, len)) {
    return InvalidField(MptcpSubtype::kMpCapable, len);
  }
  return len;
}
inline WireResult<size_t> CheckedLength(const MpJoinSyn& j, MptcpVersion) {
  if (j.reserved > 0x07) return InvalidField(MptcpSubtype::kMpJoin, 12);
  return size_t{12};
}
inline WireResult<size_t> CheckedLength(const MpJoinSynAck& j, MptcpVersion) {
  if (j.reserved > 0x07) return InvalidField(MptcpSubtype::kMpJoin, 16);
  return size_t{16};
}
inline WireResult<size_t> CheckedLength(const MpJoinAck& j, MptcpVersion) {
  if (j.reserved > 0x0fff) return InvalidField(MptcpSubtype::kMpJoin, 24);
  return size_t{24};
}
inline WireResult<size_t> CheckedLength(const Dss& d, MptcpVersion) {
  const size_t len = DssLength(d.data_ack.has_value(), d.data_ack && d.data_ack->is_64bit,
                               d.mapping.has_value(), d.mapping && d.mapping->dsn_is_64bit,
                               d.mapping && d.mapping->checksum.has_value());
  constexpr uint64_t k32 = std::numeric_limits<uint32_t>::max();
  const bool bad =
      d.reserved > 0x7f || (d.stray_flags & ~(Dss::kFlaga | Dss::kFlagm)) != 0 ||
      (d.data_ack && (d.stray_flags & Dss::kFlaga)) ||
      (d.mapping && (d.stray_flags & Dss::kFlagm)) ||
      (d.data_ack && !d.data_ack->is_64bit && d.data_ack->value > k32) ||
      (d.mapping && !d.mapping->dsn_is_64bit && d.mapping->dsn > k32);
  if (bad) return InvalidField(MptcpSubtype::kDss, len);
  return len;
}
inline WireResult<size_t> CheckedLength(const AddAddr& a, MptcpVersion version) {
  size_t len = 4 + a.address.size() + (a.port ? 2 : 0);
  if (version == MptcpVersion::kV0) {
    // RFC 6824 §3.4.1 has neither echo nor HMAC; its nibble is IPVer, so no reserved bits.
    if (a.echo || a.hmac || a.reserved != 0) return InvalidField(MptcpSubtype::kAddAddr, len);
    return len;
  }
  if (a.hmac) len += 8;
  // RFC 8684 §3.4.1: the HMAC is present exactly when E = 0.
  if (a.echo == a.hmac.has_value() || a.reserved > 0x07) {
    return InvalidField(MptcpSubtype::kAddAddr, len);
  }
  return len;
}
inline WireResult<size_t> CheckedLength(const RemoveAddr& r, MptcpVersion) {
  const size_t len = 3 + size_t{r.count};
  if (r.count == 0 || r.count > RemoveAddr::kMaxIds || r.reserved > 0x0f) {
    return InvalidField(MptcpSubtype::kRemoveAddr, len);
  }
  return len;
}
inline WireResult<size_t> CheckedLength(const MpPrio& m, MptcpVersion version) {
  const size_t len = m.address_id ? 4 : 3;
  if (m.reserved > 0x07 || (m.address_id && version == MptcpVersion::kV1)) {
    return InvalidField(MptcpSubtype::kMpPrio, len);
  }
  return len;
}
inline WireResult<size_t> CheckedLength(const MpFail& m, MptcpVersion) {
  if (m.reserved > 0x0fff) return InvalidField(MptcpSubtype::kMpFail, 12);
  return size_t{12};
}
inline WireResult<size_t> CheckedLength(const MpFastclose& m, MptcpVersion) {
  if (m.reserved > 0x0fff) return InvalidField(MptcpSubtype::kMpFastclose, 12);
  return size_t{12};
}
inline WireResult<size_t> CheckedLength(const MpTcpRst& r, MptcpVersion) {
  if (r.flags > 0x0f) return InvalidField(MptcpSubtype::kMpTcpRst, 4);
  return size_t{4};
}

// Writers: `p` has room for the CheckedLength() bytes, and the value passed CheckedLength.
inline void WriteHeader(uint8_t* p, size_t len, MptcpSubtype s, uint8_t low_nibble) {
  p[0] = kMptcpOptionKind;
  p[1] = static_cast<uint8_t>(len);
  p[2] = static_cast<uint8_t>(SubtypeNumber(s) << 4 | (low_nibble & 0x0f));
}

inline void Write(const MpCapable& m, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpCapable, m.version);
  p[3] = m.flags;
  if (m.sender_key) MptcpStore64(p + 4, *m.sender_key);
  if (m.receiver_key) MptcpStore64(p + 12, *m.receiver_key);
  if (m.data_len) MptcpStore16(p + 20, *m.data_len);
  if (m.checksum) MptcpStore16(p + 22, *m.checksum);
}
inline void Write(const MpJoinSyn& j, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpJoin,
              static_cast<uint8_t>(j.reserved << 1 | (j.backup ? 1 : 0)));
  p[3] = j.address_id;
  MptcpStore32(p + 4, j.receiver_token);
  MptcpStore32(p + 8, j.sender_nonce);
}
inline void Write(const MpJoinSynAck& j, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpJoin,
              static_cast<uint8_t>(j.reserved << 1 | (j.backup ? 1 : 0)));
  p[3] = j.address_id;
  MptcpStore64(p + 4, j.truncated_hmac);
  MptcpStore32(p + 12, j.sender_nonce);
}
inline void Write(const MpJoinAck& j, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpJoin, static_cast<uint8_t>(j.reserved >> 8));
  p[3] = static_cast<uint8_t>(j.reserved);
  std::copy(j.hmac.begin(), j.hmac.end(), p + 4);
}
inline void Write(const Dss& d, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kDss, static_cast<uint8_t>(d.reserved >> 3));
  p[3] = static_cast<uint8_t>((d.reserved & 0x07) << 5 | d.flags());
  uint8_t* q = p + 4;
  if (d.data_ack) {
    if (d.data_ack->is_64bit) {
      MptcpStore64(q, d.data_ack->value);
      q += 8;
    } else {
      MptcpStore32(q, static_cast<uint32_t>(d.data_ack->value));
      q += 4;
    }
  }
  if (d.mapping) {
    const DssMapping& m = *d.mapping;
    if (m.dsn_is_64bit) {
      MptcpStore64(q, m.dsn);
      q += 8;
    } else {
      MptcpStore32(q, static_cast<uint32_t>(m.dsn));
      q += 4;
    }
    MptcpStore32(q, m.subflow_seq);
    MptcpStore16(q + 4, m.data_len);
    if (m.checksum) MptcpStore16(q + 6, *m.checksum);
  }
}
inline void Write(const AddAddr& a, uint8_t* p, size_t len, MptcpVersion version) {
  const uint8_t nibble =
      version == MptcpVersion::kV0
          ? static_cast<uint8_t>(a.address.is_v6() ? 6 : 4)
          : static_cast<uint8_t>(a.reserved << 1 | (a.echo ? 1 : 0));
  WriteHeader(p, len, MptcpSubtype::kAddAddr, nibble);
  p[3] = a.address_id;
  std::copy_n(a.address.data(), a.address.size(), p + 4);
  uint8_t* q = p + 4 + a.address.size();
  if (a.port) {
    MptcpStore16(q, *a.port);
    q += 2;
  }
  if (a.hmac) MptcpStore64(q, *a.hmac);
}
inline void Write(const RemoveAddr& r, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kRemoveAddr, r.reserved);
  std::copy_n(r.ids.begin(), r.count, p + 3);
}
inline void Write(const MpPrio& m, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpPrio,
              static_cast<uint8_t>(m.reserved << 1 | (m.backup ? 1 : 0)));
  if (m.address_id) p[3] = *m.address_id;
}
inline void Write(const MpFail& m, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpFail, static_cast<uint8_t>(m.reserved >> 8));
  p[3] = static_cast<uint8_t>(m.reserved);
  MptcpStore64(p + 4, m.dsn);
}
inline void Write(const MpFastclose& m, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpFastclose, static_cast<uint8_t>(m.reserved >> 8));
  p[3] = static_cast<uint8_t>(m.reserved);
  MptcpStore64(p + 4, m.receiver_key);
}
inline void Write(const MpTcpRst& r, uint8_t* p, size_t len, MptcpVersion) {
  WriteHeader(p, len, MptcpSubtype::kMpTcpRst, r.flags);
  p[3] = r.reason;
}

inline std::string HexBytes(std::span<const uint8_t> b) {
  std::string s;
  for (uint8_t x : b) absl::StrAppendFormat(&s, "%02x", x);
  return s;
}

inline std::string Describe(const MpCapable& m) {
  std::string s = absl::StrFormat("MP_CAPABLE: Version=%u, Flags=0x%02x", m.version, m.flags);
  if (m.flags != 0) {
    s += " [";
    const char* sep = "";
    for (int bit = 7; bit >= 0; --bit) {
      if (m.flags & (1u << bit)) {
        absl::StrAppendFormat(&s, "%s%c", sep, static_cast<char>('A' + (7 - bit)));
        sep = ",";
      }
    }
    s += "]";
  }
  if (m.sender_key) absl::StrAppendFormat(&s, ", Sender's Key=0x%016x", *m.sender_key);
  if (m.receiver_key) absl::StrAppendFormat(&s, ", Receiver's Key=0x%016x", *m.receiver_key);
  if (m.data_len) absl::StrAppendFormat(&s, ", Data-level Length=%u", *m.data_len);
  if (m.checksum) absl::StrAppendFormat(&s, ", Checksum=0x%04x", *m.checksum);
  return s;
}
inline std::string Describe(const MpJoinSyn& j) {
  return absl::StrFormat(
      "MP_JOIN SYN: Backup=%d, Address ID=%u, Receiver's Token=0x%08x, Sender's Random "
      "Number=0x%08x%s",
      j.backup, j.address_id, j.receiver_token, j.sender_nonce,
      j.reserved ? absl::StrFormat(", Reserved=0x%x", j.reserved) : "");
}
inline std::string Describe(const MpJoinSynAck& j) {
  return absl::StrFormat(
      "MP_JOIN SYN/ACK: Backup=%d, Address ID=%u, Sender's Truncated HMAC=0x%016x, Sender's "
      "Random Number=0x%08x%s",
      j.backup, j.address_id, j.truncated_hmac, j.sender_nonce,
      j.reserved ? absl::StrFormat(", Reserved=0x%x", j.reserved) : "");
}
inline std::string Describe(const MpJoinAck& j) {
  return absl::StrFormat("MP_JOIN ACK: Sender's HMAC=%s%s", HexBytes(j.hmac),
                         j.reserved ? absl::StrFormat(", Reserved=0x%03x", j.reserved) : "");
}
inline std::string Describe(const Dss& d) {
  const uint8_t f = d.flags();
  std::string s = absl::StrFormat(
      "DSS: Flags=0x%02x [%c%c%c%c%c]", f, (f & Dss::kFlagF) ? 'F' : '.',
      (f & Dss::kFlagm) ? 'm' : '.', (f & Dss::kFlagM) ? 'M' : '.', (f & Dss::kFlaga) ? 'a' : '.',
      (f & Dss::kFlagA) ? 'A' : '.');
  if (d.data_ack) {
    absl::StrAppendFormat(&s, ", Data ACK=%u (%d bits)", d.data_ack->value,
                          d.data_ack->is_64bit ? 64 : 32);
  }
  if (d.mapping) {
    const DssMapping& m = *d.mapping;
    absl::StrAppendFormat(&s,
                          ", Data Sequence Number=%u (%d bits), Subflow Sequence Number=%u, "
                          "Data-level Length=%u",
                          m.dsn, m.dsn_is_64bit ? 64 : 32, m.subflow_seq, m.data_len);
    if (m.checksum) absl::StrAppendFormat(&s, ", Checksum=0x%04x", *m.checksum);
  }
  if (d.reserved) absl::StrAppendFormat(&s, ", Reserved=0x%02x", d.reserved);
  return s;
}
inline std::string Describe(const AddAddr& a) {
  std::string s = absl::StrFormat("ADD_ADDR: Echo=%d, Address ID=%u, %s=%s", a.echo,
                                  a.address_id, a.address.is_v6() ? "IPv6" : "IPv4",
                                  a.address.ToString());
  if (a.port) absl::StrAppendFormat(&s, ", Port=%u", *a.port);
  if (a.hmac) absl::StrAppendFormat(&s, ", Truncated HMAC=0x%016x", *a.hmac);
  if (a.reserved) absl::StrAppendFormat(&s, ", Reserved=0x%x", a.reserved);
  return s;
}
inline std::string Describe(const RemoveAddr& r) {
  std::string s = absl::StrFormat("REMOVE_ADDR: Number of removed addresses=%u, Address ID=",
                                  r.address_ids().size());
  const char* sep = "";
  for (uint8_t id : r.address_ids()) {
    absl::StrAppendFormat(&s, "%s%u", sep, id);
    sep = ",";
  }
  if (r.reserved) absl::StrAppendFormat(&s, ", Reserved=0x%x", r.reserved);
  return s;
}
inline std::string Describe(const MpPrio& m) {
  std::string s = absl::StrFormat("MP_PRIO: Backup=%d", m.backup);
  if (m.address_id) absl::StrAppendFormat(&s, ", Address ID=%u", *m.address_id);
  if (m.reserved) absl::StrAppendFormat(&s, ", Reserved=0x%x", m.reserved);
  return s;
}
inline std::string Describe(const MpFail& m) {
  return absl::StrFormat("MP_FAIL: Data Sequence Number=%u%s", m.dsn,
                         m.reserved ? absl::StrFormat(", Reserved=0x%03x", m.reserved) : "");
}
inline std::string Describe(const MpFastclose& m) {
  return absl::StrFormat("MP_FASTCLOSE: Receiver's Key=0x%016x%s", m.receiver_key,
                         m.reserved ? absl::StrFormat(", Reserved=0x%03x", m.reserved) : "");
}
inline std::string Describe(const MpTcpRst& r) {
  return absl::StrFormat("MP_TCPRST: Flags=0x%x [%c%c%c%c], Reason=%u (%s)", r.flags,
                         (r.flags & MpTcpRst::kFlagU) ? 'U' : '.',
                         (r.flags & MpTcpRst::kFlagV) ? 'V' : '.',
                         (r.flags & MpTcpRst::kFlagW) ? 'W' : '.',
                         (r.flags & MpTcpRst::kFlagT) ? 'T' : '.', r.reason,
                         MpTcpRstReasonName(r.reason));
}

}  // namespace detail

inline WireResult<MptcpOption> ParseMptcpOption(std::span<const uint8_t> option,
                                                MptcpVersion version) {
  using detail::MptcpError;
  const size_t size = option.size();
  // The option walker hands over at least kind and length (RFC 9293 §3.1).
  if (size < 2) return MptcpError(WireErrorCode::kTruncated, WireError::kNoSubtype, size);
  if (option[0] != kMptcpOptionKind) {
    return WireError{WireErrorCode::kInvalidField, option[0], WireError::kNoSubtype,
                     static_cast<uint16_t>(std::min<size_t>(size, 0xffff))};
  }
  const size_t len = option[1];
  const uint8_t subtype = size >= 3 ? static_cast<uint8_t>(option[2] >> 4) : WireError::kNoSubtype;
  // RFC 9293 §3.1: the length octet counts kind and length, so it is >= 2; and it must span
  // exactly the bytes the walker delimited.
  if (len < 2) return MptcpError(WireErrorCode::kBadOptionLength, subtype, len);
  if (len > size) return MptcpError(WireErrorCode::kTruncated, subtype, len);
  if (len < size) return MptcpError(WireErrorCode::kBadOptionLength, subtype, len);
  // RFC 8684 §3: every MPTCP option carries at least the subtype octet.
  if (len < 3) return MptcpError(WireErrorCode::kBadOptionLength, WireError::kNoSubtype, len);

  const uint8_t* p = option.data();
  switch (static_cast<MptcpSubtype>(subtype)) {
    case MptcpSubtype::kMpCapable: return detail::ParseMpCapable(p, len);
    case MptcpSubtype::kMpJoin: return detail::ParseMpJoin(p, len);
    case MptcpSubtype::kDss: return detail::ParseDss(p, len);
    case MptcpSubtype::kAddAddr: return detail::ParseAddAddr(p, len, version);
    case MptcpSubtype::kRemoveAddr: return detail::ParseRemoveAddr(p, len);
    case MptcpSubtype::kMpPrio: return detail::ParseMpPrio(p, len, version);
    case MptcpSubtype::kMpFail: return detail::ParseMpFail(p, len);
    case MptcpSubtype::kMpFastclose: return detail::ParseMpFastclose(p, len);
    case MptcpSubtype::kMpTcpRst: return detail::ParseMpTcpRst(p, len);
    case MptcpSubtype::kMpExperimental: break;
  }
  // RFC 8684 §8: subtypes 9..14 are unassigned and 15 is MP_EXPERIMENTAL, with no layout
  // here; the typed error lets the caller skip the option knowingly (Linux ignores them too).
  return MptcpError(WireErrorCode::kUnknownSubtype, subtype, len);
}

template <typename T>
  requires kIsMptcpRepr<T>
size_t EncodedLength(const T& option, MptcpVersion version) {
  const WireResult<size_t> len = detail::CheckedLength(option, version);
  return len.ok() ? *len : 0;
}

inline size_t EncodedLength(const MptcpOption& option, MptcpVersion version) {
  return std::visit([version](const auto& o) { return EncodedLength(o, version); }, option);
}

template <typename T>
  requires kIsMptcpRepr<T>
WireResult<size_t> EmitMptcpOption(const T& option, std::span<uint8_t> out, MptcpVersion version) {
  const WireResult<size_t> len = detail::CheckedLength(option, version);
  if (!len.ok()) return len;
  if (out.size() < *len) {
    return detail::MptcpError(WireErrorCode::kBufferTooSmall,
                              detail::SubtypeNumber(detail::kSubtypeOf<T>), out.size());
  }
  detail::Write(option, out.data(), *len, version);
  return *len;
}

inline WireResult<size_t> EmitMptcpOption(const MptcpOption& option, std::span<uint8_t> out,
                                          MptcpVersion version) {
  return std::visit([&](const auto& o) { return EmitMptcpOption(o, out, version); }, option);
}

inline std::string ToString(const MptcpOption& option) {
  return std::visit([](const auto& o) { return detail::Describe(o); }, option);
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_MPTCP_OPTIONS_H_

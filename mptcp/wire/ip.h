// IPv4 (RFC 791) and IPv6 (RFC 8200) headers: checked views over received bytes, and IpRepr,
// the parsed form the stack reads and emits (header only; the payload is the caller's).
#ifndef MPTCP_WIRE_IP_H_
#define MPTCP_WIRE_IP_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "mptcp/address.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::wire {

inline constexpr size_t kIpv4MinHeaderLength = 20;
inline constexpr size_t kIpv6HeaderLength = 40;

// A validated IPv4 header. After Check() succeeds every accessor is in bounds: the buffer holds
// at least `total_length()` bytes, and `header_length()` <= `total_length()`.
class Ipv4HeaderView {
 public:
  // RFC 791 §3.1. Rejects: < 20 bytes (kTruncated); version != 4 (kBadVersion); IHL < 5, or
  // IHL*4 > total length, or total length > buffer (kBadHeaderLength); a header checksum that
  // does not verify (kBadChecksum). Bytes past the total length (link-layer padding) are
  // ignored. Fragments are accepted here; see ParseIpPacket.
  static WireResult<Ipv4HeaderView> Check(std::span<const uint8_t> packet) {
    if (packet.size() < kIpv4MinHeaderLength) {
      return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(packet.size())};
    }
    const uint8_t* p = packet.data();
    if ((p[0] >> 4) != 4) {
      return WireError{WireErrorCode::kBadVersion, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(p[0] >> 4)};
    }
    const size_t header_len = size_t{p[0] & 0x0fu} * 4;
    const uint16_t total_len = LoadBe16(p + 2);
    if (header_len < kIpv4MinHeaderLength) {
      return WireError{WireErrorCode::kBadHeaderLength, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(header_len)};
    }
    if (total_len < header_len || total_len > packet.size()) {
      return WireError{WireErrorCode::kBadHeaderLength, 0, WireError::kNoSubtype, total_len};
    }
    // RFC 791 §3.1 / RFC 1071: the sum over the header including its checksum is zero.
    if (InternetChecksum::Compute(packet.first(header_len)) != 0) {
      return WireError{WireErrorCode::kBadChecksum, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(header_len)};
    }
    return Ipv4HeaderView(packet.first(total_len));
  }

  uint8_t version() const { return p()[0] >> 4; }
  size_t header_length() const { return size_t{p()[0] & 0x0fu} * 4; }
  uint8_t tos() const { return p()[1]; }  // DSCP (6 bits) + ECN (2 bits), RFC 2474 / 3168
  uint16_t total_length() const { return LoadBe16(p() + 2); }
  uint16_t ident() const { return LoadBe16(p() + 4); }
  bool dont_fragment() const { return (p()[6] & 0x40) != 0; }
  bool more_fragments() const { return (p()[6] & 0x20) != 0; }
  uint16_t fragment_offset() const { return LoadBe16(p() + 6) & 0x1fff; }  // 8-byte units
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
  uint8_t ttl() const { return p()[8]; }
  uint8_t protocol() const { return p()[9]; }
  uint16_t header_checksum() const { return LoadBe16(p() + 10); }
  IpAddress src() const { return IpAddress::V4FromBytes(p() + 12); }
  IpAddress dst() const { return IpAddress::V4FromBytes(p() + 16); }
  std::span<const uint8_t> header() const { return packet_.first(header_length()); }
  std::span<const uint8_t> options() const {
    return packet_.subspan(kIpv4MinHeaderLength, header_length() - kIpv4MinHeaderLength);
  }
  std::span<const uint8_t> payload() const { return packet_.subspan(header_length()); }
  // The packet up to its total length.
  std::span<const uint8_t> packet() const { return packet_; }

 private:
  explicit Ipv4HeaderView(std::span<const uint8_t> packet) : packet_(packet) {}
  const uint8_t* p() const { return packet_.data(); }

  std::span<const uint8_t> packet_;
};

// A validated IPv6 fixed header. Extension headers are not walked: `next_header()` is the
// fixed header's field and `payload()` starts right after the 40 bytes.
class Ipv6HeaderView {
 public:
  // RFC 8200 §3. Rejects: < 40 bytes (kTruncated); version != 6 (kBadVersion); 40 + payload
  // length > buffer (kBadHeaderLength). Trailing bytes past the payload length are ignored.
  // A payload length of 0 is taken literally (jumbograms, RFC 2675, are not supported).
  static WireResult<Ipv6HeaderView> Check(std::span<const uint8_t> packet) {
    if (packet.size() < kIpv6HeaderLength) {
      return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(packet.size())};
    }
    const uint8_t* p = packet.data();
    if ((p[0] >> 4) != 6) {
      return WireError{WireErrorCode::kBadVersion, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(p[0] >> 4)};
    }
    const uint16_t payload_len = LoadBe16(p + 4);
    if (kIpv6HeaderLength + payload_len > packet.size()) {
      return WireError{WireErrorCode::kBadHeaderLength, 0, WireError::kNoSubtype, payload_len};
    }
    return Ipv6HeaderView(packet.first(kIpv6HeaderLength + payload_len));
  }

  uint8_t version() const { return p()[0] >> 4; }
  uint8_t traffic_class() const { return static_cast<uint8_t>(LoadBe16(p()) >> 4); }
  uint32_t flow_label() const { return LoadBe32(p()) & 0xfffffu; }
  uint16_t payload_length() const { return LoadBe16(p() + 4); }
  uint8_t next_header() const { return p()[6]; }
  uint8_t hop_limit() const { return p()[7]; }
  IpAddress src() const { return IpAddress::V6FromBytes(p() + 8); }
  IpAddress dst() const { return IpAddress::V6FromBytes(p() + 24); }
  std::span<const uint8_t> header() const { return packet_.first(kIpv6HeaderLength); }
  std::span<const uint8_t> payload() const { return packet_.subspan(kIpv6HeaderLength); }
  std::span<const uint8_t> packet() const { return packet_; }

 private:
  explicit Ipv6HeaderView(std::span<const uint8_t> packet) : packet_(packet) {}
  const uint8_t* p() const { return packet_.data(); }

  std::span<const uint8_t> packet_;
};

struct IpPacket;

// The IP header fields the stack cares about, for either family.
struct IpRepr {
  IpAddress src, dst;
  uint8_t protocol = kIpProtoTcp;  // IPv6: the fixed header's next header
  uint8_t ttl = 64;                // IPv6: hop limit
  uint8_t tos = 0;                 // IPv4 DSCP+ECN, or IPv6 traffic class
  uint16_t ident = 0;              // IPv4 only (parsed as 0 for IPv6)
  bool dont_fragment = true;       // IPv4 only (parsed as true for IPv6, which never
                                   // fragments in the network)
  uint16_t payload_len = 0;        // bytes after the IP header
  uint32_t flow_label = 0;         // IPv6 only, 20 bits (parsed as 0 for IPv4)

  bool operator==(const IpRepr&) const = default;

  // Parses a v4 or v6 packet, dispatching on the version nibble. IPv4 fragments (MF set or a
  // non-zero offset) are rejected with kInvalidField: the sans-IO core does no reassembly, so
  // a fragment must be reassembled (or dropped) before it gets here. That is the only
  // kInvalidField this parse returns; `length` holds the raw flags+offset word's low 16 bits.
  static WireResult<IpPacket> ParseIpPacket(std::span<const uint8_t> packet);

  size_t HeaderLength() const { return src.is_v6() ? kIpv6HeaderLength : kIpv4MinHeaderLength; }
  // Header plus payload_len.
  size_t PacketLength() const { return HeaderLength() + payload_len; }

  // Writes only the header (20 bytes, no options, with its checksum; or 40 bytes) for a payload
  // of payload_len bytes that the caller places right after it. kInvalidField if src and dst
  // differ in family, an IPv4 total length would exceed 65535, or the flow label exceeds 20
  // bits; kBufferTooSmall if `out` is shorter than HeaderLength().
  WireResult<size_t> Emit(std::span<uint8_t> out) const;
};

struct IpPacket {
  IpRepr ip;
  std::span<const uint8_t> payload;  // borrowed from the parsed buffer
};

inline WireResult<IpPacket> IpRepr::ParseIpPacket(std::span<const uint8_t> packet) {
  if (packet.empty()) return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype, 0};
  switch (packet[0] >> 4) {
    case 4: {
      auto v = Ipv4HeaderView::Check(packet);
      if (!v.ok()) return v.error();
      if (v->is_fragment()) {
        return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype,
                         LoadBe16(packet.data() + 6)};
      }
      IpPacket out;
      out.ip.src = v->src();
      out.ip.dst = v->dst();
      out.ip.protocol = v->protocol();
      out.ip.ttl = v->ttl();
      out.ip.tos = v->tos();
      out.ip.ident = v->ident();
      out.ip.dont_fragment = v->dont_fragment();
      out.payload = v->payload();
      out.ip.payload_len = static_cast<uint16_t>(out.payload.size());
      return out;
    }
    case 6: {
      auto v = Ipv6HeaderView::Check(packet);
      if (!v.ok()) return v.error();
      IpPacket out;
      out.ip.src = v->src();
      out.ip.dst = v->dst();
      out.ip.protocol = v->next_header();
      out.ip.ttl = v->hop_limit();
      out.ip.tos = v->traffic_class();
      out.ip.flow_label = v->flow_label();
      out.payload = v->payload();
      out.ip.payload_len = v->payload_length();
      return out;
    }
    default:
      return WireError{WireErrorCode::kBadVersion, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(packet[0] >> 4)};
  }
}

inline WireResult<IpPacket> ParseIpPacket(std::span<const uint8_t> packet) {
  return IpRepr::ParseIpPacket(packet);
}

// The headers of a packet that a capture may have cut short (a snaplen below the packet size):
// what a capture analyser needs, where the stack needs the whole packet (ParseIpPacket).
struct IpHeaders {
  // payload_len is the on-wire payload length from the header (IPv4 total length minus the
  // header; IPv6 payload length), whatever was captured.
  IpRepr ip;
  // The payload bytes present in the capture: the first min(captured, on-wire) bytes.
  std::span<const uint8_t> captured_payload;
  bool truncated() const { return captured_payload.size() < ip.payload_len; }
};

// Like ParseIpPacket, but the total length (IPv4, RFC 791 §3.1) or payload length (IPv6,
// RFC 8200 §3) may exceed the captured bytes: the packet is then taken as cut by the capture,
// not as malformed. The header itself must be whole (kTruncated otherwise, `length` the
// captured size); the other rejections are ParseIpPacket's (bad version, IHL < 5 or IHL*4 >
// total length, IPv4 header checksum, IPv4 fragments). Never reads past `captured`. The
// strict ParseIpPacket is unchanged: the core never acts on a packet it did not get whole.
inline WireResult<IpHeaders> ParseIpHeaders(std::span<const uint8_t> captured) {
  if (captured.empty()) return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype, 0};
  const uint8_t* p = captured.data();
  const uint16_t have = static_cast<uint16_t>(std::min<size_t>(captured.size(), 0xffff));
  IpHeaders out;
  switch (p[0] >> 4) {
    case 4: {
      if (captured.size() < kIpv4MinHeaderLength) {
        return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype, have};
      }
      const size_t header_len = size_t{p[0] & 0x0fu} * 4;
      const uint16_t total_len = LoadBe16(p + 2);
      if (header_len < kIpv4MinHeaderLength || total_len < header_len) {
        return WireError{WireErrorCode::kBadHeaderLength, 0, WireError::kNoSubtype,
                         static_cast<uint16_t>(header_len < kIpv4MinHeaderLength ? header_len
                                                                                 : total_len)};
      }
      if (header_len > captured.size()) {
        return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype, have};
      }
      if (InternetChecksum::Compute(captured.first(header_len)) != 0) {
        return WireError{WireErrorCode::kBadChecksum, 0, WireError::kNoSubtype,
                         static_cast<uint16_t>(header_len)};
      }
      const uint16_t frag = LoadBe16(p + 6);
      if ((frag & 0x3fff) != 0) {  // MF or a non-zero offset
        return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype, frag};
      }
      out.ip.src = IpAddress::V4FromBytes(p + 12);
      out.ip.dst = IpAddress::V4FromBytes(p + 16);
      out.ip.protocol = p[9];
      out.ip.ttl = p[8];
      out.ip.tos = p[1];
      out.ip.ident = LoadBe16(p + 4);
      out.ip.dont_fragment = (p[6] & 0x40) != 0;
      out.ip.payload_len = static_cast<uint16_t>(total_len - header_len);
      const size_t end = std::min<size_t>(captured.size(), total_len);
      out.captured_payload = captured.subspan(header_len, end - header_len);
      return out;
    }
    case 6: {
      if (captured.size() < kIpv6HeaderLength) {
        return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype, have};
      }
      out.ip.src = IpAddress::V6FromBytes(p + 8);
      out.ip.dst = IpAddress::V6FromBytes(p + 24);
      out.ip.protocol = p[6];
      out.ip.ttl = p[7];
      out.ip.tos = static_cast<uint8_t>(LoadBe16(p) >> 4);
      out.ip.flow_label = LoadBe32(p) & 0xfffffu;
      out.ip.payload_len = LoadBe16(p + 4);
      const size_t rest = captured.size() - kIpv6HeaderLength;
      out.captured_payload =
          captured.subspan(kIpv6HeaderLength, std::min<size_t>(rest, out.ip.payload_len));
      return out;
    }
    default:
      return WireError{WireErrorCode::kBadVersion, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(p[0] >> 4)};
  }
}

inline WireResult<size_t> IpRepr::Emit(std::span<uint8_t> out) const {
  if (src.family() != dst.family()) {
    return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype, 0};
  }
  const size_t hlen = HeaderLength();
  if (src.is_v4()) {
    if (hlen + payload_len > 0xffff) {
      return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype, payload_len};
    }
  } else if (flow_label > 0xfffffu) {
    return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype, 0};
  }
  if (out.size() < hlen) {
    return WireError{WireErrorCode::kBufferTooSmall, 0, WireError::kNoSubtype,
                     static_cast<uint16_t>(out.size())};
  }
  uint8_t* p = out.data();
  if (src.is_v4()) {
    p[0] = 0x45;  // version 4, IHL 5
    p[1] = tos;
    StoreBe16(p + 2, static_cast<uint16_t>(hlen + payload_len));
    StoreBe16(p + 4, ident);
    StoreBe16(p + 6, dont_fragment ? 0x4000 : 0);  // DF; MF clear, offset 0
    p[8] = ttl;
    p[9] = protocol;
    StoreBe16(p + 10, 0);
    std::memcpy(p + 12, src.data(), 4);
    std::memcpy(p + 16, dst.data(), 4);
    StoreBe16(p + 10, InternetChecksum::Compute(out.first(hlen)));
  } else {
    StoreBe32(p, uint32_t{6} << 28 | uint32_t{tos} << 20 | flow_label);
    StoreBe16(p + 4, payload_len);
    p[6] = protocol;
    p[7] = ttl;
    std::memcpy(p + 8, src.data(), 16);
    std::memcpy(p + 24, dst.data(), 16);
  }
  return hlen;
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_IP_H_

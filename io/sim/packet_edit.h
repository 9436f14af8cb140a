// In-place editing of IPv4/IPv6 + TCP packets for middleboxes: a writable view checked once
// (ParseTcpPacket), field setters, a TCP option walker, checksum repair, and a builder for
// hand-made test packets. Everything past the check is in bounds by construction.
#ifndef MPTCP_IO_SIM_PACKET_EDIT_H_
#define MPTCP_IO_SIM_PACKET_EDIT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "mptcp/address.h"
#include "mptcp/seq.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::sim {

// A TCP segment inside an IP packet, writable. Valid while the packet's buffer is neither
// resized nor freed. The IP header has no options for IPv6 extension headers: like the core,
// this handles the fixed IPv6 header only.
class TcpPacketView {
 public:
  // Checks the packet as the core would (wire::ParseIpPacket: header checksum, lengths, no
  // fragments; a whole TCP header) and returns a writable view, or nullopt for anything else
  // (not TCP, malformed, a fragment). Trailing bytes past the IP length are outside the view.
  static std::optional<TcpPacketView> Parse(std::span<uint8_t> bytes) {
    auto ip = wire::ParseIpPacket(bytes);
    if (!ip.ok() || ip->ip.protocol != wire::kIpProtoTcp) return std::nullopt;
    if (!wire::TcpHeaderView::Check(ip->payload).ok()) return std::nullopt;
    const size_t ip_len = static_cast<size_t>(ip->payload.data() - bytes.data());
    return TcpPacketView(bytes.first(ip_len + ip->payload.size()), ip_len);
  }

  std::span<uint8_t> packet() const { return packet_; }
  bool is_v6() const { return (packet_[0] >> 4) == 6; }
  size_t ip_header_length() const { return ip_len_; }
  std::span<uint8_t> ip_header() const { return packet_.first(ip_len_); }
  std::span<uint8_t> segment() const { return packet_.subspan(ip_len_); }
  size_t tcp_header_length() const { return size_t{segment()[12]} / 16 * 4; }
  std::span<uint8_t> tcp_header() const { return segment().first(tcp_header_length()); }
  std::span<uint8_t> options() const {
    return segment().subspan(wire::kTcpMinHeaderLength,
                             tcp_header_length() - wire::kTcpMinHeaderLength);
  }
  std::span<uint8_t> payload() const { return segment().subspan(tcp_header_length()); }

  IpAddress src() const {
    return is_v6() ? IpAddress::V6FromBytes(p() + 8) : IpAddress::V4FromBytes(p() + 12);
  }
  IpAddress dst() const {
    return is_v6() ? IpAddress::V6FromBytes(p() + 24) : IpAddress::V4FromBytes(p() + 16);
  }
  // Same family only (false otherwise, nothing written). Checksums are not fixed here.
  bool set_src(const IpAddress& a) { return SetAddress(is_v6() ? 8 : 12, a); }
  bool set_dst(const IpAddress& a) { return SetAddress(is_v6() ? 24 : 16, a); }

  uint16_t src_port() const { return wire::LoadBe16(s()); }
  uint16_t dst_port() const { return wire::LoadBe16(s() + 2); }
  void set_src_port(uint16_t v) { wire::StoreBe16(s(), v); }
  void set_dst_port(uint16_t v) { wire::StoreBe16(s() + 2, v); }
  SeqNum32 seq() const { return SeqNum32(wire::LoadBe32(s() + 4)); }
  SeqNum32 ack() const { return SeqNum32(wire::LoadBe32(s() + 8)); }
  void set_seq(SeqNum32 v) { wire::StoreBe32(s() + 4, v.value()); }
  void set_ack(SeqNum32 v) { wire::StoreBe32(s() + 8, v.value()); }
  uint8_t flags() const { return s()[13]; }
  bool has_flag(uint8_t f) const { return (flags() & f) != 0; }
  void set_flags(uint8_t f) { s()[13] = f; }
  uint16_t window() const { return wire::LoadBe16(s() + 14); }

  SocketAddress src_socket() const { return {src(), src_port()}; }
  SocketAddress dst_socket() const { return {dst(), dst_port()}; }
  // Sender first.
  FourTuple tuple() const { return {src_socket(), dst_socket()}; }

  // Recomputes the IPv4 header checksum (IPv6 has none) and the TCP checksum.
  void FixChecksums() const {
    if (!is_v6()) {
      wire::StoreBe16(p() + 10, 0);
      wire::StoreBe16(p() + 10, wire::InternetChecksum::Compute(ip_header()));
    }
    wire::FillTcpChecksum(src(), dst(), segment());
  }
  bool ChecksumsValid() const {
    if (!is_v6() && wire::InternetChecksum::Compute(ip_header()) != 0) return false;
    return wire::VerifyTcpChecksum(src(), dst(), segment());
  }

 private:
  TcpPacketView(std::span<uint8_t> packet, size_t ip_len) : packet_(packet), ip_len_(ip_len) {}
  uint8_t* p() const { return packet_.data(); }
  uint8_t* s() const { return packet_.data() + ip_len_; }
  bool SetAddress(size_t offset, const IpAddress& a) {
    if (a.is_v6() != is_v6()) return false;
    std::memcpy(p() + offset, a.data(), a.size());
    return true;
  }

  std::span<uint8_t> packet_;  // up to the IP total length
  size_t ip_len_;
};

// TcpPacketView::Parse over a packet's bytes.
inline std::optional<TcpPacketView> ParseTcpPacket(std::vector<uint8_t>& bytes) {
  return TcpPacketView::Parse(bytes);
}

// Calls fn(kind, option) for each option in a TCP option area, where `option` covers the
// whole option (kind and length bytes included; one byte for NOP). Stops at EOL or at the
// first malformed length, so it is safe over any bytes. fn may rewrite the option in place.
template <typename Fn>
void ForEachTcpOption(std::span<uint8_t> options, Fn&& fn) {
  size_t i = 0;
  while (i < options.size()) {
    const uint8_t kind = options[i];
    if (kind == wire::TcpOptionKind::kEol) return;
    if (kind == wire::TcpOptionKind::kNop) {
      fn(kind, options.subspan(i, 1));
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return;
    const size_t len = options[i + 1];
    if (len < 2 || len > options.size() - i) return;
    fn(kind, options.subspan(i, len));
    i += len;
  }
}

// Builds an IP packet around a TCP segment described by `tcp` (checksums filled). For tests
// and for middleboxes that make packets. Empty on an encoding error.
inline std::vector<uint8_t> BuildTcpPacket(const IpAddress& src, const IpAddress& dst,
                                           const wire::TcpRepr& tcp, uint16_t ip_ident = 0) {
  wire::IpRepr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = wire::kIpProtoTcp;
  ip.ident = ip_ident;
  const size_t hdr = ip.HeaderLength();
  std::vector<uint8_t> out(hdr + tcp.EncodedLength());
  auto n = tcp.Emit(std::span<uint8_t>(out).subspan(hdr), src, dst);
  if (!n.ok()) return {};
  ip.payload_len = static_cast<uint16_t>(*n);
  if (!ip.Emit(std::span<uint8_t>(out).first(hdr)).ok()) return {};
  out.resize(hdr + *n);
  return out;
}

// Writes the IP length field of `packet` (IPv4 total length, or IPv6 payload length) for a
// packet of `total` bytes. The IPv4 header checksum must be fixed afterwards.
inline void SetIpLength(std::span<uint8_t> packet, size_t total) {
  if ((packet[0] >> 4) == 6) {
    wire::StoreBe16(packet.data() + 4, static_cast<uint16_t>(total - wire::kIpv6HeaderLength));
  } else {
    wire::StoreBe16(packet.data() + 2, static_cast<uint16_t>(total));
  }
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_PACKET_EDIT_H_

// GSO super-segments on the wire: how one IP packet carrying several segments' payload
// (Transmit::segment_size) becomes the segments Linux's GSO or a NIC's TSO puts on the wire.
// I/O adapters without segmentation offload cut with it (software GSO), and so do test pipes
// and captures that must show what the wire carries.
//
// The cut follows Linux (net/ipv4/tcp_offload.c tcp_gso_segment, inet_gso_segment): every
// segment repeats the IP and TCP headers with their options; the sequence number advances by
// the payload before it; FIN and PSH stay only on the last segment and CWR only on the first;
// IPv4 identifiers count up from the super-segment's; lengths and checksums are recomputed.
// For MPTCP this means every segment repeats the one DSS mapping covering the whole payload,
// which RFC 8684 §3.3.1 allows ("a mapping may be repeated").
#ifndef MPTCP_WIRE_GSO_H_
#define MPTCP_WIRE_GSO_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::wire {

// TCP flag bits in the header's 14th byte.
inline constexpr uint8_t kGsoFin = 0x01, kGsoPsh = 0x08, kGsoCwr = 0x80;

// Cuts `packet` (an IPv4 or IPv6 packet with a TCP segment) into segments of `segment_size`
// payload bytes (the last may be shorter) and calls fn(std::span<const uint8_t>) with each, in
// order, built in `scratch` (which must hold the headers plus segment_size bytes). A packet
// whose payload fits one segment, or segment_size 0, is passed through as it is. Returns the
// number of segments, or the parse error (kBufferTooSmall when scratch is too short).
template <typename Fn>
WireResult<size_t> ForEachGsoSegment(std::span<const uint8_t> packet, uint16_t segment_size,
                                     std::span<uint8_t> scratch, Fn&& fn) {
  auto ip = ParseIpPacket(packet);
  if (!ip.ok()) return ip.error();
  auto tcp = TcpHeaderView::Check(ip->payload);
  if (!tcp.ok()) return tcp.error();
  const size_t ip_len = static_cast<size_t>(ip->payload.data() - packet.data());
  const size_t hdr_len = ip_len + tcp->header_length();
  const size_t payload = ip->payload.size() - tcp->header_length();
  if (segment_size == 0 || payload <= segment_size) {
    fn(packet.first(ip_len + ip->payload.size()));
    return size_t{1};
  }
  if (scratch.size() < hdr_len + segment_size) {
    return WireError{WireErrorCode::kBufferTooSmall, 0, WireError::kNoSubtype,
                     static_cast<uint16_t>(std::min<size_t>(hdr_len + segment_size, 0xffff))};
  }
  const bool v4 = ip->ip.src.is_v4();
  const uint8_t* src = packet.data();
  const uint32_t seq0 = LoadBe32(src + ip_len + 4);
  const uint8_t flags0 = src[ip_len + 13];
  const uint16_t ident0 = v4 ? LoadBe16(src + 4) : 0;
  size_t count = 0;
  for (size_t off = 0; off < payload; off += segment_size, ++count) {
    const size_t n = std::min<size_t>(segment_size, payload - off);
    const bool first = off == 0, last = off + n == payload;
    uint8_t* out = scratch.data();
    std::memcpy(out, src, hdr_len);
    std::memcpy(out + hdr_len, src + hdr_len + off, n);
    const size_t total = hdr_len + n;
    if (v4) {
      StoreBe16(out + 2, static_cast<uint16_t>(total));
      StoreBe16(out + 4, static_cast<uint16_t>(ident0 + count));
      StoreBe16(out + 10, 0);
      StoreBe16(out + 10, InternetChecksum::Compute(std::span<const uint8_t>(out, ip_len)));
    } else {
      StoreBe16(out + 4, static_cast<uint16_t>(total - ip_len));
    }
    uint8_t* th = out + ip_len;
    StoreBe32(th + 4, seq0 + static_cast<uint32_t>(off));
    uint8_t f = flags0;
    if (!last) f &= static_cast<uint8_t>(~(kGsoFin | kGsoPsh));
    if (!first) f &= static_cast<uint8_t>(~kGsoCwr);
    th[13] = f;
    FillTcpChecksum(ip->ip.src, ip->ip.dst, std::span<uint8_t>(th, total - ip_len));
    fn(std::span<const uint8_t>(out, total));
  }
  return count;
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_GSO_H_

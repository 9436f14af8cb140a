// Link layer, IP and TCP decoding for mptcp_trace (packet_decode.h).
#include "tools/trace/packet_decode.h"

#include "absl/strings/str_cat.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"
#include "tools/trace/pcap_reader.h"

namespace mptcp::trace {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeVlan = 0x8100;   // IEEE 802.1Q
constexpr uint16_t kEtherTypeQinQ = 0x88a8;   // IEEE 802.1ad
constexpr uint16_t kEtherTypeQinQOld = 0x9100;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr int kMaxVlanTags = 4;
constexpr size_t kSllHeader = 16;   // Linux cooked v1: protocol at offset 14
constexpr size_t kSll2Header = 20;  // Linux cooked v2: protocol at offset 0
constexpr int kMaxIpv6ExtensionHeaders = 8;

DecodeResult Malformed(std::string why) {
  DecodeResult r;
  r.outcome = DecodeOutcome::kMalformed;
  r.error = std::move(why);
  return r;
}

DecodeResult NotTcp() { return DecodeResult{}; }

DecodeResult ByEtherType(uint16_t type, std::span<const uint8_t> rest) {
  if (type == kEtherTypeIpv4 || type == kEtherTypeIpv6) return DecodeIp(rest);
  return NotTcp();
}

}  // namespace

DecodeResult DecodeFrame(uint32_t link_type, std::span<const uint8_t> frame) {
  switch (link_type) {
    case LinkType::kRaw:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      return DecodeIp(frame);
    case LinkType::kEthernet: {
      if (frame.size() < kEthernetHeader) return Malformed("Ethernet header cut short");
      size_t off = 12;
      uint16_t type = wire::LoadBe16(frame.data() + off);
      for (int tags = 0;
           type == kEtherTypeVlan || type == kEtherTypeQinQ || type == kEtherTypeQinQOld;
           ++tags) {
        if (tags == kMaxVlanTags) return Malformed("more than 4 VLAN tags");
        off += kVlanTag;
        if (frame.size() < off + 2) return Malformed("VLAN tag cut short");
        type = wire::LoadBe16(frame.data() + off);
      }
      return ByEtherType(type, frame.subspan(off + 2));
    }
    case LinkType::kLinuxSll:
      if (frame.size() < kSllHeader) return Malformed("SLL header cut short");
      return ByEtherType(wire::LoadBe16(frame.data() + 14), frame.subspan(kSllHeader));
    case LinkType::kLinuxSll2:
      if (frame.size() < kSll2Header) return Malformed("SLL2 header cut short");
      return ByEtherType(wire::LoadBe16(frame.data()), frame.subspan(kSll2Header));
    case LinkType::kNull: {
      // The address family in the capturing host's byte order: AF_INET is 2 everywhere,
      // AF_INET6 is 10 (Linux), 24, 28 or 30 (the BSDs); try both byte orders.
      if (frame.size() < 4) return Malformed("loopback header cut short");
      const uint32_t le = uint32_t{frame[0]} | uint32_t{frame[1]} << 8 |
                          uint32_t{frame[2]} << 16 | uint32_t{frame[3]} << 24;
      const uint32_t af = le > 0xffff ? __builtin_bswap32(le) : le;
      if (af == 2 || af == 10 || af == 24 || af == 28 || af == 30) {
        return DecodeIp(frame.subspan(4));
      }
      return NotTcp();
    }
    default: {
      DecodeResult r;
      r.outcome = DecodeOutcome::kUnsupportedLink;
      return r;
    }
  }
}

DecodeResult DecodeIp(std::span<const uint8_t> packet) {
  auto ip = wire::ParseIpHeaders(packet);
  if (!ip.ok()) {
    // A fragment is no TCP segment we can read, not a malformed packet.
    if (ip.error().code == wire::WireErrorCode::kInvalidField) return NotTcp();
    return Malformed(absl::StrCat("IP: ", ip.error().ToString()));
  }
  uint8_t proto = ip->ip.protocol;
  std::span<const uint8_t> rest = ip->captured_payload;
  size_t wire_len = ip->ip.payload_len;
  if (ip->ip.src.is_v6()) {
    // RFC 8200 §4: hop-by-hop (0), routing (43) and destination options (60) carry their
    // length in 8-octet units after the first 8; a fragment header (44) is 8 octets, and only
    // a first fragment (offset 0) holds the TCP header.
    for (int n = 0; proto == 0 || proto == 43 || proto == 60 || proto == 44; ++n) {
      if (n == kMaxIpv6ExtensionHeaders) return Malformed("IPv6: too many extension headers");
      if (rest.size() < 8) return Malformed("IPv6 extension header cut short");
      size_t len = 8;
      if (proto == 44) {
        const uint16_t off_flags = wire::LoadBe16(rest.data() + 2);
        if ((off_flags & 0xfff8) != 0 || (off_flags & 1) != 0) return NotTcp();
      } else {
        len = (size_t{rest[1]} + 1) * 8;
      }
      if (len > rest.size() || len > wire_len) {
        return Malformed("IPv6 extension header cut short");
      }
      proto = rest[0];
      rest = rest.subspan(len);
      wire_len -= len;
    }
  }
  if (proto != wire::kIpProtoTcp) return NotTcp();
  auto view = wire::TcpHeaderView::Check(rest);
  if (!view.ok()) {
    return Malformed(absl::StrCat("TCP header (", rest.size(), " bytes captured): ",
                                  view.error().ToString()));
  }
  if (view->header_length() > wire_len) {
    return Malformed("TCP header longer than the IP payload");
  }
  auto opts = wire::ParseTcpOptions(view->options());
  if (!opts.ok()) return Malformed(absl::StrCat("TCP options: ", opts.error().ToString()));
  DecodeResult r;
  r.outcome = DecodeOutcome::kTcp;
  DecodedSegment& s = r.segment;
  s.src = {ip->ip.src, view->src_port()};
  s.dst = {ip->ip.dst, view->dst_port()};
  s.seq = view->seq();
  s.ack = view->ack();
  s.flags = view->flags();
  s.window = view->window();
  s.options = *opts;
  s.payload_len = static_cast<uint32_t>(wire_len - view->header_length());
  s.captured_payload_len = static_cast<uint32_t>(view->payload().size());
  return r;
}

}  // namespace mptcp::trace

// Decodes one captured frame down to its TCP segment for mptcp_trace: the link layer
// (Ethernet with 802.1Q/802.1ad tags, raw IP, Linux cooked SLL and SLL2, BSD loopback), the IP
// header (IPv6 extension headers walked), the TCP header and its options, with the project's
// wire parsers. Captures are often cut at a snaplen (headers only), so the payload length is
// the on-wire one from the IP header (mptcp/wire/ip.h ParseIpHeaders), not the captured one.
#ifndef MPTCP_TOOLS_TRACE_PACKET_DECODE_H_
#define MPTCP_TOOLS_TRACE_PACKET_DECODE_H_

#include <cstdint>
#include <span>
#include <string>

#include "mptcp/address.h"
#include "mptcp/seq.h"
#include "mptcp/wire/tcp_options.h"

namespace mptcp::trace {

struct DecodedSegment {
  SocketAddress src, dst;
  SeqNum32 seq, ack;
  uint8_t flags = 0;  // wire::TcpFlag bits
  uint16_t window = 0;
  wire::TcpOptions options;
  uint32_t payload_len = 0;           // TCP payload on the wire (from the IP length)
  uint32_t captured_payload_len = 0;  // the part of it in the capture

  bool has_flag(uint8_t f) const { return (flags & f) != 0; }
};

enum class DecodeOutcome {
  kTcp,              // `segment` is filled
  kNotTcp,           // ARP, UDP, ICMP, a non-first IPv4/IPv6 fragment, ...
  kUnsupportedLink,  // a link type this decoder does not know
  kMalformed,        // headers that do not parse (or are cut before the TCP options end)
};

struct DecodeResult {
  DecodeOutcome outcome = DecodeOutcome::kNotTcp;
  DecodedSegment segment;
  std::string error;  // for kMalformed: what did not parse
};

// Never reads outside `frame`.
DecodeResult DecodeFrame(uint32_t link_type, std::span<const uint8_t> frame);
// The same from the IP header on.
DecodeResult DecodeIp(std::span<const uint8_t> packet);

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_PACKET_DECODE_H_

// The frame decoder: every supported link layer, VLAN tags, IPv6 extension headers, and
// captures cut at a snaplen (payload length from the IP header, never a read past the frame).
#include "tools/trace/packet_decode.h"

#include <array>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tools/trace/capture_builder.h"
#include "mptcp/wire/tcp.h"
#include "tools/trace/pcap_reader.h"

namespace mptcp::trace {
namespace {

using testing::Bytes;

testing::SegmentSpec Spec(bool v6 = false) {
  testing::SegmentSpec s;
  if (v6) {
    std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, 1}, b{0x20, 0x01, 0x0d, 0xb8, 0, 2};
    a[15] = 1;
    b[15] = 1;
    s.src = {IpAddress::V6FromBytes(a.data()), 40000};
    s.dst = {IpAddress::V6FromBytes(b.data()), 80};
  } else {
    s.src = {IpAddress::V4(192, 0, 2, 1), 40000};
    s.dst = {IpAddress::V4(198, 51, 100, 1), 80};
  }
  s.seq = 1234;
  s.ack = 99;
  s.flags = wire::TcpFlag::kAck;
  wire::Dss d;
  d.data_ack = wire::DataAck{7, true};
  s.mptcp = {d};
  s.payload_len = 500;
  return s;
}

void ExpectSegment(const DecodeResult& r, const testing::SegmentSpec& s, uint32_t captured) {
  ASSERT_EQ(r.outcome, DecodeOutcome::kTcp) << r.error;
  EXPECT_EQ(r.segment.src, s.src);
  EXPECT_EQ(r.segment.dst, s.dst);
  EXPECT_EQ(r.segment.seq.value(), s.seq);
  EXPECT_EQ(r.segment.payload_len, s.payload_len);
  EXPECT_EQ(r.segment.captured_payload_len, captured);
  EXPECT_EQ(r.segment.options.mptcp_len, 12u);  // DSS with a 64-bit DATA_ACK
}

TEST(PacketDecodeTest, EveryLinkType) {
  for (bool v6 : {false, true}) {
    const testing::SegmentSpec s = Spec(v6);
    const Bytes ip = testing::BuildPacket(s);
    const uint16_t tags[] = {100, 200};
    ExpectSegment(DecodeFrame(LinkType::kRaw, ip), s, 500);
    ExpectSegment(DecodeFrame(v6 ? LinkType::kIpv6 : LinkType::kIpv4, ip), s, 500);
    ExpectSegment(DecodeFrame(LinkType::kEthernet, testing::Ethernet(ip)), s, 500);
    ExpectSegment(DecodeFrame(LinkType::kEthernet, testing::Ethernet(ip, tags)), s, 500);
    ExpectSegment(DecodeFrame(LinkType::kLinuxSll, testing::LinuxSll(ip)), s, 500);
    ExpectSegment(DecodeFrame(LinkType::kLinuxSll2, testing::LinuxSll2(ip)), s, 500);
    Bytes null = {static_cast<uint8_t>(v6 ? 10 : 2), 0, 0, 0};
    null.insert(null.end(), ip.begin(), ip.end());
    ExpectSegment(DecodeFrame(LinkType::kNull, null), s, 500);
  }
  EXPECT_EQ(DecodeFrame(147, Bytes(60, 0)).outcome, DecodeOutcome::kUnsupportedLink);
}

// The interop harness captures 200 bytes of each packet: the TCP payload length still comes
// from the IP header.
TEST(PacketDecodeTest, SnaplenCutFrames) {
  const testing::SegmentSpec s = Spec();
  const Bytes eth = testing::Ethernet(testing::BuildPacket(s));
  const size_t headers = 14 + 20 + 20 + 12;
  for (size_t cut = headers; cut <= eth.size(); cut += 37) {
    ExpectSegment(DecodeFrame(LinkType::kEthernet, std::span(eth).first(cut)), s,
                  static_cast<uint32_t>(cut - headers));
  }
  // Cut inside the TCP options, or the TCP header: malformed, with a reason, never a crash.
  for (size_t cut = 0; cut < headers; ++cut) {
    const DecodeResult r = DecodeFrame(LinkType::kEthernet, std::span(eth).first(cut));
    EXPECT_EQ(r.outcome, DecodeOutcome::kMalformed) << cut;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(PacketDecodeTest, Ipv6ExtensionHeaders) {
  const testing::SegmentSpec s = Spec(true);
  Bytes ip = testing::BuildPacket(s);
  // Insert an 8-byte hop-by-hop header (next header TCP) after the fixed header.
  Bytes hbh = {6, 0, 1, 4, 0, 0, 0, 0};  // PadN
  ip.insert(ip.begin() + 40, hbh.begin(), hbh.end());
  ip[6] = 0;  // next header: hop-by-hop
  const uint16_t plen = static_cast<uint16_t>(((ip[4] << 8) | ip[5]) + 8);
  ip[4] = static_cast<uint8_t>(plen >> 8);
  ip[5] = static_cast<uint8_t>(plen);
  ExpectSegment(DecodeIp(ip), s, 500);
}

TEST(PacketDecodeTest, OtherTraffic) {
  Bytes udp = testing::BuildPacket(Spec());
  udp[9] = 17;  // protocol UDP (the checksum no longer matters: we fix it below)
  udp[10] = udp[11] = 0;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(udp[i] << 8 | udp[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  udp[10] = static_cast<uint8_t>(~sum >> 8);
  udp[11] = static_cast<uint8_t>(~sum);
  EXPECT_EQ(DecodeIp(udp).outcome, DecodeOutcome::kNotTcp);
  Bytes arp = testing::Ethernet(udp);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(DecodeFrame(LinkType::kEthernet, arp).outcome, DecodeOutcome::kNotTcp);
  EXPECT_EQ(DecodeIp(Bytes{0x45}).outcome, DecodeOutcome::kMalformed);
}

}  // namespace
}  // namespace mptcp::trace

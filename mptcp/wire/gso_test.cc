// ForEachGsoSegment against what Linux's GSO puts on the wire: headers and options repeated,
// sequence numbers advanced, FIN/PSH on the last segment only, CWR on the first only, IPv4
// identifiers counting up, and every length and checksum valid.
#include "mptcp/wire/gso.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "mptcp/wire/mptcp_options.h"

namespace mptcp::wire {
namespace {

constexpr uint8_t kFinPshCwrAck = kGsoFin | kGsoPsh | kGsoCwr | TcpFlag::kAck;

// One super-segment: timestamps and a DSS mapping covering the whole payload, payload byte i
// equal to i * 7 mod 251.
std::vector<uint8_t> SuperSegment(const IpAddress& src, const IpAddress& dst, size_t payload,
                                  uint16_t ident = 7) {
  std::vector<uint8_t> data(payload);
  for (size_t i = 0; i < payload; ++i) data[i] = static_cast<uint8_t>(i * 7 % 251);
  TcpRepr tcp;
  tcp.src_port = 40000;
  tcp.dst_port = 80;
  tcp.seq = SeqNum32(0xfffff000u);  // wraps inside the super-segment
  tcp.ack = SeqNum32(1234);
  tcp.flags = kFinPshCwrAck;
  tcp.window = 500;
  tcp.options.timestamps = TcpTimestamps{111, 222};
  Dss dss;
  dss.data_ack = DataAck{99, true};
  dss.mapping = DssMapping{.dsn = 5000, .dsn_is_64bit = true, .subflow_seq = 1,
                           .data_len = static_cast<uint16_t>(payload)};
  uint8_t opt[40];
  auto n = EmitMptcpOption(MptcpOption{dss}, opt);
  EXPECT_TRUE(n.ok());
  EXPECT_TRUE(tcp.options.AddMptcpOption(std::span<const uint8_t>(opt, *n)));
  tcp.payload = data;
  IpRepr ip;
  ip.src = src;
  ip.dst = dst;
  ip.ident = ident;
  ip.payload_len = static_cast<uint16_t>(tcp.EncodedLength());
  std::vector<uint8_t> out(ip.PacketLength());
  EXPECT_TRUE(ip.Emit(out).ok());
  EXPECT_TRUE(tcp.Emit(std::span<uint8_t>(out).subspan(ip.HeaderLength()), src, dst).ok());
  return out;
}

struct Cut {
  IpRepr ip;
  TcpRepr tcp;
  std::vector<uint8_t> payload;
  bool checksum_ok;
};

std::vector<Cut> CutAll(std::span<const uint8_t> packet, uint16_t size, size_t* count) {
  std::vector<Cut> cuts;
  std::vector<uint8_t> scratch(2000);
  auto r = ForEachGsoSegment(packet, size, scratch, [&](std::span<const uint8_t> seg) {
    auto ip = ParseIpPacket(seg);
    ASSERT_TRUE(ip.ok());
    auto tcp = TcpRepr::Parse(ip->payload);
    ASSERT_TRUE(tcp.ok());
    cuts.push_back(Cut{ip->ip, *tcp, {tcp->payload.begin(), tcp->payload.end()},
                       VerifyTcpChecksum(ip->ip.src, ip->ip.dst, ip->payload)});
  });
  EXPECT_TRUE(r.ok());
  *count = r.ok() ? *r : 0;
  return cuts;
}

void ExpectLinuxCut(const IpAddress& src, const IpAddress& dst) {
  const std::vector<uint8_t> super = SuperSegment(src, dst, 3 * 1000 + 500);
  size_t count = 0;
  const std::vector<Cut> cuts = CutAll(super, 1000, &count);
  ASSERT_EQ(count, 4u);
  ASSERT_EQ(cuts.size(), 4u);
  const auto whole = TcpRepr::Parse(ParseIpPacket(super)->payload);
  ASSERT_TRUE(whole.ok());
  for (size_t i = 0; i < cuts.size(); ++i) {
    SCOPED_TRACE(i);
    const Cut& c = cuts[i];
    EXPECT_TRUE(c.checksum_ok);
    EXPECT_EQ(c.payload.size(), i < 3 ? 1000u : 500u);
    for (size_t k = 0; k < c.payload.size(); ++k) {
      ASSERT_EQ(c.payload[k], static_cast<uint8_t>((i * 1000 + k) * 7 % 251));
    }
    EXPECT_EQ(c.tcp.seq, SeqNum32(0xfffff000u) + static_cast<uint32_t>(i * 1000));
    EXPECT_EQ(c.tcp.ack, SeqNum32(1234));
    const bool first = i == 0, last = i == 3;
    EXPECT_EQ(c.tcp.has_flag(kGsoFin), last);
    EXPECT_EQ(c.tcp.has_flag(kGsoPsh), last);
    EXPECT_EQ(c.tcp.has_flag(kGsoCwr), first);
    EXPECT_TRUE(c.tcp.has_flag(TcpFlag::kAck));
    // The options, the DSS mapping among them, are repeated unchanged.
    EXPECT_EQ(c.tcp.options, whole->options);
    if (src.is_v4()) {
      EXPECT_EQ(c.ip.ident, 7 + i);
    }
    EXPECT_EQ(c.ip.payload_len, c.tcp.HeaderLength() + c.payload.size());
  }
}

TEST(GsoTest, CutsIpv4AsLinuxDoes) {
  ExpectLinuxCut(IpAddress::V4(192, 0, 2, 1), IpAddress::V4(198, 51, 100, 1));
}

TEST(GsoTest, CutsIpv6AsLinuxDoes) {
  ExpectLinuxCut(*IpAddress::Parse("2001:db8:1::1"), *IpAddress::Parse("2001:db8:2::1"));
}

TEST(GsoTest, OneSegmentOrNoSizePassesThrough) {
  const std::vector<uint8_t> p =
      SuperSegment(IpAddress::V4(192, 0, 2, 1), IpAddress::V4(198, 51, 100, 1), 800);
  for (uint16_t size : {uint16_t{0}, uint16_t{800}, uint16_t{1400}}) {
    size_t calls = 0;
    std::vector<uint8_t> scratch(p.size() / 80);  // not needed for a pass-through
    auto r = ForEachGsoSegment(p, size, scratch, [&](std::span<const uint8_t> seg) {
      ++calls;
      EXPECT_EQ(std::vector<uint8_t>(seg.begin(), seg.end()), p);
    });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 1u);
    EXPECT_EQ(calls, 1u);
  }
}

TEST(GsoTest, BadInputIsAnErrorNotACrash) {
  const std::vector<uint8_t> p =
      SuperSegment(IpAddress::V4(192, 0, 2, 1), IpAddress::V4(198, 51, 100, 1), 3000);
  std::vector<uint8_t> small(p.size() / 30);  // about 100 bytes: too small for 1,000
  auto r = ForEachGsoSegment(p, 1000, small, [](std::span<const uint8_t>) { FAIL(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WireErrorCode::kBufferTooSmall);
  std::vector<uint8_t> scratch(2000);
  for (size_t len : {size_t{0}, size_t{10}, size_t{30}, size_t{45}}) {
    auto t = ForEachGsoSegment(std::span<const uint8_t>(p).first(len), 1000, scratch,
                               [](std::span<const uint8_t>) { FAIL(); });
    EXPECT_FALSE(t.ok()) << len;
  }
}

}  // namespace
}  // namespace mptcp::wire

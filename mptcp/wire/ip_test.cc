#include "mptcp/wire/ip.h"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "gtest/gtest.h"
#include "mptcp/address.h"

namespace mptcp::wire {
namespace {

std::vector<uint8_t> Hex(const char* s) {
  std::vector<uint8_t> out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (; s[0] && s[1]; s += 2) out.push_back(static_cast<uint8_t>(nib(s[0]) << 4 | nib(s[1])));
  return out;
}

// Header of a 60-byte IPv4 TCP packet 192.168.1.2 -> 192.168.1.1, ident 0x1c46, DF, TTL 64;
// header checksum 0x9b22 computed with python3.
constexpr char kV4Header[] = "4500003c1c4640004006" "9b22" "c0a80102c0a80101";

std::vector<uint8_t> V4Packet() {
  auto p = Hex(kV4Header);
  for (int i = 0; i < 40; ++i) p.push_back(static_cast<uint8_t>(i));
  return p;
}

// Recomputes the IPv4 header checksum after a test edits a field.
void FixV4Checksum(std::vector<uint8_t>& p) {
  const size_t hl = size_t{p[0] & 0x0fu} * 4;
  p[10] = p[11] = 0;
  const uint16_t c = InternetChecksum::Compute(std::span<const uint8_t>(p).first(hl));
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
}

TEST(Ipv4HeaderViewTest, ParsesKnownHeader) {
  const auto p = V4Packet();
  auto v = Ipv4HeaderView::Check(p);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_length(), 20u);
  EXPECT_EQ(v->total_length(), 60);
  EXPECT_EQ(v->ident(), 0x1c46);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), 6);
  EXPECT_EQ(v->header_checksum(), 0x9b22);
  EXPECT_EQ(v->src(), IpAddress::V4(192, 168, 1, 2));
  EXPECT_EQ(v->dst(), IpAddress::V4(192, 168, 1, 1));
  EXPECT_EQ(v->payload().size(), 40u);
  EXPECT_EQ(v->payload()[0], 0);
  EXPECT_EQ(v->payload()[39], 39);
  EXPECT_TRUE(v->options().empty());
}

TEST(Ipv4HeaderViewTest, TrailingPaddingIgnored) {
  auto p = V4Packet();
  p.resize(p.size() + 6, 0xee);  // e.g. Ethernet minimum-frame padding
  auto pkt = ParseIpPacket(p);
  ASSERT_TRUE(pkt.ok()) << pkt.error();
  EXPECT_EQ(pkt->payload.size(), 40u);
  EXPECT_EQ(pkt->ip.payload_len, 40);
}

TEST(Ipv4HeaderViewTest, EveryTruncationRejected) {
  const auto p = V4Packet();
  for (size_t n = 0; n < p.size(); ++n) {
    auto v = Ipv4HeaderView::Check(std::span<const uint8_t>(p).first(n));
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error().code,
              n < 20 ? WireErrorCode::kTruncated : WireErrorCode::kBadHeaderLength)
        << n;
    EXPECT_FALSE(ParseIpPacket(std::span<const uint8_t>(p).first(n)).ok()) << n;
  }
}

TEST(Ipv4HeaderViewTest, BadVersion) {
  auto p = V4Packet();
  p[0] = 0x55;
  FixV4Checksum(p);
  auto v = Ipv4HeaderView::Check(p);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, WireErrorCode::kBadVersion);
  EXPECT_EQ(ParseIpPacket(p).error().code, WireErrorCode::kBadVersion);
}

TEST(Ipv4HeaderViewTest, BadIhl) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    auto p = V4Packet();
    p[0] = static_cast<uint8_t>(0x40 | ihl);
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_FALSE(v.ok()) << int{ihl};
    EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
  }
  // IHL 15 (60 bytes) but total length 40: header beyond the packet.
  auto p = V4Packet();
  p[0] = 0x4f;
  p[2] = 0;
  p[3] = 40;
  auto v = Ipv4HeaderView::Check(p);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
}

TEST(Ipv4HeaderViewTest, HeaderWithOptions) {
  // IHL 6: one 4-byte option word (NOP NOP NOP EOL).
  auto p = Hex("46000020000000004006000001020304050607080101010001020304050607ff");
  ASSERT_EQ(p.size(), 32u);
  FixV4Checksum(p);
  auto v = Ipv4HeaderView::Check(p);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->header_length(), 24u);
  EXPECT_EQ(v->options().size(), 4u);
  EXPECT_EQ(v->payload().size(), 8u);
  EXPECT_EQ(v->payload()[7], 0xff);
  EXPECT_FALSE(v->dont_fragment());
}

TEST(Ipv4HeaderViewTest, BadTotalLength) {
  {
    auto p = V4Packet();
    p[3] = 61;  // one more than the buffer
    FixV4Checksum(p);
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
    EXPECT_EQ(v.error().length, 61);
  }
  {
    auto p = V4Packet();
    p[3] = 19;  // shorter than the header
    FixV4Checksum(p);
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
  }
  {
    auto p = V4Packet();
    p[3] = 20;  // header only: valid, empty payload
    FixV4Checksum(p);
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_TRUE(v->payload().empty());
  }
}

TEST(Ipv4HeaderViewTest, BadChecksum) {
  auto p = V4Packet();
  for (size_t i = 0; i < 20; ++i) {
    if (i == 0 || i == 2 || i == 3) continue;  // would fail a length check first
    p[i] ^= 0x01;
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_FALSE(v.ok()) << i;
    EXPECT_EQ(v.error().code, WireErrorCode::kBadChecksum) << i;
    p[i] ^= 0x01;
  }
  // The payload is not covered.
  p[30] ^= 0xff;
  EXPECT_TRUE(Ipv4HeaderView::Check(p).ok());
}

TEST(IpReprTest, Ipv4FragmentsRejected) {
  const struct {
    uint16_t flags_offset;
    bool fragment;
  } cases[] = {
      {0x4000, false},  // DF only
      {0x0000, false},  // neither
      {0x2000, true},   // MF: first fragment
      {0x0001, true},   // offset 8: a later fragment
      {0x1fff, true},   // maximal offset, last fragment
      {0x2010, true},   // MF and offset
  };
  for (const auto& c : cases) {
    auto p = V4Packet();
    p[6] = static_cast<uint8_t>(c.flags_offset >> 8);
    p[7] = static_cast<uint8_t>(c.flags_offset);
    FixV4Checksum(p);
    auto v = Ipv4HeaderView::Check(p);
    ASSERT_TRUE(v.ok()) << v.error();  // the view accepts fragments
    EXPECT_EQ(v->is_fragment(), c.fragment) << c.flags_offset;
    auto pkt = ParseIpPacket(p);
    EXPECT_EQ(pkt.ok(), !c.fragment) << c.flags_offset;
    if (!pkt.ok()) {
      EXPECT_EQ(pkt.error().code, WireErrorCode::kInvalidField);
      EXPECT_EQ(pkt.error().length, c.flags_offset);
    }
  }
}

TEST(IpReprTest, Ipv4RoundTrip) {
  IpRepr r;
  r.src = IpAddress::V4(192, 168, 1, 2);
  r.dst = IpAddress::V4(192, 168, 1, 1);
  r.ident = 0x1c46;
  r.payload_len = 40;
  EXPECT_EQ(r.HeaderLength(), 20u);
  EXPECT_EQ(r.PacketLength(), 60u);
  std::vector<uint8_t> buf(60, 0);
  auto n = r.Emit(buf);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, 20u);
  // Byte-identical to the python3-built header.
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + 20), Hex(kV4Header));
  for (int i = 0; i < 40; ++i) buf[20 + i] = static_cast<uint8_t>(i);
  auto pkt = ParseIpPacket(buf);
  ASSERT_TRUE(pkt.ok()) << pkt.error();
  EXPECT_EQ(pkt->ip, r);
  EXPECT_EQ(pkt->payload.data(), buf.data() + 20);
  EXPECT_EQ(pkt->payload.size(), 40u);

  // Non-default fields survive too.
  r.protocol = 17;
  r.ttl = 1;
  r.tos = 0xb9;
  r.dont_fragment = false;
  r.payload_len = 0;
  ASSERT_TRUE(r.Emit(buf).ok());
  pkt = ParseIpPacket(std::span<const uint8_t>(buf).first(20));
  ASSERT_TRUE(pkt.ok()) << pkt.error();
  EXPECT_EQ(pkt->ip, r);
}

TEST(IpReprTest, Ipv6RoundTrip) {
  IpRepr r;
  r.src = *IpAddress::Parse("2001:db8::1");
  r.dst = *IpAddress::Parse("fe80::abcd:1");
  r.ttl = 255;
  r.tos = 0xa5;
  r.flow_label = 0xabcde;
  r.payload_len = 5;
  r.ident = 0;
  EXPECT_EQ(r.HeaderLength(), 40u);
  std::vector<uint8_t> buf(45, 0);
  auto n = r.Emit(buf);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, 40u);
  EXPECT_EQ(buf[0], 0x6a);  // version 6, traffic class high nibble
  EXPECT_EQ(buf[1], 0x5a);  // traffic class low nibble, flow label high nibble
  EXPECT_EQ(buf[6], 6);     // next header
  auto v = Ipv6HeaderView::Check(buf);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->traffic_class(), 0xa5);
  EXPECT_EQ(v->flow_label(), 0xabcdeu);
  EXPECT_EQ(v->payload_length(), 5);
  EXPECT_EQ(v->next_header(), 6);
  EXPECT_EQ(v->hop_limit(), 255);
  EXPECT_EQ(v->src(), r.src);
  EXPECT_EQ(v->dst(), r.dst);
  auto pkt = ParseIpPacket(buf);
  ASSERT_TRUE(pkt.ok()) << pkt.error();
  EXPECT_EQ(pkt->ip, r);
  EXPECT_EQ(pkt->payload.size(), 5u);
}

TEST(IpReprTest, Ipv6EveryTruncationRejected) {
  IpRepr r;
  r.src = *IpAddress::Parse("::1");
  r.dst = *IpAddress::Parse("::2");
  r.payload_len = 12;
  std::vector<uint8_t> buf(52, 0);
  ASSERT_TRUE(r.Emit(buf).ok());
  ASSERT_TRUE(ParseIpPacket(buf).ok());
  for (size_t n = 0; n < buf.size(); ++n) {
    auto pkt = ParseIpPacket(std::span<const uint8_t>(buf).first(n));
    ASSERT_FALSE(pkt.ok()) << n;
    EXPECT_EQ(pkt.error().code,
              n < 40 ? WireErrorCode::kTruncated : WireErrorCode::kBadHeaderLength)
        << n;
  }
}

TEST(IpReprTest, Ipv6BadVersionAndTrailingBytes) {
  IpRepr r;
  r.src = *IpAddress::Parse("::1");
  r.dst = *IpAddress::Parse("::2");
  r.payload_len = 0;
  std::vector<uint8_t> buf(48, 0x77);
  ASSERT_TRUE(r.Emit(buf).ok());
  auto pkt = ParseIpPacket(buf);
  ASSERT_TRUE(pkt.ok()) << pkt.error();
  EXPECT_TRUE(pkt->payload.empty());
  buf[0] = 0x40;  // claims v4 via the dispatcher, fails its checks
  EXPECT_FALSE(ParseIpPacket(buf).ok());
  buf[0] = 0x70;
  EXPECT_EQ(ParseIpPacket(buf).error().code, WireErrorCode::kBadVersion);
  EXPECT_EQ(Ipv6HeaderView::Check(buf).error().code, WireErrorCode::kBadVersion);
  EXPECT_EQ(ParseIpPacket({}).error().code, WireErrorCode::kTruncated);
}

TEST(IpReprTest, EmitErrors) {
  IpRepr r;
  r.src = IpAddress::V4(1, 2, 3, 4);
  r.dst = *IpAddress::Parse("::1");
  std::vector<uint8_t> buf(40);
  EXPECT_EQ(r.Emit(buf).error().code, WireErrorCode::kInvalidField);

  r.dst = IpAddress::V4(5, 6, 7, 8);
  EXPECT_EQ(r.Emit(std::span<uint8_t>(buf).first(19)).error().code,
            WireErrorCode::kBufferTooSmall);
  r.payload_len = 65515;
  EXPECT_TRUE(r.Emit(buf).ok());
  r.payload_len = 65516;  // total length would be 65536
  EXPECT_EQ(r.Emit(buf).error().code, WireErrorCode::kInvalidField);

  IpRepr r6;
  r6.src = *IpAddress::Parse("::1");
  r6.dst = *IpAddress::Parse("::2");
  r6.payload_len = 65535;  // fine for IPv6
  EXPECT_TRUE(r6.Emit(buf).ok());
  EXPECT_EQ(r6.Emit(std::span<uint8_t>(buf).first(39)).error().code,
            WireErrorCode::kBufferTooSmall);
  r6.flow_label = 0x100000;
  EXPECT_EQ(r6.Emit(buf).error().code, WireErrorCode::kInvalidField);
}

// A capture cut at a snaplen: the headers parse, the on-wire payload length comes from the
// header, and only the captured bytes are exposed. The strict parse still rejects it.
TEST(IpHeadersTest, TruncatedIpv4KeepsWireLength) {
  const std::vector<uint8_t> full = V4Packet();  // 20 + 40 bytes
  for (size_t cut = 20; cut <= full.size(); ++cut) {
    const std::span<const uint8_t> captured(full.data(), cut);
    auto h = ParseIpHeaders(captured);
    ASSERT_TRUE(h.ok()) << cut << ": " << h.error();
    EXPECT_EQ(h->ip.payload_len, 40u);
    EXPECT_EQ(h->captured_payload.size(), cut - 20);
    EXPECT_EQ(h->truncated(), cut < full.size());
    EXPECT_EQ(h->ip.src, IpAddress::V4(192, 168, 1, 2));
    EXPECT_EQ(ParseIpPacket(captured).ok(), cut == full.size());
  }
  for (size_t cut = 0; cut < 20; ++cut) {
    auto h = ParseIpHeaders(std::span<const uint8_t>(full.data(), cut));
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().code, WireErrorCode::kTruncated);
  }
}

TEST(IpHeadersTest, PaddingBeyondTotalLengthIgnored) {
  std::vector<uint8_t> p = V4Packet();
  p.resize(p.size() + 6, 0);  // Ethernet padding
  auto h = ParseIpHeaders(p);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->captured_payload.size(), 40u);
  EXPECT_FALSE(h->truncated());
}

TEST(IpHeadersTest, Ipv4RejectionsAsStrict) {
  std::vector<uint8_t> p = V4Packet();
  p[0] = 0x44;  // IHL 4
  FixV4Checksum(p);
  EXPECT_EQ(ParseIpHeaders(p).error().code, WireErrorCode::kBadHeaderLength);
  p = V4Packet();
  p[2] = 0;
  p[3] = 19;  // total length below the header
  FixV4Checksum(p);
  EXPECT_EQ(ParseIpHeaders(p).error().code, WireErrorCode::kBadHeaderLength);
  p = V4Packet();
  p[10] ^= 1;
  EXPECT_EQ(ParseIpHeaders(p).error().code, WireErrorCode::kBadChecksum);
  p = V4Packet();
  p[6] = 0x20;  // MF
  FixV4Checksum(p);
  EXPECT_EQ(ParseIpHeaders(p).error().code, WireErrorCode::kInvalidField);
  p = V4Packet();
  p[0] = 0x4f;  // IHL 15: 60 bytes of header, more than captured below
  FixV4Checksum(p);
  EXPECT_EQ(ParseIpHeaders(std::span<const uint8_t>(p.data(), 40)).error().code,
            WireErrorCode::kTruncated);
}

TEST(IpHeadersTest, TruncatedIpv6) {
  IpRepr r;
  r.src = IpAddress::V6FromBytes(std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 1}.data());
  r.dst = IpAddress::V6FromBytes(std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 2}.data());
  r.payload_len = 1000;
  std::vector<uint8_t> buf(60, 0);
  ASSERT_TRUE(r.Emit(buf).ok());
  auto h = ParseIpHeaders(buf);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h->ip.payload_len, 1000u);
  EXPECT_EQ(h->captured_payload.size(), 20u);
  EXPECT_TRUE(h->truncated());
  EXPECT_EQ(h->ip.src, r.src);
  EXPECT_FALSE(ParseIpPacket(buf).ok());
  EXPECT_EQ(ParseIpHeaders(std::span<const uint8_t>(buf.data(), 39)).error().code,
            WireErrorCode::kTruncated);
}

}  // namespace
}  // namespace mptcp::wire

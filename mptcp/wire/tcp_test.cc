#include "mptcp/wire/tcp.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mptcp/address.h"
#include "mptcp/wire/ip.h"

namespace mptcp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Hex(const char* s) {
  Bytes out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (; s[0] && s[1]; s += 2) out.push_back(static_cast<uint8_t>(nib(s[0]) << 4 | nib(s[1])));
  return out;
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// All three built and checksummed with python3 (struct.pack + RFC 1071 fold), independently of
// this code.
// SYN 192.168.1.2:40000 -> 192.168.1.1:80, seq 0x12345678, win 64240,
// <mss 1460, sackOK, TS val 0xa1b2c3 ecr 0, nop, wscale 7>, checksum 0x111a.
constexpr char kSyn[] =
    "9c4000501234567800000000a002faf0111a0000020405b40402080a00a1b2c30000000001030307";
// PSH|ACK 443 -> 51000 seq 1000 ack 2000 win 512 carrying "hello, mptcp!" (no checksum).
constexpr char kDataZeroSum[] =
    "01bbc738000003e8000007d0501802000000000068656c6c6f2c206d7074637021";
// FIN|ACK 10.0.0.2:51000 -> 10.0.0.1:443 seq 2000 ack 1014 win 501 <nop,nop,TS val 123456
// ecr 654321>, checksum 0xadce.
constexpr char kFin[] = "c73801bb000007d0000003f6801101f5adce00000101080a0001e2400009fbf1";

const IpAddress kSynSrc = IpAddress::V4(192, 168, 1, 2);
const IpAddress kSynDst = IpAddress::V4(192, 168, 1, 1);

TEST(TcpHeaderViewTest, RealSyn) {
  const Bytes seg = Hex(kSyn);
  auto v = TcpHeaderView::Check(seg);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->src_port(), 40000);
  EXPECT_EQ(v->dst_port(), 80);
  EXPECT_EQ(v->seq(), SeqNum32(0x12345678));
  EXPECT_EQ(v->ack(), SeqNum32(0));
  EXPECT_EQ(v->data_offset(), 10);
  EXPECT_EQ(v->header_length(), 40u);
  EXPECT_EQ(v->flags(), TcpFlag::kSyn);
  EXPECT_TRUE(v->has_flag(TcpFlag::kSyn));
  EXPECT_EQ(v->window(), 64240);
  EXPECT_EQ(v->checksum(), 0x111a);
  EXPECT_EQ(v->urgent(), 0);
  EXPECT_EQ(v->options().size(), 20u);
  EXPECT_TRUE(v->payload().empty());
  EXPECT_TRUE(VerifyTcpChecksum(kSynSrc, kSynDst, v->segment()));
}

TEST(TcpReprTest, ParseRealSynAndReEmitIdentically) {
  const Bytes seg = Hex(kSyn);
  auto r = TcpRepr::Parse(seg);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->src_port, 40000);
  EXPECT_EQ(r->dst_port, 80);
  EXPECT_EQ(r->seq, SeqNum32(0x12345678));
  EXPECT_EQ(r->flags, TcpFlag::kSyn);
  EXPECT_EQ(r->window, 64240);
  EXPECT_EQ(r->options.mss, 1460);
  EXPECT_TRUE(r->options.sack_permitted);
  EXPECT_EQ(r->options.timestamps, (TcpTimestamps{0xa1b2c3, 0}));
  EXPECT_EQ(r->options.window_scale, 7);
  EXPECT_EQ(r->SeqLength(), 1u);
  EXPECT_EQ(r->HeaderLength(), 40u);
  EXPECT_EQ(r->EncodedLength(), 40u);
  Bytes out(40);
  auto n = r->Emit(out, kSynSrc, kSynDst);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, 40u);
  EXPECT_EQ(out, seg);  // Linux layout, same checksum
}

TEST(TcpReprTest, ParseDataSegmentInsideIpv6Packet) {
  const IpAddress src = *IpAddress::Parse("2001:db8::1"), dst = *IpAddress::Parse("2001:db8::2");
  Bytes seg = Hex(kDataZeroSum);
  FillTcpChecksum(src, dst, seg);
  EXPECT_EQ(seg[16], 0x24);  // python3: 0x244f
  EXPECT_EQ(seg[17], 0x4f);

  IpRepr ip;
  ip.src = src;
  ip.dst = dst;
  ip.payload_len = static_cast<uint16_t>(seg.size());
  Bytes pkt(ip.PacketLength());
  ASSERT_TRUE(ip.Emit(pkt).ok());
  std::copy(seg.begin(), seg.end(), pkt.begin() + 40);

  auto p = ParseIpPacket(pkt);
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->ip.protocol, kIpProtoTcp);
  EXPECT_TRUE(VerifyTcpChecksum(p->ip.src, p->ip.dst, p->payload));
  auto r = TcpRepr::Parse(p->payload);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->src_port, 443);
  EXPECT_EQ(r->dst_port, 51000);
  EXPECT_EQ(r->seq, SeqNum32(1000));
  EXPECT_EQ(r->ack, SeqNum32(2000));
  EXPECT_EQ(r->flags, TcpFlag::kPsh | TcpFlag::kAck);
  EXPECT_EQ(r->window, 512);
  EXPECT_EQ(r->options, TcpOptions{});
  EXPECT_EQ(std::string(r->payload.begin(), r->payload.end()), "hello, mptcp!");
  EXPECT_EQ(r->payload.data(), pkt.data() + 60);  // borrowed, not copied
  EXPECT_EQ(r->SeqLength(), 13u);
}

TEST(TcpReprTest, ParseRealFin) {
  const Bytes seg = Hex(kFin);
  const IpAddress src = IpAddress::V4(10, 0, 0, 2), dst = IpAddress::V4(10, 0, 0, 1);
  EXPECT_TRUE(VerifyTcpChecksum(src, dst, seg));
  auto r = TcpRepr::Parse(seg);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->flags, TcpFlag::kFin | TcpFlag::kAck);
  EXPECT_EQ(r->seq, SeqNum32(2000));
  EXPECT_EQ(r->ack, SeqNum32(1014));
  EXPECT_EQ(r->window, 501);
  EXPECT_EQ(r->options.timestamps, (TcpTimestamps{123456, 654321}));
  EXPECT_EQ(r->SeqLength(), 1u);
  Bytes out(r->EncodedLength());
  ASSERT_TRUE(r->Emit(out, src, dst).ok());
  EXPECT_EQ(out, seg);
}

TEST(TcpHeaderViewTest, EveryTruncationRejected) {
  const Bytes seg = Hex(kSyn);
  for (size_t n = 0; n < seg.size(); ++n) {
    const auto part = std::span<const uint8_t>(seg).first(n);
    auto v = TcpHeaderView::Check(part);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error().code, n < 20 ? WireErrorCode::kTruncated : WireErrorCode::kBadHeaderLength)
        << n;
    EXPECT_FALSE(TcpRepr::Parse(part).ok()) << n;
  }
  // With a payload, any cut past the header is just a shorter payload.
  const Bytes data = Hex(kDataZeroSum);
  for (size_t n = 20; n <= data.size(); ++n) {
    auto r = TcpRepr::Parse(std::span<const uint8_t>(data).first(n));
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_EQ(r->payload.size(), n - 20);
  }
}

TEST(TcpHeaderViewTest, BadDataOffset) {
  Bytes seg = Hex(kSyn);
  for (uint8_t off = 0; off < 5; ++off) {
    seg[12] = static_cast<uint8_t>(off << 4);
    auto v = TcpHeaderView::Check(seg);
    ASSERT_FALSE(v.ok()) << int{off};
    EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
    EXPECT_EQ(v.error().length, off * 4);
  }
  for (uint8_t off = 11; off <= 15; ++off) {  // past the 40-byte segment
    seg[12] = static_cast<uint8_t>(off << 4);
    auto v = TcpHeaderView::Check(seg);
    ASSERT_FALSE(v.ok()) << int{off};
    EXPECT_EQ(v.error().code, WireErrorCode::kBadHeaderLength);
  }
  seg[12] = 0x50;  // 5: options become payload
  auto r = TcpRepr::Parse(seg);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 20u);
  EXPECT_EQ(r->options, TcpOptions{});
}

TEST(TcpReprTest, BadOptionsPropagate) {
  Bytes seg = Hex(kSyn);
  seg[21] = 5;  // MSS length 5
  auto r = TcpRepr::Parse(seg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), (WireError{WireErrorCode::kBadOptionLength, TcpOptionKind::kMss,
                                  WireError::kNoSubtype, 5}));
}

TEST(TcpReprTest, ReservedBitsIgnoredOnParseZeroOnEmit) {
  Bytes seg = Hex(kFin);
  seg[12] |= 0x0f;  // 3 reserved bits + AE
  auto r = TcpRepr::Parse(seg);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->flags, TcpFlag::kFin | TcpFlag::kAck);
  Bytes out(r->EncodedLength());
  ASSERT_TRUE(r->Emit(out).ok());
  EXPECT_EQ(out[12], 0x80);
}

TEST(TcpReprTest, AllFlagsRoundTrip) {
  for (int f = 0; f < 256; ++f) {
    TcpRepr r;
    r.flags = static_cast<uint8_t>(f);
    Bytes out(20);
    ASSERT_TRUE(r.Emit(out).ok());
    EXPECT_EQ(out[13], f);
    auto back = TcpRepr::Parse(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->flags, f);
  }
}

TEST(TcpReprTest, RandomRoundTrip) {
  std::mt19937 rng(9293);
  Bytes payload_store(300);
  for (auto& b : payload_store) b = static_cast<uint8_t>(rng());
  const IpAddress v4s = IpAddress::V4(10, 1, 2, 3), v4d = IpAddress::V4(10, 3, 2, 1);
  const IpAddress v6s = *IpAddress::Parse("fd00::1"), v6d = *IpAddress::Parse("fd00::2");
  for (int iter = 0; iter < 5000; ++iter) {
    TcpRepr r;
    r.src_port = static_cast<uint16_t>(rng());
    r.dst_port = static_cast<uint16_t>(rng());
    r.seq = SeqNum32(static_cast<uint32_t>(rng()));
    r.ack = SeqNum32(static_cast<uint32_t>(rng()));
    r.flags = static_cast<uint8_t>(rng());
    r.window = static_cast<uint16_t>(rng());
    r.urgent = static_cast<uint16_t>(rng());
    if (rng() & 1) r.options.mss = static_cast<uint16_t>(rng());
    if (rng() & 1) r.options.timestamps = TcpTimestamps{static_cast<uint32_t>(rng()), 7};
    if (rng() & 1) r.options.window_scale = static_cast<uint8_t>(rng() % 15);
    r.options.sack_permitted = rng() & 1;
    if (rng() & 1) r.options.AddSackBlock({SeqNum32(1), SeqNum32(static_cast<uint32_t>(rng()))});
    if (rng() & 1) {
      const uint8_t mp[] = {30, 8, 0x20, 0x01, 0xaa, 0xbb, 0xcc, 0xdd};
      ASSERT_TRUE(r.options.AddMptcpOption(mp));
    }
    const size_t off = rng() % 100;
    r.payload = std::span<const uint8_t>(payload_store).subspan(off, rng() % 200);
    const bool v6 = rng() & 1;
    const IpAddress& s = v6 ? v6s : v4s;
    const IpAddress& d = v6 ? v6d : v4d;

    Bytes out(r.EncodedLength());
    auto n = r.Emit(out, s, d);
    ASSERT_TRUE(n.ok()) << n.error();
    ASSERT_EQ(*n, out.size());
    ASSERT_TRUE(VerifyTcpChecksum(s, d, out));
    auto back = TcpRepr::Parse(out);
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(*back, r) << r << " vs " << *back;
  }
}

TEST(TcpReprTest, ChecksumWithBothPseudoHeaders) {
  TcpRepr r;
  r.src_port = 443;
  r.dst_port = 51000;
  r.seq = SeqNum32(1000);
  r.ack = SeqNum32(2000);
  r.flags = TcpFlag::kPsh | TcpFlag::kAck;
  r.window = 512;
  const std::string text = "hello, mptcp!";
  r.payload = AsBytes(text);
  Bytes out(r.EncodedLength());
  // Python3-computed values for the same segment (see checksum_test).
  ASSERT_TRUE(r.Emit(out, *IpAddress::Parse("2001:db8::1"), *IpAddress::Parse("2001:db8::2")).ok());
  EXPECT_EQ(out[16] << 8 | out[17], 0x244f);
  ASSERT_TRUE(r.Emit(out, IpAddress::V4(10, 0, 0, 1), IpAddress::V4(10, 0, 0, 2)).ok());
  EXPECT_EQ(out[16] << 8 | out[17], 0x6bc1);
  ASSERT_TRUE(r.Emit(out).ok());
  EXPECT_EQ(out, Hex(kDataZeroSum));
}

TEST(TcpReprTest, EmitErrors) {
  TcpRepr r;
  const std::string text = "abc";
  r.payload = AsBytes(text);
  Bytes out(22);
  auto n = r.Emit(out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, WireErrorCode::kBufferTooSmall);
  out.resize(23);
  EXPECT_TRUE(r.Emit(out).ok());

  n = r.Emit(out, IpAddress::V4(1, 1, 1, 1), *IpAddress::Parse("::1"));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, WireErrorCode::kInvalidField);

  r.options.timestamps = TcpTimestamps{};
  for (int i = 0; i < 4; ++i) r.options.AddSackBlock({SeqNum32(0), SeqNum32(1)});
  out.resize(100);
  n = r.Emit(out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, WireErrorCode::kInvalidField);  // 48 bytes of options
}

TEST(TcpReprTest, PayloadAlreadyInPlaceOrOverlapping) {
  TcpRepr r;
  r.flags = TcpFlag::kAck;
  r.options.mss = 1000;
  Bytes buf(64, 0);
  for (int i = 0; i < 10; ++i) buf[24 + i] = static_cast<uint8_t>('a' + i);
  r.payload = std::span<const uint8_t>(buf).subspan(24, 10);  // exactly where it goes
  auto n = r.Emit(buf);
  ASSERT_TRUE(n.ok());
  auto back = TcpRepr::Parse(std::span<const uint8_t>(buf).first(*n));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->payload.begin(), back->payload.end()), "abcdefghij");

  // Payload at the start of the buffer, overlapping the header to be written.
  Bytes buf2(64, 0);
  for (int i = 0; i < 30; ++i) buf2[i] = static_cast<uint8_t>('A' + i);
  const Bytes want(buf2.begin(), buf2.begin() + 30);
  r.payload = std::span<const uint8_t>(buf2).first(30);
  n = r.Emit(buf2);
  ASSERT_TRUE(n.ok());
  back = TcpRepr::Parse(std::span<const uint8_t>(buf2).first(*n));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Bytes(back->payload.begin(), back->payload.end()), want);
}

TEST(TcpReprTest, EqualityComparesPayloadContent) {
  const std::string a1 = "xyz", a2 = "xyz", b = "xyw";
  TcpRepr x, y;
  x.payload = AsBytes(a1);
  y.payload = AsBytes(a2);
  EXPECT_EQ(x, y);
  y.payload = AsBytes(b);
  EXPECT_NE(x, y);
}

TEST(TcpReprTest, ToString) {
  auto syn = TcpRepr::Parse(Hex(kSyn));
  ASSERT_TRUE(syn.ok());
  EXPECT_EQ(syn->ToString(),
            "S 305419896:305419896(0) win 64240 "
            "<mss 1460,sackOK,TS val 10597059 ecr 0,wscale 7>");
  TcpRepr r;
  r.flags = TcpFlag::kSyn | TcpFlag::kAck;
  r.seq = SeqNum32(1000);
  r.window = 65535;
  r.options.mss = 1460;
  EXPECT_EQ(r.ToString(), "S 1000:1000(0) ack 0 win 65535 <mss 1460>");
  const std::string text = "hello";
  TcpRepr d;
  d.flags = TcpFlag::kAck | TcpFlag::kPsh | TcpFlag::kFin;
  d.seq = SeqNum32(0xfffffffe);
  d.ack = SeqNum32(7);
  d.window = 10;
  d.payload = AsBytes(text);
  EXPECT_EQ(d.ToString(), "FP 4294967294:3(5) ack 7 win 10");
  TcpRepr a;
  a.flags = TcpFlag::kAck | TcpFlag::kUrg;
  a.urgent = 3;
  EXPECT_EQ(a.ToString(), "U 0:0(0) ack 0 win 0 urg 3");
  a.flags = TcpFlag::kAck;
  EXPECT_EQ(a.ToString(), ". 0:0(0) ack 0 win 0");
}

}  // namespace
}  // namespace mptcp::wire

#include "conformance/stream_check.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "io/stream_pattern.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::interop {
namespace {

constexpr uint64_t kSeed = 11;
constexpr uint64_t kKey = 0x0123456789abcdefull;
constexpr uint32_t kIsn = 0xfffffff0u;  // wraps within the first segments

// A segment from 192.0.2.1:1000 to 198.51.100.1:5201 (or from `port`), with `opt` if any and
// the stream's bytes [offset, offset + len) as payload, `flip` one of them if set.
std::vector<uint8_t> Segment(uint8_t flags, uint32_t seq, std::optional<wire::MptcpOption> opt,
                             uint64_t offset = 0, size_t len = 0, uint16_t port = 1000,
                             std::optional<size_t> flip = std::nullopt) {
  std::vector<uint8_t> payload(len);
  io::StreamPattern(kSeed).Fill(offset, payload);
  if (flip) payload[*flip] ^= 1;
  wire::TcpRepr t;
  t.src_port = port;
  t.dst_port = 5201;
  t.seq = SeqNum32(seq);
  t.flags = flags;
  t.window = 1000;
  if (opt) {
    std::array<uint8_t, 40> o{};
    auto n = wire::EmitMptcpOption(*opt, o);
    EXPECT_TRUE(n.ok());
    EXPECT_TRUE(t.options.AddMptcpOption(std::span<const uint8_t>(o).first(*n)));
  }
  t.payload = payload;
  wire::IpRepr ip;
  ip.src = IpAddress::V4(192, 0, 2, 1);
  ip.dst = IpAddress::V4(198, 51, 100, 1);
  ip.payload_len = static_cast<uint16_t>(t.EncodedLength());
  std::vector<uint8_t> p(ip.PacketLength());
  EXPECT_TRUE(ip.Emit(p).ok());
  EXPECT_TRUE(t.Emit(std::span<uint8_t>(p).subspan(ip.HeaderLength()), ip.src, ip.dst).ok());
  return p;
}

wire::MptcpOption Dss(uint64_t stream_offset, uint32_t subflow_seq, uint16_t len,
                      bool data_fin = false) {
  wire::Dss d;
  d.data_fin = data_fin;
  d.mapping = wire::DssMapping{.dsn = crypto::KeyIdsn(kKey) + 1 + stream_offset,
                               .dsn_is_64bit = true,
                               .subflow_seq = subflow_seq,
                               .data_len = len};
  return d;
}

// The client's SYN, then its third ACK carrying the key and the first data.
void Handshake(StreamCheck& c) {
  c.OnPacket(Segment(wire::TcpFlag::kSyn, kIsn, wire::MpCapable{1, 1}));
  wire::MpCapable third{1, 1};
  third.sender_key = kKey;
  third.receiver_key = 42;
  third.data_len = 100;
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 1, third, 0, 100));
}

TEST(StreamCheckTest, RightBytesUnderWholeChunkAndPerSegmentMappingsPass) {
  StreamCheck c(kSeed);
  Handshake(c);
  // One 3000-byte chunk mapped on each of its segments (the chunk's mapping repeated).
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 3000), 100, 1400));
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 1501, Dss(100, 101, 3000), 1500, 1400));
  // Its last segment mapped by itself, and a reinjection of the start on another subflow.
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 2901, Dss(2900, 2901, 200), 2900, 200));
  c.OnPacket(Segment(wire::TcpFlag::kSyn, 7, std::nullopt, 0, 0, 1001));
  c.OnPacket(Segment(wire::TcpFlag::kAck, 8, Dss(100, 1, 1400), 100, 1400, 1001));
  EXPECT_TRUE(c.ok()) << c.first_error();
  EXPECT_EQ(c.checked_segments(), 5u);
  EXPECT_EQ(c.checked_bytes(), 100u + 1400 + 1400 + 200 + 1400);
}

TEST(StreamCheckTest, OverlappingMappingsAreCountedAndConflictsAreErrors) {
  StreamCheck c(kSeed);
  Handshake(c);
  // A segment mapped by itself, then the same bytes under their whole chunk's mapping: legal
  // (they agree), counted.
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 1400), 100, 1400));
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 1400), 100, 1400));
  EXPECT_EQ(c.overlapping_mappings(), 0u);  // a repeat is not an overlap
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 2800), 100, 1400));
  EXPECT_TRUE(c.ok()) << c.first_error();
  EXPECT_EQ(c.overlapping_mappings(), 1u);
  EXPECT_NE(c.first_overlap().find("len 2800"), std::string::npos) << c.first_overlap();
  // The same subflow bytes mapped elsewhere in the stream: a conflict.
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 1501, Dss(9000, 1501, 1400), 9000, 1400));
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.first_error().find("different data sequence numbers"), std::string::npos)
      << c.first_error();
}

TEST(StreamCheckTest, ADataFinTakesNoSubflowByte) {
  StreamCheck c(kSeed);
  Handshake(c);
  // 1400 bytes and the DATA_FIN: a data-level length of 1401 over 1400 subflow bytes; the next
  // subflow byte is free for another mapping (a retransmission elsewhere in the stream).
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 1401, true), 100, 1400));
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 1501, Dss(0, 1501, 100), 0, 100));
  EXPECT_TRUE(c.ok()) << c.first_error();
  EXPECT_EQ(c.overlapping_mappings(), 0u);
}

TEST(StreamCheckTest, AWrongByteIsFoundWithItsStreamOffset) {
  StreamCheck c(kSeed);
  Handshake(c);
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 1400), 100, 1400, 1000, 7));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.first_error().find("mapped offset 107 "), std::string::npos) << c.first_error();
}

TEST(StreamCheckTest, BytesFromElsewhereInTheStreamAreWrong) {
  StreamCheck c(kSeed);
  Handshake(c);
  // The right subflow bytes under a mapping one segment off.
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(1500, 101, 1400), 100, 1400));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.errors(), 1u);
}

TEST(StreamCheckTest, PayloadPastItsMappingIsAnError) {
  StreamCheck c(kSeed);
  Handshake(c);
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, Dss(100, 101, 1000), 100, 1400));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.first_error().find("running past its mapping"), std::string::npos);
  StreamCheck d(kSeed);
  Handshake(d);
  d.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 1101, Dss(100, 101, 1000), 1100, 300));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.first_error().find("outside its own mapping"), std::string::npos);
}

TEST(StreamCheckTest, DataWithoutAMappingIsCountedNotChecked) {
  StreamCheck c(kSeed);
  Handshake(c);
  c.OnPacket(Segment(wire::TcpFlag::kAck, kIsn + 101, std::nullopt, 5000, 1400));
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.unmapped_segments(), 1u);
  EXPECT_EQ(c.checked_segments(), 1u);  // the handshake's data only
}

}  // namespace
}  // namespace mptcp::interop

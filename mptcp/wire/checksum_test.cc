#include "mptcp/wire/checksum.h"

#include <cstdint>
#include <random>
#include <string>
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

// Byte-wise reference straight from RFC 1071 §1: sum big-endian 16-bit words, pad an odd tail
// with zero, fold the carries, complement.
uint16_t NaiveChecksum(const std::vector<uint8_t>& d) {
  uint32_t s = 0;
  for (size_t i = 0; i < d.size(); i += 2) {
    s += uint32_t{d[i]} << 8;
    if (i + 1 < d.size()) s += d[i + 1];
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

TEST(InternetChecksumTest, Rfc1071Example) {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2; the checksum is its complement.
  const auto d = Hex("0001f203f4f5f6f7");
  InternetChecksum c;
  c.Add(d);
  EXPECT_EQ(c.Sum(), 0xddf2);
  EXPECT_EQ(c.Finish(), 0x220d);
  EXPECT_EQ(InternetChecksum::Compute(d), 0x220d);
}

TEST(InternetChecksumTest, EmptyAndZero) {
  EXPECT_EQ(InternetChecksum().Finish(), 0xffff);
  EXPECT_EQ(InternetChecksum::Compute({}), 0xffff);
  const std::vector<uint8_t> zeros(7, 0);
  EXPECT_EQ(InternetChecksum::Compute(zeros), 0xffff);
  const std::vector<uint8_t> ones(64, 0xff);
  EXPECT_EQ(InternetChecksum::Compute(ones), NaiveChecksum(ones));
}

TEST(InternetChecksumTest, Ipv4HeaderExample) {
  // The classic IPv4 header example (checksum field b861): summing the header including its
  // checksum gives 0.
  const auto h = Hex("450000730000400040110000c0a80001c0a800c7");
  EXPECT_EQ(InternetChecksum::Compute(h), 0xb861);
  const auto full = Hex("45000073000040004011b861c0a80001c0a800c7");
  EXPECT_EQ(InternetChecksum::Compute(full), 0);
}

TEST(InternetChecksumTest, MatchesNaiveForAllLengthsAndSplits) {
  std::mt19937_64 rng(1071);
  for (size_t len = 0; len <= 300; ++len) {
    std::vector<uint8_t> d(len);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    const uint16_t want = NaiveChecksum(d);
    ASSERT_EQ(InternetChecksum::Compute(d), want) << "len " << len;
    const std::span<const uint8_t> all(d);
    for (size_t split = 0; split <= len; ++split) {
      InternetChecksum c;
      c.Add(all.first(split));
      c.Add(all.subspan(split));
      ASSERT_EQ(c.Finish(), want) << "len " << len << " split " << split;
      // Combining two separately summed halves is the same stream.
      InternetChecksum a, b;
      a.Add(all.first(split));
      b.Add(all.subspan(split));
      a.Add(b);
      ASSERT_EQ(a.Finish(), want) << "len " << len << " split " << split;
    }
    // Three odd pieces.
    if (len >= 3) {
      InternetChecksum c;
      c.Add(all.first(1));
      c.Add(all.subspan(1, len / 2));
      c.Add(all.subspan(1 + len / 2));
      ASSERT_EQ(c.Finish(), want) << "len " << len;
    }
  }
}

TEST(InternetChecksumTest, AllOnesCarries) {
  // Long runs of 0xff exercise the end-around carry in every chain.
  for (size_t len : {8, 15, 16, 17, 31, 32, 33, 1000, 65535}) {
    const std::vector<uint8_t> d(len, 0xff);
    EXPECT_EQ(InternetChecksum::Compute(d), NaiveChecksum(d)) << len;
  }
}

TEST(InternetChecksumTest, BigEndianHelpersEqualBytes) {
  for (bool odd_prefix : {false, true}) {
    InternetChecksum a, b;
    const uint8_t prefix[1] = {0x5a};
    if (odd_prefix) {
      a.Add(prefix);
      b.Add(prefix);
    }
    a.AddU16(0xabcd);
    a.AddU32(0x01234567);
    a.AddU64(0x89abcdeffedcba98ULL);
    const auto bytes = Hex("abcd0123456789abcdeffedcba98");
    b.Add(bytes);
    EXPECT_EQ(a.Finish(), b.Finish()) << odd_prefix;
    EXPECT_EQ(a.odd(), odd_prefix);
  }
}

// A SYN from 192.168.1.2:40000 to 192.168.1.1:80 with MSS 1460, SACK-permitted, timestamps and
// window scale 7; checksum 0x111a computed independently with python3 (struct + fold).
constexpr char kSynSegment[] =
    "9c4000501234567800000000a002faf0111a0000020405b40402080a00a1b2c30000000001030307";

TEST(TcpChecksumTest, KnownIpv4Segment) {
  const IpAddress src = IpAddress::V4(192, 168, 1, 2), dst = IpAddress::V4(192, 168, 1, 1);
  auto seg = Hex(kSynSegment);
  EXPECT_TRUE(VerifyTcpChecksum(src, dst, seg));
  EXPECT_EQ(TcpChecksum(src, dst, seg), 0);
  // Wrong pseudo-header fails.
  EXPECT_FALSE(VerifyTcpChecksum(dst, IpAddress::V4(192, 168, 1, 3), seg));
  // Refill from scratch.
  seg[16] = 0xde;
  seg[17] = 0xad;
  EXPECT_FALSE(VerifyTcpChecksum(src, dst, seg));
  FillTcpChecksum(src, dst, seg);
  EXPECT_EQ(seg[16], 0x11);
  EXPECT_EQ(seg[17], 0x1a);
  // Any single bit flip is detected.
  for (size_t i = 0; i < seg.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      seg[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_FALSE(VerifyTcpChecksum(src, dst, seg)) << i << ":" << bit;
      seg[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

// A 33-byte PSH|ACK data segment (odd payload "hello, mptcp!") 443 -> 51000; checksums from
// python3 over the RFC 8200 §8.1 and RFC 9293 §3.1 pseudo-headers.
constexpr char kDataSegmentZeroSum[] =
    "01bbc738000003e8000007d050180200000000006865"
    "6c6c6f2c206d7074637021";

TEST(TcpChecksumTest, KnownIpv6AndIpv4PseudoHeaders) {
  const auto seg = Hex(kDataSegmentZeroSum);
  ASSERT_EQ(seg.size(), 33u);
  const IpAddress s6 = *IpAddress::Parse("2001:db8::1"), d6 = *IpAddress::Parse("2001:db8::2");
  EXPECT_EQ(TcpChecksum(s6, d6, seg), 0x244f);
  const IpAddress s4 = IpAddress::V4(10, 0, 0, 1), d4 = IpAddress::V4(10, 0, 0, 2);
  EXPECT_EQ(TcpChecksum(s4, d4, seg), 0x6bc1);

  auto filled = seg;
  FillTcpChecksum(s6, d6, filled);
  EXPECT_TRUE(VerifyTcpChecksum(s6, d6, filled));
  EXPECT_FALSE(VerifyTcpChecksum(s4, d4, filled));
}

TEST(TcpChecksumTest, FillIgnoresShortSegment) {
  std::vector<uint8_t> seg(19, 0xaa);
  FillTcpChecksum(IpAddress::V4(1, 2, 3, 4), IpAddress::V4(5, 6, 7, 8), seg);
  EXPECT_EQ(seg, std::vector<uint8_t>(19, 0xaa));
}

TEST(DssChecksumTest, KnownValues) {
  // python3: struct.pack('!QIHH', dsn, ssn, len, 0) + payload, RFC 1071 fold, complement.
  const std::string text = "hello, mptcp!";
  const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(text.data()),
                                         text.size());
  EXPECT_EQ(DssChecksum(0x0123456789abcdefULL, 0x1000, 13, payload), 0xf87c);
  EXPECT_EQ(DssChecksum(0xfffffffffffffff0ULL, 1, 0, {}), 0x000e);
}

TEST(DssChecksumTest, MatchesNaivePseudoHeaderAndVerifies) {
  std::mt19937_64 rng(8684);
  for (int iter = 0; iter < 200; ++iter) {
    const uint64_t dsn = rng();
    const uint32_t ssn = static_cast<uint32_t>(rng());
    const size_t len = rng() % 100;
    std::vector<uint8_t> payload(len);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    // RFC 8684 §3.3.1 Figure 10 laid out byte by byte.
    std::vector<uint8_t> ref;
    for (int i = 7; i >= 0; --i) ref.push_back(static_cast<uint8_t>(dsn >> (8 * i)));
    for (int i = 3; i >= 0; --i) ref.push_back(static_cast<uint8_t>(ssn >> (8 * i)));
    ref.push_back(static_cast<uint8_t>(len >> 8));
    ref.push_back(static_cast<uint8_t>(len));
    ref.push_back(0);
    ref.push_back(0);
    ref.insert(ref.end(), payload.begin(), payload.end());
    const uint16_t want = NaiveChecksum(ref);
    const uint16_t got = DssChecksum(dsn, ssn, static_cast<uint16_t>(len), payload);
    ASSERT_EQ(got, want);
    // Payload summed in two pieces ahead of time.
    InternetChecksum p1, p2;
    const std::span<const uint8_t> all(payload);
    p1.Add(all.first(len / 3));
    p2.Add(all.subspan(len / 3));
    p1.Add(p2);
    ASSERT_EQ(DssChecksumFromPayloadSum(dsn, ssn, static_cast<uint16_t>(len), p1), want);
    EXPECT_TRUE(VerifyDssChecksumFromPayloadSum(dsn, ssn, static_cast<uint16_t>(len), p1, got));
    EXPECT_TRUE(VerifyDssChecksum(dsn, ssn, static_cast<uint16_t>(len), payload, got));
    EXPECT_FALSE(VerifyDssChecksum(dsn, ssn ^ 1, static_cast<uint16_t>(len), payload, got));
    EXPECT_FALSE(VerifyDssChecksum(dsn + 1, ssn, static_cast<uint16_t>(len), payload, got));
    EXPECT_FALSE(
        VerifyDssChecksum(dsn, ssn, static_cast<uint16_t>(len), payload, got ^ 0x0100));
  }
}

TEST(DssChecksumTest, VerifyAcceptsBothZeroEncodings) {
  // Find a pseudo-header + payload whose data sums to 0xffff: checksum 0x0000, and a peer may
  // equally send 0xffff (negative zero).
  const uint64_t dsn = 0;
  const uint32_t ssn = 0;
  // Sum of pseudo-header = len; choose a payload word so that len + word == 0xffff.
  const uint16_t len = 2;
  const uint8_t payload[2] = {0xff, 0xfd};
  ASSERT_EQ(DssChecksum(dsn, ssn, len, payload), 0x0000);
  EXPECT_TRUE(VerifyDssChecksum(dsn, ssn, len, payload, 0x0000));
  EXPECT_TRUE(VerifyDssChecksum(dsn, ssn, len, payload, 0xffff));
}

}  // namespace
}  // namespace mptcp::wire

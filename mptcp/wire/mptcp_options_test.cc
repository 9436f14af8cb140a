#include "mptcp/wire/mptcp_options.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "mptcp/random.h"

// Counts heap allocations so the tests can assert that parse and emit never allocate.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// gcc 12 with _FORTIFY_SOURCE (-c opt) takes free() inside a replacement operator delete for a
// mismatch with operator new; here both ends are ours and malloc/free pair up.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace mptcp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Hex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;  // spaces and separators
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

Bytes Emit(const MptcpOption& o, MptcpVersion v = MptcpVersion::kV1) {
  std::array<uint8_t, 64> buf{};
  auto r = EmitMptcpOption(o, buf, v);
  EXPECT_TRUE(r.ok()) << r.error() << " for " << ToString(o);
  if (!r.ok()) return {};
  return Bytes(buf.begin(), buf.begin() + static_cast<long>(*r));
}

template <typename T>
T ParseAs(const Bytes& b, MptcpVersion v = MptcpVersion::kV1) {
  auto r = ParseMptcpOption(b, v);
  EXPECT_TRUE(r.ok()) << r.error();
  if (!r.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*r)) << ToString(*r);
  if (!std::holds_alternative<T>(*r)) return T{};
  return std::get<T>(*r);
}

WireError Err(WireErrorCode code, uint8_t subtype, uint16_t length) {
  return WireError{code, kMptcpOptionKind, subtype, length};
}

WireError ParseErr(const Bytes& b, MptcpVersion v = MptcpVersion::kV1) {
  auto r = ParseMptcpOption(b, v);
  EXPECT_FALSE(r.ok()) << ToString(*r);
  return r.ok() ? WireError{} : r.error();
}

// Parses `b` as `want`, and checks that re-emitting gives `b` back.
template <typename T>
void ExpectCodec(const Bytes& b, const T& want, MptcpVersion v = MptcpVersion::kV1) {
  EXPECT_EQ(ParseAs<T>(b, v), want);
  EXPECT_EQ(Emit(want, v), b) << ToString(want);
  EXPECT_EQ(EncodedLength(want, v), b.size());
}

// ---------------------------------------------------------------------------------------------
// Bytes from real captures.
// ---------------------------------------------------------------------------------------------

TEST(MptcpCaptureTest, MpCapableV0SynFromCapturedSyn) {
  // The option block of a captured MPTCP v0 SYN, quoted as a fixture in a public
  // packet-filter test: MSS, SACK-permitted, timestamps, NOP, wscale 7, MP_CAPABLE.
  const Bytes tcp_options =
      Hex("020405b4 0402 080a0f60fe6100000000 01 030307 1e0c0081b3e1a47f29845ec5");
  const Bytes mpc(tcp_options.end() - 12, tcp_options.end());
  const auto m = ParseAs<MpCapable>(mpc, MptcpVersion::kV0);
  EXPECT_EQ(m.version, 0);
  EXPECT_EQ(m.flags, 0x81);
  EXPECT_TRUE(m.checksum_required());
  EXPECT_TRUE(m.hmac_sha1());
  EXPECT_FALSE(m.hmac_sha256());
  EXPECT_EQ(m.sender_key, 0xb3e1a47f29845ec5u);
  EXPECT_FALSE(m.receiver_key.has_value());
  EXPECT_EQ(Emit(m), mpc);
  // The option's version nibble, not the caller's version, decides MP_CAPABLE.
  EXPECT_EQ(ParseAs<MpCapable>(mpc, MptcpVersion::kV1), m);
}

TEST(MptcpCaptureTest, NsThreeCapturedMpCapableAndDss) {
  // Bytes from a capture, quoted in the ns-3 MPTCP model's option tests.
  ExpectCodec(Hex("1e0c0081ec98f2ec7e8654d0"),
              MpCapable{.version = 0, .flags = 0x81, .sender_key = 0xec98f2ec7e8654d0});
  // DSS, A and M set, 32-bit Data ACK and DSN, with checksum: 4 + 4 + 4 + 4 + 2 + 2 = 20.
  ExpectCodec(Hex("1e142005b7d964e16860e7ac0000000100186118"),
              Dss{.data_ack = DataAck{.value = 0xb7d964e1, .is_64bit = false},
                  .mapping = DssMapping{.dsn = 0x6860e7ac,
                                        .dsn_is_64bit = false,
                                        .subflow_seq = 1,
                                        .data_len = 0x18,
                                        .checksum = 0x6118}});
}

TEST(MptcpCaptureTest, DataAckOnlyDssFromCapture) {
  // From a captured ACK's option block (NOP NOP TS DSS) quoted in a public TCP-option
  // parser test: "0101080a79941a9e79918591 1e082001c3f3aaa7".
  ExpectCodec(Hex("1e082001c3f3aaa7"), Dss{.data_ack = DataAck{.value = 0xc3f3aaa7}});
}

// ---------------------------------------------------------------------------------------------
// MP_CAPABLE, RFC 8684 §3.1.
// ---------------------------------------------------------------------------------------------

TEST(MpCapableTest, AllV1Forms) {
  ExpectCodec(Hex("1e040181"), MpCapable{.version = 1, .flags = 0x81});
  ExpectCodec(Hex("1e0c0101 0102030405060708"),
              MpCapable{.version = 1, .flags = 0x01, .sender_key = 0x0102030405060708});
  ExpectCodec(Hex("1e140101 0102030405060708 1112131415161718"),
              MpCapable{.version = 1,
                        .flags = 0x01,
                        .sender_key = 0x0102030405060708,
                        .receiver_key = 0x1112131415161718});
  ExpectCodec(Hex("1e160121 0102030405060708 1112131415161718 05dc"),
              MpCapable{.version = 1,
                        .flags = 0x21,
                        .sender_key = 0x0102030405060708,
                        .receiver_key = 0x1112131415161718,
                        .data_len = 1500});
  ExpectCodec(Hex("1e180181 0102030405060708 1112131415161718 05dc beef"),
              MpCapable{.version = 1,
                        .flags = 0x81,
                        .sender_key = 0x0102030405060708,
                        .receiver_key = 0x1112131415161718,
                        .data_len = 1500,
                        .checksum = 0xbeef});
}

TEST(MpCapableTest, FlagAccessors) {
  const MpCapable v1{.version = 1, .flags = 0xe1};
  EXPECT_TRUE(v1.checksum_required());
  EXPECT_TRUE(v1.extensibility());
  EXPECT_TRUE(v1.no_more_subflows());
  EXPECT_TRUE(v1.hmac_sha256());
  EXPECT_FALSE(v1.hmac_sha1());
  const MpCapable v0{.version = 0, .flags = 0x21};
  EXPECT_FALSE(v0.no_more_subflows());  // C is a crypto bit in v0
  EXPECT_FALSE(v0.hmac_sha256());
  EXPECT_TRUE(v0.hmac_sha1());
  EXPECT_FALSE(MpCapable{.flags = 0x00}.checksum_required());
}

TEST(MpCapableTest, V0Forms) {
  ExpectCodec(Hex("1e140081 0102030405060708 1112131415161718"),
              MpCapable{.version = 0,
                        .flags = 0x81,
                        .sender_key = 0x0102030405060708,
                        .receiver_key = 0x1112131415161718});
  // v0 has no 4-byte SYN and no data-carrying ACK (RFC 6824 §3.1).
  EXPECT_EQ(ParseErr(Hex("1e040081")), Err(WireErrorCode::kBadVersion, 0, 4));
  EXPECT_EQ(ParseErr(Hex("1e160081 0102030405060708 1112131415161718 05dc")),
            Err(WireErrorCode::kBadVersion, 0, 22));
}

TEST(MpCapableTest, NewerVersionOnlyInSyn) {
  // RFC 8684 §3.1: a SYN may offer a higher version; a v1 host answers with v1.
  ExpectCodec(Hex("1e040281"), MpCapable{.version = 2, .flags = 0x81});
  ExpectCodec(Hex("1e040f00"), MpCapable{.version = 15, .flags = 0x00});
  EXPECT_EQ(ParseErr(Hex("1e0c0281 0102030405060708")), Err(WireErrorCode::kBadVersion, 0, 12));
  EXPECT_EQ(ParseErr(Hex("1e140381 0102030405060708 1112131415161718")),
            Err(WireErrorCode::kBadVersion, 0, 20));
}

TEST(MpCapableTest, BadLengths) {
  EXPECT_EQ(ParseErr(Hex("1e050181 00")), Err(WireErrorCode::kBadMptcpLength, 0, 5));
  EXPECT_EQ(ParseErr(Hex("1e0b0181 01020304050607")), Err(WireErrorCode::kBadMptcpLength, 0, 11));
  EXPECT_EQ(ParseErr(Hex("1e030181")), Err(WireErrorCode::kBadOptionLength, 0, 3));
  EXPECT_EQ(ParseErr(Hex("1e0301")), Err(WireErrorCode::kBadMptcpLength, 0, 3));
}

TEST(MpCapableTest, EmitRejectsFormlessValues) {
  std::array<uint8_t, 40> buf{};
  auto invalid = [&](const MpCapable& m) {
    auto r = EmitMptcpOption(m, buf);
    return !r.ok() && r.error().code == WireErrorCode::kInvalidField && r.error().subtype == 0;
  };
  EXPECT_TRUE(invalid(MpCapable{.receiver_key = 1}));
  EXPECT_TRUE(invalid(MpCapable{.sender_key = 1, .data_len = 1}));
  EXPECT_TRUE(invalid(MpCapable{.sender_key = 1, .receiver_key = 2, .checksum = 3}));
  EXPECT_TRUE(invalid(MpCapable{.version = 16}));
  EXPECT_TRUE(invalid(MpCapable{.version = 0}));  // v0 has no 4-byte form
  EXPECT_TRUE(invalid(MpCapable{.version = 0, .sender_key = 1, .receiver_key = 2, .data_len = 3}));
  EXPECT_TRUE(invalid(MpCapable{.version = 2, .sender_key = 1}));
  EXPECT_EQ(EncodedLength(MpCapable{.receiver_key = 1}), 0u);
}

// ---------------------------------------------------------------------------------------------
// MP_JOIN, RFC 8684 §3.2.
// ---------------------------------------------------------------------------------------------

TEST(MpJoinTest, ThreeForms) {
  ExpectCodec(Hex("1e0c1105 a1b2c3d4 01020304"),
              MpJoinSyn{.backup = true, .address_id = 5, .receiver_token = 0xa1b2c3d4,
                        .sender_nonce = 0x01020304});
  ExpectCodec(Hex("1e101000 1122334455667788 deadbeef"),
              MpJoinSynAck{.backup = false, .address_id = 0, .truncated_hmac = 0x1122334455667788,
                           .sender_nonce = 0xdeadbeef});
  MpJoinAck ack;
  for (size_t i = 0; i < ack.hmac.size(); ++i) ack.hmac[i] = static_cast<uint8_t>(0xa0 + i);
  ExpectCodec(Hex("1e181000 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"), ack);
}

TEST(MpJoinTest, ReservedBitsSurviveRoundTrip) {
  ExpectCodec(Hex("1e0c1f07 00000001 00000002"),
              MpJoinSyn{.backup = true, .address_id = 7, .receiver_token = 1, .sender_nonce = 2,
                        .reserved = 7});
  MpJoinAck ack{.reserved = 0xabc};
  ExpectCodec(Hex("1e181abc 0000000000000000000000000000000000000000"), ack);
  std::array<uint8_t, 40> buf{};
  EXPECT_FALSE(EmitMptcpOption(MpJoinSyn{.reserved = 8}, buf).ok());
  EXPECT_FALSE(EmitMptcpOption(MpJoinAck{.reserved = 0x1000}, buf).ok());
}

TEST(MpJoinTest, BadLength) {
  EXPECT_EQ(ParseErr(Hex("1e0d1105 a1b2c3d4 01020304 00")),
            Err(WireErrorCode::kBadMptcpLength, 1, 13));
  EXPECT_EQ(ParseErr(Hex("1e0410 00")), Err(WireErrorCode::kBadMptcpLength, 1, 4));
}

// ---------------------------------------------------------------------------------------------
// DSS, RFC 8684 §3.3.
// ---------------------------------------------------------------------------------------------

TEST(DssTest, SixtyFourBitEverythingWithChecksumAndDataFin) {
  // F m M a A = 0x1f: 4 + 8 + 8 + 4 + 2 + 2 = 28.
  ExpectCodec(Hex("1e1c201f 0000000100000002 0000000300000004 00000005 0006 abcd"),
              Dss{.data_fin = true,
                  .data_ack = DataAck{.value = 0x0000000100000002, .is_64bit = true},
                  .mapping = DssMapping{.dsn = 0x0000000300000004,
                                        .dsn_is_64bit = true,
                                        .subflow_seq = 5,
                                        .data_len = 6,
                                        .checksum = 0xabcd}});
}

TEST(DssTest, DataFinWithoutDataAndInfiniteMapping) {
  // RFC 8684 §3.3.3: a DATA_FIN on an empty segment has subflow seq 0 and length 1.
  ExpectCodec(Hex("1e12201c 00000000000003e8 00000000 0001"),
              Dss{.data_fin = true,
                  .mapping = DssMapping{.dsn = 1000, .dsn_is_64bit = true, .subflow_seq = 0,
                                        .data_len = 1}});
  // RFC 8684 §3.3.1: data-level length 0 is the infinite mapping.
  const auto inf = ParseAs<Dss>(Hex("1e0e2004 00000064 00000000 0000"));
  ASSERT_TRUE(inf.mapping.has_value());
  EXPECT_EQ(inf.mapping->data_len, 0);
  EXPECT_FALSE(inf.mapping->checksum.has_value());
}

TEST(DssTest, EmptyDssAndMeaninglessFlags) {
  ExpectCodec(Hex("1e042000"), Dss{});
  // 'a' without 'A', 'm' without 'M', F without M: accepted and preserved.
  ExpectCodec(Hex("1e04201a"), Dss{.data_fin = true, .stray_flags = Dss::kFlaga | Dss::kFlagm});
  ExpectCodec(Hex("1e082009 01020304"),
              Dss{.data_ack = DataAck{.value = 0x01020304}, .stray_flags = Dss::kFlagm});
  // Reserved bits: 4 after the subtype, 3 before F.
  ExpectCodec(Hex("1e042fe0"), Dss{.reserved = 0x7f});
  ExpectCodec(Hex("1e0424a0"), Dss{.reserved = 0x25});
}

TEST(DssTest, ChecksumOnlyWithMapping) {
  EXPECT_EQ(ParseErr(Hex("1e0a2001 01020304 0000")), Err(WireErrorCode::kBadMptcpLength, 2, 10));
  EXPECT_EQ(ParseErr(Hex("1e062000 0000")), Err(WireErrorCode::kBadMptcpLength, 2, 6));
  EXPECT_EQ(ParseErr(Hex("1e0f2004 00000064 00000000 0000 00")),
            Err(WireErrorCode::kBadMptcpLength, 2, 15));
}

TEST(DssTest, EmitRejectsUnencodable) {
  std::array<uint8_t, 40> buf{};
  auto code = [&](const Dss& d) {
    auto r = EmitMptcpOption(d, buf);
    return r.ok() ? std::optional<WireErrorCode>() : r.error().code;
  };
  EXPECT_EQ(code(Dss{.data_ack = DataAck{.value = 1ull << 32}}), WireErrorCode::kInvalidField);
  EXPECT_EQ(code(Dss{.mapping = DssMapping{.dsn = 1ull << 32}}), WireErrorCode::kInvalidField);
  EXPECT_EQ(code(Dss{.data_ack = DataAck{.value = 1ull << 32, .is_64bit = true}}), std::nullopt);
  EXPECT_EQ(code(Dss{.data_ack = DataAck{}, .stray_flags = Dss::kFlaga}),
            WireErrorCode::kInvalidField);
  EXPECT_EQ(code(Dss{.mapping = DssMapping{}, .stray_flags = Dss::kFlagm}),
            WireErrorCode::kInvalidField);
  EXPECT_EQ(code(Dss{.stray_flags = Dss::kFlagA}), WireErrorCode::kInvalidField);
  EXPECT_EQ(code(Dss{.reserved = 0x80}), WireErrorCode::kInvalidField);
}

// ---------------------------------------------------------------------------------------------
// ADD_ADDR, RFC 8684 §3.4.1 (v1) and RFC 6824 §3.4.1 (v0).
// ---------------------------------------------------------------------------------------------

const IpAddress kV4 = IpAddress::V4(192, 0, 2, 1);
const IpAddress kV6 = *IpAddress::Parse("2001:db8::1");

TEST(AddAddrTest, V1AllEightLengths) {
  ExpectCodec(Hex("1e083101 c0000201"), AddAddr{.echo = true, .address_id = 1, .address = kV4});
  ExpectCodec(Hex("1e0a3101 c0000201 1f90"),
              AddAddr{.echo = true, .address_id = 1, .address = kV4, .port = 8080});
  ExpectCodec(Hex("1e103002 c0000201 0102030405060708"),
              AddAddr{.address_id = 2, .address = kV4, .hmac = 0x0102030405060708});
  ExpectCodec(Hex("1e123002 c0000201 1f90 0102030405060708"),
              AddAddr{.address_id = 2, .address = kV4, .port = 8080, .hmac = 0x0102030405060708});
  ExpectCodec(Hex("1e143103 20010db8000000000000000000000001"),
              AddAddr{.echo = true, .address_id = 3, .address = kV6});
  ExpectCodec(Hex("1e163103 20010db8000000000000000000000001 0050"),
              AddAddr{.echo = true, .address_id = 3, .address = kV6, .port = 80});
  ExpectCodec(Hex("1e1c3004 20010db8000000000000000000000001 1112131415161718"),
              AddAddr{.address_id = 4, .address = kV6, .hmac = 0x1112131415161718});
  ExpectCodec(Hex("1e1e3004 20010db8000000000000000000000001 0050 1112131415161718"),
              AddAddr{.address_id = 4, .address = kV6, .port = 80, .hmac = 0x1112131415161718});
}

TEST(AddAddrTest, V1EchoFlagMustMatchLength) {
  EXPECT_EQ(ParseErr(Hex("1e103102 c0000201 0102030405060708")),
            Err(WireErrorCode::kBadMptcpLength, 3, 16));
  EXPECT_EQ(ParseErr(Hex("1e083001 c0000201")), Err(WireErrorCode::kBadMptcpLength, 3, 8));
  ExpectCodec(Hex("1e083f01 c0000201"),
              AddAddr{.echo = true, .address_id = 1, .address = kV4, .reserved = 7});
}

TEST(AddAddrTest, V0IpVerLayouts) {
  constexpr auto v0 = MptcpVersion::kV0;
  ExpectCodec(Hex("1e083409 c0000201"), AddAddr{.address_id = 9, .address = kV4}, v0);
  ExpectCodec(Hex("1e0a3409 c0000201 0016"), AddAddr{.address_id = 9, .address = kV4, .port = 22},
              v0);
  ExpectCodec(Hex("1e14360a 20010db8000000000000000000000001"),
              AddAddr{.address_id = 10, .address = kV6}, v0);
  ExpectCodec(Hex("1e16360a 20010db8000000000000000000000001 0016"),
              AddAddr{.address_id = 10, .address = kV6, .port = 22}, v0);
  // IPVer disagreeing with the length, or neither 4 nor 6; HMAC lengths exist only in v1.
  EXPECT_EQ(ParseErr(Hex("1e083609 c0000201"), v0), Err(WireErrorCode::kBadVersion, 3, 8));
  EXPECT_EQ(ParseErr(Hex("1e083509 c0000201"), v0), Err(WireErrorCode::kBadVersion, 3, 8));
  EXPECT_EQ(ParseErr(Hex("1e103402 c0000201 0102030405060708"), v0),
            Err(WireErrorCode::kBadVersion, 3, 16));
  // The same bytes mean different things in v0 and v1: 0x34 is E=0 in v1 (so needs an HMAC).
  EXPECT_EQ(ParseErr(Hex("1e083409 c0000201"), MptcpVersion::kV1),
            Err(WireErrorCode::kBadMptcpLength, 3, 8));
}

TEST(AddAddrTest, EmitRejectsUnencodable) {
  std::array<uint8_t, 40> buf{};
  auto invalid = [&](const AddAddr& a, MptcpVersion v) {
    auto r = EmitMptcpOption(a, buf, v);
    return !r.ok() && r.error().code == WireErrorCode::kInvalidField && r.error().subtype == 3;
  };
  EXPECT_TRUE(invalid(AddAddr{.echo = true, .address = kV4, .hmac = 1}, MptcpVersion::kV1));
  EXPECT_TRUE(invalid(AddAddr{.echo = false, .address = kV4}, MptcpVersion::kV1));
  EXPECT_TRUE(invalid(AddAddr{.echo = true, .address = kV4}, MptcpVersion::kV0));
  EXPECT_TRUE(invalid(AddAddr{.address = kV4, .hmac = 1}, MptcpVersion::kV0));
  EXPECT_TRUE(invalid(AddAddr{.echo = true, .address = kV4, .reserved = 8}, MptcpVersion::kV1));
}

// ---------------------------------------------------------------------------------------------
// REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE, MP_TCPRST.
// ---------------------------------------------------------------------------------------------

TEST(RemoveAddrTest, OneToThirtySevenIds) {
  ExpectCodec(Hex("1e044007"), RemoveAddr::Of({7}));
  ExpectCodec(Hex("1e06400102 03"), RemoveAddr::Of({1, 2, 3}));
  RemoveAddr full;
  Bytes b = {0x1e, 40, 0x4f};
  for (uint8_t i = 0; i < RemoveAddr::kMaxIds; ++i) {
    EXPECT_TRUE(full.Add(i));
    b.push_back(i);
  }
  EXPECT_FALSE(full.Add(99));
  full.reserved = 0xf;
  ExpectCodec(b, full);
  EXPECT_EQ(full.address_ids().size(), 37u);
}

TEST(RemoveAddrTest, EmptyOrOverfullIsUnencodable) {
  std::array<uint8_t, 64> buf{};
  EXPECT_EQ(EmitMptcpOption(RemoveAddr{}, buf).error(), Err(WireErrorCode::kInvalidField, 4, 3));
  RemoveAddr r;
  r.count = 38;
  EXPECT_EQ(EmitMptcpOption(r, buf).error().code, WireErrorCode::kInvalidField);
  EXPECT_EQ(ParseErr(Hex("1e0340")), Err(WireErrorCode::kBadMptcpLength, 4, 3));
}

TEST(MpPrioTest, V1AndV0) {
  ExpectCodec(Hex("1e0351"), MpPrio{.backup = true});
  ExpectCodec(Hex("1e0350"), MpPrio{.backup = false});
  ExpectCodec(Hex("1e0350"), MpPrio{.backup = false}, MptcpVersion::kV0);
  ExpectCodec(Hex("1e045109"), MpPrio{.backup = true, .address_id = 9}, MptcpVersion::kV0);
  // RFC 8684 §3.3.8 dropped the address ID.
  EXPECT_EQ(ParseErr(Hex("1e045109")), Err(WireErrorCode::kBadVersion, 5, 4));
  std::array<uint8_t, 8> buf{};
  EXPECT_EQ(EmitMptcpOption(MpPrio{.address_id = 1}, buf).error().code,
            WireErrorCode::kInvalidField);
}

TEST(MpFailFastcloseRstTest, FixedForms) {
  ExpectCodec(Hex("1e0c6000 0102030405060708"), MpFail{.dsn = 0x0102030405060708});
  ExpectCodec(Hex("1e0c6fff 0102030405060708"),
              MpFail{.dsn = 0x0102030405060708, .reserved = 0xfff});
  ExpectCodec(Hex("1e0c7000 8877665544332211"), MpFastclose{.receiver_key = 0x8877665544332211});
  ExpectCodec(Hex("1e048106"),
              MpTcpRst{.flags = MpTcpRst::kFlagT,
                       .reason = static_cast<uint8_t>(MpTcpRstReason::kMiddleboxInterference)});
  const auto rst = ParseAs<MpTcpRst>(Hex("1e048f99"));
  EXPECT_EQ(rst.flags, 0xf);
  EXPECT_TRUE(rst.transient());
  EXPECT_EQ(rst.reason, 0x99);  // unassigned codes are kept
  EXPECT_EQ(ParseErr(Hex("1e0b6000 01020304050607")), Err(WireErrorCode::kBadMptcpLength, 6, 11));
  EXPECT_EQ(ParseErr(Hex("1e0d7000 0102030405060708 09")),
            Err(WireErrorCode::kBadMptcpLength, 7, 13));
  EXPECT_EQ(ParseErr(Hex("1e058000 00")), Err(WireErrorCode::kBadMptcpLength, 8, 5));
  EXPECT_STREQ(MpTcpRstReasonName(4), "Too much outstanding data");
}

// ---------------------------------------------------------------------------------------------
// Framing, unknown subtypes, buffers.
// ---------------------------------------------------------------------------------------------

TEST(MptcpFramingTest, LengthByteMustMatchSpan) {
  EXPECT_EQ(ParseErr({}), Err(WireErrorCode::kTruncated, WireError::kNoSubtype, 0));
  EXPECT_EQ(ParseErr({30}), Err(WireErrorCode::kTruncated, WireError::kNoSubtype, 1));
  EXPECT_EQ(ParseErr({30, 2}), Err(WireErrorCode::kBadOptionLength, WireError::kNoSubtype, 2));
  EXPECT_EQ(ParseErr({30, 1}), Err(WireErrorCode::kBadOptionLength, WireError::kNoSubtype, 1));
  EXPECT_EQ(ParseErr({30, 0, 0x20, 0}), Err(WireErrorCode::kBadOptionLength, 2, 0));
  // Length byte larger than the span: the option is cut short.
  EXPECT_EQ(ParseErr(Hex("1e0c2001 01020304")), Err(WireErrorCode::kTruncated, 2, 12));
  EXPECT_EQ(ParseErr({30, 3}), Err(WireErrorCode::kTruncated, WireError::kNoSubtype, 3));
  // Smaller than the span: the walker's framing and the option disagree.
  EXPECT_EQ(ParseErr(Hex("1e042000 00")), Err(WireErrorCode::kBadOptionLength, 2, 4));
  // Not an MPTCP option at all.
  EXPECT_EQ(ParseErr(Hex("02040000")).code, WireErrorCode::kInvalidField);
}

TEST(MptcpFramingTest, UnknownSubtypesAreTyped) {
  for (uint8_t sub = 9; sub <= 15; ++sub) {
    const Bytes b = {30, 6, static_cast<uint8_t>(sub << 4 | 3), 1, 2, 3};
    EXPECT_EQ(ParseErr(b), Err(WireErrorCode::kUnknownSubtype, sub, 6));
    EXPECT_EQ(PeekMptcpSubtype(b), sub);
  }
  EXPECT_STREQ(MptcpSubtypeName(15), "MP_EXPERIMENTAL");
  EXPECT_STREQ(MptcpSubtypeName(9), "unknown");
  EXPECT_EQ(PeekMptcpSubtype(Bytes{30, 2}), std::nullopt);
  EXPECT_EQ(PeekMptcpSubtype(Hex("1e042000")), 2);
}

TEST(MptcpEmitTest, BufferTooSmallWritesNothing) {
  const MptcpOption opts[] = {
      MpCapable{.version = 1, .flags = 1, .sender_key = 1, .receiver_key = 2, .data_len = 3,
                .checksum = 4},
      MpJoinAck{},
      Dss{.data_ack = DataAck{.value = 7, .is_64bit = true},
          .mapping = DssMapping{.dsn = 9, .dsn_is_64bit = true, .checksum = 1}},
      AddAddr{.address = kV6, .port = 1, .hmac = 2},
      RemoveAddr::Of({1, 2, 3, 4}),
      MpTcpRst{},
  };
  for (const auto& o : opts) {
    const size_t need = EncodedLength(o);
    ASSERT_GT(need, 0u) << ToString(o);
    std::array<uint8_t, 64> buf;
    buf.fill(0xee);
    auto r = EmitMptcpOption(o, std::span<uint8_t>(buf.data(), need - 1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Err(WireErrorCode::kBufferTooSmall,
                             static_cast<uint8_t>(SubtypeOf(o)), static_cast<uint16_t>(need - 1)));
    for (uint8_t x : buf) ASSERT_EQ(x, 0xee);
    auto ok = EmitMptcpOption(o, std::span<uint8_t>(buf.data(), need));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(*ok, need);
    EXPECT_EQ(buf[need], 0xee);
  }
}

TEST(MptcpEmitTest, ParseAndEmitDoNotAllocate) {
  const Bytes dss = Hex("1e1c201f 0000000100000002 0000000300000004 00000005 0006 abcd");
  const Bytes mpc = Hex("1e180181 0102030405060708 1112131415161718 05dc beef");
  const Bytes join = Hex("1e181000 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
  const Bytes add = Hex("1e1e3004 20010db8000000000000000000000001 0050 1112131415161718");
  std::array<uint8_t, 40> out{};
  const long before = g_allocations.load();
  size_t total = 0;
  for (const Bytes* b : {&dss, &mpc, &join, &add}) {
    auto r = ParseMptcpOption(*b);
    if (r.ok()) {
      auto w = EmitMptcpOption(*r, out);
      if (w.ok()) total += *w;
    }
  }
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(total, dss.size() + mpc.size() + join.size() + add.size());
}

TEST(MptcpToStringTest, WiresharkLikeFields) {
  EXPECT_EQ(ToString(MpCapable{.version = 1, .flags = 0x81, .sender_key = 0x0102030405060708}),
            "MP_CAPABLE: Version=1, Flags=0x81 [A,H], Sender's Key=0x0102030405060708");
  const std::string dss = ToString(Dss{
      .data_ack = DataAck{.value = 5},
      .mapping = DssMapping{.dsn = 7, .subflow_seq = 1, .data_len = 100, .checksum = 0xbeef}});
  EXPECT_NE(dss.find("Data ACK=5 (32 bits)"), std::string::npos) << dss;
  EXPECT_NE(dss.find("Data Sequence Number=7"), std::string::npos) << dss;
  EXPECT_NE(dss.find("Subflow Sequence Number=1"), std::string::npos) << dss;
  EXPECT_NE(dss.find("Data-level Length=100"), std::string::npos) << dss;
  EXPECT_NE(dss.find("Checksum=0xbeef"), std::string::npos) << dss;
  EXPECT_NE(dss.find("[..M.A]"), std::string::npos) << dss;
  EXPECT_EQ(ToString(AddAddr{.echo = true, .address_id = 3, .address = kV6, .port = 80}),
            "ADD_ADDR: Echo=1, Address ID=3, IPv6=2001:db8::1, Port=80");
  EXPECT_EQ(ToString(RemoveAddr::Of({1, 2})),
            "REMOVE_ADDR: Number of removed addresses=2, Address ID=1,2");
  EXPECT_EQ(ToString(MpTcpRst{.flags = 1, .reason = 6}),
            "MP_TCPRST: Flags=0x1 [...T], Reason=6 (Middlebox interference)");
  EXPECT_NE(ToString(MpJoinSyn{.receiver_token = 0xabcdef01}).find("Receiver's Token=0xabcdef01"),
            std::string::npos);
  EXPECT_NE(ToString(MpJoinAck{}).find("Sender's HMAC=0000"), std::string::npos);
  EXPECT_NE(ToString(MpFastclose{.receiver_key = 1}).find("Receiver's Key=0x0000000000000001"),
            std::string::npos);
  std::ostringstream os;
  os << MpPrio{.backup = true};
  EXPECT_EQ(os.str(), "MP_PRIO: Backup=1");
}

// ---------------------------------------------------------------------------------------------
// Randomized: decode(encode(x)) == x and encode(decode(b)) == b.
// ---------------------------------------------------------------------------------------------

IpAddress RandomAddress(Random& rng) {
  uint8_t b[16];
  for (auto& x : b) x = static_cast<uint8_t>(rng.Next());
  return rng.Bernoulli(0.5) ? IpAddress::V4FromBytes(b) : IpAddress::V6FromBytes(b);
}

template <typename T>
std::optional<T> Maybe(Random& rng, T v) {
  return rng.Bernoulli(0.5) ? std::optional<T>(v) : std::nullopt;
}

// A random value that has an encoding under `v` (built from the RFC rules, independently of
// the codec's CheckedLength).
MptcpOption RandomValidOption(Random& rng, MptcpVersion v) {
  const auto u8 = [&] { return static_cast<uint8_t>(rng.Next()); };
  const auto u16 = [&] { return static_cast<uint16_t>(rng.Next()); };
  switch (rng.Uniform(11)) {
    case 0: {
      MpCapable m;
      const int form = static_cast<int>(rng.Uniform(5));  // 4, 12, 20, 22, 24
      const int ver = static_cast<int>(rng.Uniform(3));   // v0, v1, v2..15
      m.version = ver == 2 ? static_cast<uint8_t>(2 + rng.Uniform(14)) : static_cast<uint8_t>(ver);
      m.flags = u8();
      const int allowed = m.version == 0 ? (form % 2 == 0 ? 1 : 2) : m.version == 1 ? form : 0;
      if (allowed >= 1) m.sender_key = rng.Next();
      if (allowed >= 2) m.receiver_key = rng.Next();
      if (allowed >= 3) m.data_len = u16();
      if (allowed >= 4) m.checksum = u16();
      return m;
    }
    case 1:
      return MpJoinSyn{rng.Bernoulli(0.5), u8(), rng.Next32(), rng.Next32(),
                       static_cast<uint8_t>(rng.Uniform(8))};
    case 2:
      return MpJoinSynAck{rng.Bernoulli(0.5), u8(), rng.Next(), rng.Next32(),
                          static_cast<uint8_t>(rng.Uniform(8))};
    case 3: {
      MpJoinAck a;
      for (auto& x : a.hmac) x = u8();
      a.reserved = static_cast<uint16_t>(rng.Uniform(0x1000));
      return a;
    }
    case 4: {
      Dss d;
      d.data_fin = rng.Bernoulli(0.3);
      d.reserved = static_cast<uint8_t>(rng.Bernoulli(0.2) ? rng.Uniform(0x80) : 0);
      if (rng.Bernoulli(0.7)) {
        const bool w = rng.Bernoulli(0.5);
        d.data_ack = DataAck{w ? rng.Next() : rng.Next32(), w};
      } else if (rng.Bernoulli(0.2)) {
        d.stray_flags |= Dss::kFlaga;
      }
      if (rng.Bernoulli(0.7)) {
        const bool w = rng.Bernoulli(0.5);
        d.mapping = DssMapping{w ? rng.Next() : rng.Next32(), w, rng.Next32(), u16(),
                               Maybe(rng, u16())};
      } else if (rng.Bernoulli(0.2)) {
        d.stray_flags |= Dss::kFlagm;
      }
      return d;
    }
    case 5: {
      AddAddr a;
      a.address_id = u8();
      a.address = RandomAddress(rng);
      a.port = Maybe(rng, u16());
      if (v == MptcpVersion::kV1) {
        a.echo = rng.Bernoulli(0.5);
        if (!a.echo) a.hmac = rng.Next();
        a.reserved = static_cast<uint8_t>(rng.Uniform(8));
      }
      return a;
    }
    case 6: {
      RemoveAddr r;
      const size_t n = 1 + rng.Uniform(RemoveAddr::kMaxIds);
      for (size_t i = 0; i < n; ++i) r.Add(u8());
      r.reserved = static_cast<uint8_t>(rng.Uniform(16));
      return r;
    }
    case 7: {
      MpPrio m{.backup = rng.Bernoulli(0.5), .reserved = static_cast<uint8_t>(rng.Uniform(8))};
      if (v == MptcpVersion::kV0) m.address_id = Maybe(rng, u8());
      return m;
    }
    case 8:
      return MpFail{rng.Next(), static_cast<uint16_t>(rng.Uniform(0x1000))};
    case 9:
      return MpFastclose{rng.Next(), static_cast<uint16_t>(rng.Uniform(0x1000))};
    default:
      return MpTcpRst{static_cast<uint8_t>(rng.Uniform(16)), u8()};
  }
}

TEST(MptcpRandomTest, DecodeOfEncodeIsIdentity) {
  Random rng(0x5eed0001);
  for (int i = 0; i < 20000; ++i) {
    const MptcpVersion v = rng.Bernoulli(0.5) ? MptcpVersion::kV1 : MptcpVersion::kV0;
    const MptcpOption x = RandomValidOption(rng, v);
    std::array<uint8_t, 40> buf{};
    auto n = EmitMptcpOption(x, buf, v);
    ASSERT_TRUE(n.ok()) << n.error() << " for " << ToString(x);
    ASSERT_EQ(*n, EncodedLength(x, v));
    ASSERT_EQ(buf[1], *n);
    auto back = ParseMptcpOption(std::span<const uint8_t>(buf.data(), *n), v);
    ASSERT_TRUE(back.ok()) << back.error() << " for " << ToString(x);
    ASSERT_EQ(*back, x) << ToString(*back) << " vs " << ToString(x);
  }
}

TEST(MptcpRandomTest, EncodeOfDecodeIsIdentityOverByteSweep) {
  Random rng(0x5eed0002);
  int accepted = 0;
  int per_subtype[16] = {};
  for (int i = 0; i < 200000; ++i) {
    const MptcpVersion v = rng.Bernoulli(0.5) ? MptcpVersion::kV1 : MptcpVersion::kV0;
    const size_t len = rng.Uniform(41);
    Bytes b(len);
    for (auto& x : b) x = static_cast<uint8_t>(rng.Next());
    if (len >= 1 && rng.Bernoulli(0.95)) b[0] = kMptcpOptionKind;
    if (len >= 2 && rng.Bernoulli(0.95)) b[1] = static_cast<uint8_t>(len);
    if (len >= 3 && rng.Bernoulli(0.8)) {
      b[2] = static_cast<uint8_t>((rng.Uniform(9) << 4) | (b[2] & 0xf));
    }
    // Nudge nibbles towards the values that have layouts, so many options are accepted.
    if (len >= 3 && (b[2] >> 4) == 0 && rng.Bernoulli(0.7)) {
      b[2] = static_cast<uint8_t>(rng.Uniform(2));
    }
    if (len >= 3 && (b[2] >> 4) == 3 && v == MptcpVersion::kV0 && rng.Bernoulli(0.7)) {
      b[2] = static_cast<uint8_t>(0x30 | (len >= 20 ? 6 : 4));
    }
    auto r = ParseMptcpOption(b, v);
    if (!r.ok()) {
      const WireError& e = r.error();
      if (b.size() >= 1 && b[0] == kMptcpOptionKind) {
        ASSERT_NE(e.code, WireErrorCode::kInvalidField) << "only a wrong kind is invalid";
        ASSERT_EQ(e.option_kind, kMptcpOptionKind);
      }
      continue;
    }
    ++accepted;
    ++per_subtype[b[2] >> 4];
    std::array<uint8_t, 40> out{};
    auto n = EmitMptcpOption(*r, out, v);
    ASSERT_TRUE(n.ok()) << n.error() << " for " << ToString(*r);
    ASSERT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(*n)), b) << ToString(*r);
  }
  EXPECT_GT(accepted, 5000);
  for (int s = 0; s <= 8; ++s) EXPECT_GT(per_subtype[s], 50) << "subtype " << s;
}

}  // namespace
}  // namespace mptcp::wire

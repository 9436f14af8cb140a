// Conversation tests of MP_FAIL and the infinite mapping (RFC 8684 §3.7) on a lone subflow,
// from the receiving side: the server (TestConfig(true): DSS checksums, MSS 1000) gets a
// mapping whose checksum fails, never delivers it, answers with MP_FAIL on its ACKs and
// discards until the client's infinite mapping, then reads the subflow as plain TCP. The
// sending side (our infinite mapping, resending from the peer's DATA_ACK) runs end to end in
// conformance/connection_scenario_test.cc (ChecksumCorruptionTest).
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mptcp/connection.h"
#include "mptcp/wire/checksum.h"
#include "testing/connection_test_util.h"

namespace mptcp::testing {
namespace {

constexpr uint64_t kSeed = 11;
constexpr Dsn64 kA0 = kClientIdsn + 1;  // the client's first data-level byte

uint8_t ByteAt(uint64_t off) { return static_cast<uint8_t>(off * 7 + 1); }

struct Server {
  ConnHarness c{TestConfig(/*checksum=*/true), Role::kServer, kServerKey, kSeed};
  uint32_t siss = ServerHandshake(c);

  // The client's `len` bytes of data-level offset `off` at subflow offset `rel` (relative, 1
  // is the first byte). `corrupt`: one byte differs from what the checksum covers, as a
  // middlebox that rewrote it (fixing the TCP checksum) leaves it.
  Disposition SendMapped(Timestamp t, uint32_t rel, uint64_t off, uint16_t len,
                         bool corrupt = false) {
    std::vector<uint8_t> data(len);
    for (uint16_t i = 0; i < len; ++i) data[i] = ByteAt(off + i);
    wire::Dss dss = MapDss(kServerIdsn + 1, kA0 + off, rel, len);
    dss.mapping->checksum = wire::DssChecksum(kA0 + off, rel, len, data);
    if (corrupt) data[len / 2] ^= 0x40;
    return c.Send(t, ServerPath1(),
                  PeerSeg().SeqN(kClientIss + rel).AckN(siss + 1).Win(30000).Data(data).Mptcp(
                      dss));
  }
  // The infinite mapping: subflow byte `rel` carries DSN kA0 + off, and so on linearly.
  Disposition SendInfinite(Timestamp t, uint32_t rel, uint64_t off, uint16_t len) {
    std::vector<uint8_t> data(len);
    for (uint16_t i = 0; i < len; ++i) data[i] = ByteAt(off + i);
    wire::Dss dss{.mapping = wire::DssMapping{.dsn = kA0 + off, .dsn_is_64bit = true,
                                              .subflow_seq = rel, .data_len = 0,
                                              .checksum = 0}};
    return c.Send(t, ServerPath1(),
                  PeerSeg().SeqN(kClientIss + rel).AckN(siss + 1).Win(30000).Data(data).Mptcp(
                      dss));
  }
  Disposition SendPlain(Timestamp t, uint32_t rel, uint64_t off, uint16_t len) {
    std::vector<uint8_t> data(len);
    for (uint16_t i = 0; i < len; ++i) data[i] = ByteAt(off + i);
    return c.Send(t, ServerPath1(),
                  PeerSeg().SeqN(kClientIss + rel).AckN(siss + 1).Win(30000).Data(data));
  }
  bool Reads(uint64_t off, size_t n) {
    std::vector<uint8_t> out(n);
    if (c->Read(c.now(), out) != n) return false;
    for (size_t i = 0; i < n; ++i) {
      if (out[i] != ByteAt(off + i)) return false;
    }
    return true;
  }
};

// Receives 1000 good bytes, then a corrupted mapping and a good one after it: only the first
// 1000 are delivered, and every ACK after the failure carries MP_FAIL at the failed DSN with
// the DATA_ACK held there.
void FailSecondMapping(Server& s) {
  ASSERT_TRUE(s.SendMapped(Ms(100), 1, 0, 1000).accepted());
  ASSERT_TRUE(s.Reads(0, 1000));
  s.c.PollAll(Ms(100));
  ASSERT_TRUE(s.SendMapped(Ms(110), 1001, 1000, 1000, /*corrupt=*/true).accepted());
  ASSERT_TRUE(s.SendMapped(Ms(111), 2001, 2000, 1000).accepted());
  EXPECT_EQ(s.c->readable(), 0u) << "corrupted bytes, or bytes after them, were delivered";
  EXPECT_EQ(s.c->mib().data_csum_err, 1u);
  int fails = 0;
  for (const Sent& out : s.c.PollAll(Ms(111))) {
    auto fail = out.Get<wire::MpFail>();
    if (!fail) continue;
    ++fails;
    EXPECT_EQ(fail->dsn, kA0 + 1000) << out;
    auto dss = out.Get<wire::Dss>();
    ASSERT_TRUE(dss && dss->data_ack) << out;
    EXPECT_EQ(dss->data_ack->value, kA0 + 1000) << "DATA_ACK past the failed data: " << out;
    EXPECT_EQ(out.tcp.ack.value(), kClientIss + 3001) << "TCP still acknowledges: " << out;
  }
  EXPECT_GE(fails, 1);
  EXPECT_FALSE(s.c->fallen_back());
}

TEST(ConnectionFailTest, InfiniteMappingAtTheFailedDsnResumesAsTcpWithEveryByteRight) {
  Server s;
  FailSecondMapping(s);
  // An RFC 8684 sender (ours) resends from our DATA_ACK under an infinite mapping.
  ASSERT_TRUE(s.SendInfinite(Ms(150), 3001, 1000, 1000).accepted());
  EXPECT_EQ(s.c->mib().infinite_map_rx, 1u);
  EXPECT_TRUE(s.c->fallen_back());
  ASSERT_TRUE(s.SendPlain(Ms(151), 4001, 2000, 1000).accepted());
  ASSERT_EQ(s.c->readable(), 2000u);
  EXPECT_TRUE(s.Reads(1000, 2000));
  // After the fallback, ACKs carry no MPTCP option at all.
  for (const Sent& out : s.c.PollAll(Ms(151))) EXPECT_TRUE(out.mptcp.empty()) << out;
  EXPECT_FALSE(s.c->closed());
}

TEST(ConnectionFailTest, InfiniteMappingResendingDeliveredBytesSkipsThem) {
  Server s;
  FailSecondMapping(s);
  // Resuming 500 bytes before the failure (e.g. from an older DATA_ACK): those are skipped.
  ASSERT_TRUE(s.SendInfinite(Ms(150), 3001, 500, 1000).accepted());
  ASSERT_TRUE(s.SendPlain(Ms(151), 4001, 1500, 1000).accepted());
  ASSERT_EQ(s.c->readable(), 1500u);
  EXPECT_TRUE(s.Reads(1000, 1500));
}

TEST(ConnectionFailTest, InfiniteMappingPastTheFailureIsAResetNotAHole) {
  Server s;
  FailSecondMapping(s);
  // Linux's sender does not resend: its infinite mapping continues at its next new byte, here
  // DSN offset 3000, leaving 1000..2999 (discarded by us) unsent for ever.
  s.SendInfinite(Ms(150), 3001, 3000, 1000);
  EXPECT_EQ(s.c->mib().infinite_map_gap, 1u);
  EXPECT_TRUE(s.c->closed());
  EXPECT_EQ(s.c->close_reason(), CloseReason::kProtocolError);
  EXPECT_EQ(s.c->readable(), 0u);
  bool rst = false;
  for (const Sent& out : s.c.PollAll(Ms(150))) rst |= out.tcp.has_flag(kRst);
  EXPECT_TRUE(rst);
}

TEST(ConnectionFailTest, UnmappedDataAfterTheLastMappingIsAnImplicitInfiniteMapping) {
  Server s;
  FailSecondMapping(s);
  // Linux 6.18 answers MP_FAIL by falling back without the option: its next data carries no
  // DSS, at subflow byte 3001, which its stream maps to DSN offset 3000 (right after its last
  // mapping). Past what we delivered: a reset, not a hole.
  s.SendPlain(Ms(150), 3001, 3000, 1000);
  EXPECT_EQ(s.c->mib().infinite_map_rx, 1u);
  EXPECT_EQ(s.c->mib().infinite_map_gap, 1u);
  EXPECT_TRUE(s.c->closed());
  EXPECT_EQ(s.c->readable(), 0u);
}

TEST(ConnectionFailTest, NoAnswerToMpFailEndsTheConnection) {
  Server s;
  FailSecondMapping(s);
  const PollAt d = s.c->NextDeadline();
  ASSERT_FALSE(d.never());
  // Timers run (retransmissions, if any) until the MP_FAIL timeout, bounded.
  Timestamp now = Ms(111);
  for (int i = 0; i < 1000 && !s.c->closed(); ++i) {
    const PollAt next = s.c->NextDeadline();
    if (next.never()) break;
    now = std::max(now, next.at());
    s.c->OnTimeout(now);
    s.c.PollAll(now);
  }
  EXPECT_TRUE(s.c->closed());
  EXPECT_EQ(s.c->mib().mp_fail_timeout, 1u);
  EXPECT_EQ(s.c->close_reason(), CloseReason::kProtocolError);
  EXPECT_GE(now - Ms(111), Duration::Seconds(2));
}

}  // namespace
}  // namespace mptcp::testing

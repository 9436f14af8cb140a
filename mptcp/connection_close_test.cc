// Conversation tests of the data-level close (RFC 8684 §3.3.3) in the forms a peer may send
// it: a DATA_FIN alone (data-level length 1, subflow sequence number 0, no payload), one with
// a 4-octet DSN, one on the last data segment, one lost and resent, and both ends closing at
// once. The server runs TestConfig() (no checksums, MSS 1000) on one subflow.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mptcp/connection.h"
#include "testing/connection_test_util.h"

namespace mptcp::testing {
namespace {

constexpr uint64_t kSeed = 13;
constexpr Dsn64 kA0 = kClientIdsn + 1;  // the client's first data-level byte
constexpr Dsn64 kB0 = kServerIdsn + 1;  // the server's

struct Server {
  ConnHarness c{TestConfig(), Role::kServer, kServerKey, kSeed};
  uint32_t siss = ServerHandshake(c);

  PeerSeg Seg(uint32_t rel) const {
    return PeerSeg().SeqN(kClientIss + rel).AckN(siss + 1).Win(30000);
  }
  // `len` bytes of data-level offset `off` at subflow offset `rel`; `fin`: the DATA_FIN rides
  // on it (the mapping's length counts it, RFC 8684 §3.3.3).
  Disposition SendData(Timestamp t, uint32_t rel, uint64_t off, uint16_t len, bool fin = false) {
    wire::Dss dss = MapDss(kB0, kA0 + off, rel, static_cast<uint16_t>(len + (fin ? 1 : 0)));
    dss.data_fin = fin;
    return c.Send(t, ServerPath1(), Seg(rel).Data(Pattern(len)).Mptcp(dss));
  }
  // The DATA_FIN alone: length 1, subflow sequence number 0, no payload.
  Disposition SendBareDataFin(Timestamp t, uint32_t rel, Dsn64 fin_dsn, bool dsn32 = false) {
    wire::Dss dss{.data_ack = wire::DataAck{kB0, true},
                  .mapping = wire::DssMapping{.dsn = dsn32 ? (fin_dsn & 0xffffffffu) : fin_dsn,
                                              .dsn_is_64bit = !dsn32,
                                              .subflow_seq = 0,
                                              .data_len = 1}};
    dss.data_fin = true;
    return c.Send(t, ServerPath1(), Seg(rel).Mptcp(dss));
  }
  // The highest DATA_ACK the server sent.
  std::optional<Dsn64> LastDataAck(Timestamp t) {
    std::optional<Dsn64> ack;
    for (const Sent& s : c.PollAll(t)) {
      if (auto d = s.Get<wire::Dss>(); d && d->data_ack) ack = d->data_ack->value;
    }
    return ack;
  }
};

TEST(ConnectionCloseTest, BareDataFinEndsTheStreamAndIsAcknowledged) {
  Server s;
  ASSERT_TRUE(s.SendData(Ms(100), 1, 0, 500).accepted());
  ASSERT_TRUE(s.SendBareDataFin(Ms(110), 501, kA0 + 500).accepted());
  EXPECT_EQ(s.LastDataAck(Ms(110)), kA0 + 501) << "the DATA_FIN takes one DSN";
  std::vector<uint8_t> out(1000);
  EXPECT_EQ(s.c->Read(Ms(110), out), 500u);
  EXPECT_TRUE(s.c->eof());
}

TEST(ConnectionCloseTest, DataFinWithAFourOctetDsnIsExpanded) {
  Server s;
  ASSERT_TRUE(s.SendData(Ms(100), 1, 0, 700).accepted());
  ASSERT_TRUE(s.SendBareDataFin(Ms(110), 701, kA0 + 700, /*dsn32=*/true).accepted());
  EXPECT_EQ(s.LastDataAck(Ms(110)), kA0 + 701);
  std::vector<uint8_t> out(1000);
  EXPECT_EQ(s.c->Read(Ms(110), out), 700u);
  EXPECT_TRUE(s.c->eof());
}

TEST(ConnectionCloseTest, DataFinBeforeTheDataItEndsWaitsForIt) {
  Server s;
  // The DATA_FIN on the second segment arrives first: no EOF until the hole is filled.
  ASSERT_TRUE(s.SendData(Ms(100), 501, 500, 500, /*fin=*/true).accepted());
  EXPECT_FALSE(s.c->eof());
  EXPECT_EQ(s.LastDataAck(Ms(100)).value_or(kA0), kA0);
  ASSERT_TRUE(s.SendData(Ms(110), 1, 0, 500).accepted());
  EXPECT_EQ(s.LastDataAck(Ms(110)), kA0 + 1001);
  std::vector<uint8_t> out(2000);
  EXPECT_EQ(s.c->Read(Ms(110), out), 1000u);
  EXPECT_TRUE(s.c->eof());
}

TEST(ConnectionCloseTest, OurDataFinIsResentUntilAcknowledged) {
  Server s;
  s.c->Close(Ms(100));
  // The DATA_FIN goes out (alone, nothing else to send), and is lost.
  std::optional<Dsn64> fin;
  for (const Sent& out : s.c.PollAll(Ms(100))) {
    if (auto d = out.Get<wire::Dss>(); d && d->data_fin && d->mapping) fin = d->mapping->dsn;
  }
  ASSERT_EQ(fin, kB0) << "a DATA_FIN with no data takes DSN " << kB0;
  // Timers run; the DATA_FIN comes again, bounded.
  int resent = 0;
  Timestamp now = Ms(100);
  for (int i = 0; i < 50 && resent == 0; ++i) {
    const PollAt d = s.c->NextDeadline();
    ASSERT_FALSE(d.never()) << "nothing would ever resend the DATA_FIN";
    now = std::max(now, d.at());
    s.c->OnTimeout(now);
    for (const Sent& out : s.c.PollAll(now)) {
      if (auto dss = out.Get<wire::Dss>(); dss && dss->data_fin) ++resent;
    }
  }
  EXPECT_GE(resent, 1);
  // The peer's DATA_ACK for it: our side of the data level is done.
  s.c.Send(now, ServerPath1(), s.Seg(1).Mptcp(AckDss(kB0 + 1)));
  EXPECT_EQ(s.c->state(), ConnectionState::kFinWait2);
}

TEST(ConnectionCloseTest, SimultaneousCloseReachesClosedOnBothLevels) {
  Server s;
  s.c->Close(Ms(100));
  s.c.PollAll(Ms(100));  // our DATA_FIN at kB0
  // The client's DATA_FIN crosses ours, acknowledging nothing of it yet.
  ASSERT_TRUE(s.SendBareDataFin(Ms(101), 1, kA0).accepted());
  EXPECT_TRUE(s.c->eof());
  EXPECT_EQ(s.LastDataAck(Ms(101)), kA0 + 1);
  // Then its DATA_ACK for ours.
  s.c.Send(Ms(102), ServerPath1(), s.Seg(1).Mptcp(AckDss(kB0 + 1)));
  EXPECT_TRUE(s.c->closed());
  EXPECT_EQ(s.c->close_reason(), CloseReason::kNormal);
}

}  // namespace
}  // namespace mptcp::testing

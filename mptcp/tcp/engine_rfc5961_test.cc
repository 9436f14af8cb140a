// Conversation tests of RFC 5961 (blind in-window attacks) and RFC 7323 PAWS: RST accepted only
// at exactly RCV.NXT, challenge ACKs for in-window RSTs and any SYN, the ACK acceptability range
// against data injection, and the per-connection challenge-ACK rate limit.
#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

using C = Conversation;

// The challenge ACK of RFC 5961 §3.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
Seg ChallengeAck() { return Seg().SeqN(1001).AckN(5001).Win(20000); }

TEST(EngineRfc5961Test, RstExactlyAtRcvNxtResets) {
  C c;
  c.EstablishActive();
  auto out = c.Send(Ms(200), Seg().Flags(kRst).SeqN(5001));
  EXPECT_TRUE(out.reset);
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kReset);
  EXPECT_EQ(c.engine().mib().estab_resets, 1u);
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kClosed, CloseReason::kReset}}));
  c.ExpectNothing(Ms(200));
}

TEST(EngineRfc5961Test, RstInWindowButNotExactGetsChallengeAck) {
  C c;
  c.EstablishActive();
  auto out = c.Send(Ms(200), Seg().Flags(kRst).SeqN(5002));
  EXPECT_EQ(out.drop, DropReason::kRstChallenged);
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  c.Expect(Ms(200), ChallengeAck(), "challenge ACK");
  EXPECT_EQ(c.engine().mib().challenge_acks, 1u);
  // The legitimate peer answers the challenge with a RST at exactly RCV.NXT.
  EXPECT_TRUE(c.Send(Ms(210), Seg().Flags(kRst).SeqN(5001)).reset);
}

TEST(EngineRfc5961Test, RstWithAckFieldIsJudgedBySequenceOnly) {
  C c;
  c.EstablishActive();
  EXPECT_EQ(c.Send(Ms(200), Seg().Flags(kRst | kAck).SeqN(5000 + 19999).AckN(1001)).drop,
            DropReason::kRstChallenged);
  EXPECT_TRUE(c.Send(Ms(201), Seg().Flags(kRst | kAck).SeqN(5001).AckN(1001)).reset);
}

TEST(EngineRfc5961Test, RstOutsideTheWindowIsSilentlyDropped) {
  C c;
  c.EstablishActive();
  for (uint32_t seq : {5000u, 5001u + 20000u, 4000u, 100000u}) {
    EXPECT_EQ(c.Send(Ms(200), Seg().Flags(kRst).SeqN(seq)).drop, DropReason::kRstOutOfWindow)
        << seq;
  }
  c.ExpectNothing(Ms(200), "no reply at all");
  EXPECT_EQ(c.engine().mib().rst_out_of_window, 4u);
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
}

TEST(EngineRfc5961Test, SynInSynchronizedStateGetsChallengeAck) {
  C c;
  c.EstablishActive();
  // In window, out of window, and the original ISN: all challenged (RFC 5961 §4.2).
  for (uint32_t seq : {5001u, 7000u, 5000u, 900000u}) {
    auto out = c.Send(Ms(200), Seg().Flags(kSyn).SeqN(seq).Win(100).Mss(1460));
    EXPECT_EQ(out.drop, DropReason::kSynChallenged) << seq;
    c.Expect(Ms(200), ChallengeAck(), "challenge ACK");
  }
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  EXPECT_EQ(c.engine().mib().syn_challenge, 4u);
  // A SYN-ACK too.
  EXPECT_EQ(c.Send(Ms(200), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(100)).drop,
            DropReason::kSynChallenged);
}

TEST(EngineRfc5961Test, AckOutsideAcceptableRangeIsChallengedAndItsDataDropped) {
  C c;
  c.EstablishActive();
  c.WritePattern(1000);
  c.Poll(Ms(100));  // SND.UNA 1001, SND.NXT 2001; MAX.SND.WND 30000
  // ACK beyond SND.NXT: acknowledges data never sent.
  auto out = c.Send(Ms(200), Seg().SeqN(5001).AckN(2002).Win(30000).Data(10));
  EXPECT_EQ(out.drop, DropReason::kBadAck);
  EXPECT_EQ(out.bytes_delivered, 0u) << "RFC 5961 §5: injected data is not accepted";
  c.Expect(Ms(200), Seg().SeqN(2001).AckN(5001).Win(20000), "challenge ACK");
  // ACK below SND.UNA - MAX.SND.WND: too old to be real.
  out = c.Send(Ms(201), Seg().SeqN(5001).AckN(1001 - 30001).Win(30000).Data(10));
  EXPECT_EQ(out.drop, DropReason::kBadAck);
  EXPECT_EQ(c.engine().readable(), 0u);
  // An old but plausible ACK (within MAX.SND.WND below SND.UNA) is acceptable: data accepted.
  out = c.Send(Ms(202), Seg().SeqN(5001).AckN(1001 - 29000).Win(30000).Data(10));
  EXPECT_TRUE(out.accepted());
  EXPECT_EQ(out.bytes_delivered, 10u);
  EXPECT_EQ(c.engine().mib().drop_bad_ack, 2u);
}

TEST(EngineRfc5961Test, ChallengeAcksAreRateLimitedPerConnection) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.challenge_ack_limit = 3;
  C c(cfg);
  c.EstablishActive();
  for (int i = 0; i < 5; ++i) {
    c.Send(Ms(200 + i), Seg().Flags(kRst).SeqN(5100));
    if (i < 3) {
      c.Expect(Ms(200 + i), ChallengeAck());
    } else {
      c.ExpectNothing(Ms(200 + i), "over the limit");
    }
  }
  EXPECT_EQ(c.engine().mib().challenge_acks, 3u);
  EXPECT_EQ(c.engine().mib().challenge_acks_skipped, 2u);
  // A new one-second interval allows more.
  c.Send(Ms(1200), Seg().Flags(kRst).SeqN(5100));
  c.Expect(Ms(1200), ChallengeAck(), "next interval");
}

TEST(EngineRfc5961Test, OutOfWindowPureAcksAreAnsweredOnlyWithinTheLimit) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.challenge_ack_limit = 2;
  C c(cfg);
  c.EstablishActive();
  for (int i = 0; i < 4; ++i) c.Send(Ms(200), Seg().SeqN(900000).AckN(1001).Win(30000));
  EXPECT_TRUE(c.Poll(Ms(200)).has_value());
  EXPECT_FALSE(c.Poll(Ms(200)).has_value());
  EXPECT_EQ(c.engine().mib().drop_out_of_window, 4u);
}

TEST(EngineRfc5961Test, PawsDropsOldTimestampsAndAcks) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.timestamps = true;
  C c(cfg);
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  c.Send(Ms(100), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460).Ts(5000, 0));
  c.Poll(Ms(100));
  c.Send(Ms(110), Seg().SeqN(5001).AckN(1001).Win(30000).Ts(5010, 100).Data(100));
  // A segment whose TSval went backwards is an old duplicate (RFC 7323 §5.3).
  auto out = c.Send(Ms(120), Seg().SeqN(5101).AckN(1001).Win(30000).Ts(4000, 100).Data(100));
  EXPECT_EQ(out.drop, DropReason::kPaws);
  EXPECT_EQ(c.engine().readable(), 100u);
  EXPECT_EQ(c.engine().mib().paws_estab_rejected, 1u);
  c.Expect(Ms(120), Seg().SeqN(1001).AckN(5101).Win(19900).Ts(120, 5010), "ACK for PAWS drop");
  // A RST is never dropped by PAWS (RFC 7323 §5.3 R1).
  EXPECT_TRUE(c.Send(Ms(130), Seg().Flags(kRst).SeqN(5101).Ts(1, 0)).reset);
}

}  // namespace
}  // namespace mptcp::tcp::testing

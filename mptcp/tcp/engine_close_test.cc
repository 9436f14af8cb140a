// Conversation tests of connection termination (RFC 9293 §3.6): active, passive and
// simultaneous close, half-close, TIME-WAIT and its 2 MSL timer, FIN retransmission, and abort.
#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

using C = Conversation;

TEST(EngineCloseTest, ActiveCloseThroughTimeWait) {
  C c;
  c.EstablishActive();
  c.engine().Close(Ms(200));
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait1);
  c.Expect(Ms(200), Seg().Flags(kAck | kFin).SeqN(1001).AckN(5001).Win(20000), "FIN");
  auto out = c.Send(Ms(300), Seg().SeqN(5001).AckN(1002).Win(30000));
  EXPECT_TRUE(out.state_changed);
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait2);
  // Half-closed: the peer may still send data, which we accept.
  out = c.Send(Ms(310), Seg().SeqN(5001).AckN(1002).Win(30000).Data(100));
  EXPECT_EQ(out.bytes_delivered, 100u);
  out = c.Send(Ms(320), Seg().Flags(kAck | kFin).SeqN(5101).AckN(1002).Win(30000));
  EXPECT_TRUE(out.fin_received);
  EXPECT_EQ(c.engine().state(), TcpState::kTimeWait);
  c.Expect(Ms(320), Seg().SeqN(1002).AckN(5102).Win(19899), "ACK of the peer's FIN");
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(320) + Duration::Seconds(60))) << "2 MSL";
  c.ExpectNothing(Ms(320) + Duration::Seconds(60));
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kNormal);
  const auto ev = c.Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back(), (TcpEvent{TcpEventType::kClosed, CloseReason::kNormal}));
}

TEST(EngineCloseTest, FinWait1ToTimeWaitWhenFinAndAckArriveTogether) {
  C c;
  c.EstablishActive();
  c.engine().Close(Ms(200));
  c.Poll(Ms(200));
  c.Send(Ms(300), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1002).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kTimeWait);
  c.Expect(Ms(300), Seg().SeqN(1002).AckN(5002).Win(19999));
}

TEST(EngineCloseTest, PassiveCloseThroughLastAck) {
  C c;
  c.EstablishActive();
  c.Send(Ms(200), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kCloseWait);
  c.Expect(Ms(200), Seg().SeqN(1001).AckN(5002).Win(19999));
  // Our direction is still open: data goes out in CLOSE-WAIT.
  c.WritePattern(10);
  c.Expect(Ms(210), Seg().Flags(kAck | kPsh).SeqN(1001).AckN(5002).Win(19999)
                        .Bytes(C::PatternBytes(0, 10)));
  c.engine().Close(Ms(220));
  EXPECT_EQ(c.engine().state(), TcpState::kLastAck);
  c.Expect(Ms(220), Seg().Flags(kAck | kFin).SeqN(1011).AckN(5002).Win(19999), "FIN");
  auto out = c.Send(Ms(300), Seg().SeqN(5002).AckN(1012).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kNormal);
  EXPECT_EQ(out.bytes_acked, 11u);
}

TEST(EngineCloseTest, SimultaneousCloseThroughClosing) {
  C c;
  c.EstablishActive();
  c.engine().Close(Ms(200));
  c.Expect(Ms(200), Seg().Flags(kAck | kFin).SeqN(1001).AckN(5001).Win(20000));
  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  c.Send(Ms(210), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kClosing);
  c.Expect(Ms(210), Seg().SeqN(1002).AckN(5002).Win(19999));
  c.Send(Ms(220), Seg().SeqN(5002).AckN(1002).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kTimeWait);
}

TEST(EngineCloseTest, FinRidesOnTheLastDataSegment) {
  C c;
  c.EstablishActive();
  c.WritePattern(1500);
  c.engine().Close(Ms(100));
  EXPECT_EQ(c.engine().Write(std::vector<uint8_t>(10)), 0u) << "no writes after Close";
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5001).Win(20000).Bytes(C::PatternBytes(0, 1000)));
  c.Expect(Ms(100), Seg().Flags(kAck | kPsh | kFin).SeqN(2001).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(1000, 500)));
  c.ExpectNothing(Ms(100));
  c.Send(Ms(200), Seg().SeqN(5001).AckN(2502).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait2);
}

TEST(EngineCloseTest, FinIsRetransmittedOnTimeout) {
  C c;
  c.EstablishActive();
  c.engine().Close(Ms(200));
  const Seg fin = Seg().Flags(kAck | kFin).SeqN(1001).AckN(5001).Win(20000);
  c.Expect(Ms(200), fin);
  c.ExpectNothing(Ms(499));
  c.Expect(Ms(500), fin, "FIN retransmitted after the RTO");
  c.Send(Ms(600), Seg().SeqN(5001).AckN(1002).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait2);
}

TEST(EngineCloseTest, TimeWaitAcksRetransmittedFinAndRestartsTimer) {
  C c;
  c.EstablishActive();
  c.engine().Close(Ms(200));
  c.Poll(Ms(200));
  c.Send(Ms(300), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1002).Win(30000));
  c.Poll(Ms(300));
  ASSERT_EQ(c.engine().state(), TcpState::kTimeWait);
  // Our ACK was lost: the peer resends its FIN 10 s later.
  const Timestamp t = Ms(300) + Duration::Seconds(10);
  c.Send(t, Seg().Flags(kAck | kFin).SeqN(5001).AckN(1002).Win(30000));
  c.Expect(t, Seg().SeqN(1002).AckN(5002).Win(19999), "re-ACK");
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(t + Duration::Seconds(60))) << "2 MSL restarted";
}

TEST(EngineCloseTest, AbortSendsResetAndClosesAtOnce) {
  C c;
  c.EstablishActive();
  c.WritePattern(500);
  c.Poll(Ms(100));
  c.engine().Abort();
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kAborted);
  c.Expect(Ms(101), Seg().Flags(kRst).SeqN(1501), "<SEQ=SND.NXT><CTL=RST>");
  c.ExpectNothing(Ms(101));
  EXPECT_EQ(c.engine().mib().out_rsts, 1u);
  // What the peer sends next is answered by the CLOSED state's RST.
  c.Send(Ms(150), Seg().SeqN(5001).AckN(1501).Win(30000).Data(5));
  c.Expect(Ms(150), Seg().Flags(kRst).SeqN(1501));
}

TEST(EngineCloseTest, ResetInCloseWaitAndLastAck) {
  {
    C c;
    c.EstablishActive();
    c.Send(Ms(200), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
    EXPECT_TRUE(c.Send(Ms(210), Seg().Flags(kRst).SeqN(5002)).reset);
    EXPECT_EQ(c.engine().close_reason(), CloseReason::kReset);
  }
  {
    C c;
    c.EstablishActive();
    c.Send(Ms(200), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
    c.engine().Close(Ms(205));
    EXPECT_EQ(c.engine().state(), TcpState::kLastAck);
    EXPECT_TRUE(c.Send(Ms(210), Seg().Flags(kRst).SeqN(5002)).reset);
    EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  }
}

TEST(EngineCloseTest, CloseInListenOrSynSentDeletesTheConnection) {
  C a;
  a.engine().Listen();
  a.engine().Close(Ms(0));
  EXPECT_EQ(a.engine().state(), TcpState::kClosed);
  a.ExpectNothing(Ms(0));
  C b;
  b.engine().Connect(Ms(0));
  b.Poll(Ms(0));
  b.engine().Close(Ms(1));
  EXPECT_EQ(b.engine().state(), TcpState::kClosed);
  b.ExpectNothing(Ms(5000), "no SYN retransmission after close");
}

TEST(EngineCloseTest, DataAfterPeerFinIsIgnored) {
  C c;
  c.EstablishActive();
  c.Send(Ms(200), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
  c.Poll(Ms(200));
  // "This should not occur" (RFC 9293): out of window anyway, answered with an ACK.
  auto out = c.Send(Ms(210), Seg().SeqN(5002).AckN(1001).Win(30000).Data(10));
  EXPECT_EQ(out.bytes_delivered, 0u);
  EXPECT_EQ(c.engine().readable(), 0u);
}

}  // namespace
}  // namespace mptcp::tcp::testing

namespace mptcp::tcp::testing {
namespace {

TEST(EngineCloseTest, PeerFinBeforeOurFinLeftTheQueueStillSendsOurs) {
  C c;
  c.EstablishActive(/*peer_window=*/0);  // our FIN cannot wait behind data: there is none
  c.engine().Close(Ms(200));
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait1);
  // The peer's FIN arrives before we polled our FIN out: CLOSING, and the FIN still goes.
  c.Send(Ms(201), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kClosing);
  c.Expect(Ms(201), Seg().Flags(kAck | kFin).SeqN(1001).AckN(5002).Win(19999), "our FIN");
  c.Send(Ms(210), Seg().SeqN(5002).AckN(1002).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kTimeWait);
}

}  // namespace
}  // namespace mptcp::tcp::testing

// Conversation tests of connection establishment (RFC 9293 §3.5): active, passive and
// simultaneous open, option negotiation, SYN retransmission, and the LISTEN / SYN-SENT rules.
#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

// Our ISS is 1000, the peer's 5000.
Seg Syn() { return Seg().Flags(kSyn).SeqN(5000).Win(30000).Mss(1460).SackOk(); }

TEST(EngineHandshakeTest, ActiveOpen) {
  Conversation c;
  c.engine().Connect(Ms(0));
  EXPECT_EQ(c.engine().state(), TcpState::kSynSent);
  c.Expect(Ms(0), Seg().Flags(kSyn).SeqN(1000).Win(20000).Mss(1000).SackOk(), "SYN");
  c.ExpectNothing(Ms(0));

  auto out = c.Send(Ms(10), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460).SackOk());
  EXPECT_TRUE(out.accepted());
  EXPECT_TRUE(out.state_changed);
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kConnected}}));
  c.Expect(Ms(10), Seg().Flags(kAck).SeqN(1001).AckN(5001).Win(20000), "third ACK");
  c.ExpectNothing(Ms(10));
  // The peer's MSS (1460) is capped by ours (1000); SACK negotiated; RTT sampled from the SYN.
  EXPECT_EQ(c.engine().smss(), 1000u);
  EXPECT_TRUE(c.engine().sack_enabled());
  EXPECT_EQ(c.engine().rtt().srtt(), Duration::Millis(10));
  EXPECT_EQ(c.engine().snd_wnd(), 30000u);
  EXPECT_EQ(c.engine().mib().active_opens, 1u);
}

// RFC 9293 §3.7.1 and RFC 8200: the IPv6 header is 20 bytes longer than IPv4's, so on a
// 1500-byte link an IPv6 subflow announces 1440 (TcpConfig::mss 1460 less 20), and a peer that
// sends no MSS option is taken to accept 1220 (the 1280-byte IPv6 minimum MTU less 60).
TEST(EngineHandshakeTest, Ipv6AnnouncesAnMss20BytesSmaller) {
  TcpConfig config = Conversation::DefaultConfig();
  config.mss = 1460;
  Conversation c(config, 1000, Conversation::Tuple6());
  c.engine().Connect(Ms(0));
  c.Expect(Ms(0), Seg().Flags(kSyn).SeqN(1000).Win(20000).Mss(1440).SackOk(), "SYN");
  c.Send(Ms(10), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460));
  EXPECT_EQ(c.engine().smss(), 1440u) << "never more than our own MSS";

  Conversation d(config, 1000, Conversation::Tuple6());
  d.engine().Connect(Ms(0));
  d.Poll(Ms(0));
  d.Send(Ms(10), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000));  // no MSS option
  EXPECT_EQ(d.engine().smss(), 1220u);

  Conversation v4(config);  // the same config on IPv4: 1460, and 536 without the option
  v4.engine().Connect(Ms(0));
  v4.Expect(Ms(0), Seg().Flags(kSyn).SeqN(1000).Win(20000).Mss(1460).SackOk(), "SYN");
  v4.Send(Ms(10), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000));
  EXPECT_EQ(v4.engine().smss(), 536u);
}

TEST(EngineHandshakeTest, PassiveOpen) {
  Conversation c;
  c.engine().Listen();
  EXPECT_EQ(c.engine().state(), TcpState::kListen);
  c.ExpectNothing(Ms(0));
  EXPECT_TRUE(c.Send(Ms(0), Syn()).accepted());
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
  c.Expect(Ms(0), Seg().Flags(kSyn).SeqN(1000).AckN(5001).Win(20000).Mss(1000).SackOk(),
           "SYN-ACK");
  c.ExpectNothing(Ms(0));
  EXPECT_TRUE(c.Send(Ms(20), Seg().SeqN(5001).AckN(1001).Win(30000)).state_changed);
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kConnected}}));
  c.ExpectNothing(Ms(20), "no reply to the third ACK");
  EXPECT_EQ(c.engine().rtt().srtt(), Duration::Millis(20));
  EXPECT_EQ(c.engine().mib().passive_opens, 1u);
}

TEST(EngineHandshakeTest, ThirdAckCarryingData) {
  Conversation c;
  c.engine().Listen();
  c.Send(Ms(0), Syn());
  c.Poll(Ms(0));
  auto out = c.Send(Ms(5), Seg().SeqN(5001).AckN(1001).Win(30000).Data(100));
  EXPECT_EQ(out.bytes_delivered, 100u);
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  EXPECT_EQ(c.engine().readable(), 100u);
  // One segment: the ACK is delayed (40 ms).
  c.ExpectNothing(Ms(5));
  c.Expect(Ms(45), Seg().SeqN(1001).AckN(5101).Win(19900), "delayed ACK");
}

TEST(EngineHandshakeTest, SimultaneousOpen) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));  // our SYN
  // The peer's SYN crosses ours (RFC 9293 §3.5 figure 7).
  auto out = c.Send(Ms(1), Syn());
  EXPECT_TRUE(out.state_changed);
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
  c.Expect(Ms(1), Seg().Flags(kSyn).SeqN(1000).AckN(5001).Win(20000).Mss(1000).SackOk(),
           "SYN-ACK");
  // The peer's SYN-ACK acknowledges our SYN: established (as Linux does), and we ACK it for a
  // peer that refused our SYN-ACK as out of window.
  auto est = c.Send(Ms(2), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460).SackOk());
  EXPECT_TRUE(est.accepted());
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  c.Expect(Ms(2), Seg().SeqN(1001).AckN(5001).Win(20000), "ACK");
  // The peer's plain ACK changes nothing.
  c.Send(Ms(3), Seg().SeqN(5001).AckN(1001).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  c.ExpectNothing(Ms(3));
}

TEST(EngineHandshakeTest, OptionsNegotiatedOnlyWhenBothOffer) {
  TcpConfig cfg = Conversation::DefaultConfig();
  cfg.window_scaling = true;
  cfg.timestamps = true;
  cfg.recv_buffer = 256 * 1024;  // needs shift 3
  Conversation c(cfg);
  c.engine().Connect(Ms(0));
  c.Expect(Ms(0),
           Seg().Flags(kSyn).SeqN(1000).Win(65535).Mss(1000).SackOk().Ts(0, 0).Wscale(3),
           "SYN offering everything");
  // The peer offers neither window scaling nor timestamps nor SACK.
  c.Send(Ms(10), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(536));
  EXPECT_FALSE(c.engine().sack_enabled());
  EXPECT_FALSE(c.engine().timestamps_enabled());
  EXPECT_EQ(c.engine().rcv_wscale(), 0);
  EXPECT_EQ(c.engine().snd_wscale(), 0);
  EXPECT_EQ(c.engine().smss(), 536u);
  // Unscaled window, capped at 65535.
  c.Expect(Ms(10), Seg().SeqN(1001).AckN(5001).Win(65535), "ACK without options");
}

TEST(EngineHandshakeTest, WindowScalingAndTimestampsNegotiated) {
  TcpConfig cfg = Conversation::DefaultConfig();
  cfg.window_scaling = true;
  cfg.timestamps = true;
  cfg.recv_buffer = 256 * 1024;
  Conversation c(cfg);
  c.engine().Listen();
  c.Send(Ms(7), Syn().Wscale(7).Ts(111, 0));
  EXPECT_TRUE(c.engine().timestamps_enabled());
  EXPECT_EQ(c.engine().snd_wscale(), 7);
  EXPECT_EQ(c.engine().rcv_wscale(), 3);
  // SYN-ACK: window unscaled, our shift, TSval = 7 ms, TSecr = the peer's 111.
  c.Expect(Ms(7),
           Seg().Flags(kSyn).SeqN(1000).AckN(5001).Win(65535).Mss(1000).SackOk().Ts(7, 111)
               .Wscale(3),
           "SYN-ACK");
  c.Send(Ms(9), Seg().SeqN(5001).AckN(1001).Win(100).Ts(112, 7));
  // The peer's window is scaled by 2^7 after the handshake.
  EXPECT_EQ(c.engine().snd_wnd(), 100u << 7);
  // MSS 1000 minus 12 bytes of timestamp option.
  EXPECT_EQ(c.engine().smss(), 988u);
  const uint8_t data[10] = {};
  c.engine().Write(data);
  c.Expect(Ms(9), Seg().Flags(kAck | kPsh).SeqN(1001).AckN(5001).Win(256 * 1024 >> 3).Ts(9, 112)
                      .Data(10, 0),
           "data with scaled window and timestamps");
}

TEST(EngineHandshakeTest, ShiftAbove14IsClamped) {
  TcpConfig cfg = Conversation::DefaultConfig();
  cfg.window_scaling = true;
  Conversation c(cfg);
  c.engine().Listen();
  c.Send(Ms(0), Syn().Wscale(20));  // RFC 7323 §2.3: use 14
  EXPECT_EQ(c.engine().snd_wscale(), 14);
}

TEST(EngineHandshakeTest, SynRetransmittedWithBackoffThenGivesUp) {
  TcpConfig cfg = Conversation::DefaultConfig();
  cfg.max_syn_retransmits = 3;
  Conversation c(cfg);
  c.engine().Connect(Ms(0));
  const Seg syn = Seg().Flags(kSyn).SeqN(1000).Win(20000).Mss(1000).SackOk();
  c.Expect(Ms(0), syn, "SYN");
  c.ExpectNothing(Ms(999), "before the initial 1 s RTO");
  c.Expect(Ms(1000), syn, "first retransmission at 1 s");
  c.ExpectNothing(Ms(2999));
  c.Expect(Ms(3000), syn, "second after 2 s more");
  c.Expect(Ms(7000), syn, "third after 4 s more");
  c.ExpectNothing(Ms(14999));
  c.ExpectNothing(Ms(15000), "gave up");
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c.engine().mib().syn_retrans, 3u);
  // Karn's rule: a SYN-ACK after a retransmission gives no RTT sample.
}

TEST(EngineHandshakeTest, NoRttSampleFromRetransmittedSyn) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  c.Poll(Ms(1000));  // retransmitted SYN
  c.Send(Ms(1010), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460));
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  EXPECT_FALSE(c.engine().rtt().has_sample());
}

TEST(EngineHandshakeTest, SynAckRetransmittedOnDuplicateSyn) {
  Conversation c;
  c.engine().Listen();
  c.Send(Ms(0), Syn());
  const Seg synack = Seg().Flags(kSyn).SeqN(1000).AckN(5001).Win(20000).Mss(1000).SackOk();
  c.Expect(Ms(0), synack);
  // Our SYN-ACK was lost; the peer resends its SYN; we resend at once.
  c.Send(Ms(300), Syn());
  c.Expect(Ms(300), synack, "SYN-ACK again");
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
  // And by our own timer (the RTO was re-armed by the resend: 1 s later).
  c.ExpectNothing(Ms(1299));
  c.Expect(Ms(1300), synack, "SYN-ACK on RTO");
}

TEST(EngineHandshakeTest, SynSentUnacceptableAckGetsReset) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  // RFC 9293 §3.10.7.3: ACK =< ISS or > SND.NXT: <SEQ=SEG.ACK><CTL=RST>.
  auto out = c.Send(Ms(1), Seg().Flags(kSyn).SeqN(5000).AckN(9999).Win(100));
  EXPECT_EQ(out.drop, DropReason::kSynSentBadAck);
  c.Expect(Ms(1), Seg().Flags(kRst).SeqN(9999), "RST");
  EXPECT_EQ(c.engine().state(), TcpState::kSynSent);
  out = c.Send(Ms(1), Seg().Flags(kAck).SeqN(5000).AckN(1000).Win(100));  // ACK == ISS
  EXPECT_EQ(out.drop, DropReason::kSynSentBadAck);
  c.Expect(Ms(1), Seg().Flags(kRst).SeqN(1000), "RST");
}

TEST(EngineHandshakeTest, SynSentResetWithAcceptableAckRefuses) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  // A RST without ACK is ignored in SYN-SENT (RFC 5961 §3.2 / RFC 9293).
  EXPECT_EQ(c.Send(Ms(1), Seg().Flags(kRst).SeqN(5000)).drop, DropReason::kSynSentNoSyn);
  EXPECT_EQ(c.engine().state(), TcpState::kSynSent);
  auto out = c.Send(Ms(2), Seg().Flags(kRst).SeqN(0).AckN(1001));
  EXPECT_TRUE(out.reset);
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kRefused);
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kClosed, CloseReason::kRefused}}));
  c.ExpectNothing(Ms(2), "no reply to a RST");
}

TEST(EngineHandshakeTest, SynSentIgnoresSegmentWithoutSynOrRst) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  EXPECT_EQ(c.Send(Ms(1), Seg().SeqN(5000).AckN(1001).Win(100)).drop, DropReason::kSynSentNoSyn);
  c.ExpectNothing(Ms(1));
}

TEST(EngineHandshakeTest, ListenResetsAckAndIgnoresRst) {
  Conversation c;
  c.engine().Listen();
  EXPECT_EQ(c.Send(Ms(0), Seg().Flags(kRst).SeqN(1)).drop, DropReason::kListenNotSyn);
  c.ExpectNothing(Ms(0), "RST ignored");
  EXPECT_EQ(c.Send(Ms(0), Seg().SeqN(7).AckN(4242).Win(10)).drop, DropReason::kListenNotSyn);
  c.Expect(Ms(0), Seg().Flags(kRst).SeqN(4242), "<SEQ=SEG.ACK><CTL=RST>");
  EXPECT_EQ(c.Send(Ms(0), Seg().Flags(kFin).SeqN(7).Win(10)).drop, DropReason::kListenNotSyn);
  c.ExpectNothing(Ms(0));
  EXPECT_EQ(c.engine().state(), TcpState::kListen);
}

TEST(EngineHandshakeTest, SynReceivedBadAckGetsReset) {
  Conversation c;
  c.engine().Listen();
  c.Send(Ms(0), Syn());
  c.Poll(Ms(0));
  auto out = c.Send(Ms(1), Seg().SeqN(5001).AckN(777).Win(100));
  EXPECT_EQ(out.drop, DropReason::kSynReceivedBadAck);
  c.Expect(Ms(1), Seg().Flags(kRst).SeqN(777));
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
}

TEST(EngineHandshakeTest, SynReceivedResetReturnsToListen) {
  Conversation c;
  c.engine().Listen();
  c.Send(Ms(0), Syn());
  c.Poll(Ms(0));
  auto out = c.Send(Ms(1), Seg().Flags(kRst).SeqN(5001));
  EXPECT_TRUE(out.reset);
  EXPECT_EQ(c.engine().state(), TcpState::kListen);
  // And it can accept the next SYN.
  c.Send(Ms(2), Syn());
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
}

TEST(EngineHandshakeTest, SimultaneousOpenResetRefuses) {
  Conversation c;
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  c.Send(Ms(1), Syn());
  c.Poll(Ms(1));
  c.Send(Ms(2), Seg().Flags(kRst).SeqN(5001));
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kRefused);
}

TEST(EngineHandshakeTest, ClosedStateAnswersWithReset) {
  Conversation c;
  // RFC 9293 §3.10.7.1: no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  EXPECT_EQ(c.Send(Ms(0), Seg().SeqN(300).Flags(0).Data(10)).drop, DropReason::kClosed);
  c.Expect(Ms(0), Seg().Flags(kRst | kAck).SeqN(0).AckN(310), "RST,ACK");
  c.Send(Ms(0), Seg().SeqN(300).AckN(55).Win(1));
  c.Expect(Ms(0), Seg().Flags(kRst).SeqN(55), "RST");
  c.Send(Ms(0), Seg().Flags(kRst).SeqN(300));
  c.ExpectNothing(Ms(0), "never a RST for a RST");
}

TEST(EngineHandshakeTest, CloseBeforeEstablishedSendsFinAfterHandshake) {
  Conversation c;
  c.engine().Listen();
  c.Send(Ms(0), Syn());
  c.Poll(Ms(0));
  c.engine().Close(Ms(1));
  EXPECT_EQ(c.engine().state(), TcpState::kSynReceived);
  c.Send(Ms(2), Seg().SeqN(5001).AckN(1001).Win(30000));
  EXPECT_EQ(c.engine().state(), TcpState::kFinWait1);
  c.Expect(Ms(2), Seg().Flags(kAck | kFin).SeqN(1001).AckN(5001).Win(20000), "FIN");
}

}  // namespace
}  // namespace mptcp::tcp::testing

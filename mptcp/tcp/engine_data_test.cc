// Conversation tests of data transfer: segmentation at the MSS, delayed ACK, out-of-order
// arrival with SACK blocks, receive-window accounting and window updates, the peer's zero window
// with the persist timer, window shrinking, Nagle, and buffer bounds.
#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

using C = Conversation;

TEST(EngineDataTest, SegmentsAtTheMssAndReleasesAckedBytes) {
  C c;
  c.EstablishActive();
  EXPECT_EQ(c.WritePattern(2500), 2500u);
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5001).Win(20000).Bytes(C::PatternBytes(0, 1000)));
  c.Expect(Ms(100), Seg().SeqN(2001).AckN(5001).Win(20000).Bytes(C::PatternBytes(1000, 1000)));
  c.Expect(Ms(100), Seg().Flags(kAck | kPsh).SeqN(3001).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(2000, 500)));
  c.ExpectNothing(Ms(100));
  EXPECT_EQ(c.engine().bytes_in_flight(), 2500u);
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(400))) << "RTO 300 ms after the first send";

  auto out = c.Send(Ms(200), Seg().SeqN(5001).AckN(2001).Win(30000));
  EXPECT_EQ(out.bytes_acked, 1000u);
  EXPECT_EQ(c.engine().send_buffer_used(), 1500u);
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(200) + c.engine().rtt().rto())) << "RTO restarted";
  out = c.Send(Ms(200), Seg().SeqN(5001).AckN(3501).Win(30000));
  EXPECT_EQ(out.bytes_acked, 1500u);
  EXPECT_EQ(c.engine().send_buffer_used(), 0u);
  EXPECT_TRUE(c.engine().NextDeadline().never()) << "everything acknowledged: idle";
  c.ExpectNothing(Ms(200), "pure ACKs are not answered");
}

TEST(EngineDataTest, DelayedAckEveryTwoSegmentsOrAfterTimeout) {
  C c;
  c.EstablishActive();
  auto out = c.Send(Ms(100), Seg().SeqN(5001).AckN(1001).Win(30000).Data(500, 'a'));
  EXPECT_EQ(out.bytes_delivered, 500u);
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kReadable}}));
  c.ExpectNothing(Ms(139), "ACK delayed");
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(140)));
  c.Expect(Ms(140), Seg().SeqN(1001).AckN(5501).Win(19500), "delayed ACK after 40 ms");
  EXPECT_EQ(c.engine().mib().delayed_acks, 1u);

  c.Send(Ms(200), Seg().SeqN(5501).AckN(1001).Win(30000).Data(1000, 'b'));
  c.ExpectNothing(Ms(200));
  c.Send(Ms(201), Seg().SeqN(6501).AckN(1001).Win(30000).Data(1000, 'c'));
  c.Expect(Ms(201), Seg().SeqN(1001).AckN(7501).Win(17500), "second segment: ACK now");
  EXPECT_TRUE(c.engine().NextDeadline().never());

  uint8_t buf[4000];
  ASSERT_EQ(c.engine().Read(buf), 2500u);
  EXPECT_EQ(buf[0], 'a');
  EXPECT_EQ(buf[500], 'b');
  EXPECT_EQ(buf[2499], 'c');
  // RFC 9293 §3.8.6.2.2: the window grew by 2500 >= one MSS: announce it.
  c.Expect(Ms(202), Seg().SeqN(1001).AckN(7501).Win(20000), "window update");
}

TEST(EngineDataTest, OutOfOrderSegmentsAreSackedAndAckedAtOnce) {
  C c;
  c.EstablishActive();
  auto out = c.Send(Ms(100), Seg().SeqN(6001).AckN(1001).Win(30000).Bytes(C::PatternBytes(1000, 1000)));
  EXPECT_EQ(out.bytes_delivered, 0u);
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5001).Win(20000).Sack(6001, 7001), "dup ACK + SACK");
  c.Send(Ms(101), Seg().SeqN(8001).AckN(1001).Win(30000).Bytes(C::PatternBytes(3000, 500)));
  // RFC 2018 §4: the newest block first.
  c.Expect(Ms(101),
           Seg().SeqN(1001).AckN(5001).Win(20000).Sack(8001, 8501).Sack(6001, 7001));
  out = c.Send(Ms(102), Seg().SeqN(5001).AckN(1001).Win(30000).Bytes(C::PatternBytes(0, 1000)));
  EXPECT_EQ(out.bytes_delivered, 2000u);
  c.Expect(Ms(102), Seg().SeqN(1001).AckN(7001).Win(18000).Sack(8001, 8501),
           "hole filled: ACK at once");
  c.Send(Ms(103), Seg().SeqN(7001).AckN(1001).Win(30000).Bytes(C::PatternBytes(2000, 1000)));
  c.Expect(Ms(103), Seg().SeqN(1001).AckN(8501).Win(16500), "all in order");
  std::vector<uint8_t> got(3500);
  ASSERT_EQ(c.engine().Read(got), 3500u);
  EXPECT_EQ(got, C::PatternBytes(0, 3500));
  EXPECT_EQ(c.engine().mib().ofo_queue, 2u);
}

// A burst loss that leaves every other segment of a window missing (a queue overflowing in
// slow start): each arrival is one more disjoint range, and every one of them must be kept
// and SACKed. With a bound of 32 ranges the segments past the 32nd hole were dropped unSACKed,
// so the sender had nothing above them to call them lost and waited for its RTO (2 s and
// more on a path whose queue had grown its RTT).
TEST(EngineDataTest, FortyHolesAreAllKept) {
  C c;
  c.EstablishActive();
  const auto chunk = [](size_t i) {
    return Seg().SeqN(5001 + static_cast<uint32_t>(i) * 100).AckN(1001).Win(30000)
        .Bytes(C::PatternBytes(i * 100, 100));
  };
  for (size_t i = 1; i < 80; i += 2) {
    EXPECT_EQ(c.Send(Ms(100), chunk(i)).drop, DropReason::kNone) << "chunk " << i;
    while (c.Poll(Ms(100))) {}
  }
  EXPECT_EQ(c.engine().mib().ofo_drop, 0u);
  for (size_t i = 0; i < 80; i += 2) c.Send(Ms(110), chunk(i));
  std::vector<uint8_t> got(8000);
  ASSERT_EQ(c.engine().Read(got), 8000u);
  EXPECT_EQ(got, C::PatternBytes(0, 8000));
}

// The bound itself (TcpConfig::max_ooo_ranges): a segment that would need one range more is
// dropped and counted, and the ranges held stay.
TEST(EngineDataTest, OutOfOrderRangesAreBounded) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.max_ooo_ranges = 4;
  C c(cfg);
  c.EstablishActive();
  for (uint32_t i = 1; i <= 9; i += 2) {
    c.Send(Ms(100), Seg().SeqN(5001 + i * 100).AckN(1001).Win(30000)
                        .Bytes(C::PatternBytes(i * 100, 100)));
  }
  EXPECT_EQ(c.engine().mib().ofo_drop, 1u) << "the fifth range";
  EXPECT_EQ(c.engine().mib().ofo_queue, 4u);
}

TEST(EngineDataTest, OverlappingAndDuplicateDataIsTrimmed) {
  C c;
  c.EstablishActive();
  c.Send(Ms(100), Seg().SeqN(5001).AckN(1001).Win(30000).Bytes(C::PatternBytes(0, 1000)));
  // Overlaps the first 500 bytes already received.
  auto out = c.Send(Ms(101), Seg().SeqN(5501).AckN(1001).Win(30000).Bytes(C::PatternBytes(500, 1000)));
  EXPECT_EQ(out.bytes_delivered, 500u);
  c.Expect(Ms(101), Seg().SeqN(1001).AckN(6501).Win(18500).Sack(5501, 6001),
           "RFC 2883: the part received twice, as a D-SACK");
  // An entire duplicate is out of window: answered with an ACK at once.
  out = c.Send(Ms(102), Seg().SeqN(5001).AckN(1001).Win(30000).Bytes(C::PatternBytes(0, 1000)));
  EXPECT_EQ(out.drop, DropReason::kOutOfWindow);
  c.Expect(Ms(102), Seg().SeqN(1001).AckN(6501).Win(18500).Sack(5001, 6001),
           "duplicate ACKed, with its D-SACK");
  c.Send(Ms(103), Seg().SeqN(6501).AckN(1001).Win(30000).Data(100, 'x'));
  c.Expect(Ms(103) + c.engine().config().delayed_ack_timeout,
           Seg().SeqN(1001).AckN(6601).Win(18400), "a D-SACK is reported once");
  EXPECT_EQ(c.engine().mib().dsack_old_sent, 2u);
  std::vector<uint8_t> got(1500);
  ASSERT_EQ(c.engine().Read(got), 1500u);
  EXPECT_EQ(got, C::PatternBytes(0, 1500));
}

TEST(EngineDataTest, ReceiveWindowFillsToZeroThenReopens) {
  C c;
  c.EstablishActive();
  uint32_t seq = 5001;
  for (int i = 0; i < 20; ++i) {
    c.Send(Ms(100), Seg().SeqN(seq).AckN(1001).Win(30000).Data(1000));
    seq += 1000;
    if (i % 2 == 1) c.Poll(Ms(100));
  }
  EXPECT_EQ(c.engine().readable(), 20000u);
  // RFC 9293: with a zero window, text is refused but the ACK is still processed.
  auto out = c.Send(Ms(110), Seg().SeqN(seq).AckN(1001).Win(30000).Data(1000));
  EXPECT_EQ(out.drop, DropReason::kZeroWindow);
  EXPECT_EQ(c.engine().mib().zero_window_drop, 1u);
  c.Expect(Ms(110), Seg().SeqN(1001).AckN(seq).Win(0), "zero window");
  // A zero-window probe (one byte below RCV.NXT) gets the same answer.
  out = c.Send(Ms(120), Seg().SeqN(seq - 1).AckN(1001).Win(30000));
  EXPECT_EQ(out.drop, DropReason::kOutOfWindow);
  c.Expect(Ms(120), Seg().SeqN(1001).AckN(seq).Win(0), "probe answered");
  uint8_t buf[999];
  c.engine().Read(buf);
  c.ExpectNothing(Ms(121), "999 bytes < one MSS: no update yet (receiver SWS avoidance)");
  c.engine().Read(std::span<uint8_t>(buf, 1));
  c.Expect(Ms(121), Seg().SeqN(1001).AckN(seq).Win(1000), "window reopened");
}

TEST(EngineDataTest, PeerZeroWindowIsProbedWithBackoff) {
  C c;
  c.EstablishActive(/*peer_window=*/1500);
  c.WritePattern(5000);
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5001).Win(20000).Bytes(C::PatternBytes(0, 1000)));
  // 500 bytes of window remain: less than half the largest window with data in flight.
  c.ExpectNothing(Ms(100), "sender SWS avoidance");
  c.Send(Ms(200), Seg().SeqN(5001).AckN(2001).Win(0));
  c.ExpectNothing(Ms(200), "zero window");
  const Duration rto = c.engine().rtt().rto();
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(200) + rto)) << "persist timer";
  c.Expect(Ms(200) + rto, Seg().SeqN(2000).AckN(5001).Win(20000), "probe: SND.UNA - 1");
  c.Send(Ms(200) + rto + Duration::Millis(10), Seg().SeqN(5001).AckN(2001).Win(0));
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(Ms(200) + rto * 3)) << "backed off";
  c.Expect(Ms(200) + rto * 3, Seg().SeqN(2000).AckN(5001).Win(20000), "second probe");
  EXPECT_EQ(c.engine().mib().win_probe, 2u);
  // The window opens: data flows and the persist timer stops.
  const Timestamp t = Ms(200) + rto * 3 + Duration::Millis(10);
  c.Send(t, Seg().SeqN(5001).AckN(2001).Win(2000));
  c.Expect(t, Seg().SeqN(2001).AckN(5001).Win(20000).Bytes(C::PatternBytes(1000, 1000)));
  c.Expect(t, Seg().SeqN(3001).AckN(5001).Win(20000).Bytes(C::PatternBytes(2000, 1000)));
  c.ExpectNothing(t);
  EXPECT_EQ(c.engine().NextDeadline(), PollAt::At(t + c.engine().rtt().rto())) << "RTO, not persist";
}

TEST(EngineDataTest, PeerShrinkingItsWindowStopsNewData) {
  C c;
  c.EstablishActive(/*peer_window=*/4000);
  c.WritePattern(8000);
  for (int i = 0; i < 4; ++i) c.Poll(Ms(100));
  c.ExpectNothing(Ms(100));
  // The peer acks 1000 bytes but shrinks its window to 1000: right edge 3001 < SND.NXT 5001.
  c.Send(Ms(150), Seg().SeqN(5001).AckN(2001).Win(1000));
  c.ExpectNothing(Ms(150), "no new data beyond the shrunken window");
  EXPECT_EQ(c.engine().snd_wnd(), 1000u);
  // Acked fully with a normal window again: transmission resumes.
  c.Send(Ms(200), Seg().SeqN(5001).AckN(5001).Win(4000));
  c.Expect(Ms(200), Seg().SeqN(5001).AckN(5001).Win(20000).Bytes(C::PatternBytes(4000, 1000)));
}

TEST(EngineDataTest, NagleHoldsSmallSegmentsWhileDataIsUnacked) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.nagle = true;
  C c(cfg);
  c.EstablishActive();
  c.WritePattern(100);
  c.Expect(Ms(100), Seg().Flags(kAck | kPsh).SeqN(1001).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(0, 100)));
  c.WritePattern(100);
  c.ExpectNothing(Ms(100), "Nagle: small segment held");
  c.Send(Ms(200), Seg().SeqN(5001).AckN(1101).Win(30000));
  c.Expect(Ms(200), Seg().Flags(kAck | kPsh).SeqN(1101).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(100, 100)));
}

TEST(EngineDataTest, SendBufferIsBoundedAndReportsWritable) {
  C c;
  c.EstablishActive();
  EXPECT_EQ(c.WritePattern(30000), 20000u) << "send buffer holds 20000";
  EXPECT_EQ(c.engine().send_buffer_free(), 0u);
  for (int i = 0; i < 10; ++i) c.Poll(Ms(100));  // cwnd = 10 segments
  c.ExpectNothing(Ms(100), "cwnd full");
  c.Events();
  c.Send(Ms(200), Seg().SeqN(5001).AckN(3001).Win(30000));
  EXPECT_EQ(c.Events(), (std::vector<TcpEvent>{{TcpEventType::kWritable}}));
  EXPECT_EQ(c.engine().send_buffer_free(), 2000u);
}

TEST(EngineDataTest, CongestionWindowLimitsAndGrowsInSlowStart) {
  C c;
  c.EstablishActive();
  c.WritePattern(20000);
  int sent = 0;
  while (c.Poll(Ms(100))) ++sent;
  EXPECT_EQ(sent, 10) << "RFC 6928 initial window: 10 segments";
  // Each ACK of one segment grows cwnd by one segment in slow start (RFC 5681 §3.1).
  c.Send(Ms(200), Seg().SeqN(5001).AckN(2001).Win(30000));
  sent = 0;
  while (c.Poll(Ms(200))) ++sent;
  EXPECT_EQ(sent, 2);
}

TEST(EngineDataTest, PeerFinAfterDataGivesEof) {
  C c;
  c.EstablishActive();
  auto out = c.Send(Ms(100), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000).Data(10));
  EXPECT_TRUE(out.fin_received);
  EXPECT_EQ(c.engine().state(), TcpState::kCloseWait);
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5012).Win(19989), "FIN acknowledged at once (the FIN takes a sequence number, not buffer space: the right edge stays)");
  EXPECT_FALSE(c.engine().eof());
  uint8_t buf[20];
  EXPECT_EQ(c.engine().Read(buf), 10u);
  EXPECT_TRUE(c.engine().eof());
  EXPECT_EQ(c.engine().Read(buf), 0u);
}

TEST(EngineDataTest, OutOfOrderFinWaitsForTheHole) {
  C c;
  c.EstablishActive();
  c.Send(Ms(100), Seg().Flags(kAck | kFin).SeqN(6001).AckN(1001).Win(30000).Data(500));
  EXPECT_EQ(c.engine().state(), TcpState::kEstablished);
  c.Expect(Ms(100), Seg().SeqN(1001).AckN(5001).Win(20000).Sack(6001, 6501));
  auto out = c.Send(Ms(101), Seg().SeqN(5001).AckN(1001).Win(30000).Data(1000));
  EXPECT_TRUE(out.fin_received);
  EXPECT_EQ(c.engine().state(), TcpState::kCloseWait);
  c.Expect(Ms(101), Seg().SeqN(1001).AckN(6502).Win(18499));
}

TEST(EngineDataTest, BadChecksumAndMalformedBytesAreCountedDrops) {
  C c;
  c.EstablishActive();
  uint8_t seg[40] = {};
  Seg s = Seg().SeqN(5001).AckN(1001).Win(30000).Data(20);
  s.Ports(C::kRemotePort, C::kLocalPort);
  auto n = s.repr().Emit(seg, C::Tuple().remote.ip, C::Tuple().local.ip);
  ASSERT_TRUE(n.ok());
  seg[30] ^= 1;  // flip a payload bit
  EXPECT_EQ(c.engine().OnSegmentBytes(Ms(100), std::span<const uint8_t>(seg, *n)).drop,
            DropReason::kBadChecksum);
  EXPECT_EQ(c.engine().mib().in_csum_errors, 1u);
  seg[30] ^= 1;
  EXPECT_EQ(c.engine().OnSegmentBytes(Ms(100), std::span<const uint8_t>(seg, *n)).bytes_delivered,
            20u);
  // A data offset past the segment's end (checksum valid): malformed.
  uint8_t bad[20] = {0x00, 0x50, 0x9c, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x10};
  wire::FillTcpChecksum(C::Tuple().remote.ip, C::Tuple().local.ip, bad);
  EXPECT_EQ(c.engine().OnSegmentBytes(Ms(100), bad).drop, DropReason::kMalformed);
  EXPECT_EQ(c.engine().mib().in_malformed, 1u);
  // Another connection's ports.
  Seg other = Seg().SeqN(5001).AckN(1001).Win(30000);
  other.Ports(1, 2);
  EXPECT_EQ(c.engine().OnSegment(Ms(100), other.repr()).drop, DropReason::kWrongPorts);
}

}  // namespace
}  // namespace mptcp::tcp::testing

namespace mptcp::tcp::testing {
namespace {

TEST(EngineDataTest, ReadSeqExcludesThePeersFin) {
  C c;
  c.EstablishActive();
  EXPECT_EQ(c.engine().read_seq(), SeqNum32(5001));
  c.Send(Ms(100), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1001).Win(30000).Data(10));
  // The data is [5001, 5011); the FIN takes 5011, so RCV.NXT is 5012 but reading starts at 5001.
  EXPECT_EQ(c.engine().rcv_nxt(), SeqNum32(5012));
  EXPECT_EQ(c.engine().read_seq(), SeqNum32(5001));
  uint8_t buf[4];
  c.engine().Read(buf);
  EXPECT_EQ(c.engine().read_seq(), SeqNum32(5005));
}

}  // namespace
}  // namespace mptcp::tcp::testing

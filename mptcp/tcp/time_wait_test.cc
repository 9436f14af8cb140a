// The compact TIME-WAIT record answers as the engine it replaces would: each segment below is
// sent to an engine in TIME-WAIT and to the record taken from it, and both replies compared.
#include "mptcp/tcp/time_wait.h"

#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

using C = Conversation;
using Action = TimeWaitRecord::Action;

// An engine that closed actively with timestamps on: TIME-WAIT at 320 ms, after our FIN (seq
// 1001) and the peer's (seq 5001).
void CloseToTimeWait(C& c) {
  c.engine().Connect(Ms(0));
  c.Poll(Ms(0));
  c.Send(Ms(100), Seg().Flags(kSyn).SeqN(5000).AckN(1001).Win(30000).Mss(1460).SackOk().Ts(77, 0));
  c.Poll(Ms(100));
  c.engine().Close(Ms(200));
  c.Poll(Ms(200));
  c.Send(Ms(300), Seg().SeqN(5001).AckN(1002).Win(30000).Ts(80, 200));
  c.Send(Ms(320), Seg().Flags(kAck | kFin).SeqN(5001).AckN(1002).Win(30000).Ts(81, 200));
  c.Poll(Ms(320));
  ASSERT_EQ(c.engine().state(), TcpState::kTimeWait);
}

TcpConfig WithTimestamps() {
  TcpConfig cfg = C::DefaultConfig();
  cfg.timestamps = true;
  return cfg;
}

TEST(TimeWaitRecordTest, AcksARetransmittedFinLikeTheEngineAndRestarts2Msl) {
  C c(WithTimestamps());
  CloseToTimeWait(c);
  TimeWaitRecord r = c.engine().time_wait_record();
  EXPECT_EQ(r.expiry, Ms(320) + Duration::Seconds(60));
  const Seg fin = Seg().Flags(kAck | kFin).SeqN(5001).AckN(1002).Win(30000).Ts(90, 200);
  c.Send(Ms(5000), fin);
  const auto engine_reply = c.Poll(Ms(5000));
  ASSERT_TRUE(engine_reply);
  Seg f = fin;
  f.Ports(C::kRemotePort, C::kLocalPort);
  EXPECT_EQ(r.OnSegment(Ms(5000), f.repr(), Duration::Seconds(60)), Action::kAck);
  // The same ACK (TSecr echoing the first FIN's TSval, as Linux's TIME-WAIT socket does).
  EXPECT_EQ(r.Ack(Ms(5000), C::kLocalPort, C::kRemotePort), *engine_reply);
  EXPECT_EQ(r.expiry, Ms(5000) + Duration::Seconds(60)) << "2 MSL restarted";
  EXPECT_EQ(c.engine().NextTimer(), r.expiry);
}

TEST(TimeWaitRecordTest, OldDuplicatesAreAcknowledgedDuplicateAcksIgnored) {
  C c(WithTimestamps());
  CloseToTimeWait(c);
  TimeWaitRecord r = c.engine().time_wait_record();
  Seg old_data = Seg().SeqN(4500).AckN(1002).Win(30000).Data(100);
  old_data.Ports(C::kRemotePort, C::kLocalPort);
  EXPECT_EQ(r.OnSegment(Ms(400), old_data.repr(), Duration::Seconds(60)), Action::kAck);
  Seg dup_ack = Seg().SeqN(5002).AckN(1002).Win(30000);
  dup_ack.Ports(C::kRemotePort, C::kLocalPort);
  EXPECT_EQ(r.OnSegment(Ms(400), dup_ack.repr(), Duration::Seconds(60)), Action::kIgnore);
  EXPECT_EQ(r.expiry, Ms(320) + Duration::Seconds(60)) << "only a FIN restarts the wait";
}

TEST(TimeWaitRecordTest, RstForgetsNewerSynReuses) {
  C c(WithTimestamps());
  CloseToTimeWait(c);
  TimeWaitRecord r = c.engine().time_wait_record();
  Seg rst = Seg().Flags(kRst).SeqN(5002);
  EXPECT_EQ(r.OnSegment(Ms(400), rst.repr(), Duration::Seconds(60)), Action::kForget);
  Seg old_syn = Seg().Flags(kSyn).SeqN(4000).Ts(50, 0);
  EXPECT_EQ(r.OnSegment(Ms(400), old_syn.repr(), Duration::Seconds(60)), Action::kAck)
      << "an old SYN is a duplicate";
  Seg new_syn = Seg().Flags(kSyn).SeqN(9000).Ts(50, 0);
  EXPECT_EQ(r.OnSegment(Ms(400), new_syn.repr(), Duration::Seconds(60)), Action::kReuse)
      << "beyond RCV.NXT";
  Seg newer_ts = Seg().Flags(kSyn).SeqN(4000).Ts(1000, 0);
  EXPECT_EQ(r.OnSegment(Ms(400), newer_ts.repr(), Duration::Seconds(60)), Action::kReuse)
      << "a newer timestamp (RFC 6191)";
}

}  // namespace
}  // namespace mptcp::tcp::testing

#include "mptcp/tcp/isn.h"

#include <gtest/gtest.h>

namespace mptcp::tcp {
namespace {

const FourTuple kTuple{{IpAddress::V4(192, 0, 2, 1), 40000}, {IpAddress::V4(198, 51, 100, 1), 80}};

TEST(IsnGeneratorTest, SameSecretSameTupleSameTimeGivesSameIsn) {
  Random r1(5), r2(5);
  IsnGenerator a(r1), b(r2);
  EXPECT_EQ(a.Generate(Timestamp::FromNanos(12345), kTuple),
            b.Generate(Timestamp::FromNanos(12345), kTuple));
}

TEST(IsnGeneratorTest, AdvancesWithTheFourMicrosecondClock) {
  // RFC 6528 §3: M is a timer ticking every 4 µs.
  Random r(1);
  IsnGenerator g(r);
  const SeqNum32 t0 = g.Generate(Timestamp::Zero(), kTuple);
  EXPECT_EQ(g.Generate(Timestamp::FromNanos(3999), kTuple), t0);
  EXPECT_EQ(g.Generate(Timestamp::FromNanos(4000), kTuple), t0 + 1);
  EXPECT_EQ(g.Generate(Timestamp::FromNanos(4'000'000), kTuple), t0 + 1000);
}

TEST(IsnGeneratorTest, TupleAndSecretChangeTheIsn) {
  Random r1(1), r2(2);
  IsnGenerator a(r1), b(r2);
  const Timestamp t = Timestamp::FromNanos(777);
  EXPECT_NE(a.Generate(t, kTuple), b.Generate(t, kTuple));
  FourTuple other = kTuple;
  other.local.port = 40001;
  EXPECT_NE(a.Generate(t, kTuple), a.Generate(t, other));
  EXPECT_NE(a.Generate(t, kTuple), a.Generate(t, kTuple.Reversed()));
  FourTuple v6 = kTuple;
  v6.remote.ip = *IpAddress::Parse("2001:db8::1");
  EXPECT_NE(a.Generate(t, kTuple), a.Generate(t, v6));
}

}  // namespace
}  // namespace mptcp::tcp

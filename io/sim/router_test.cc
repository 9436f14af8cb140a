#include "io/sim/router.h"

#include <gtest/gtest.h>

#include "io/sim/test_util.h"

namespace mptcp::sim {
namespace {

using testing::FillerPacket;
using testing::RecordingSink;

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return IpAddress::V4(a, b, c, d); }
IpAddress V6(const char* s) { return *IpAddress::Parse(s); }

TEST(RouterTest, LongestPrefixWins) {
  Router r;
  DiscardSink s0, s1, s2, s3;
  const size_t p0 = r.AddPort(&s0), p1 = r.AddPort(&s1), p2 = r.AddPort(&s2),
               p3 = r.AddPort(&s3);
  ASSERT_TRUE(r.SetDefaultRoute(V4(0, 0, 0, 0), p0));
  ASSERT_TRUE(r.AddRoute(V4(10, 0, 0, 0), 8, p1));
  ASSERT_TRUE(r.AddRoute(V4(10, 1, 0, 0), 16, p2));
  ASSERT_TRUE(r.AddHostRoute(V4(10, 1, 2, 3), p3));
  EXPECT_EQ(r.Lookup(V4(10, 1, 2, 3)), p3);
  EXPECT_EQ(r.Lookup(V4(10, 1, 2, 4)), p2);
  EXPECT_EQ(r.Lookup(V4(10, 2, 0, 1)), p1);
  EXPECT_EQ(r.Lookup(V4(192, 0, 2, 1)), p0);
  // Insertion order does not matter: a shorter prefix added last still loses.
  ASSERT_TRUE(r.AddRoute(V4(10, 1, 2, 0), 23, p0));
  EXPECT_EQ(r.Lookup(V4(10, 1, 2, 4)), p0);
  EXPECT_EQ(r.Lookup(V4(10, 1, 2, 3)), p3);
}

TEST(RouterTest, PrefixBitsBeyondTheLengthAreIgnoredAndRoutesReplace) {
  Router r;
  DiscardSink s0, s1;
  const size_t p0 = r.AddPort(&s0), p1 = r.AddPort(&s1);
  ASSERT_TRUE(r.AddRoute(V4(172, 16, 99, 99), 12, p0));  // = 172.16.0.0/12
  EXPECT_EQ(r.Lookup(V4(172, 31, 255, 255)), p0);
  EXPECT_EQ(r.Lookup(V4(172, 32, 0, 0)), std::nullopt);
  ASSERT_TRUE(r.AddRoute(V4(172, 16, 0, 0), 12, p1));  // same prefix: replaced
  EXPECT_EQ(r.Lookup(V4(172, 20, 1, 1)), p1);
  EXPECT_FALSE(r.AddRoute(V4(1, 2, 3, 4), 33, p0));
  EXPECT_FALSE(r.AddRoute(V4(1, 2, 3, 4), 8, 7));  // no such port
}

TEST(RouterTest, FamiliesAreSeparate) {
  Router r;
  DiscardSink s0, s1;
  const size_t p0 = r.AddPort(&s0), p1 = r.AddPort(&s1);
  ASSERT_TRUE(r.SetDefaultRoute(V4(0, 0, 0, 0), p0));
  ASSERT_TRUE(r.AddRoute(V6("2001:db8::"), 32, p1));
  EXPECT_EQ(r.Lookup(V6("2001:db8:1::5")), p1);
  EXPECT_EQ(r.Lookup(V6("2001:db9::1")), std::nullopt);  // the v4 default does not apply
  EXPECT_EQ(r.Lookup(V4(8, 8, 8, 8)), p0);
  ASSERT_TRUE(r.AddHostRoute(V6("2001:db8::1"), p0));
  EXPECT_EQ(r.Lookup(V6("2001:db8::1")), p0);
}

TEST(RouterTest, ForwardsPacketsAndCountsWhatItCannotRoute) {
  Simulator sim(1);
  Router r;
  RecordingSink a(sim), b(sim);
  const size_t pa = r.AddPort(&a), pb = r.AddPort(&b);
  r.AddHostRoute(V4(10, 0, 0, 2), pa);
  r.AddRoute(V4(10, 0, 1, 0), 24, pb);
  r.Deliver(sim.NewPacket(FillerPacket(100, 1, V4(1, 1, 1, 1), V4(10, 0, 0, 2))));
  r.Deliver(sim.NewPacket(FillerPacket(100, 2, V4(1, 1, 1, 1), V4(10, 0, 1, 77))));
  r.Deliver(sim.NewPacket(FillerPacket(100, 3, V4(1, 1, 1, 1), V4(10, 0, 2, 1))));
  r.Deliver(sim.NewPacket({0x45, 0, 0}));  // truncated header
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(testing::TagOf(a.packet(0)), 1);
  EXPECT_EQ(testing::TagOf(b.packet(0)), 2);
  EXPECT_EQ(r.stats().forwarded, 2u);
  EXPECT_EQ(r.stats().no_route, 1u);
  EXPECT_EQ(r.stats().malformed, 1u);
  EXPECT_EQ(r.port_packets(pa), 1u);
  // Bytes are untouched (no TTL decrement).
  EXPECT_EQ(a.packet(0).bytes, FillerPacket(100, 1, V4(1, 1, 1, 1), V4(10, 0, 0, 2)));
}

}  // namespace
}  // namespace mptcp::sim

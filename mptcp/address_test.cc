#include "mptcp/address.h"

#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"

namespace mptcp {
namespace {

TEST(IpAddressTest, ParsesAndPrintsV4) {
  auto a = IpAddress::Parse("192.0.2.17");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_value(), 0xC0000211u);
  EXPECT_EQ(a->ToString(), "192.0.2.17");
  EXPECT_EQ(*a, IpAddress::V4(192, 0, 2, 17));
}

TEST(IpAddressTest, RejectsBadV4) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d",
                          "0001.2.3.4"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(IpAddressTest, ParsesAndPrintsV6) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"2001:db8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"::", "::"},
      {"::1", "::1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group is not "::"
      {"2001:db8::", "2001:db8::"},
      {"2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"},
  };
  for (const auto& c : cases) {
    auto a = IpAddress::Parse(c.in);
    ASSERT_TRUE(a.has_value()) << c.in;
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->ToString(), c.out) << c.in;
    EXPECT_EQ(IpAddress::Parse(a->ToString()), a);
  }
}

TEST(IpAddressTest, RejectsBadV6) {
  for (const char* bad : {":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
                          "g::1", "1:", ":1", "1:2:3:4:5:6:7::8"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(FourTupleTest, HashesAndReverses) {
  const FourTuple t{{IpAddress::V4(192, 0, 2, 1), 1000}, {IpAddress::V4(198, 51, 100, 1), 80}};
  absl::flat_hash_set<FourTuple> set{t};
  EXPECT_TRUE(set.contains(t));
  EXPECT_FALSE(set.contains(t.Reversed()));
  EXPECT_EQ(t.Reversed().Reversed(), t);
  EXPECT_EQ(t.ToString(), "192.0.2.1:1000 <-> 198.51.100.1:80");
}

}  // namespace
}  // namespace mptcp

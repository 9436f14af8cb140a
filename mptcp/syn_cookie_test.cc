// SYN cookies: what a cookie keeps, and that a wrong ISN, a mangled MAC, another tuple or an
// expired slot are refused.
#include "mptcp/syn_cookie.h"

#include <gtest/gtest.h>

namespace mptcp {
namespace {

const FourTuple kTuple{{IpAddress::V4(198, 51, 100, 1), 80}, {IpAddress::V4(192, 0, 2, 1), 40000}};
Timestamp At(int64_t s) { return Timestamp::Zero() + Duration::Seconds(s); }

SynCookies Cookies(uint8_t fill = 7) {
  std::array<uint8_t, 32> secret{};
  secret.fill(fill);
  return SynCookies(secret);
}

TEST(SynCookieTest, KeepsWhatTheSynSaid) {
  const SynCookies c = Cookies();
  const uint32_t cookie = c.Make(At(100), kTuple, 12345, {1460, 7, true});
  const auto f = c.Check(At(100), kTuple, 12345, cookie);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->mss, 1460);
  EXPECT_EQ(f->window_scale, 7);
  EXPECT_TRUE(f->sack_permitted);
  const uint32_t plain = c.Make(At(100), kTuple, 12345, {1000, std::nullopt, false});
  const auto g = c.Check(At(100), kTuple, 12345, plain);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->mss, 536);  // rounded down to the table (RFC 9293's default is its floor)
  EXPECT_FALSE(g->window_scale.has_value());
  EXPECT_FALSE(g->sack_permitted);
}

TEST(SynCookieTest, MssRoundsDownToTheTable) {
  const SynCookies c = Cookies();
  for (const auto& [offered, kept] : {std::pair<uint16_t, uint16_t>{1440, 1440}, {1439, 1400},
                                      {65535, 8960}, {100, 536}}) {
    const uint32_t cookie = c.Make(At(0), kTuple, 1, {offered, std::nullopt, false});
    EXPECT_EQ(c.Check(At(0), kTuple, 1, cookie)->mss, kept) << offered;
  }
}

TEST(SynCookieTest, RefusesWhatItDidNotMake) {
  const SynCookies c = Cookies();
  const uint32_t cookie = c.Make(At(100), kTuple, 12345, {1460, 7, true});
  EXPECT_FALSE(c.Check(At(100), kTuple, 12346, cookie)) << "another client ISN";
  EXPECT_FALSE(c.Check(At(100), kTuple, 12345, cookie ^ 1)) << "MAC bit flipped";
  EXPECT_FALSE(c.Check(At(100), kTuple, 12345, cookie ^ (1u << 24))) << "MSS index changed";
  FourTuple other = kTuple;
  other.remote.port = 40001;
  EXPECT_FALSE(c.Check(At(100), other, 12345, cookie)) << "another tuple";
  EXPECT_FALSE(Cookies(8).Check(At(100), kTuple, 12345, cookie)) << "another secret";
}

TEST(SynCookieTest, GoodForItsSlotAndTheNextOnly) {
  const SynCookies c = Cookies();
  const int64_t t0 = 64 * 10;  // the start of a slot
  const uint32_t cookie = c.Make(At(t0), kTuple, 5, {1460, std::nullopt, false});
  EXPECT_TRUE(c.Check(At(t0 + 63), kTuple, 5, cookie));
  EXPECT_TRUE(c.Check(At(t0 + 127), kTuple, 5, cookie));
  EXPECT_FALSE(c.Check(At(t0 + 128), kTuple, 5, cookie));
  EXPECT_FALSE(c.Check(At(t0 + 64 * 32), kTuple, 5, cookie)) << "the slot counter wrapped";
}

TEST(SynCookieTest, KeysAndOffsetsAreDerivedPerTupleAndCookie) {
  const SynCookies c = Cookies();
  FourTuple other = kTuple;
  other.remote.port = 40001;
  EXPECT_EQ(c.Key(kTuple, 99), c.Key(kTuple, 99));
  EXPECT_NE(c.Key(kTuple, 99), c.Key(kTuple, 100));
  EXPECT_NE(c.Key(kTuple, 99), c.Key(other, 99));
  EXPECT_NE(c.Key(kTuple, 99), 0u);
  EXPECT_EQ(c.TsOffset(kTuple), c.TsOffset(kTuple));
  EXPECT_NE(c.TsOffset(kTuple), c.TsOffset(other));
}

}  // namespace
}  // namespace mptcp

// The playout buffer: start-up, real-time play, stalls and their exact times, resumption,
// the end of the stream.
#include "tools/sim/player.h"

#include <gtest/gtest.h>

namespace mptcp::tools {
namespace {

Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

// 8 kbit/s: 1000 bytes per second of media, so bytes read as milliseconds.
constexpr uint64_t kBitrate = 8000;

TEST(PlayerTest, StartsOnceTheStartupIsBuffered) {
  Player p(kBitrate, 10'000, Duration::Seconds(2));
  p.OnData(Ms(500), 1000);
  EXPECT_EQ(p.state(), Player::State::kBuffering);
  p.OnData(Ms(1200), 1999);
  EXPECT_EQ(p.state(), Player::State::kBuffering);
  p.OnData(Ms(1500), 2000);
  EXPECT_EQ(p.state(), Player::State::kPlaying);
  EXPECT_EQ(p.started_at(), Ms(1500));
  EXPECT_EQ(p.buffered(), Duration::Seconds(2));
  p.AdvanceTo(Ms(2000));
  EXPECT_EQ(p.position(), Duration::Millis(500));
  EXPECT_EQ(p.buffered(), Duration::Millis(1500));
  EXPECT_TRUE(p.stalls().empty());
}

TEST(PlayerTest, StallsWhenEmptyAndResumesWithTheStartupAgain) {
  Player p(kBitrate, 10'000, Duration::Seconds(1));
  p.OnData(Ms(0), 1000);  // 1 s of media: plays at once
  ASSERT_EQ(p.state(), Player::State::kPlaying);
  p.OnData(Ms(600), 1500);  // 1.5 s of media by 0.6 s
  p.AdvanceTo(Ms(3000));    // runs dry at 1.5 s
  ASSERT_EQ(p.state(), Player::State::kStalled);
  ASSERT_EQ(p.stalls().size(), 1u);
  EXPECT_EQ(p.stalls()[0].start, Ms(1500));
  EXPECT_TRUE(p.stalls()[0].end.IsNever());
  EXPECT_EQ(p.StalledIn(Ms(0), Ms(3000)), Duration::Millis(1500));
  p.OnData(Ms(3200), 2000);  // 0.5 s buffered: not enough
  EXPECT_EQ(p.state(), Player::State::kStalled);
  p.OnData(Ms(3400), 2500);  // 1 s buffered: resume
  EXPECT_EQ(p.state(), Player::State::kPlaying);
  EXPECT_EQ(p.stalls()[0].end, Ms(3400));
  EXPECT_EQ(p.StalledIn(Ms(1000), Ms(2000)), Duration::Millis(500));
  EXPECT_EQ(p.StalledIn(Ms(0), Ms(10'000)), Duration::Millis(1900));
  EXPECT_EQ(p.position(), Duration::Millis(1500));
}

TEST(PlayerTest, TheRestOfTheStreamResumesPlayEvenBelowTheStartup) {
  Player p(kBitrate, 3000, Duration::Seconds(2));
  p.OnData(Ms(0), 2000);
  p.AdvanceTo(Ms(2500));
  ASSERT_EQ(p.state(), Player::State::kStalled);
  p.OnData(Ms(2600), 3000);  // only 1 s more, but it is all there is
  EXPECT_EQ(p.state(), Player::State::kPlaying);
  p.AdvanceTo(Ms(5000));
  EXPECT_EQ(p.state(), Player::State::kDone);
  EXPECT_EQ(p.finished_at(), Ms(3600));
  EXPECT_EQ(p.StalledIn(Ms(0), Ms(5000)), Duration::Millis(600));
}

TEST(PlayerTest, NoStallWhenDataKeepsAhead) {
  Player p(kBitrate, 5000, Duration::Seconds(1));
  for (int t = 0; t <= 4000; t += 100) p.OnData(Ms(t), static_cast<uint64_t>(1000 + t));
  p.AdvanceTo(Ms(10'000));
  EXPECT_EQ(p.state(), Player::State::kDone);
  EXPECT_TRUE(p.stalls().empty());
  EXPECT_EQ(p.finished_at(), Ms(5000));
}

}  // namespace
}  // namespace mptcp::tools

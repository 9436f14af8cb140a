#include "mptcp/poll.h"

#include "gtest/gtest.h"

namespace mptcp {
namespace {

Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

TEST(PollAtTest, NowIsNotTheZeroTimestamp) {
  // The old API said "a packet is ready" with Timestamp::Zero(), the simulator's start time.
  EXPECT_NE(PollAt::Now(), PollAt::At(Timestamp::Zero()));
  EXPECT_TRUE(PollAt::Now().DueBy(Timestamp::Zero()));
  EXPECT_TRUE(PollAt::At(Timestamp::Zero()).DueBy(Timestamp::Zero()));
  EXPECT_FALSE(PollAt::At(Ms(5)).DueBy(Ms(4)));
  EXPECT_FALSE(PollAt::Never().DueBy(Timestamp::Never()));
}

TEST(PollAtTest, EarliestOrdersNowThenTimesThenNever) {
  EXPECT_EQ(PollAt::Earliest(PollAt::At(Ms(3)), PollAt::Now()), PollAt::Now());
  EXPECT_EQ(PollAt::Earliest(PollAt::Never(), PollAt::At(Ms(3))), PollAt::At(Ms(3)));
  EXPECT_EQ(PollAt::Earliest(PollAt::At(Ms(7)), PollAt::At(Ms(3))), PollAt::At(Ms(3)));
  EXPECT_EQ(PollAt::Earliest(PollAt::Never(), PollAt::Never()), PollAt::Never());
}

TEST(PollAtTest, FromDeadlineKeepsNever) {
  EXPECT_TRUE(PollAt::FromDeadline(Timestamp::Never()).never());
  EXPECT_EQ(PollAt::FromDeadline(Ms(9)), PollAt::At(Ms(9)));
  EXPECT_EQ(PollAt::Now().WakeAt(Ms(2)), Ms(2));
  EXPECT_EQ(PollAt::At(Ms(9)).WakeAt(Ms(2)), Ms(9));
}

TEST(TransmitResultTest, OnlyAPacketTestsTrue) {
  Transmit t;
  t.len = 60;
  EXPECT_TRUE(TransmitResult::Packet(t));
  EXPECT_EQ(TransmitResult::Packet(t)->len, 60u);
  EXPECT_FALSE(TransmitResult::Idle());
  const TransmitResult small = TransmitResult::BufferTooSmall(1500);
  EXPECT_FALSE(small);
  EXPECT_EQ(small.status(), TransmitResult::Status::kBufferTooSmall);
  EXPECT_EQ(small.needed(), 1500u);
}

}  // namespace
}  // namespace mptcp

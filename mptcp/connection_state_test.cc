#include "mptcp/connection_state.h"

#include <vector>

#include "gtest/gtest.h"

namespace mptcp {
namespace {

using S = ConnectionState;
using I = StateInput;

S Feed(S s, std::vector<I> inputs) {
  for (I in : inputs) s = NextState(s, in);
  return s;
}

// Each path through the table in the header comment.
TEST(ConnectionStateTest, ActiveClosePassesFinWait) {
  EXPECT_EQ(Feed(S::kHandshake, {I::kEstablished, I::kAppClose}), S::kFinWait1);
  EXPECT_EQ(Feed(S::kHandshake, {I::kEstablished, I::kAppClose, I::kDataFinAcked}), S::kFinWait2);
  EXPECT_EQ(Feed(S::kHandshake, {I::kEstablished, I::kAppClose, I::kDataFinAcked,
                                I::kPeerDataFin}),
            S::kClosed);
}

TEST(ConnectionStateTest, PassiveCloseAndSimultaneousClose) {
  EXPECT_EQ(Feed(S::kEstablished, {I::kPeerDataFin}), S::kCloseWait);
  EXPECT_EQ(Feed(S::kEstablished, {I::kPeerDataFin, I::kAppClose}), S::kLastAck);
  EXPECT_EQ(Feed(S::kEstablished, {I::kPeerDataFin, I::kAppClose, I::kDataFinAcked}), S::kClosed);
  EXPECT_EQ(Feed(S::kEstablished, {I::kAppClose, I::kPeerDataFin}), S::kClosing);
  EXPECT_EQ(Feed(S::kEstablished, {I::kAppClose, I::kPeerDataFin, I::kDataFinAcked}), S::kClosed);
}

TEST(ConnectionStateTest, CloseDuringTheHandshakeWaitsInFinWait) {
  EXPECT_EQ(Feed(S::kHandshake, {I::kAppClose}), S::kFinWait1);
  EXPECT_EQ(Feed(S::kHandshake, {I::kAppClose, I::kEstablished}), S::kFinWait1);
}

TEST(ConnectionStateTest, FallbackFinishesWhenTheSubflowDoes) {
  EXPECT_EQ(Feed(S::kEstablished, {I::kAppClose, I::kPeerDataFin, I::kFinished}), S::kClosed);
  EXPECT_EQ(Feed(S::kEstablished, {I::kPeerDataFin, I::kAppClose, I::kFinished}), S::kClosed);
  EXPECT_EQ(Feed(S::kEstablished, {I::kFinished}), S::kEstablished)
      << "nothing finishes before both sides closed";
}

TEST(ConnectionStateTest, ResetClosesFromAnywhereAndClosedStays) {
  for (S s : {S::kHandshake, S::kEstablished, S::kFinWait1, S::kFinWait2, S::kCloseWait,
              S::kClosing, S::kLastAck, S::kClosed}) {
    EXPECT_EQ(NextState(s, I::kReset), S::kClosed) << s;
  }
  for (I in : {I::kEstablished, I::kAppClose, I::kPeerDataFin, I::kDataFinAcked, I::kFinished}) {
    EXPECT_EQ(NextState(S::kClosed, in), S::kClosed);
  }
}

TEST(ConnectionStateTest, RepeatedInputsChangeNothing) {
  EXPECT_EQ(Feed(S::kFinWait1, {I::kAppClose, I::kEstablished}), S::kFinWait1);
  EXPECT_EQ(Feed(S::kCloseWait, {I::kPeerDataFin}), S::kCloseWait);
  EXPECT_EQ(Feed(S::kFinWait2, {I::kDataFinAcked}), S::kFinWait2);
  EXPECT_TRUE(WeClosed(S::kLastAck));
  EXPECT_FALSE(WeClosed(S::kCloseWait));
  EXPECT_TRUE(PeerClosed(S::kClosing));
  EXPECT_FALSE(PeerClosed(S::kFinWait2));
}

}  // namespace
}  // namespace mptcp

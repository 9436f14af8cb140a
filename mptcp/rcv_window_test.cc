#include "mptcp/rcv_window.h"

#include <gtest/gtest.h>

#include "mptcp/random.h"

namespace mptcp {
namespace {

// Scale 5: windows travel in units of 32 octets. Buffer: 1000 octets read so far... numbers
// relative to a base DSN.
constexpr Dsn64 kBase = 1'000'000;

WindowInputs Inputs(Dsn64 rcv_nxt, Dsn64 edge, Dsn64 buffer_edge, uint8_t scale = 5) {
  WindowInputs in;
  in.rcv_nxt = rcv_nxt;
  in.edge = edge;
  in.buffer_edge = buffer_edge;
  in.hard_edge = buffer_edge + (uint64_t{2} << scale);  // the connection's slack
  in.scale = scale;
  in.max_window = uint64_t{0xffff} << scale;
  return in;
}

TEST(RcvWindowTest, EmptyBufferAdvertisesItAll) {
  // RCV.NXT = base, nothing unread, capacity 65536: window 65536 (2048 units), exact.
  const WindowAdvert a = ChooseWindow(Inputs(kBase, kBase, kBase + 65536));
  EXPECT_EQ(a.data_ack, kBase);
  EXPECT_EQ(a.window, 65536u);
}

TEST(RcvWindowTest, RoundsUpWithinTheSlack) {
  // 100 octets arrived unread: the buffer's edge stays at base + 65536, 65436 octets from
  // RCV.NXT = 2044.875 units. Rounded up to 2045 units = 65440 octets, edge base + 65540:
  // 4 octets past the nominal buffer, inside the 64-octet slack. DATA_ACK exact.
  const WindowAdvert a = ChooseWindow(Inputs(kBase + 100, kBase + 65536, kBase + 65536));
  EXPECT_EQ(a.data_ack, kBase + 100);
  EXPECT_EQ(a.window, 65440u);
  EXPECT_EQ(a.edge(), kBase + 65540);
}

TEST(RcvWindowTest, HoldsDataAckBackRatherThanOverrunTheBuffer) {
  // The edge already went 60 octets past the nominal buffer (base + 65596) and 10 more octets
  // arrive: 65586 - ... rounding up from RCV.NXT = base + 10 would give base + 10 + 65600 =
  // base + 65610 > hard edge base + 65600. So DATA_ACK goes back to base + 65596 - 65600 =
  // base - 4 and the edge stays exactly where it was.
  WindowInputs in = Inputs(kBase + 10, kBase + 65596, kBase + 65536);
  const WindowAdvert a = ChooseWindow(in);
  EXPECT_EQ(a.window, 65600u);
  EXPECT_EQ(a.data_ack, kBase - 4);
  EXPECT_EQ(a.edge(), kBase + 65596);
}

TEST(RcvWindowTest, KeepsTheWindowThePeerWouldKeep) {
  // The last window the peer took on this subflow was 65536; 3000 octets have since arrived on
  // another subflow, unread. A segment that is not newer (same SEQ and ACK on this subflow)
  // cannot shrink the window to 62536: a Linux peer would keep 65536 and add it to the new
  // DATA_ACK (edge base + 68536, past our buffer). So the window stays 65536 and DATA_ACK says
  // base + 65536 - 65536 = base: the edge is base + 65536.
  WindowInputs in = Inputs(kBase + 3000, kBase + 65536, kBase + 65536);
  in.peer_keeps = 65536;
  const WindowAdvert a = ChooseWindow(in);
  EXPECT_EQ(a.window, 65536u);
  EXPECT_EQ(a.data_ack, kBase);
  EXPECT_EQ(a.edge(), kBase + 65536);

  // The same segment when newer (peer_keeps = 0): the true DATA_ACK with the smaller window.
  in.peer_keeps = 0;
  const WindowAdvert b = ChooseWindow(in);
  EXPECT_EQ(b.data_ack, kBase + 3000);
  EXPECT_EQ(b.window, 62560u);  // 62536 rounded up to 1955 units
}

TEST(RcvWindowTest, KeptWindowStillCarriesAnOpeningEdge) {
  // The application read 8000 octets: the buffer's edge moves to base + 73536. On a segment
  // that is not newer, with the peer keeping 65536: DATA_ACK base + 73536 - 65536 = base +
  // 8000 (still at most RCV.NXT = base + 9000), so the peer learns the new edge.
  WindowInputs in = Inputs(kBase + 9000, kBase + 65536, kBase + 73536);
  in.peer_keeps = 65536;
  const WindowAdvert a = ChooseWindow(in);
  EXPECT_EQ(a.edge(), kBase + 73536);
  EXPECT_EQ(a.data_ack, kBase + 8000);
}

TEST(RcvWindowTest, AfterTheDataFinTheDataAckIsExact) {
  // The DATA_FIN (at base + 500) is in: DATA_ACK base + 501 whatever the window.
  WindowInputs in = Inputs(kBase + 501, kBase + 65536, kBase + 65536);
  in.peer_keeps = 65536;
  in.final = true;
  const WindowAdvert a = ChooseWindow(in);
  EXPECT_EQ(a.data_ack, kBase + 501);
  EXPECT_EQ(a.window, 65536u);
}

TEST(RcvWindowTest, WithoutWindowScalingTheFieldCaps) {
  // Scale 0 and a 1 MiB buffer: the 16-bit field caps the window at 65535.
  const WindowAdvert a = ChooseWindow(Inputs(kBase, kBase, kBase + (1 << 20), 0));
  EXPECT_EQ(a.data_ack, kBase);
  EXPECT_EQ(a.window, 65535u);
}

// Whatever arrives, is read and however the segments interleave: the edge never moves left,
// never passes the buffer's hard edge (except after a DATA_FIN), DATA_ACK never passes RCV.NXT,
// and the window is always a whole number of units that fits the field.
TEST(RcvWindowTest, RandomWalkKeepsTheInvariants) {
  for (uint8_t scale : {0, 3, 5, 7, 14}) {
    Random rng(scale + 1);
    const uint64_t capacity = 1 << 20;
    Dsn64 rcv_nxt = kBase, read = kBase, edge = kBase;
    uint64_t kept = 0;
    for (int i = 0; i < 20000; ++i) {
      // Data arrives (within the advertised edge), the application reads some.
      if (rng.Uniform(3) != 0 && edge > rcv_nxt) rcv_nxt += rng.Uniform(edge - rcv_nxt + 1);
      if (rng.Uniform(4) == 0) read += rng.Uniform(rcv_nxt - read + 1);
      WindowInputs in;
      in.rcv_nxt = rcv_nxt;
      in.edge = edge;
      in.buffer_edge = read + capacity;
      in.hard_edge = read + capacity + (uint64_t{2} << scale);
      in.scale = scale;
      in.max_window = uint64_t{0xffff} << scale;
      in.peer_keeps = rng.Uniform(2) == 0 ? kept : 0;
      const WindowAdvert a = ChooseWindow(in);
      ASSERT_LE(a.data_ack, rcv_nxt) << i;
      ASSERT_GE(a.edge(), edge) << "edge moved left at step " << i;
      ASSERT_LE(a.edge(), in.hard_edge) << i;
      ASSERT_EQ(a.window % (uint64_t{1} << scale), 0u) << i;
      ASSERT_LE(a.window, in.max_window) << i;
      ASSERT_GE(a.window, std::min<uint64_t>(in.peer_keeps, in.max_window)) << i;
      edge = a.edge();
      kept = a.window;
    }
  }
}

}  // namespace
}  // namespace mptcp

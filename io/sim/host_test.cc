#include "io/sim/host.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "io/sim/link.h"
#include "io/sim/test_util.h"

namespace mptcp::sim {
namespace {

using testing::Ms;
using testing::ParseSegment;
using testing::RecordingSink;

const IpAddress kA = IpAddress::V4(192, 0, 2, 1);
const IpAddress kB = IpAddress::V4(192, 0, 2, 2);
const IpAddress kServer = IpAddress::V4(198, 51, 100, 1);

TEST(HostTest, SendsThroughTheInterfaceOwningTheSourceAndWakesForTimers) {
  Simulator sim(1);
  RecordingSink out_a(sim), out_b(sim);
  Host host(sim, "client", EndpointConfig{}, 42);
  host.AddInterface(kA, &out_a);
  host.AddInterface(kB, &out_b);
  int wakes = 0;
  host.set_on_wake([&wakes](Timestamp now, Host& h) {
    if (wakes++ == 0) {
      EXPECT_TRUE(h.endpoint().Connect(now, {kB, 40000}, {kServer, 80}).ok());
    }
  });
  host.WakeAt(Ms(5));
  // Nobody answers: the SYN goes out at 5 ms and again after the 1 s initial RTO
  // (RFC 6298 §2.1), then after 2 s more (RFC 6298 §5.5: back off).
  sim.RunUntil(Ms(3100));
  EXPECT_EQ(out_a.size(), 0u);
  ASSERT_EQ(out_b.size(), 3u);
  EXPECT_EQ(out_b.at(0), Ms(5));
  EXPECT_EQ(out_b.at(1), Ms(1005));
  EXPECT_EQ(out_b.at(2), Ms(3005));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(ParseSegment(out_b.packet(i).bytes).has_flag(wire::TcpFlag::kSyn));
    EXPECT_EQ(out_b.packet(i).created, out_b.at(i));
  }
  EXPECT_EQ(host.stats().packets_out, 3u);
  EXPECT_EQ(host.interface_packets(kB), 3u);
  EXPECT_EQ(wakes, 3);  // the start, and each retransmission timer
  EXPECT_FALSE(host.stuck());
}

TEST(HostTest, DropsWhatIsNotForItAndWhatHasNoInterface) {
  Simulator sim(1);
  RecordingSink out(sim);
  Host host(sim, "h", EndpointConfig{}, 1);
  host.AddInterface(kA, &out);
  host.set_on_wake([](Timestamp now, Host& h) {
    // A source address the host has no interface for.
    (void)h.endpoint().Connect(now, {kB, 1}, {kServer, 80});
  });
  // A packet for another host.
  testing::SegmentSpec s;
  s.src = {kServer, 80};
  s.dst = {kB, 1234};
  host.Deliver(sim.NewPacket(testing::BuildSegment(s)));
  sim.RunUntil(Ms(1));
  EXPECT_EQ(host.stats().packets_in, 1u);
  EXPECT_EQ(host.stats().not_for_us, 1u);
  EXPECT_EQ(host.stats().no_interface, 1u);
  EXPECT_EQ(out.size(), 0u);
}

TEST(HostTest, AnswersStraysThroughTheRightInterface) {
  Simulator sim(1);
  RecordingSink out_a(sim), out_b(sim);
  Host host(sim, "h", EndpointConfig{}, 1);
  host.AddInterface(kA, &out_a);
  host.AddInterface(kB, &out_b);
  // A data segment for a connection the host does not have: answered with a RST
  // (RFC 9293 §3.10.7.1) from the address it was sent to.
  testing::SegmentSpec s;
  s.src = {kServer, 80};
  s.dst = {kB, 1234};
  s.payload = testing::Bytes(10);
  sim.At(Ms(2), [&] { host.Deliver(sim.NewPacket(testing::BuildSegment(s))); });
  sim.RunUntil(Ms(10));
  EXPECT_EQ(host.stats().rejected, 1u);
  EXPECT_EQ(host.last_rejection(), PacketVerdict::kNoConnection);
  ASSERT_EQ(out_b.size(), 1u);
  EXPECT_EQ(out_b.at(0), Ms(2));
  EXPECT_TRUE(ParseSegment(out_b.packet(0).bytes).has_flag(wire::TcpFlag::kRst));
  EXPECT_EQ(out_a.size(), 0u);
}

TEST(HostTest, TwoHostsOverLinksConnect) {
  Simulator sim(3);
  Host client(sim, "client", EndpointConfig{}, 10);
  Host server(sim, "server", EndpointConfig{}, 11);
  LinkConfig cfg;
  cfg.bandwidth_bps = 10'000'000;
  cfg.delay = Duration::Millis(20);
  OneWayLink up(sim, "up", cfg, &server), down(sim, "down", cfg, &client);
  client.AddInterface(kA, &up);
  server.AddInterface(kServer, &down);
  server.endpoint().Listen(80);
  std::optional<Timestamp> established;
  ConnectionId id = 0;
  client.set_on_wake([&](Timestamp now, Host& h) {
    if (id == 0) id = *h.endpoint().Connect(now, {kA, 40000}, {kServer, 80});
    while (auto e = h.endpoint().connection(id)->PollEvent()) {
      if (e->type == EventType::kEstablished && !established) established = now;
    }
  });
  client.WakeAt(Timestamp::Zero());
  sim.RunUntil(Ms(500));
  ASSERT_TRUE(established.has_value());
  // One round trip: 2 x (20 ms + serialization of a SYN / SYN-ACK of well under 100 bytes).
  EXPECT_GT(*established, Ms(40));
  EXPECT_LT(*established, Ms(41));
  EXPECT_EQ(server.endpoint().connection_count(), 1u);
}

}  // namespace
}  // namespace mptcp::sim

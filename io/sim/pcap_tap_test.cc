#include "io/sim/pcap_tap.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "io/pcap_writer.h"
#include "io/sim/test_util.h"

namespace mptcp::sim {
namespace {

using testing::FillerPacket;
using testing::RecordingSink;
using testing::Us;

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

TEST(PcapTapTest, RecordsBothDirectionsWithSimulatedTimeAndPassesThrough) {
  Simulator sim(1);
  io::PcapWriter pcap;
  PcapTap tap(sim, &pcap);
  RecordingSink fwd(sim), rev(sim);
  tap.set_forward_output(&fwd);
  tap.set_reverse_output(&rev);
  const auto a = FillerPacket(100, 1);
  const auto b = FillerPacket(60, 2);
  sim.At(Us(1'500'250), [&] { tap.forward_in()->Deliver(sim.NewPacket(a)); });
  sim.At(Us(2'000'000), [&] { tap.reverse_in()->Deliver(sim.NewPacket(b)); });
  sim.RunUntil(Us(3'000'000));
  ASSERT_EQ(fwd.size(), 1u);
  ASSERT_EQ(rev.size(), 1u);
  EXPECT_EQ(fwd.packet(0).bytes, a);
  EXPECT_EQ(pcap.packets_written(), 2u);
  const std::string& s = pcap.contents();
  ASSERT_EQ(s.size(), io::kPcapFileHeaderSize + 2 * io::kPcapRecordHeaderSize + 160);
  EXPECT_EQ(Le32(s, 20), io::kLinkTypeRaw);
  size_t at = io::kPcapFileHeaderSize;
  EXPECT_EQ(Le32(s, at), 1u);           // seconds
  EXPECT_EQ(Le32(s, at + 4), 500'250u);  // microseconds
  EXPECT_EQ(Le32(s, at + 8), 100u);
  EXPECT_EQ(s.substr(at + 16, 100), std::string(a.begin(), a.end()));
  at += io::kPcapRecordHeaderSize + 100;
  EXPECT_EQ(Le32(s, at), 2u);
  EXPECT_EQ(Le32(s, at + 4), 0u);
  EXPECT_EQ(Le32(s, at + 8), 60u);
}

TEST(PcapTapTest, OneDirectionAndEpoch) {
  Simulator sim(1);
  io::PcapWriter pcap;
  PcapTap tap(sim, &pcap, "tap", Duration::Seconds(1'700'000'000));
  tap.set_directions(Directions::kReverse);
  DiscardSink out;
  tap.set_forward_output(&out);
  tap.set_reverse_output(&out);
  tap.forward_in()->Deliver(sim.NewPacket(FillerPacket(40, 1)));
  tap.reverse_in()->Deliver(sim.NewPacket(FillerPacket(40, 2)));
  EXPECT_EQ(out.packets(), 2u);
  ASSERT_EQ(pcap.packets_written(), 1u);
  EXPECT_EQ(Le32(pcap.contents(), io::kPcapFileHeaderSize), 1'700'000'000u);
}

}  // namespace
}  // namespace mptcp::sim

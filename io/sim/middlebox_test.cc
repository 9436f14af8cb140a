#include "io/sim/middlebox.h"

#include <gtest/gtest.h>

#include <memory>
#include <variant>
#include <vector>

#include "io/sim/test_util.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/mptcp_options.h"

namespace mptcp::sim {
namespace {

using testing::AddMptcp;
using testing::BuildSegment;
using testing::Bytes;
using testing::ChecksumsValid;
using testing::MptcpOptionsOf;
using testing::ParseSegment;
using testing::RecordingSink;
using testing::SegmentSpec;
using testing::Ms;
using testing::TupleOf;
using testing::Us;

namespace F = wire::TcpFlag;

// A filter under test with a recording sink on each side.
struct Rig {
  explicit Rig(PacketFilter& f) : fwd(sim), rev(sim), filter(f) {
    f.set_forward_output(&fwd);
    f.set_reverse_output(&rev);
  }
  Rig(Simulator& s, PacketFilter& f) : fwd(s), rev(s), filter(f) {
    f.set_forward_output(&fwd);
    f.set_reverse_output(&rev);
  }
  void Forward(std::vector<uint8_t> bytes) {
    filter.forward_in()->Deliver(sim.NewPacket(std::move(bytes)));
  }
  void Reverse(std::vector<uint8_t> bytes) {
    filter.reverse_in()->Deliver(sim.NewPacket(std::move(bytes)));
  }
  Simulator sim{1};
  RecordingSink fwd, rev;
  PacketFilter& filter;
};

const SocketAddress kClient{IpAddress::V4(192, 0, 2, 1), 40000};
const SocketAddress kClient2{IpAddress::V4(192, 0, 2, 2), 40000};
const SocketAddress kServer{IpAddress::V4(198, 51, 100, 1), 80};

wire::MpCapable SynCapable() {
  wire::MpCapable m;
  m.version = 1;
  m.flags = wire::MpCapable::kFlagH;
  return m;
}

wire::Dss DataDss(uint64_t dsn, uint32_t ssn, uint16_t len, uint64_t data_ack = 777) {
  wire::Dss d;
  d.data_ack = wire::DataAck{data_ack, false};
  d.mapping = wire::DssMapping{dsn, false, ssn, len, std::nullopt};
  return d;
}

SegmentSpec Syn(const SocketAddress& src = kClient, const SocketAddress& dst = kServer) {
  SegmentSpec s;
  s.src = src;
  s.dst = dst;
  s.flags = F::kSyn;
  s.seq = 1000;
  s.ack = 0;
  s.options.mss = 1460;
  s.options.sack_permitted = true;
  AddMptcp(s.options, SynCapable());
  return s;
}

SegmentSpec SynAck() {
  SegmentSpec s;
  s.src = kServer;
  s.dst = kClient;
  s.flags = F::kSyn | F::kAck;
  s.seq = 9000;
  s.ack = 1001;
  s.options.mss = 1460;
  wire::MpCapable m = SynCapable();
  m.sender_key = 0x1122334455667788ULL;
  AddMptcp(s.options, m);
  return s;
}

SegmentSpec Data(const SocketAddress& src, const SocketAddress& dst, uint32_t seq, size_t len,
                 uint8_t flags = F::kAck) {
  SegmentSpec s;
  s.src = src;
  s.dst = dst;
  s.seq = seq;
  s.ack = 9001;
  s.flags = flags;
  s.options.timestamps = wire::TcpTimestamps{100, 200};
  AddMptcp(s.options, DataDss(5000 + seq, seq - 1000, static_cast<uint16_t>(len)));
  s.payload = Bytes(len, static_cast<uint8_t>(seq));
  return s;
}

bool HasMptcp(const std::vector<uint8_t>& p) { return !MptcpOptionsOf(p).empty(); }

// ---------------------------------------------------------------------------------------------
// MptcpOptionStripper
// ---------------------------------------------------------------------------------------------

TEST(StripperTest, StripsOnlyTheSelectedClass) {
  MptcpOptionStripper strip(StripConfig{SegmentClass::kSyn, false, Directions::kBoth});
  Rig rig(strip);
  const auto syn = BuildSegment(Syn());
  rig.Forward(syn);
  rig.Reverse(BuildSegment(SynAck()));
  rig.Forward(BuildSegment(Data(kClient, kServer, 1001, 100)));
  ASSERT_EQ(rig.fwd.size(), 2u);
  ASSERT_EQ(rig.rev.size(), 1u);
  const std::vector<uint8_t>& out = rig.fwd.packet(0).bytes;
  EXPECT_FALSE(HasMptcp(out));
  EXPECT_EQ(out.size(), syn.size());  // NOPs, same header length
  EXPECT_TRUE(ChecksumsValid(out));
  const wire::TcpRepr seg = ParseSegment(out);
  EXPECT_EQ(seg.options.mss, 1460);  // other options survive
  EXPECT_TRUE(seg.options.sack_permitted);
  EXPECT_TRUE(HasMptcp(rig.rev.packet(0).bytes));
  EXPECT_TRUE(HasMptcp(rig.fwd.packet(1).bytes));
  EXPECT_EQ(strip.stripped(), 1u);
  EXPECT_EQ(strip.stats().modified[0], 1u);
}

TEST(StripperTest, SynAckDataAndOtherClasses) {
  MptcpOptionStripper strip(
      StripConfig{SegmentClass::kSynAck | SegmentClass::kData, false, Directions::kBoth});
  Rig rig(strip);
  rig.Forward(BuildSegment(Syn()));
  rig.Reverse(BuildSegment(SynAck()));
  rig.Forward(BuildSegment(Data(kClient, kServer, 1001, 100)));
  SegmentSpec ack = Data(kServer, kClient, 9001, 0);  // a pure ACK with a DSS
  rig.Reverse(BuildSegment(ack));
  ASSERT_EQ(rig.fwd.size(), 2u);
  ASSERT_EQ(rig.rev.size(), 2u);
  EXPECT_TRUE(HasMptcp(rig.fwd.packet(0).bytes));   // SYN kept
  EXPECT_FALSE(HasMptcp(rig.rev.packet(0).bytes));  // SYN-ACK stripped
  EXPECT_FALSE(HasMptcp(rig.fwd.packet(1).bytes));  // data stripped
  EXPECT_TRUE(HasMptcp(rig.rev.packet(1).bytes));   // pure ACK kept (kOther not selected)
  for (const auto& a : rig.fwd.arrivals()) EXPECT_TRUE(ChecksumsValid(a.packet.bytes));
  for (const auto& a : rig.rev.arrivals()) EXPECT_TRUE(ChecksumsValid(a.packet.bytes));
}

TEST(StripperTest, JoinSubflowsOnly) {
  MptcpOptionStripper strip(StripConfig{SegmentClass::kAll, true, Directions::kBoth});
  Rig rig(strip);
  // Initial subflow: untouched.
  rig.Forward(BuildSegment(Syn()));
  rig.Forward(BuildSegment(Data(kClient, kServer, 1001, 10)));
  // A join from another address: its SYN and everything after, both ways, lose MPTCP.
  SegmentSpec join = Syn(kClient2, kServer);
  join.options = {};
  AddMptcp(join.options, wire::MpJoinSyn{false, 1, 0xabcdef01, 0x12345678, 0});
  rig.Forward(BuildSegment(join));
  SegmentSpec back = Data(kServer, kClient2, 9001, 10);
  rig.Reverse(BuildSegment(back));
  rig.Forward(BuildSegment(Data(kClient2, kServer, 2001, 10)));
  ASSERT_EQ(rig.fwd.size(), 4u);
  ASSERT_EQ(rig.rev.size(), 1u);
  EXPECT_TRUE(HasMptcp(rig.fwd.packet(0).bytes));
  EXPECT_TRUE(HasMptcp(rig.fwd.packet(1).bytes));
  EXPECT_FALSE(HasMptcp(rig.fwd.packet(2).bytes));
  EXPECT_FALSE(HasMptcp(rig.rev.packet(0).bytes));
  EXPECT_FALSE(HasMptcp(rig.fwd.packet(3).bytes));
  EXPECT_EQ(strip.stripped(), 3u);
}

TEST(StripperTest, OneDirectionOnlyAndNonTcpPassesUntouched) {
  MptcpOptionStripper strip(StripConfig{SegmentClass::kAll, false, Directions::kReverse});
  Rig rig(strip);
  rig.Forward(BuildSegment(Syn()));
  rig.Reverse(BuildSegment(SynAck()));
  const auto filler = testing::FillerPacket(80, 9);
  rig.Reverse(filler);
  EXPECT_TRUE(HasMptcp(rig.fwd.packet(0).bytes));
  EXPECT_FALSE(HasMptcp(rig.rev.packet(0).bytes));
  EXPECT_EQ(rig.rev.packet(1).bytes, filler);
}

// ---------------------------------------------------------------------------------------------
// IsnRewriter
// ---------------------------------------------------------------------------------------------

TEST(IsnRewriterTest, ShiftsSequenceOneWayAndAckTheOther) {
  IsnRewriteConfig cfg;
  cfg.fixed_offset = 0x10000000;
  IsnRewriter rw(Random(1), cfg);
  Rig rig(rw);
  rig.Forward(BuildSegment(Syn()));
  SegmentSpec synack = SynAck();
  synack.options.AddSackBlock({SeqNum32(0x10000100 + 1000), SeqNum32(0x10000200 + 1000)});
  rig.Reverse(BuildSegment(synack));
  ASSERT_EQ(rig.fwd.size(), 1u);
  ASSERT_EQ(rig.rev.size(), 1u);
  const wire::TcpRepr syn = ParseSegment(rig.fwd.packet(0).bytes);
  EXPECT_EQ(syn.seq, SeqNum32(1000 + 0x10000000));
  const wire::TcpRepr sa = ParseSegment(rig.rev.packet(0).bytes);
  EXPECT_EQ(sa.seq, SeqNum32(9000));       // the reverse direction keeps its numbers
  EXPECT_EQ(sa.ack, SeqNum32(1001 - 0x10000000));
  ASSERT_EQ(sa.options.sacks().size(), 1u);
  EXPECT_EQ(sa.options.sacks()[0].left, SeqNum32(0x100 + 1000));
  EXPECT_EQ(sa.options.sacks()[0].right, SeqNum32(0x200 + 1000));
  EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(0).bytes));
  EXPECT_TRUE(ChecksumsValid(rig.rev.packet(0).bytes));
  // MPTCP options are untouched: the DSS subflow sequence number is relative to the ISN.
  const auto d = Data(kClient, kServer, 1001, 50);
  rig.Forward(BuildSegment(d));
  EXPECT_EQ(MptcpOptionsOf(rig.fwd.packet(1).bytes), MptcpOptionsOf(BuildSegment(d)));
  EXPECT_EQ(ParseSegment(rig.fwd.packet(1).bytes).seq, SeqNum32(1001 + 0x10000000));
}

TEST(IsnRewriterTest, RandomOffsetsPerFlowBothDirections) {
  IsnRewriteConfig cfg;
  cfg.rewrite_forward = true;
  cfg.rewrite_reverse = true;
  IsnRewriter rw(Random(7), cfg);
  Rig rig(rw);
  rig.Forward(BuildSegment(Syn(kClient, kServer)));
  rig.Forward(BuildSegment(Syn(kClient2, kServer)));
  const FourTuple t1{kClient, kServer}, t2{kClient2, kServer};
  ASSERT_TRUE(rw.offsets(t1).has_value());
  ASSERT_TRUE(rw.offsets(t2).has_value());
  const auto o1 = *rw.offsets(t1), o2 = *rw.offsets(t2);
  EXPECT_NE(o1.forward, 0u);
  EXPECT_NE(o1.reverse, 0u);
  EXPECT_NE(o1.forward, o2.forward);
  // Reverse segment of flow 1: seq + reverse offset, ack - forward offset.
  rig.Reverse(BuildSegment(SynAck()));
  const wire::TcpRepr sa = ParseSegment(rig.rev.packet(0).bytes);
  EXPECT_EQ(sa.seq, SeqNum32(9000) + o1.reverse);
  EXPECT_EQ(sa.ack, SeqNum32(1001) - o1.forward);
  // Forward data of flow 1: its ACK loses the reverse offset.
  rig.Forward(BuildSegment(Data(kClient, kServer, 1001, 10)));
  const wire::TcpRepr d = ParseSegment(rig.fwd.packet(2).bytes);
  EXPECT_EQ(d.seq, SeqNum32(1001) + o1.forward);
  EXPECT_EQ(d.ack, SeqNum32(9001) - o1.reverse);
  // A round trip through the rewriter is the identity on what the endpoints see.
  EXPECT_EQ(rw.offsets(t1)->forward, o1.forward);
}

TEST(IsnRewriterTest, CanLeaveSackBroken) {
  IsnRewriteConfig cfg;
  cfg.fixed_offset = 5000;
  cfg.fix_sack = false;
  IsnRewriter rw(Random(1), cfg);
  Rig rig(rw);
  rig.Forward(BuildSegment(Syn()));
  SegmentSpec ack = Data(kServer, kClient, 9001, 0);
  ack.options.timestamps.reset();  // room for the SACK block
  ack.options.AddSackBlock({SeqNum32(8000), SeqNum32(9000)});
  ASSERT_FALSE(BuildSegment(ack).empty());
  rig.Reverse(BuildSegment(ack));
  const wire::TcpRepr r = ParseSegment(rig.rev.packet(0).bytes);
  EXPECT_EQ(r.options.sacks()[0].left, SeqNum32(8000));
  EXPECT_EQ(r.ack, SeqNum32(9001 - 5000));
  EXPECT_TRUE(ChecksumsValid(rig.rev.packet(0).bytes));
}

// ---------------------------------------------------------------------------------------------
// Nat
// ---------------------------------------------------------------------------------------------

const IpAddress kPublic = IpAddress::V4(203, 0, 113, 7);

TEST(NatTest, TranslatesBothWaysWithEndpointIndependentMappings) {
  Nat nat(Random(1), NatConfig{kPublic, 20000, 100, false});
  Rig rig(nat);
  rig.Forward(BuildSegment(Syn(kClient, kServer)));
  rig.Forward(BuildSegment(Syn(kClient2, kServer)));
  // The same inside socket to another destination keeps its mapping (RFC 4787 §4.1).
  const SocketAddress other{IpAddress::V4(198, 51, 100, 2), 80};
  rig.Forward(BuildSegment(Syn(kClient, other)));
  ASSERT_EQ(rig.fwd.size(), 3u);
  const FourTuple t0 = TupleOf(rig.fwd.packet(0).bytes);
  EXPECT_EQ(t0.local, (SocketAddress{kPublic, 20000}));
  EXPECT_EQ(t0.remote, kServer);
  EXPECT_EQ(TupleOf(rig.fwd.packet(1).bytes).local, (SocketAddress{kPublic, 20001}));
  EXPECT_EQ(TupleOf(rig.fwd.packet(2).bytes).local, (SocketAddress{kPublic, 20000}));
  EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(0).bytes));
  EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(1).bytes));
  EXPECT_EQ(nat.mapping_count(), 2u);
  // Replies to the public sockets go back to the right inside sockets.
  SegmentSpec back = SynAck();
  back.dst = {kPublic, 20001};
  rig.Reverse(BuildSegment(back));
  ASSERT_EQ(rig.rev.size(), 1u);
  EXPECT_EQ(TupleOf(rig.rev.packet(0).bytes), (FourTuple{kServer, kClient2}));
  EXPECT_TRUE(ChecksumsValid(rig.rev.packet(0).bytes));
  // Unmapped outside sockets are dropped.
  back.dst = {kPublic, 20050};
  rig.Reverse(BuildSegment(back));
  EXPECT_EQ(rig.rev.size(), 1u);
  EXPECT_EQ(nat.unmatched(), 1u);
  // A reboot forgets everything.
  nat.ClearMappings();
  back.dst = {kPublic, 20001};
  rig.Reverse(BuildSegment(back));
  EXPECT_EQ(rig.rev.size(), 1u);
  EXPECT_EQ(nat.unmatched(), 2u);
}

TEST(NatTest, PortRangeExhaustionAndWrongFamilyDrop) {
  Nat nat(Random(1), NatConfig{kPublic, 30000, 2, true});
  Rig rig(nat);
  for (uint16_t port : {1, 2, 3}) {
    rig.Forward(BuildSegment(Syn(SocketAddress{kClient.ip, port}, kServer)));
  }
  EXPECT_EQ(rig.fwd.size(), 2u);
  EXPECT_EQ(nat.stats().dropped[0], 1u);
  for (size_t i = 0; i < rig.fwd.size(); ++i) {
    const uint16_t port = TupleOf(rig.fwd.packet(i).bytes).local.port;
    EXPECT_GE(port, 30000);
    EXPECT_LT(port, 30002);
  }
  const SocketAddress v6{*IpAddress::Parse("2001:db8::1"), 5};
  const SocketAddress v6s{*IpAddress::Parse("2001:db8::2"), 80};
  Nat nat2(Random(1), NatConfig{kPublic, 30000, 10, false});
  Rig rig2(nat2);
  rig2.Forward(BuildSegment(Syn(v6, v6s)));
  EXPECT_EQ(rig2.fwd.size(), 0u);
}

TEST(NatTest, Ipv6) {
  const IpAddress pub = *IpAddress::Parse("2001:db8:ffff::1");
  Nat nat(Random(1), NatConfig{pub, 40000, 10, false});
  Rig rig(nat);
  const SocketAddress in{*IpAddress::Parse("fd00::5"), 1234};
  const SocketAddress srv{*IpAddress::Parse("2001:db8::80"), 443};
  rig.Forward(BuildSegment(Data(in, srv, 1001, 30)));
  ASSERT_EQ(rig.fwd.size(), 1u);
  EXPECT_EQ(TupleOf(rig.fwd.packet(0).bytes).local, (SocketAddress{pub, 40000}));
  EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(0).bytes));
}

// ---------------------------------------------------------------------------------------------
// Segmenter (TSO)
// ---------------------------------------------------------------------------------------------

TEST(SegmenterTest, SplitsCopyingOptionsToEveryPiece) {
  Simulator sim(1);
  Segmenter tso(sim, SegmenterConfig{500, Directions::kBoth});
  Rig rig(sim, tso);
  SegmentSpec big = Data(kClient, kServer, 1001, 1460, F::kAck | F::kPsh | F::kCwr);
  big.ip_ident = 100;
  const auto original = BuildSegment(big);
  rig.filter.forward_in()->Deliver(sim.NewPacket(original));
  ASSERT_EQ(rig.fwd.size(), 3u);
  EXPECT_EQ(tso.split(), 1u);
  EXPECT_EQ(tso.pieces(), 3u);
  const wire::TcpRepr orig = ParseSegment(original);
  std::vector<uint8_t> joined;
  const size_t sizes[] = {500, 500, 460};
  for (size_t i = 0; i < 3; ++i) {
    const auto& bytes = rig.fwd.packet(i).bytes;
    EXPECT_TRUE(ChecksumsValid(bytes)) << i;
    const wire::TcpRepr s = ParseSegment(bytes);
    EXPECT_EQ(s.payload.size(), sizes[i]);
    EXPECT_EQ(s.seq, SeqNum32(1001 + 500 * static_cast<uint32_t>(i)));
    EXPECT_EQ(s.ack, orig.ack);
    EXPECT_EQ(s.options, orig.options);  // DSS and timestamps on every piece
    EXPECT_EQ(s.has_flag(F::kCwr), i == 0);
    EXPECT_EQ(s.has_flag(F::kPsh), i == 2);
    EXPECT_TRUE(s.has_flag(F::kAck));
    EXPECT_EQ(bytes[4] << 8 | bytes[5], 100 + static_cast<int>(i));  // IP IDs
    joined.insert(joined.end(), s.payload.begin(), s.payload.end());
    if (i > 0) {
      EXPECT_NE(rig.fwd.packet(i).id, rig.fwd.packet(i - 1).id);
    }
  }
  EXPECT_TRUE(std::ranges::equal(joined, orig.payload));
}

TEST(SegmenterTest, LeavesSmallSegmentsSynsAndOtherDirectionsAlone) {
  Simulator sim(1);
  Segmenter tso(sim, SegmenterConfig{500, Directions::kForward});
  Rig rig(sim, tso);
  const auto small = BuildSegment(Data(kClient, kServer, 1001, 500));
  const auto big_back = BuildSegment(Data(kServer, kClient, 9001, 1400));
  rig.filter.forward_in()->Deliver(sim.NewPacket(small));
  rig.filter.reverse_in()->Deliver(sim.NewPacket(big_back));
  SegmentSpec fin = Data(kClient, kServer, 1501, 1200, F::kAck | F::kFin);
  rig.filter.forward_in()->Deliver(sim.NewPacket(BuildSegment(fin)));
  ASSERT_EQ(rig.fwd.size(), 4u);
  EXPECT_EQ(rig.fwd.packet(0).bytes, small);
  EXPECT_EQ(rig.rev.packet(0).bytes, big_back);
  // FIN only on the last piece.
  EXPECT_FALSE(ParseSegment(rig.fwd.packet(1).bytes).has_flag(F::kFin));
  EXPECT_FALSE(ParseSegment(rig.fwd.packet(2).bytes).has_flag(F::kFin));
  EXPECT_TRUE(ParseSegment(rig.fwd.packet(3).bytes).has_flag(F::kFin));
}

TEST(SegmenterTest, Ipv6) {
  Simulator sim(1);
  Segmenter tso(sim, SegmenterConfig{600, Directions::kBoth});
  Rig rig(sim, tso);
  const SocketAddress a{*IpAddress::Parse("2001:db8::1"), 1000};
  const SocketAddress b{*IpAddress::Parse("2001:db8::2"), 80};
  rig.filter.forward_in()->Deliver(sim.NewPacket(BuildSegment(Data(a, b, 1001, 1300))));
  ASSERT_EQ(rig.fwd.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(i).bytes));
  EXPECT_EQ(ParseSegment(rig.fwd.packet(2).bytes).payload.size(), 100u);
}

// ---------------------------------------------------------------------------------------------
// Coalescer (LRO)
// ---------------------------------------------------------------------------------------------

// Segments with the same options (same DSS mapping repeated, as TSO sends them).
std::vector<uint8_t> Piece(uint32_t seq, size_t len, uint8_t flags = F::kAck) {
  SegmentSpec s = Data(kClient, kServer, seq, len, flags);
  s.options = {};
  s.options.timestamps = wire::TcpTimestamps{100, 200};
  AddMptcp(s.options, DataDss(6001, 1, 3000));
  return BuildSegment(s);
}

TEST(CoalescerTest, MergesSameInstantInOrderSegmentsKeepingTheFirstHeader) {
  Simulator sim(1);
  Coalescer lro(sim, CoalescerConfig{});
  Rig rig(sim, lro);
  const auto first = Piece(1001, 1000);
  lro.forward_in()->Deliver(sim.NewPacket(first));
  lro.forward_in()->Deliver(sim.NewPacket(Piece(2001, 1000)));
  lro.forward_in()->Deliver(sim.NewPacket(Piece(3001, 1000)));
  EXPECT_EQ(rig.fwd.size(), 0u);  // held until the end of the instant
  sim.RunUntil(Timestamp::Zero());
  ASSERT_EQ(rig.fwd.size(), 1u);
  const auto& bytes = rig.fwd.packet(0).bytes;
  EXPECT_TRUE(ChecksumsValid(bytes));
  const wire::TcpRepr m = ParseSegment(bytes);
  const wire::TcpRepr f = ParseSegment(first);
  EXPECT_EQ(m.seq, SeqNum32(1001));
  EXPECT_EQ(m.payload.size(), 3000u);
  EXPECT_EQ(m.options, f.options);
  EXPECT_EQ(m.window, f.window);
  EXPECT_EQ(bytes.size(), first.size() + 2000);
  EXPECT_EQ(lro.merged(), 2u);
  EXPECT_EQ(lro.batches(), 1u);
  EXPECT_EQ(m.payload[1000], static_cast<uint8_t>(2001 & 0xff));
}

TEST(CoalescerTest, AGapOrAPureAckFlushesInOrder) {
  Simulator sim(1);
  Coalescer lro(sim, CoalescerConfig{});
  Rig rig(sim, lro);
  lro.forward_in()->Deliver(sim.NewPacket(Piece(1001, 100)));
  lro.forward_in()->Deliver(sim.NewPacket(Piece(1101, 100)));
  lro.forward_in()->Deliver(sim.NewPacket(Piece(1301, 100)));  // gap: flushes 1001..1201
  SegmentSpec ack = Data(kClient, kServer, 1401, 0);
  lro.forward_in()->Deliver(sim.NewPacket(BuildSegment(ack)));  // flushes 1301, then itself
  ASSERT_EQ(rig.fwd.size(), 3u);
  EXPECT_EQ(ParseSegment(rig.fwd.packet(0).bytes).payload.size(), 200u);
  EXPECT_EQ(ParseSegment(rig.fwd.packet(1).bytes).seq, SeqNum32(1301));
  EXPECT_TRUE(ParseSegment(rig.fwd.packet(2).bytes).payload.empty());
  EXPECT_EQ(lro.held(), 0u);
}

TEST(CoalescerTest, DifferentOptionsAreNotMergedUnlessAsked) {
  for (bool identical : {true, false}) {
    SCOPED_TRACE(identical);
    Simulator sim(1);
    CoalescerConfig cfg;
    cfg.require_identical_options = identical;
    Coalescer lro(sim, cfg);
    Rig rig(sim, lro);
    const auto a = BuildSegment(Data(kClient, kServer, 1001, 100));  // DSS for 1001
    const auto b = BuildSegment(Data(kClient, kServer, 1101, 100));  // DSS for 1101
    lro.forward_in()->Deliver(sim.NewPacket(a));
    lro.forward_in()->Deliver(sim.NewPacket(b));
    sim.RunUntil(Timestamp::Zero());
    if (identical) {
      ASSERT_EQ(rig.fwd.size(), 2u);
      EXPECT_EQ(rig.fwd.packet(0).bytes, a);
      EXPECT_EQ(rig.fwd.packet(1).bytes, b);
    } else {
      ASSERT_EQ(rig.fwd.size(), 1u);
      // The second segment's mapping is gone: only the first's DSS remains.
      EXPECT_EQ(MptcpOptionsOf(rig.fwd.packet(0).bytes), MptcpOptionsOf(a));
      EXPECT_EQ(ParseSegment(rig.fwd.packet(0).bytes).payload.size(), 200u);
      EXPECT_TRUE(ChecksumsValid(rig.fwd.packet(0).bytes));
    }
  }
}

TEST(CoalescerTest, PshEndsABatchAndFlowsAreSeparate) {
  Simulator sim(1);
  Coalescer lro(sim, CoalescerConfig{});
  Rig rig(sim, lro);
  lro.forward_in()->Deliver(sim.NewPacket(Piece(1001, 100)));
  std::vector<uint8_t> other = BuildSegment(Data(kClient2, kServer, 1001, 100));
  lro.forward_in()->Deliver(sim.NewPacket(other));  // another flow: held on its own
  lro.forward_in()->Deliver(sim.NewPacket(Piece(1101, 100, F::kAck | F::kPsh)));
  ASSERT_EQ(rig.fwd.size(), 1u);  // flushed at once by PSH
  const wire::TcpRepr m = ParseSegment(rig.fwd.packet(0).bytes);
  EXPECT_EQ(m.payload.size(), 200u);
  EXPECT_TRUE(m.has_flag(F::kPsh));
  sim.RunUntil(Timestamp::Zero());
  ASSERT_EQ(rig.fwd.size(), 2u);
  EXPECT_EQ(rig.fwd.packet(1).bytes, other);
}

TEST(CoalescerTest, HoldsUpToFlushAfterAndRespectsMaxPayload) {
  Simulator sim(1);
  CoalescerConfig cfg;
  cfg.flush_after = Duration::Millis(1);
  cfg.max_payload = 2500;
  Coalescer lro(sim, cfg);
  Rig rig(sim, lro);
  for (int i = 0; i < 4; ++i) {
    sim.At(Us(300 * i), [&lro, &sim, i] {
      lro.forward_in()->Deliver(sim.NewPacket(Piece(1001 + 1000 * static_cast<uint32_t>(i), 1000)));
    });
  }
  sim.RunUntil(Us(999));
  // 1000 + 1000 fit; the third would make 3000 > 2500: the first two go, the third is held.
  ASSERT_EQ(rig.fwd.size(), 1u);
  EXPECT_EQ(rig.fwd.at(0), Us(600));
  EXPECT_EQ(ParseSegment(rig.fwd.packet(0).bytes).payload.size(), 2000u);
  sim.RunUntil(Ms(10));
  ASSERT_EQ(rig.fwd.size(), 2u);
  EXPECT_EQ(rig.fwd.at(1), Us(1600));  // the third arrived at 0.6 ms, held 1 ms
  EXPECT_EQ(ParseSegment(rig.fwd.packet(1).bytes).payload.size(), 2000u);
}

// ---------------------------------------------------------------------------------------------
// PayloadCorrupter
// ---------------------------------------------------------------------------------------------

TEST(CorrupterTest, ChangesOneByteKeepingTheTcpChecksumValid) {
  CorruptConfig cfg;
  cfg.skip = 1;
  cfg.limit = 1;
  PayloadCorrupter c(Random(3), cfg);
  Rig rig(c);
  const auto syn = BuildSegment(Syn());
  const auto d0 = BuildSegment(Data(kClient, kServer, 1001, 400));
  const auto d1 = BuildSegment(Data(kClient, kServer, 1401, 400));
  const auto d2 = BuildSegment(Data(kClient, kServer, 1801, 400));
  for (const auto& p : {syn, d0, d1, d2}) rig.Forward(p);
  ASSERT_EQ(rig.fwd.size(), 4u);
  EXPECT_EQ(rig.fwd.packet(0).bytes, syn);
  EXPECT_EQ(rig.fwd.packet(1).bytes, d0);  // skipped
  EXPECT_EQ(rig.fwd.packet(3).bytes, d2);  // past the limit
  const auto& bad = rig.fwd.packet(2).bytes;
  ASSERT_EQ(bad.size(), d1.size());
  EXPECT_TRUE(ChecksumsValid(bad));
  const wire::TcpRepr good_seg = ParseSegment(d1), bad_seg = ParseSegment(bad);
  size_t diffs = 0;
  for (size_t i = 0; i < good_seg.payload.size(); ++i) {
    diffs += good_seg.payload[i] != bad_seg.payload[i];
  }
  EXPECT_EQ(diffs, 1u);
  ASSERT_EQ(c.corrupted(), 1u);
  EXPECT_EQ(good_seg.payload[c.records()[0].offset] == bad_seg.payload[c.records()[0].offset],
            false);
  EXPECT_EQ(c.records()[0].seq, SeqNum32(1401 + static_cast<uint32_t>(c.records()[0].offset)));
  // Only the DSS checksum (RFC 8684 §3.3.1) can tell.
  const uint16_t dss = wire::DssChecksum(6401, 401, 400, good_seg.payload);
  EXPECT_TRUE(wire::VerifyDssChecksum(6401, 401, 400, good_seg.payload, dss));
  EXPECT_FALSE(wire::VerifyDssChecksum(6401, 401, 400, bad_seg.payload, dss));
}

TEST(CorrupterTest, ProbabilityAndDirection) {
  CorruptConfig cfg;
  cfg.probability = 0.25;
  cfg.limit = 0;
  cfg.directions = Directions::kReverse;
  PayloadCorrupter c(Random(9), cfg);
  Rig rig(c);
  for (int i = 0; i < 400; ++i) {
    rig.Forward(BuildSegment(Data(kClient, kServer, 1001 + 100 * i, 100)));
    rig.Reverse(BuildSegment(Data(kServer, kClient, 1001 + 100 * i, 100)));
  }
  EXPECT_EQ(c.stats().modified[0], 0u);
  EXPECT_NEAR(static_cast<double>(c.corrupted()) / 400, 0.25, 0.06);
  for (const auto& a : rig.rev.arrivals()) EXPECT_TRUE(ChecksumsValid(a.packet.bytes));
}

// ---------------------------------------------------------------------------------------------
// FilterChain and FunctionFilter
// ---------------------------------------------------------------------------------------------

TEST(FilterChainTest, ForwardCrossesFirstToLastAndReverseBack) {
  std::vector<std::string> trace;
  auto tracer = [&trace](std::string name) {
    return std::make_unique<FunctionFilter>(name, [&trace, name](Direction d, Packet&) {
      trace.push_back(name + (d == Direction::kForward ? ">" : "<"));
      return name != "drop" || d == Direction::kForward;
    });
  };
  std::vector<std::unique_ptr<PacketFilter>> v;
  v.push_back(tracer("a"));
  v.push_back(tracer("b"));
  v.push_back(tracer("drop"));
  FilterChain chain("chain", std::move(v));
  Rig rig(chain);
  rig.Forward(testing::FillerPacket(60, 1));
  rig.Reverse(testing::FillerPacket(60, 2));
  EXPECT_EQ(trace, (std::vector<std::string>{"a>", "b>", "drop>", "drop<"}));
  EXPECT_EQ(rig.fwd.size(), 1u);
  EXPECT_EQ(rig.rev.size(), 0u);
  EXPECT_EQ(chain.at(2)->stats().dropped[1], 1u);
}

}  // namespace
}  // namespace mptcp::sim

#include "mptcp/dsn_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace mptcp {
namespace {

TEST(TxMappingsTest, ExtendsContiguousChunksUpToTheLengthLimit) {
  TxMappings t;
  t.Add(SeqNum32(100), 5000, 1000);
  t.Add(SeqNum32(1100), 6000, 1000);  // contiguous in both spaces: merged
  EXPECT_EQ(t.size(), 1u);
  t.Add(SeqNum32(2100), 9000, 500);  // DSN jumps: new mapping
  EXPECT_EQ(t.size(), 2u);
  t.Add(SeqNum32(2600), 9500, 65535);  // would exceed 16 bits when merged
  EXPECT_EQ(t.size(), 3u);
  const TxMapping* m = t.Find(SeqNum32(1500));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dsn, 5000u);
  EXPECT_EQ(m->len, 2000u);
  EXPECT_EQ(t.Find(SeqNum32(2100))->dsn, 9000u);
  EXPECT_EQ(t.Find(SeqNum32(99)), nullptr);
  EXPECT_EQ(t.Find(SeqNum32(2600 + 65535)), nullptr);
}

TEST(TxMappingsTest, FindWorksAcrossSequenceWrap) {
  TxMappings t;
  t.Add(SeqNum32(0xfffffff0u), 100, 0x20);
  t.Add(SeqNum32(0x10), 500, 0x10);
  EXPECT_EQ(t.Find(SeqNum32(0x5))->dsn, 100u);
  EXPECT_EQ(t.Find(SeqNum32(0x15))->dsn, 500u);
}

TEST(TxMappingsTest, SplitCutsOneMappingInTwoAtAByteInside) {
  TxMappings t;
  t.Add(SeqNum32(0xfffffff0u), 100, 0x40, 0);
  t.Add(SeqNum32(0x30), 900, 0x10, 0);
  t.Split(SeqNum32(0xfffffff0u));  // a first byte: nothing to cut
  t.Split(SeqNum32(0x40));         // past the end: nothing
  ASSERT_EQ(t.size(), 2u);
  t.Split(SeqNum32(0x8));  // across the wrap
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].ssn, SeqNum32(0xfffffff0u));
  EXPECT_EQ(t[0].len, 0x18u);
  EXPECT_EQ(t[1].ssn, SeqNum32(0x8));
  EXPECT_EQ(t[1].dsn, 100u + 0x18);
  EXPECT_EQ(t[1].len, 0x28u);
  EXPECT_EQ(t.Find(SeqNum32(0x7))->dsn, 100u);
  EXPECT_EQ(t.Find(SeqNum32(0x8))->dsn, 100u + 0x18);
  EXPECT_EQ(t.Find(SeqNum32(0x35))->dsn, 900u);
}

TEST(TxMappingsTest, PruneNeedsBothSubflowAndDataAck) {
  TxMappings t;
  t.Add(SeqNum32(0), 1000, 100);
  t.Add(SeqNum32(100), 5000, 100);
  t.Prune(SeqNum32(200), 1050);  // subflow acked all, DATA_ACK only half of the first
  EXPECT_EQ(t.size(), 2u);
  std::vector<std::pair<uint64_t, uint32_t>> unacked;
  t.ForEachUnacked(1050, [&](Dsn64 d, uint32_t l) { unacked.emplace_back(d, l); });
  ASSERT_EQ(unacked.size(), 2u);
  EXPECT_EQ(unacked[0], (std::pair<uint64_t, uint32_t>{1050, 50}));
  EXPECT_EQ(unacked[1], (std::pair<uint64_t, uint32_t>{5000, 100}));
  t.Prune(SeqNum32(200), 1100);
  EXPECT_EQ(t.size(), 1u);
  t.Prune(SeqNum32(150), 6000);  // subflow has not acked the second fully
  EXPECT_EQ(t.size(), 1u);
  t.Prune(SeqNum32(200), 6000);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.allocated_bytes(), 0u);
}

RxMapping Rx(uint32_t ssn, uint64_t dsn, uint32_t len) {
  RxMapping m;
  m.ssn = SeqNum32(ssn);
  m.dsn = dsn;
  m.len = len;
  m.wire_len = static_cast<uint16_t>(len);
  return m;
}

TEST(RxMappingsTest, DuplicatesConflictsAndOrder) {
  RxMappings r(4);
  EXPECT_EQ(r.Add(Rx(1000, 50, 100)), RxMappings::AddResult::kAdded);
  EXPECT_EQ(r.Add(Rx(1000, 50, 100)), RxMappings::AddResult::kDuplicate);
  // RFC 8684 §3.3.1: the same subflow bytes mapped elsewhere is a protocol error.
  EXPECT_EQ(r.Add(Rx(1050, 999, 100)), RxMappings::AddResult::kConflict);
  // A consistent re-send with a different extent is fine.
  EXPECT_EQ(r.Add(Rx(1050, 100, 100)), RxMappings::AddResult::kAdded);
  EXPECT_EQ(r.Add(Rx(500, 7, 100)), RxMappings::AddResult::kAdded);  // out of order: sorted
  EXPECT_EQ(r[0].ssn, SeqNum32(500));
  EXPECT_EQ(r.Find(SeqNum32(1120))->dsn, 100u);
  EXPECT_EQ(r.Find(SeqNum32(1010))->dsn, 50u);
  EXPECT_EQ(r.Find(SeqNum32(700)), nullptr);
  EXPECT_EQ(r.Add(Rx(2000, 3000, 10)), RxMappings::AddResult::kAdded);
  EXPECT_EQ(r.Add(Rx(3000, 4000, 10)), RxMappings::AddResult::kFull) << "bounded";
  r.PruneBefore(SeqNum32(1100));
  EXPECT_EQ(r[0].ssn, SeqNum32(1050));
  r.PruneBefore(SeqNum32(5000));
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace mptcp

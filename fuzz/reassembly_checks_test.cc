// Runs the differential reassembly property under gcc in every `bazel test`: hand-written
// scripts for the edges (window trimming, the range bound, first copy kept, shrinking), the
// regressions, then random scripts. The fuzzer (//fuzz:reassembly_fuzzer) explores further.
#include "fuzz/reassembly_checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "mptcp/random.h"

namespace mptcp::fuzz {
namespace {

// Script encoding (reassembly_checks.h): max_ranges, capacity (u16), then ops.
std::vector<uint8_t> Header(uint8_t max_ranges, uint16_t capacity) {
  return {max_ranges, static_cast<uint8_t>(capacity >> 8), static_cast<uint8_t>(capacity)};
}
void Segment(std::vector<uint8_t>& s, uint16_t offset, uint16_t len, uint8_t variant = 0) {
  s.push_back(variant ? 0x80 : 0x00);
  s.push_back(static_cast<uint8_t>(offset >> 8));
  s.push_back(static_cast<uint8_t>(offset));
  s.push_back(static_cast<uint8_t>(len >> 8));
  s.push_back(static_cast<uint8_t>(len));
  if (variant) s.push_back(variant);
}
void ReadAll(std::vector<uint8_t>& s) { s.insert(s.end(), {4, 0x0f, 0xff}); }

TEST(ReassemblyChecksTest, ModelAndBufferAgreeOnTheEdges) {
  // Out of order, then the hole filled by a copy with other contents: the first copy stays.
  std::vector<uint8_t> s = Header(4, 3000);
  Segment(s, 1000, 500);
  Segment(s, 1200, 100, 0x5a);  // overlaps, different bytes: must not overwrite
  Segment(s, 0, 1000);
  ReadAll(s);
  // Past the window: trimmed.
  Segment(s, 2900, 400);
  // More ranges than the bound: the fifth is refused whole.
  for (uint16_t off : {10, 30, 50, 70, 90}) Segment(s, off, 5);
  ReadAll(s);
  CheckReassemblyScript(s);

  // No ranges allowed at all: in-order data still flows.
  std::vector<uint8_t> t = Header(0, 500);
  Segment(t, 10, 10);
  Segment(t, 0, 100);
  ReadAll(t);
  CheckReassemblyScript(t);
}

// The model itself, on the rules it stands for: the first copy of a byte is kept, the window
// trims, and a new out-of-order range past the bound is refused whole.
TEST(ReassemblyChecksTest, ModelKeepsFirstCopiesTrimsAndBoundsRanges) {
  ReassemblyModel m(/*capacity=*/100, /*max_ranges=*/1);
  const std::vector<uint8_t> a(10, 0xaa), b(10, 0xbb);
  EXPECT_EQ(m.Write(5, a).accepted, 10u);
  EXPECT_TRUE(m.Write(50, b).rejected_too_many_ranges) << "a second range past the bound";
  const RecvBuffer::WriteResult w = m.Write(0, b);  // overlaps [5, 10) with other contents
  EXPECT_EQ(w.advanced, 15u);
  ASSERT_EQ(m.readable(), 15u);
  EXPECT_EQ(m.readable_bytes()[4], 0xbb);
  EXPECT_EQ(m.readable_bytes()[5], 0xaa) << "the first copy of byte 5 is kept";
  EXPECT_EQ(m.Write(80, a).accepted, 5u) << "trimmed to the window (100 - 15 readable)";
  EXPECT_EQ(m.OooBytes(), 5u);
}

TEST(ReassemblyChecksTest, RandomScriptsAgree) {
  Random r(20261202);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> s(16 + r.Uniform(400));
    for (uint8_t& b : s) b = static_cast<uint8_t>(r.Next());
    CheckReassemblyScript(s);
  }
}

TEST(ReassemblyChecksTest, RegressionsAgree) {
  const std::filesystem::path dir = "fuzz/regressions/reassembly_fuzzer";
  int n = 0;
  if (std::filesystem::exists(dir)) {
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::vector<uint8_t> s((std::istreambuf_iterator<char>(in)), {});
      CheckReassemblyScript(s);
      ++n;
    }
  }
  std::printf("%d regression inputs replayed\n", n);
  SUCCEED();
}

}  // namespace
}  // namespace mptcp::fuzz

// The stream every transfer checks against: random access must agree with a sequential
// read, and seeds and directions must give different streams (else a test could not tell one
// side's bytes delivered as the other's).
#include "io/stream_pattern.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace mptcp::io {
namespace {

std::vector<uint8_t> Bytes(const StreamPattern& p, uint64_t offset, size_t n) {
  std::vector<uint8_t> v(n);
  p.Fill(offset, v);
  return v;
}

TEST(StreamPatternTest, AnyChunkEqualsTheSameSliceOfTheWholeStream) {
  const StreamPattern p(7, 1);
  const std::vector<uint8_t> whole = Bytes(p, 0, 4096);
  for (uint64_t offset : {0u, 1u, 7u, 8u, 9u, 1000u, 4000u}) {
    for (size_t n : {0u, 1u, 3u, 8u, 17u, 96u}) {
      if (offset + n > whole.size()) continue;
      EXPECT_EQ(Bytes(p, offset, n),
                std::vector<uint8_t>(whole.begin() + offset, whole.begin() + offset + n))
          << "offset " << offset << " length " << n;
    }
  }
}

// The definition, written out independently of Fill()'s word-at-a-time path: byte k is byte
// k % 8 (least significant first) of SplitMix64's output for word k / 8.
uint8_t DefinedByte(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k / 8 + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<uint8_t>(z >> (8 * (k % 8)));
}

TEST(StreamPatternTest, EveryChunkMatchesTheDefinitionByteForByte) {
  const uint64_t seed = 0x1234;
  const StreamPattern p(seed);
  for (uint64_t offset = 0; offset < 24; ++offset) {
    for (size_t n = 0; n < 40; ++n) {
      const std::vector<uint8_t> got = Bytes(p, offset, n);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], DefinedByte(seed, offset + i)) << "offset " << offset << " length "
                                                         << n << " byte " << i;
      }
    }
  }
  // Far into the stream too (a 64-bit offset past 4 GiB).
  const uint64_t far = (uint64_t{5} << 32) + 3;
  const std::vector<uint8_t> got = Bytes(p, far, 29);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], DefinedByte(seed, far + i));
}

TEST(StreamPatternTest, SeedsAndDirectionsGiveDifferentStreams) {
  const auto a = Bytes(StreamPattern(1, 0), 0, 64);
  EXPECT_NE(a, Bytes(StreamPattern(1, 1), 0, 64));
  EXPECT_NE(a, Bytes(StreamPattern(2, 0), 0, 64));
  EXPECT_NE(a, Bytes(StreamPattern(1), 0, 64));
  EXPECT_EQ(a, Bytes(StreamPattern(1, 0), 0, 64)) << "a pure function of seed and direction";
  // No shifted copies: direction 1 of seed 1 is not direction 0 of seed 1 a word later.
  EXPECT_NE(Bytes(StreamPattern(1, 1), 0, 64), Bytes(StreamPattern(1, 0), 8, 64));
}

TEST(StreamPatternTest, DigestIsTheSha256OfTheBytes) {
  const StreamPattern p(3);
  const std::vector<uint8_t> v = Bytes(p, 0, 200'000);  // more than one internal chunk
  crypto::Sha256 h;
  h.Update(v);
  EXPECT_EQ(DigestHex(p.Digest(v.size())), DigestHex(h.Final()));
  EXPECT_NE(DigestHex(p.Digest(v.size())), DigestHex(p.Digest(v.size() - 1)));
}

}  // namespace
}  // namespace mptcp::io

// SHA-1 against the FIPS 180-2 appendix examples, and the v0 key derivations.
#include "tools/trace/sha1.h"

#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace mptcp::trace {
namespace {

std::string Hex(const Sha1Digest& d) {
  std::string s;
  for (uint8_t b : d) absl::StrAppendFormat(&s, "%02x", b);
  return s;
}

Sha1Digest Of(const std::string& s) {
  return Sha1(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

TEST(Sha1Test, KnownAnswers) {
  EXPECT_EQ(Hex(Of("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(Of("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Hex(Of(std::string(1000, 'a'))), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST(Sha1Test, V0Derivations) {
  const Sha1Digest d = Sha1OfKey(0x0102030405060708);
  EXPECT_EQ(V0KeyToken(0x0102030405060708),
            uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3]);
  EXPECT_EQ(V0KeyIdsn(0x0102030405060708) >> 56, d[12]);
  EXPECT_EQ(V0KeyIdsn(0x0102030405060708) & 0xff, d[19]);
}

}  // namespace
}  // namespace mptcp::trace

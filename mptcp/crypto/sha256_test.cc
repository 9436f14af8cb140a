#include "mptcp/crypto/sha256.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace mptcp::crypto {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0xf];
  }
  return s;
}

// The FIPS 180-4 examples (NIST CSRC "SHA256.pdf" / SHAVS short messages).
TEST(Sha256Test, EmptyMessage) {
  EXPECT_EQ(Hex(Sha256::Hash({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(Hex(Sha256::Hash(Bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessage448Bits) {
  EXPECT_EQ(Hex(Sha256::Hash(Bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, Message896Bits) {
  EXPECT_EQ(Hex(Sha256::Hash(Bytes("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                                   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

constexpr std::string_view kMillionADigest =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, OneMillionAOneShot) {
  const std::string a(1000000, 'a');
  EXPECT_EQ(Hex(Sha256::Hash(Bytes(a))), kMillionADigest);
}

TEST(Sha256Test, OneMillionAInOddChunks) {
  // Chunk sizes that straddle block boundaries every way: smaller than a block, exactly one,
  // one over, and several blocks plus a tail, cycled until a million bytes are fed.
  const std::string a(1000000, 'a');
  constexpr size_t kChunks[] = {1, 3, 63, 64, 65, 127, 128, 129, 7, 200, 1000, 55, 56, 57};
  Sha256 s;
  size_t fed = 0;
  for (size_t i = 0; fed < a.size(); ++i) {
    const size_t n = std::min(kChunks[i % std::size(kChunks)], a.size() - fed);
    s.Update(Bytes(std::string_view(a).substr(fed, n)));
    fed += n;
  }
  EXPECT_EQ(Hex(s.Final()), kMillionADigest);
}

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
  return v;
}

TEST(Sha256Test, IncrementalMatchesOneShotAtEverySplit) {
  const std::vector<uint8_t> msg = Pattern(200);
  const Sha256::Digest want = Sha256::Hash(msg);
  // Reference computed independently (python3 hashlib) so a bug shared by both paths fails.
  ASSERT_EQ(Hex(want), "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46");
  const std::span<const uint8_t> all(msg);
  for (size_t split = 0; split <= msg.size(); ++split) {
    Sha256 s;
    s.Update(all.first(split));
    s.Update(all.subspan(split));
    EXPECT_EQ(s.Final(), want) << "split at " << split;
  }
  // Three pieces, with an empty update in the middle.
  for (size_t a = 0; a <= msg.size(); a += 13) {
    for (size_t b = a; b <= msg.size(); b += 29) {
      Sha256 s;
      s.Update(all.first(a));
      s.Update({});
      s.Update(all.subspan(a, b - a));
      s.Update(all.subspan(b));
      EXPECT_EQ(s.Final(), want) << "splits at " << a << ", " << b;
    }
  }
}

TEST(Sha256Test, EveryLengthAcrossPaddingBoundaries) {
  // SHA-256 over the concatenated digests of the pattern's prefixes of length 0..129, which
  // covers the padding cases (length mod 64 = 55, 56, 63, 0) twice over. Reference from
  // python3: sha256(b"".join(sha256(p[:n]).digest() for n in range(130))).
  const std::vector<uint8_t> msg = Pattern(129);
  Sha256 acc;
  for (size_t n = 0; n <= msg.size(); ++n) {
    acc.Update(Sha256::Hash(std::span<const uint8_t>(msg).first(n)));
  }
  EXPECT_EQ(Hex(acc.Final()), "7d4d3660f01e79b7c40e7cac2d420a7422833ecd3ee0d9de37f36d31bfc52cfe");
}

TEST(Sha256Test, FinalResetsForReuse) {
  Sha256 s;
  s.Update(Bytes("some earlier message that is longer than one sixty-four byte block....."));
  (void)s.Final();
  s.Update(Bytes("abc"));
  EXPECT_EQ(s.Final(), Sha256::Hash(Bytes("abc")));
  EXPECT_EQ(s.Final(), Sha256::Hash({}));
}

TEST(Sha256Test, DetectsSingleBitChange) {
  std::vector<uint8_t> msg = Pattern(100);
  const Sha256::Digest before = Sha256::Hash(msg);
  msg[57] ^= 0x01;
  EXPECT_NE(Sha256::Hash(msg), before);
}

// Usable at compile time: "abc" hashed by the constant evaluator.
constexpr std::array<uint8_t, 3> kAbc = {'a', 'b', 'c'};
constexpr Sha256::Digest kAbcDigest = Sha256::Hash(kAbc);
static_assert(kAbcDigest[0] == 0xba && kAbcDigest[1] == 0x78 && kAbcDigest[31] == 0xad);

}  // namespace
}  // namespace mptcp::crypto

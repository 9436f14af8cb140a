#include "mptcp/crypto/hmac.h"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "mptcp/crypto/sha256.h"

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

std::vector<uint8_t> Repeat(uint8_t byte, size_t n) { return std::vector<uint8_t>(n, byte); }

// RFC 4231 §4: HMAC-SHA-256 test cases 1-7.

TEST(HmacSha256Test, Rfc4231Case1) {
  EXPECT_EQ(Hex(HmacSha256(Repeat(0x0b, 20), Bytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231Case2KeyShorterThanOutput) {
  EXPECT_EQ(Hex(HmacSha256(Bytes("Jefe"), Bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231Case3) {
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 20), Repeat(0xdd, 50))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256Test, Rfc4231Case4) {
  std::vector<uint8_t> key(25);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i + 1);
  EXPECT_EQ(Hex(HmacSha256(key, Repeat(0xcd, 50))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256Test, Rfc4231Case5TruncatedTo128Bits) {
  const auto mac = HmacSha256(Repeat(0x0c, 20), Bytes("Test With Truncation"));
  EXPECT_EQ(Hex(std::span<const uint8_t>(mac).first(16)), "a3b6167473100ee06e0c796c2955552b");
}

TEST(HmacSha256Test, Rfc4231Case6KeyLargerThanBlock) {
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 131),
                           Bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, Rfc4231Case7KeyAndDataLargerThanBlock) {
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 131),
                           Bytes("This is a test using a larger than block-size key and a larger "
                                 "than block-size data. The key needs to be hashed before being "
                                 "used by the HMAC algorithm."))),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// RFC 2104 §2: only keys longer than B = 64 bytes are hashed first.
TEST(HmacSha256Test, KeyHashedOnlyWhenLongerThanBlock) {
  const auto msg = Bytes("message");
  const std::vector<uint8_t> key65 = Repeat(0x5a, 65);
  EXPECT_EQ(HmacSha256(key65, msg), HmacSha256(Sha256::Hash(key65), msg));

  const std::vector<uint8_t> key64 = Repeat(0x5a, 64);
  EXPECT_NE(HmacSha256(key64, msg), HmacSha256(Sha256::Hash(key64), msg));
  // A key is zero-padded to the block size, so trailing zero bytes do not change it.
  std::vector<uint8_t> key63z = Repeat(0x5a, 63);
  key63z.push_back(0);
  EXPECT_EQ(HmacSha256(key63z, msg), HmacSha256(Repeat(0x5a, 63), msg));
}

TEST(HmacSha256Test, KeyAndMessageBothMatter) {
  const auto base = HmacSha256(Bytes("key"), Bytes("msg"));
  EXPECT_NE(HmacSha256(Bytes("kez"), Bytes("msg")), base);
  EXPECT_NE(HmacSha256(Bytes("key"), Bytes("msh")), base);
  EXPECT_NE(HmacSha256(Bytes("msg"), Bytes("key")), base);
}

// Usable at compile time: RFC 4231 case 2 evaluated by the constant evaluator.
constexpr std::array<uint8_t, 4> kJefe = {'J', 'e', 'f', 'e'};
constexpr std::array<uint8_t, 28> kWhat = {'w', 'h', 'a', 't', ' ', 'd', 'o', ' ', 'y', 'a',
                                           ' ', 'w', 'a', 'n', 't', ' ', 'f', 'o', 'r', ' ',
                                           'n', 'o', 't', 'h', 'i', 'n', 'g', '?'};
constexpr auto kCase2 = HmacSha256(kJefe, kWhat);
static_assert(kCase2[0] == 0x5b && kCase2[1] == 0xdc && kCase2[31] == 0x43);

}  // namespace
}  // namespace mptcp::crypto

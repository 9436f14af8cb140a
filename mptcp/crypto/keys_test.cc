#include "mptcp/crypto/keys.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mptcp/address.h"
#include "testing/prerequisites.h"

namespace mptcp::crypto {
namespace {

std::string Hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0xf];
  }
  return s;
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

constexpr uint64_t kKeyA = 0x0123456789abcdefULL;
constexpr uint64_t kKeyB = 0xfedcba9876543210ULL;
constexpr uint32_t kNonceA = 0x11223344;
constexpr uint32_t kNonceB = 0xaabbccdd;

// ---- Fixed vectors. Expected values computed with python3 hashlib/hmac from the RFC 8684
// formulas, independently of this code.

TEST(KeysTest, TokenAndIdsnFixedVectors) {  // RFC 8684 §3.1
  EXPECT_EQ(KeyToken(kKeyA), 0x55c53f5du);
  EXPECT_EQ(KeyIdsn(kKeyA), 0x570762cd38be9818ULL);
  EXPECT_EQ(KeyToken(kKeyB), 0x18f9781bu);
  EXPECT_EQ(KeyIdsn(kKeyB), 0x280818bf0fa7e28eULL);
  EXPECT_EQ(KeyToken(0), 0xaf5570f5u);
  EXPECT_EQ(KeyIdsn(0), 0xe5b2328de0e83dfcULL);
  EXPECT_EQ(KeyToken(~uint64_t{0}), 0x12a3ae44u);
  EXPECT_EQ(KeyIdsn(~uint64_t{0}), 0x57fb595bbbacf0caULL);
}

TEST(KeysTest, JoinHmacFixedVectors) {  // RFC 8684 §3.2
  // HMAC-A = HMAC(Key=(Key-A||Key-B), Msg=(R-A||R-B)).
  EXPECT_EQ(Hex(JoinHmac(kKeyA, kKeyB, kNonceA, kNonceB)),
            "f61753d6b8ac227764b9d1b17a6f5ceeec9d1a8a4351afe5408a31e58cbbe7ba");
  // HMAC-B = HMAC(Key=(Key-B||Key-A), Msg=(R-B||R-A)).
  EXPECT_EQ(Hex(JoinHmac(kKeyB, kKeyA, kNonceB, kNonceA)),
            "3bae5abc810a33c2e293af8b4572e4827e89510eea113d42098dff12ea4fad3f");
}

TEST(KeysTest, JoinWireHmacsFixedVectors) {
  // A initiates, B responds. B's SYN/ACK carries the leftmost 64 bits of HMAC-B...
  EXPECT_EQ(JoinSynAckHmac(/*sender_key=*/kKeyB, /*receiver_key=*/kKeyA,
                           /*sender_nonce=*/kNonceB, /*receiver_nonce=*/kNonceA),
            0x3bae5abc810a33c2ULL);
  // ...and A's third ACK the leftmost 160 bits of HMAC-A.
  EXPECT_EQ(Hex(JoinAckHmac(/*sender_key=*/kKeyA, /*receiver_key=*/kKeyB,
                            /*sender_nonce=*/kNonceA, /*receiver_nonce=*/kNonceB)),
            "f61753d6b8ac227764b9d1b17a6f5ceeec9d1a8a");
}

TEST(KeysTest, AddAddrHmacFixedVectors) {  // RFC 8684 §3.4.1
  const IpAddress v4 = IpAddress::V4(10, 0, 0, 2);
  EXPECT_EQ(AddAddrHmac(kKeyA, kKeyB, 3, v4, std::nullopt), 0x949bf531f50dcbd5ULL);
  EXPECT_EQ(AddAddrHmac(kKeyA, kKeyB, 3, v4, 8080), 0xca0f23dd9b0ade78ULL);
  EXPECT_EQ(AddAddrHmac(kKeyB, kKeyA, 3, v4, std::nullopt), 0x030138d4381d3f4dULL);
  const IpAddress v6 = *IpAddress::Parse("2001:db8::1");
  EXPECT_EQ(AddAddrHmac(kKeyA, kKeyB, 7, v6, std::nullopt), 0x47946eb55e645431ULL);
  EXPECT_EQ(AddAddrHmac(kKeyA, kKeyB, 7, v6, 443), 0x6e968a01292d5ea7ULL);
}

// Public vectors from the Linux kernel's MPTCP KUnit test (net/mptcp/crypto_test.c). There the
// 16 ASCII characters of the key string are the two 64-bit keys' big-endian bytes and the 8
// ASCII characters of the message string are the two nonces', fed through the same
// key1||key2, nonce1||nonce2 framing as the MP_JOIN HMAC.
TEST(KeysTest, LinuxKunitCryptoVectors) {
  // "0b0b0b0b" "0b0b0b0b" / "4869" "2054"
  EXPECT_EQ(Hex(JoinHmac(0x3062306230623062ULL, 0x3062306230623062ULL, 0x34383639, 0x32303534)),
            "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa");
  // "aaaaaaaa" "aaaaaaaa" / "dddd" "dddd"
  EXPECT_EQ(Hex(JoinHmac(0x6161616161616161ULL, 0x6161616161616161ULL, 0x64646464, 0x64646464)),
            "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9");
  // "01020304" "05060708" / "cdcd" "cdcd"
  EXPECT_EQ(Hex(JoinHmac(0x3031303230333034ULL, 0x3035303630373038ULL, 0x63646364, 0x63646364)),
            "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d");
}

// ---- Properties.

TEST(KeysTest, WireHmacsAreTruncationsOfJoinHmac) {
  const auto full = JoinHmac(kKeyA, kKeyB, kNonceA, kNonceB);
  uint64_t left64 = 0;
  for (int i = 0; i < 8; ++i) left64 = (left64 << 8) | full[i];
  EXPECT_EQ(JoinSynAckHmac(kKeyA, kKeyB, kNonceA, kNonceB), left64);
  const auto ack = JoinAckHmac(kKeyA, kKeyB, kNonceA, kNonceB);
  EXPECT_TRUE(std::equal(ack.begin(), ack.end(), full.begin()));
}

TEST(KeysTest, JoinHmacDependsOnRoles) {
  // The two directions must differ, or a reflected SYN/ACK HMAC would verify.
  EXPECT_NE(JoinHmac(kKeyA, kKeyB, kNonceA, kNonceB), JoinHmac(kKeyB, kKeyA, kNonceB, kNonceA));
  EXPECT_NE(JoinHmac(kKeyA, kKeyB, kNonceA, kNonceB), JoinHmac(kKeyA, kKeyB, kNonceB, kNonceA));
  EXPECT_NE(JoinHmac(kKeyA, kKeyB, kNonceA, kNonceB), JoinHmac(kKeyB, kKeyA, kNonceA, kNonceB));
}

TEST(KeysTest, AddAddrHmacInputsAllMatter) {
  const IpAddress v4 = IpAddress::V4(192, 0, 2, 1);
  const uint64_t base = AddAddrHmac(kKeyA, kKeyB, 1, v4, std::nullopt);
  // Linux hashes two zero octets for an absent port, so port 0 is indistinguishable.
  EXPECT_EQ(AddAddrHmac(kKeyA, kKeyB, 1, v4, 0), base);
  EXPECT_NE(AddAddrHmac(kKeyA, kKeyB, 1, v4, 1), base);
  EXPECT_NE(AddAddrHmac(kKeyA, kKeyB, 2, v4, std::nullopt), base);
  EXPECT_NE(AddAddrHmac(kKeyA, kKeyB, 1, IpAddress::V4(192, 0, 2, 2), std::nullopt), base);
  EXPECT_NE(AddAddrHmac(kKeyB, kKeyA, 1, v4, std::nullopt), base);
  // ::ffff:192.0.2.1 hashes 16 address bytes, not 4.
  EXPECT_NE(AddAddrHmac(kKeyA, kKeyB, 1, *IpAddress::Parse("::ffff:c000:201"), std::nullopt),
            base);
}

// Compile-time evaluation works for the derivations.
static_assert(KeyToken(kKeyA) == 0x55c53f5du);
static_assert(KeyIdsn(kKeyA) == 0x570762cd38be9818ULL);
static_assert(JoinSynAckHmac(kKeyB, kKeyA, kNonceB, kNonceA) == 0x3bae5abc810a33c2ULL);
static_assert(AddAddrHmac(kKeyA, kKeyB, 3, IpAddress::V4(10, 0, 0, 2), std::nullopt) ==
              0x949bf531f50dcbd5ULL);

// ---- Cross-check against python3's hashlib/hmac on random inputs.

constexpr char kPython[] = "/usr/bin/python3";

// Written from the RFC 8684 text, not from keys.h. Each argument is one case,
// "KeyA,KeyB,R-A,R-B,AddressID,AddrHex,Port" (hex, hex, hex, hex, dec, hex bytes, dec or -1),
// A the MP_JOIN initiator. Output line per case: token(A) IDSN(A) HMAC-A SYN/ACK-HMAC(B)
// ACK-HMAC(A) ADD_ADDR-HMAC(sent by A) ADD_ADDR-HMAC(sent by B), all hex.
// The script must not contain single quotes (it is passed inside '...').
constexpr char kScript[] = R"(
import sys, hashlib, hmac, struct
def mac(k, m):
    return hmac.new(k, m, hashlib.sha256).digest()
for arg in sys.argv[1:]:
    ka, kb, ra, rb, aid, addr, port = arg.split(",")
    ka, kb, ra, rb = int(ka, 16), int(kb, 16), int(ra, 16), int(rb, 16)
    aid, port = int(aid), int(port)
    d = hashlib.sha256(struct.pack(">Q", ka)).digest()
    kab = struct.pack(">QQ", ka, kb)
    kba = struct.pack(">QQ", kb, ka)
    hmac_a = mac(kab, struct.pack(">II", ra, rb))
    hmac_b = mac(kba, struct.pack(">II", rb, ra))
    msg = bytes([aid]) + bytes.fromhex(addr) + struct.pack(">H", port if port >= 0 else 0)
    print(d[:4].hex(), d[-8:].hex(), hmac_a.hex(), hmac_b[:8].hex(), hmac_a[:20].hex(),
          mac(kab, msg)[-8:].hex(), mac(kba, msg)[-8:].hex())
)";

struct Case {
  uint64_t key_a, key_b;
  uint32_t nonce_a, nonce_b;
  uint8_t address_id;
  IpAddress address;
  std::optional<uint16_t> port;
};

TEST(KeysTest, MatchesPythonOnRandomInputs) {
  if (access(kPython, X_OK) != 0) {
    MPTCP_SKIP_MISSING_PREREQUISITE(
        kPython << " is not available; the independent cross-check needs python3 "
                << "with hashlib and hmac. The fixed vectors above still ran.");
  }

  std::mt19937_64 rng(0x6d707463700a2024ULL);  // fixed seed: reproducible failures
  std::vector<Case> cases;
  cases.push_back({0, ~uint64_t{0}, 0, ~uint32_t{0}, 0, IpAddress::V4(0, 0, 0, 0), std::nullopt});
  cases.push_back({~uint64_t{0}, 0, 1, 2, 255, IpAddress::V4(255, 255, 255, 255), 65535});
  for (int i = 0; i < 24; ++i) {
    Case c;
    c.key_a = rng();
    c.key_b = rng();
    c.nonce_a = static_cast<uint32_t>(rng());
    c.nonce_b = static_cast<uint32_t>(rng());
    c.address_id = static_cast<uint8_t>(rng());
    uint8_t bytes[16];
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    c.address = (i % 2 == 0) ? IpAddress::V4FromBytes(bytes) : IpAddress::V6FromBytes(bytes);
    if (i % 3 != 0) c.port = static_cast<uint16_t>(rng());
    cases.push_back(c);
  }

  std::string cmd = std::string(kPython) + " -c '" + kScript + "'";
  for (const Case& c : cases) {
    cmd += " " + Hex64(c.key_a) + "," + Hex64(c.key_b) + "," + Hex32(c.nonce_a) + "," +
           Hex32(c.nonce_b) + "," + std::to_string(c.address_id) + "," +
           Hex(std::span<const uint8_t>(c.address.data(), c.address.size())) + "," +
           (c.port ? std::to_string(*c.port) : "-1");
  }

  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << "popen failed";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  ASSERT_EQ(status, 0) << "python3 failed; output:\n" << out;

  std::istringstream lines(out);
  size_t checked = 0;
  for (const Case& c : cases) {
    std::string token, idsn, hmac_a, synack_b, ack_a, addaddr_a, addaddr_b;
    ASSERT_TRUE(lines >> token >> idsn >> hmac_a >> synack_b >> ack_a >> addaddr_a >> addaddr_b)
        << "short python output after " << checked << " cases:\n" << out;
    SCOPED_TRACE("case " + std::to_string(checked) + ": key_a=" + Hex64(c.key_a) +
                 " key_b=" + Hex64(c.key_b) + " address=" + c.address.ToString());
    EXPECT_EQ(Hex32(KeyToken(c.key_a)), token);
    EXPECT_EQ(Hex64(KeyIdsn(c.key_a)), idsn);
    EXPECT_EQ(Hex(JoinHmac(c.key_a, c.key_b, c.nonce_a, c.nonce_b)), hmac_a);
    // The responder B sends the SYN/ACK: B is the sender.
    EXPECT_EQ(Hex64(JoinSynAckHmac(c.key_b, c.key_a, c.nonce_b, c.nonce_a)), synack_b);
    // The initiator A sends the third ACK: A is the sender.
    EXPECT_EQ(Hex(JoinAckHmac(c.key_a, c.key_b, c.nonce_a, c.nonce_b)), ack_a);
    EXPECT_EQ(Hex64(AddAddrHmac(c.key_a, c.key_b, c.address_id, c.address, c.port)), addaddr_a);
    EXPECT_EQ(Hex64(AddAddrHmac(c.key_b, c.key_a, c.address_id, c.address, c.port)), addaddr_b);
    ++checked;
  }
  EXPECT_EQ(checked, cases.size());
}

}  // namespace
}  // namespace mptcp::crypto

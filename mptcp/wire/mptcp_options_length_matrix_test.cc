// Acceptance matrix for the MPTCP option parser: every subtype x every option length 0..40 x
// the flag and version combinations that change the layout. The expected-valid lengths are
// written out below from the RFC figures (RFC 8684 §3, RFC 6824 §3), not computed by the code
// under test; every other length must fail with the exact typed error.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "mptcp/wire/mptcp_options.h"

namespace mptcp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using Lengths = std::set<size_t>;

constexpr auto kV0 = MptcpVersion::kV0;
constexpr auto kV1 = MptcpVersion::kV1;
constexpr size_t kMaxLen = 40;

int g_checks = 0;

// An option of total length `len`: kind, length byte, subtype/nibble byte, then `byte3` (if
// given) and a fill pattern. Shorter lengths simply cut the prefix.
Bytes MakeOption(size_t len, uint8_t subtype, uint8_t nibble, std::optional<uint8_t> byte3) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(0xa5 ^ (i * 29));
  if (len >= 1) b[0] = kMptcpOptionKind;
  if (len >= 2) b[1] = static_cast<uint8_t>(len);
  if (len >= 3) b[2] = static_cast<uint8_t>(subtype << 4 | nibble);
  if (len >= 4 && byte3) b[3] = *byte3;
  return b;
}

// Checks one (subtype, nibble, byte3, version) combination at every length 0..40.
// `unknown`: the subtype has no layout, so every length >= 3 is kUnknownSubtype.
void CheckAllLengths(uint8_t subtype, uint8_t nibble, std::optional<uint8_t> byte3,
                     MptcpVersion version, const Lengths& valid, const Lengths& bad_version,
                     bool unknown = false) {
  for (size_t len = 0; len <= kMaxLen; ++len) {
    const Bytes b = MakeOption(len, subtype, nibble, byte3);
    const std::string where = absl::StrFormat(
        "subtype %u nibble 0x%x byte3 %s v%d length %u", subtype, nibble,
        byte3 ? absl::StrFormat("0x%02x", *byte3) : "pattern", static_cast<int>(version), len);
    const auto r = ParseMptcpOption(b, version);
    ++g_checks;

    WireError want{};
    bool want_ok = false;
    if (len < 2) {
      // Not even kind + length: the span is cut short (RFC 9293 §3.1).
      want = {WireErrorCode::kTruncated, kMptcpOptionKind, WireError::kNoSubtype,
              static_cast<uint16_t>(len)};
    } else if (len == 2) {
      // No room for the subtype octet (RFC 8684 §3,).
      want = {WireErrorCode::kBadOptionLength, kMptcpOptionKind, WireError::kNoSubtype, 2};
    } else if (unknown) {
      want = {WireErrorCode::kUnknownSubtype, kMptcpOptionKind, subtype,
              static_cast<uint16_t>(len)};
    } else if (valid.count(len)) {
      want_ok = true;
    } else if (bad_version.count(len)) {
      want = {WireErrorCode::kBadVersion, kMptcpOptionKind, subtype, static_cast<uint16_t>(len)};
    } else {
      want = {WireErrorCode::kBadMptcpLength, kMptcpOptionKind, subtype,
              static_cast<uint16_t>(len)};
    }

    if (want_ok) {
      ASSERT_TRUE(r.ok()) << where << ": " << r.error();
      ASSERT_EQ(static_cast<uint8_t>(SubtypeOf(*r)), subtype) << where;
      // Accepted bytes re-encode exactly.
      std::array<uint8_t, kMaxLen> out{};
      const auto n = EmitMptcpOption(*r, out, version);
      ASSERT_TRUE(n.ok()) << where << ": " << n.error();
      ASSERT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(*n)), b) << where;
    } else {
      ASSERT_FALSE(r.ok()) << where << " accepted as " << ToString(*r);
      ASSERT_EQ(r.error(), want) << where;
    }
  }
}

std::vector<uint8_t> AllNibbles() {
  std::vector<uint8_t> v;
  for (uint8_t n = 0; n < 16; ++n) v.push_back(n);
  return v;
}

// RFC 8684 §3.1 (v1) and RFC 6824 §3.1 (v0). The version is the option's own nibble; the
// caller's version does not matter. Versions >= 2 only in the 4-byte SYN (RFC 8684 §3.1).
TEST(MptcpLengthMatrixTest, MpCapable) {
  for (MptcpVersion caller : {kV0, kV1}) {
    for (uint8_t ver : AllNibbles()) {
      Lengths valid, bad_version;
      if (ver == 0) {
        valid = {12, 20};
        bad_version = {4, 22, 24};
      } else if (ver == 1) {
        valid = {4, 12, 20, 22, 24};
      } else {
        valid = {4};
        bad_version = {12, 20, 22, 24};
      }
      for (uint8_t flags : {0x00, 0x01, 0x81, 0xff}) {
        CheckAllLengths(0, ver, flags, caller, valid, bad_version);
      }
    }
  }
}

// RFC 8684 §3.2: SYN 12, SYN/ACK 16, ACK 24, whatever the B and reserved bits.
TEST(MptcpLengthMatrixTest, MpJoin) {
  for (MptcpVersion caller : {kV0, kV1}) {
    for (uint8_t nibble : AllNibbles()) {
      for (uint8_t byte3 : {0x00, 0x5a, 0xff}) {
        CheckAllLengths(1, nibble, byte3, caller, {12, 16, 24}, {});
      }
    }
  }
}

// RFC 8684 §3.3. Length by (A, a, M, m): 'a' counts only with A, 'm' only with M;
// with M the 2-octet checksum may follow. F and the reserved bits do not change the length.
struct DssRow {
  bool A, a, M, m;
  Lengths lengths;
};
const DssRow kDssRows[] = {
    // A  a  M  m
    {0, 0, 0, 0, {4}},
    {0, 1, 0, 0, {4}},
    {0, 0, 0, 1, {4}},
    {0, 1, 0, 1, {4}},
    {1, 0, 0, 0, {8}},
    {1, 0, 0, 1, {8}},
    {1, 1, 0, 0, {12}},
    {1, 1, 0, 1, {12}},
    {0, 0, 1, 0, {14, 16}},
    {0, 1, 1, 0, {14, 16}},
    {0, 0, 1, 1, {18, 20}},
    {0, 1, 1, 1, {18, 20}},
    {1, 0, 1, 0, {18, 20}},
    {1, 0, 1, 1, {22, 24}},
    {1, 1, 1, 0, {22, 24}},
    {1, 1, 1, 1, {26, 28}},
};

TEST(MptcpLengthMatrixTest, Dss) {
  for (MptcpVersion caller : {kV0, kV1}) {
    for (const DssRow& row : kDssRows) {
      for (bool F : {false, true}) {
        for (uint8_t reserved_hi : {0x00, 0xe0}) {
          const uint8_t flags = static_cast<uint8_t>(reserved_hi | (F ? 0x10 : 0) |
                                                     (row.m ? 0x08 : 0) | (row.M ? 0x04 : 0) |
                                                     (row.a ? 0x02 : 0) | (row.A ? 0x01 : 0));
          for (uint8_t nibble : {0x0, 0x9, 0xf}) {
            CheckAllLengths(2, nibble, flags, caller, row.lengths, {});
          }
        }
      }
    }
  }
}

// RFC 8684 §3.4.1 (v1): E = 1 -> 8/10 (IPv4, +port), 20/22 (IPv6); E = 0 adds the 8-octet
// truncated HMAC -> 16/18, 28/30. The 3 bits left of E are reserved.
TEST(MptcpLengthMatrixTest, AddAddrV1) {
  for (uint8_t nibble : AllNibbles()) {
    const bool echo = nibble & 1;
    const Lengths valid = echo ? Lengths{8, 10, 20, 22} : Lengths{16, 18, 28, 30};
    CheckAllLengths(3, nibble, std::nullopt, kV1, valid, {});
    CheckAllLengths(3, nibble, 0x00, kV1, valid, {});
  }
}

// RFC 6824 §3.4.1 (v0): IPVer 4 -> 8/10, IPVer 6 -> 20/22. The HMAC lengths are v1-only, and
// an IPVer that does not match the length (or is neither 4 nor 6) is a version error.
TEST(MptcpLengthMatrixTest, AddAddrV0) {
  const Lengths all_layouts = {8, 10, 16, 18, 20, 22, 28, 30};
  for (uint8_t ipver : AllNibbles()) {
    Lengths valid;
    if (ipver == 4) valid = {8, 10};
    if (ipver == 6) valid = {20, 22};
    Lengths bad_version;
    for (size_t l : all_layouts) {
      if (!valid.count(l)) bad_version.insert(l);
    }
    CheckAllLengths(3, ipver, std::nullopt, kV0, valid, bad_version);
  }
}

// RFC 8684 §3.4.2: 3 + n, n >= 1; the 40-byte option space allows n <= 37.
TEST(MptcpLengthMatrixTest, RemoveAddr) {
  Lengths valid;
  for (size_t l = 4; l <= 40; ++l) valid.insert(l);
  for (MptcpVersion caller : {kV0, kV1}) {
    for (uint8_t nibble : {0x0, 0x5, 0xf}) {
      CheckAllLengths(4, nibble, std::nullopt, caller, valid, {});
    }
  }
}

// RFC 8684 §3.3.8 (v1): 3 only. RFC 6824 §3.3.8 (v0): 3, or 4 with the address ID.
TEST(MptcpLengthMatrixTest, MpPrio) {
  for (uint8_t nibble : AllNibbles()) {
    CheckAllLengths(5, nibble, std::nullopt, kV1, {3}, {4});
    CheckAllLengths(5, nibble, std::nullopt, kV0, {3, 4}, {});
  }
}

// RFC 8684 §3.7 (MP_FAIL) and §3.5 (MP_FASTCLOSE): 12. §3.6 (MP_TCPRST): 4.
TEST(MptcpLengthMatrixTest, MpFailFastcloseTcpRst) {
  for (MptcpVersion caller : {kV0, kV1}) {
    for (uint8_t nibble : AllNibbles()) {
      CheckAllLengths(6, nibble, std::nullopt, caller, {12}, {});
      CheckAllLengths(7, nibble, std::nullopt, caller, {12}, {});
      CheckAllLengths(8, nibble, std::nullopt, caller, {4}, {});
    }
  }
}

// Subtypes 9..14 are unassigned and 15 is MP_EXPERIMENTAL (RFC 8684 §8): never parsed.
TEST(MptcpLengthMatrixTest, UnknownSubtypes) {
  for (MptcpVersion caller : {kV0, kV1}) {
    for (uint8_t subtype = 9; subtype <= 15; ++subtype) {
      for (uint8_t nibble : {0x0, 0xf}) {
        CheckAllLengths(subtype, nibble, std::nullopt, caller, {}, {}, /*unknown=*/true);
      }
    }
  }
}

// Every length byte that disagrees with the span is a framing error, for every subtype.
TEST(MptcpLengthMatrixTest, LengthByteMismatch) {
  for (uint8_t subtype = 0; subtype < 16; ++subtype) {
    for (size_t size = 3; size <= kMaxLen; ++size) {
      for (size_t len_byte = 0; len_byte <= kMaxLen + 2; ++len_byte) {
        if (len_byte == size) continue;
        Bytes b = MakeOption(size, subtype, 0, std::nullopt);
        b[1] = static_cast<uint8_t>(len_byte);
        const auto r = ParseMptcpOption(b);
        ++g_checks;
        ASSERT_FALSE(r.ok()) << "subtype " << int{subtype} << " size " << size << " byte "
                             << len_byte;
        const WireErrorCode want = len_byte > size ? WireErrorCode::kTruncated
                                                   : WireErrorCode::kBadOptionLength;
        ASSERT_EQ(r.error(), (WireError{want, kMptcpOptionKind, subtype,
                                        static_cast<uint16_t>(len_byte)}))
            << "subtype " << int{subtype} << " size " << size << " byte " << len_byte;
      }
    }
  }
}

// Guards against the matrix silently shrinking.
TEST(MptcpLengthMatrixTest, ZzzCoverage) {
  if (g_checks == 0) GTEST_SKIP() << "run as part of the whole suite";
  EXPECT_GT(g_checks, 50000);
}

}  // namespace
}  // namespace mptcp::wire

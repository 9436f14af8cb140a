// HMAC-SHA256 (RFC 2104 with SHA-256, as RFC 4231 tests it), constexpr and allocation-free:
// the MAC that authenticates MP_JOIN and ADD_ADDR in MPTCP v1 (RFC 8684 §3.2, §3.4.1).
#ifndef MPTCP_CRYPTO_HMAC_H_
#define MPTCP_CRYPTO_HMAC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mptcp/crypto/sha256.h"

namespace mptcp::crypto {

inline constexpr size_t kHmacSha256Size = Sha256::kDigestSize;

// HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m)), RFC 2104 §2. Callers truncate the result
// themselves (RFC 2104 §5), since each MPTCP message keeps a different part of it.
constexpr std::array<uint8_t, kHmacSha256Size> HmacSha256(std::span<const uint8_t> key,
                                                          std::span<const uint8_t> msg) noexcept {
  // RFC 2104 §2: a key longer than the block size B is replaced by H(key); the (possibly
  // hashed) key is then zero-padded to B bytes.
  std::array<uint8_t, Sha256::kBlockSize> k0{};
  if (key.size() > Sha256::kBlockSize) {
    const Sha256::Digest hashed = Sha256::Hash(key);
    for (size_t i = 0; i < hashed.size(); ++i) k0[i] = hashed[i];
  } else {
    for (size_t i = 0; i < key.size(); ++i) k0[i] = key[i];
  }

  std::array<uint8_t, Sha256::kBlockSize> pad{};
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<uint8_t>(k0[i] ^ 0x36);  // ipad
  Sha256 inner;
  inner.Update(pad);
  inner.Update(msg);
  const Sha256::Digest inner_digest = inner.Final();

  for (size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<uint8_t>(k0[i] ^ 0x5c);  // opad
  Sha256 outer;
  outer.Update(pad);
  outer.Update(inner_digest);
  return outer.Final();
}

}  // namespace mptcp::crypto

#endif  // MPTCP_CRYPTO_HMAC_H_

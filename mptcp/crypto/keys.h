// The MPTCP v1 key derivations of RFC 8684: the token and IDSN from a key (§3.1), the MP_JOIN
// HMACs (§3.2) and the ADD_ADDR HMAC (§3.4.1), each exactly as it goes on the wire.
//
// Naming: the HMAC helpers take (sender_*, receiver_*). The sender is the host that puts the
// option on the wire. To emit, pass your own key and nonce as sender_*; to verify a received
// option, pass the peer's key and nonce as sender_* and your own as receiver_*.
#ifndef MPTCP_CRYPTO_KEYS_H_
#define MPTCP_CRYPTO_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mptcp/address.h"
#include "mptcp/crypto/hmac.h"
#include "mptcp/crypto/sha256.h"

namespace mptcp::crypto {

namespace keys_internal {

constexpr void PutBe64(uint64_t v, uint8_t* p) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
constexpr void PutBe32(uint32_t v, uint8_t* p) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
constexpr uint64_t GetBe64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// SHA-256 of the key in network byte order, the input to both §3.1 derivations.
constexpr Sha256::Digest HashKey(uint64_t key) noexcept {
  std::array<uint8_t, 8> be{};
  PutBe64(key, be.data());
  return Sha256::Hash(be);
}

// The HMAC key of RFC 8684 §3.2 / §3.4.1: the sender's key followed by the receiver's,
// each 64 bits in network byte order.
constexpr std::array<uint8_t, 16> HmacKey(uint64_t sender_key, uint64_t receiver_key) noexcept {
  std::array<uint8_t, 16> k{};
  PutBe64(sender_key, k.data());
  PutBe64(receiver_key, k.data() + 8);
  return k;
}

}  // namespace keys_internal

// RFC 8684 §3.1: "The token ... is the most significant 32 bits of the SHA-256 hash of the
// key", the key taken in network byte order. The token names the connection in MP_JOIN.
constexpr uint32_t KeyToken(uint64_t key) noexcept {
  const Sha256::Digest d = keys_internal::HashKey(key);
  return (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
}

// RFC 8684 §3.1: the Initial Data Sequence Number is "the least significant 64 bits of the
// SHA-256 hash of the sender's key" (the hash's last 8 bytes, read big-endian).
constexpr uint64_t KeyIdsn(uint64_t key) noexcept {
  const Sha256::Digest d = keys_internal::HashKey(key);
  return keys_internal::GetBe64(d.data() + Sha256::kDigestSize - 8);
}

// RFC 8684 §3.2: HMAC(Key=(Key-A || Key-B), Msg=(R-A || R-B)), keys and nonces big-endian.
// The full 256-bit MAC; the wire helpers below truncate it. Swapping A and B changes the
// result: host A computes this with A = itself, and the RFC's "HMAC-B" is this with A and B
// exchanged (Key=(Key-B || Key-A), Msg=(R-B || R-A)).
constexpr std::array<uint8_t, kHmacSha256Size> JoinHmac(uint64_t key_a, uint64_t key_b,
                                                        uint32_t nonce_a,
                                                        uint32_t nonce_b) noexcept {
  const std::array<uint8_t, 16> key = keys_internal::HmacKey(key_a, key_b);
  std::array<uint8_t, 8> msg{};
  keys_internal::PutBe32(nonce_a, msg.data());
  keys_internal::PutBe32(nonce_b, msg.data() + 4);
  return HmacSha256(key, msg);
}

// Truncated-HMAC sizes carried by MP_JOIN, RFC 8684 §3.2.
inline constexpr size_t kJoinSynAckHmacSize = 8;  // 64 bits, in the SYN/ACK
inline constexpr size_t kJoinAckHmacSize = 20;    // 160 bits, in the third ACK

// RFC 8684 §3.2, the SYN/ACK + MP_JOIN: "Sender's Truncated HMAC (64 bits)", the leftmost 64
// bits of HMAC-B = HMAC(Key=(Key-B || Key-A), Msg=(R-B || R-A)) where B, the sender, is the
// responder. Returned as the big-endian reading of those 8 wire bytes.
constexpr uint64_t JoinSynAckHmac(uint64_t sender_key, uint64_t receiver_key,
                                  uint32_t sender_nonce, uint32_t receiver_nonce) noexcept {
  const auto mac = JoinHmac(sender_key, receiver_key, sender_nonce, receiver_nonce);
  return keys_internal::GetBe64(mac.data());
}

// RFC 8684 §3.2, the third ACK + MP_JOIN: "Sender's HMAC (160 bits)", the leftmost 160 bits
// of HMAC-A = HMAC(Key=(Key-A || Key-B), Msg=(R-A || R-B)) where A, the sender, is the
// initiator. The bytes in wire order.
constexpr std::array<uint8_t, kJoinAckHmacSize> JoinAckHmac(uint64_t sender_key,
                                                            uint64_t receiver_key,
                                                            uint32_t sender_nonce,
                                                            uint32_t receiver_nonce) noexcept {
  const auto mac = JoinHmac(sender_key, receiver_key, sender_nonce, receiver_nonce);
  std::array<uint8_t, kJoinAckHmacSize> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = mac[i];
  return out;
}

// RFC 8684 §3.4.1: the ADD_ADDR "Truncated HMAC" is the rightmost 64 bits of
// HMAC(Key=(Key-sender || Key-receiver), Msg=(Address ID || IP Address || Port)), with the
// address in network byte order (4 or 16 bytes) and the port big-endian. When the option
// carries no port, the message still ends in two zero octets: RFC 8684 §3.4.1 says so, and
// Linux (net/mptcp/options.c, add_addr_generate_hmac) always appends the port, 0 when absent.
// So an absent port and an explicit port 0 give the same HMAC. Returned as the big-endian
// reading of the 8 wire bytes (as Linux's get_unaligned_be64).
constexpr uint64_t AddAddrHmac(uint64_t sender_key, uint64_t receiver_key, uint8_t address_id,
                               const IpAddress& address, std::optional<uint16_t> port) noexcept {
  const std::array<uint8_t, 16> key = keys_internal::HmacKey(sender_key, receiver_key);
  std::array<uint8_t, 1 + 16 + 2> msg{};
  size_t n = 0;
  msg[n++] = address_id;
  const uint8_t* addr = address.data();
  for (size_t i = 0; i < address.size(); ++i) msg[n++] = addr[i];
  const uint16_t p = port.value_or(0);
  msg[n++] = static_cast<uint8_t>(p >> 8);
  msg[n++] = static_cast<uint8_t>(p);
  const auto mac = HmacSha256(key, std::span<const uint8_t>(msg.data(), n));
  return keys_internal::GetBe64(mac.data() + kHmacSha256Size - 8);
}

}  // namespace mptcp::crypto

#endif  // MPTCP_CRYPTO_KEYS_H_

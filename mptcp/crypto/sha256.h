// SHA-256 (FIPS 180-4), incremental and one-shot, constexpr and allocation-free: the hash under
// the MPTCP v1 token, IDSN and HMAC derivations (RFC 8684 §3.1, §3.2).
#ifndef MPTCP_CRYPTO_SHA256_H_
#define MPTCP_CRYPTO_SHA256_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mptcp::crypto {

class Sha256 {
 public:
  static constexpr size_t kBlockSize = 64;   // FIPS 180-4 §1: 512-bit message blocks
  static constexpr size_t kDigestSize = 32;  // 256-bit message digest
  using Digest = std::array<uint8_t, kDigestSize>;

  constexpr Sha256() noexcept = default;

  // Absorbs `data`. Any number of calls, any split: the result depends only on the
  // concatenation. Whole blocks are compressed straight from `data` without copying.
  constexpr void Update(std::span<const uint8_t> data) noexcept {
    total_bytes_ += data.size();
    size_t pos = 0;
    if (buffered_ > 0) {
      const size_t take = std::min(kBlockSize - buffered_, data.size());
      for (size_t i = 0; i < take; ++i) buffer_[buffered_ + i] = data[i];
      buffered_ += take;
      pos = take;
      if (buffered_ < kBlockSize) return;
      Compress(buffer_.data());
      buffered_ = 0;
    }
    for (; data.size() - pos >= kBlockSize; pos += kBlockSize) Compress(data.data() + pos);
    for (; pos < data.size(); ++pos) buffer_[buffered_++] = data[pos];
  }

  // Pads (FIPS 180-4 §5.1.1), returns the digest, and resets this object to the empty-message
  // state so it can be reused.
  constexpr Digest Final() noexcept {
    const uint64_t bit_length = total_bytes_ * 8;  // the message length mod 2^64, as §5.1.1
    buffer_[buffered_++] = 0x80;
    if (buffered_ > kBlockSize - 8) {
      while (buffered_ < kBlockSize) buffer_[buffered_++] = 0;
      Compress(buffer_.data());
      buffered_ = 0;
    }
    while (buffered_ < kBlockSize - 8) buffer_[buffered_++] = 0;
    for (int i = 7; i >= 0; --i) buffer_[buffered_++] = static_cast<uint8_t>(bit_length >> (8 * i));
    Compress(buffer_.data());

    Digest out{};
    for (size_t i = 0; i < 8; ++i) {
      out[4 * i] = static_cast<uint8_t>(h_[i] >> 24);
      out[4 * i + 1] = static_cast<uint8_t>(h_[i] >> 16);
      out[4 * i + 2] = static_cast<uint8_t>(h_[i] >> 8);
      out[4 * i + 3] = static_cast<uint8_t>(h_[i]);
    }
    *this = Sha256();
    return out;
  }

  static constexpr Digest Hash(std::span<const uint8_t> data) noexcept {
    Sha256 s;
    s.Update(data);
    return s.Final();
  }

 private:
  // FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
  // first 64 primes.
  static constexpr std::array<uint32_t, 64> kK = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2,
  };

  // FIPS 180-4 §6.2.2: one application of the compression function to a 64-byte block.
  // Bytes are assembled with shifts, so any alignment is fine and constexpr evaluation works.
  constexpr void Compress(const uint8_t* block) noexcept {
    uint32_t w[64] = {};
    for (size_t t = 0; t < 16; ++t) {
      w[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) |
             (uint32_t{block[4 * t + 2]} << 8) | uint32_t{block[4 * t + 3]};
    }
    for (size_t t = 16; t < 64; ++t) {
      const uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    uint32_t e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (size_t t = 0; t < 64; ++t) {
      const uint32_t big_s1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = h + big_s1 + ch + kK[t] + w[t];
      const uint32_t big_s0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = big_s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  // FIPS 180-4 §5.3.3: initial hash value.
  std::array<uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, kBlockSize> buffer_{};
  size_t buffered_ = 0;       // bytes of a partial block held in buffer_, always < kBlockSize
  uint64_t total_bytes_ = 0;  // message length so far
};

}  // namespace mptcp::crypto

#endif  // MPTCP_CRYPTO_SHA256_H_

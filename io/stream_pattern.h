// A seeded, random-access byte stream for transfer tests and tools: any chunk of the stream
// can be generated from (seed, offset) alone, so a sender and a checker agree on every byte
// without sharing state, and SHA-256 digests of whole transfers can be compared.
#ifndef MPTCP_IO_STREAM_PATTERN_H_
#define MPTCP_IO_STREAM_PATTERN_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "mptcp/crypto/sha256.h"

namespace mptcp::io {

class StreamPattern {
 public:
  explicit StreamPattern(uint64_t seed) : seed_(seed) {}

  // Writes stream bytes [offset, offset + out.size()) into `out`.
  void Fill(uint64_t offset, std::span<uint8_t> out) const {
    size_t i = 0;
    while (i < out.size()) {
      const uint64_t pos = offset + i;
      const uint64_t word = Word(pos / 8);
      const size_t in_word = pos % 8;
      const size_t take = std::min<size_t>(8 - in_word, out.size() - i);
      for (size_t k = 0; k < take; ++k) {
        out[i + k] = static_cast<uint8_t>(word >> (8 * (in_word + k)));
      }
      i += take;
    }
  }

  // SHA-256 of stream bytes [0, length).
  crypto::Sha256::Digest Digest(uint64_t length) const {
    crypto::Sha256 h;
    uint8_t buf[1 << 16];
    for (uint64_t off = 0; off < length;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), length - off));
      Fill(off, std::span<uint8_t>(buf, n));
      h.Update(std::span<const uint8_t>(buf, n));
      off += n;
    }
    return h.Final();
  }

 private:
  uint64_t Word(uint64_t index) const {
    // SplitMix64 of (seed, index): cheap, and every word independent.
    uint64_t z = seed_ + (index + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t seed_;
};

inline std::string DigestHex(const crypto::Sha256::Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

}  // namespace mptcp::io

#endif  // MPTCP_IO_STREAM_PATTERN_H_

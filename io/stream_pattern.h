// The seeded, random-access byte stream every transfer in the project sends: any chunk can be
// generated from (seed, offset) alone, so a sender and a checker agree on every byte without
// sharing state, and SHA-256 digests of whole transfers can be compared.
//
// The one generator of the project (the TCP engine pipe, the simulator harness, the endpoint
// fuzzer, the interop tests and the tools all use it). It is the one kept because it is the
// only one that also serves checks across implementations: the interop tests compare
// Digest() of what the kernel received, where no byte-by-byte reader exists; it lives in io/
// as a plain (not testonly) library, so tools can use it too; and its words are SplitMix64
// outputs, a published generator rather than a home-made mix.
#ifndef MPTCP_IO_STREAM_PATTERN_H_
#define MPTCP_IO_STREAM_PATTERN_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "mptcp/crypto/sha256.h"

namespace mptcp::io {

class StreamPattern {
 public:
  explicit StreamPattern(uint64_t seed) : seed_(seed) {}
  // One direction of a transfer seeded by `seed` (0: client -> server, 1: server -> client):
  // the two directions are distinct streams, so bytes of one delivered as the other fail.
  StreamPattern(uint64_t seed, int direction)
      : seed_(Mix(2 * seed + static_cast<uint64_t>(direction & 1))) {}

  // Writes stream bytes [offset, offset + out.size()) into `out`.
  void Fill(uint64_t offset, std::span<uint8_t> out) const {
    // Whole words at once where the host's byte order is the stream's (little-endian): the
    // same bytes as the loop below, about eight times fewer steps (simulator transfers and
    // the fuzzers fill and check every byte they move).
    if constexpr (std::endian::native == std::endian::little) {
      const size_t head = std::min<size_t>((8 - offset % 8) % 8, out.size());
      FillBytes(offset, out.first(head));
      size_t i = head;
      for (; i + 8 <= out.size(); i += 8) {
        const uint64_t word = Word((offset + i) / 8);
        std::memcpy(out.data() + i, &word, 8);
      }
      FillBytes(offset + i, out.subspan(i));
      return;
    }
    FillBytes(offset, out);
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
  // The byte-by-byte form of Fill(): the definition of the stream's bytes.
  void FillBytes(uint64_t offset, std::span<uint8_t> out) const {
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

  // SplitMix64's output function.
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // SplitMix64 of (seed, index): cheap, and every word independent.
  uint64_t Word(uint64_t index) const { return Mix(seed_ + (index + 1) * 0x9e3779b97f4a7c15ULL); }

  uint64_t seed_;
};

inline std::string DigestHex(const crypto::Sha256::Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

}  // namespace mptcp::io

#endif  // MPTCP_IO_STREAM_PATTERN_H_

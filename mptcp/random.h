// The seeded random source handed in through the config. Keys, ISN secrets, tokens and
// simulation randomness all come from it, so the same seed gives the same bytes. It is
// xoshiro256** seeded by SplitMix64: 32 bytes of state, fast, and specified exactly, so
// sequences are identical across compilers (unlike std:: distributions).
#ifndef MPTCP_RANDOM_H_
#define MPTCP_RANDOM_H_

#include <cstdint>
#include <limits>

namespace mptcp {

class Random {
 public:
  using result_type = uint64_t;

  explicit constexpr Random(uint64_t seed = 0) { Seed(seed); }

  constexpr void Seed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) w = SplitMix64(x);
  }

  constexpr uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  constexpr uint64_t operator()() { return Next(); }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return std::numeric_limits<uint64_t>::max(); }

  constexpr uint32_t Next32() { return static_cast<uint32_t>(Next() >> 32); }

  // Uniform in [0, n) by Lemire's multiply-shift (bias below 2^-64 * n, irrelevant here).
  constexpr uint64_t Uniform(uint64_t n) {
    if (n == 0) return 0;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  constexpr double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  constexpr bool Bernoulli(double p) { return UniformDouble() < p; }

  // A child source for a component, so that adding draws in one component does not shift
  // every other component's sequence.
  constexpr Random Fork() { return Random(Next()); }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static constexpr uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4] = {};
};

}  // namespace mptcp

#endif  // MPTCP_RANDOM_H_

// Runs the endpoint fuzz property under gcc in every `bazel test`: the seed corpus, then
// seeded random scripts (biased towards delivering and transmitting, so that connections
// actually get established and carry data).
#include "fuzz/endpoint_checks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "mptcp/random.h"

namespace mptcp::fuzz {
namespace {

std::vector<uint8_t> RandomScript(Random& r, uint8_t mode) {
  std::vector<uint8_t> s = {mode, static_cast<uint8_t>(r.Next())};
  const size_t steps = 200 + r.Uniform(1500);
  for (size_t i = 0; i < steps; ++i) {
    const uint64_t pick = r.Uniform(100);
    uint8_t op;
    if (pick < 35) op = 0;            // deliver
    else if (pick < 55) op = 15;      // transmit
    else if (pick < 62) op = 8;       // time
    else if (pick < 72) op = 9;       // client writes
    else if (pick < 78) op = 10;      // server writes
    else if (pick < 88) op = 11;      // reads
    else op = static_cast<uint8_t>(r.Uniform(16));
    s.push_back(op);
    // Arguments: a few random bytes (ops ignore what they do not need... they read them as
    // the next ops, which is fine for a fuzz script).
    if (op == 8 || op == 9 || op == 10) {
      s.push_back(static_cast<uint8_t>(r.Uniform(8)));
      s.push_back(static_cast<uint8_t>(r.Next()));
    }
    if (op == 12) s.push_back(static_cast<uint8_t>(r.Uniform(8)));
  }
  return s;
}

TEST(EndpointChecksTest, RandomScriptsHoldTheProperties) {
  Random r(20261125);
  for (int i = 0; i < 400; ++i) {
    // Every mode: forging, DSS checksums, SYN cookies, GSO (bits 0-3).
    const std::vector<uint8_t> s = RandomScript(r, static_cast<uint8_t>(i % 16));
    CheckEndpointScript(s);
  }
}

// Replays every file of `dir`; returns how many.
int ReplayDir(const std::filesystem::path& dir) {
  int n = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::vector<uint8_t> s((std::istreambuf_iterator<char>(in)), {});
    CheckEndpointScript(s);
    ++n;
  }
  return n;
}

TEST(EndpointChecksTest, CorpusHoldsTheProperties) {
  EXPECT_GT(ReplayDir("fuzz/corpus/endpoint_fuzzer"), 0);
}

// Every input that ever found a bug (docs/fuzzing.md, "Corpus and regressions").
TEST(EndpointChecksTest, RegressionsHoldTheProperties) {
  EXPECT_GE(ReplayDir("fuzz/regressions/endpoint_fuzzer"), 2);
}

}  // namespace
}  // namespace mptcp::fuzz

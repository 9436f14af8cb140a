// The capture fuzz target's checks (trace_checks.h) under gcc, on its seed corpus and on
// every truncation and a sweep of single-byte corruptions of one seed, so that `bazel test
// //...` covers what the fuzzer checks without clang.
#include "fuzz/trace_checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace mptcp::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

const fs::path kCorpusDir = "fuzz/corpus/pcap_reader_fuzzer";
// Inputs the fuzzer once failed on, kept once fixed (none yet; docs/fuzzing.md).
const fs::path kRegressionsDir = "fuzz/regressions/pcap_reader_fuzzer";

Bytes ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(TraceChecksTest, SeedCorpus) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kCorpusDir)) {
    const Bytes b = ReadFile(e.path());
    CheckCaptureInput(b);
    // Each seed is a valid capture with one MPTCP connection.
    auto reader = trace::CaptureReader::FromBytes(b);
    ASSERT_TRUE(reader.ok()) << e.path();
    trace::Analyzer a;
    const trace::RunResult r = trace::AnalyzeCapture(**reader, a);
    EXPECT_TRUE(r.read_status.ok()) << e.path() << ": " << r.read_status;
    EXPECT_EQ(r.summary.connections.size(), 1u) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(TraceChecksTest, Regressions) {
  if (!fs::exists(kRegressionsDir)) return;
  for (const auto& e : fs::directory_iterator(kRegressionsDir)) {
    if (e.path().extension() == ".md") continue;
    CheckCaptureInput(ReadFile(e.path()));
  }
}

TEST(TraceChecksTest, TruncationsAndCorruptions) {
  const Bytes seed = ReadFile(kCorpusDir / "eth-vlan-sll2.pcapng");
  ASSERT_FALSE(seed.empty());
  for (size_t cut = 0; cut < seed.size(); cut += 3) {
    CheckCaptureInput(std::span<const uint8_t>(seed).first(cut));
  }
  for (size_t i = 0; i < seed.size(); i += 5) {
    Bytes b = seed;
    b[i] ^= 0xff;
    CheckCaptureInput(b);
  }
}

}  // namespace
}  // namespace mptcp::fuzz

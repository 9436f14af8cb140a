#include "fuzz/wire_checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz/seed_inputs.h"
#include "mptcp/random.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// Relative to the test's runfiles directory (the workspace root).
const fs::path kCorpusDir = "fuzz/corpus/mptcp_options_fuzzer";
const fs::path kRegressionsDir = "fuzz/regressions/mptcp_options_fuzzer";

Bytes ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::map<std::string, Bytes> ReadDir(const fs::path& dir) {
  std::map<std::string, Bytes> files;
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".md") continue;
    files[e.path().filename().string()] = ReadFile(e.path());
  }
  return files;
}

TEST(WireFuzzCorpusTest, CommittedCorpusMatchesTheGenerator) {
  const auto files = ReadDir(kCorpusDir);
  const auto seeds = SeedInputs();
  EXPECT_GE(seeds.size(), 60u);
  for (const SeedInput& s : seeds) {
    auto it = files.find(s.name);
    ASSERT_NE(it, files.end()) << s.name << " missing: bazel run //fuzz:make_corpus";
    EXPECT_EQ(it->second, s.data) << s.name << " is stale: bazel run //fuzz:make_corpus";
  }
}

TEST(WireFuzzCorpusTest, EveryModeIsSeeded) {
  std::map<int, int> per_mode;
  for (const SeedInput& s : SeedInputs()) ++per_mode[s.data.at(0) % kNumFuzzModes];
  for (int m = 0; m < kNumFuzzModes; ++m) EXPECT_GT(per_mode[m], 0) << "mode " << m;
}

// The byte seeds are inputs the parsers accept, so the fuzzer starts on the accepted paths.
TEST(WireFuzzCorpusTest, ByteSeedsAreAccepted) {
  for (const SeedInput& s : SeedInputs()) {
    SCOPED_TRACE(s.name);
    const std::span<const uint8_t> body = std::span<const uint8_t>(s.data).subspan(1);
    switch (static_cast<FuzzMode>(s.data[0])) {
      case FuzzMode::kMptcpOption: {
        const bool v0_only = s.name.find("_v0_") != std::string::npos &&
                             s.name.find("mp_capable") == std::string::npos;
        const auto r = wire::ParseMptcpOption(
            body, v0_only ? wire::MptcpVersion::kV0 : wire::MptcpVersion::kV1);
        EXPECT_TRUE(r.ok()) << r.error();
        break;
      }
      case FuzzMode::kTcpSegment: {
        const auto r = wire::TcpRepr::Parse(body);
        ASSERT_TRUE(r.ok()) << r.error();
        EXPECT_TRUE(wire::VerifyTcpChecksum(IpAddress::V4(192, 0, 2, 1),
                                            IpAddress::V4(192, 0, 2, 2), body));
        for (std::span<const uint8_t> o : r->options.mptcp_options()) {
          EXPECT_TRUE(wire::ParseMptcpOption(o).ok());
        }
        break;
      }
      case FuzzMode::kTcpOptionBlock:
        EXPECT_TRUE(wire::ParseTcpOptions(body).ok());
        break;
      case FuzzMode::kIpPacket: {
        const auto p = wire::ParseIpPacket(body);
        ASSERT_TRUE(p.ok()) << p.error();
        EXPECT_EQ(p->ip.protocol, wire::kIpProtoTcp);
        EXPECT_TRUE(wire::VerifyTcpChecksum(p->ip.src, p->ip.dst, p->payload));
        EXPECT_TRUE(wire::TcpRepr::Parse(p->payload).ok());
        break;
      }
      default:
        break;
    }
  }
}

TEST(WireFuzzCorpusTest, CorpusAndRegressionsHoldTheProperties) {
  size_t n = 0;
  for (const fs::path& dir : {kCorpusDir, kRegressionsDir}) {
    for (const auto& [name, data] : ReadDir(dir)) {
      SCOPED_TRACE(name);
      CheckWireInput(data);  // traps, failing the test, on a violated property
      ++n;
    }
  }
  EXPECT_GE(n, 60u);
}

// A cheap stand-in for the fuzzer in every `bazel test`: random byte edits of every seed.
TEST(WireFuzzCorpusTest, MutatedSeedsHoldTheProperties) {
  Random rng(20240601);
  for (const SeedInput& s : SeedInputs()) {
    for (int i = 0; i < 500; ++i) {
      Bytes b = s.data;
      const int edits = 1 + static_cast<int>(rng.Uniform(3));
      for (int e = 0; e < edits && b.size() > 1; ++e) {
        const size_t at = 1 + rng.Uniform(b.size() - 1);
        switch (rng.Uniform(4)) {
          case 0:
            b[at] = static_cast<uint8_t>(b[at] ^ (1u << rng.Uniform(8)));
            break;
          case 1:
            b[at] = static_cast<uint8_t>(rng.Next());
            break;
          case 2:
            b.resize(at);
            break;
          default:
            b.insert(b.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng.Next()));
        }
      }
      CheckWireInput(b);
    }
  }
}

TEST(WireFuzzCorpusTest, RandomInputsHoldTheProperties) {
  Random rng(7);
  for (uint8_t mode = 0; mode < kNumFuzzModes; ++mode) {
    for (int i = 0; i < 5000; ++i) {
      Bytes b(1 + rng.Uniform(80));
      for (uint8_t& c : b) c = static_cast<uint8_t>(rng.Next());
      b[0] = mode;
      CheckWireInput(b);
    }
  }
}

TEST(WireFuzzCorpusTest, ViolationTrapsWithAMessage) {
  EXPECT_DEATH(MPTCP_FUZZ_CHECK(1 + 1 == 3, "detail ", 42), "1 \\+ 1 == 3\n    detail 42");
}

}  // namespace
}  // namespace mptcp::fuzz

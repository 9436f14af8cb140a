// Shared test pieces of the simulator conformance scenarios (simult_flows, link failure,
// backup): the seed list (testing/seeds.h) and the "FIGURE" lines the scenarios report. The
// links and measures the tools share with them are in conformance/scenario_common.h.
#ifndef MPTCP_CONFORMANCE_SIM_SCENARIO_H_
#define MPTCP_CONFORMANCE_SIM_SCENARIO_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "conformance/scenario_common.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {

// The seeds each scenario loops over: testing/seeds.h's CONFORMANCE family, 20 seeds, or 5 in
// a sanitizer build (ASan makes a 16 MiB run about 10 times slower; the scenarios are
// deterministic per seed, so the -O2 run covers all 20). CONFORMANCE_SEEDS=<n> runs seeds
// 1..n, CONFORMANCE_SEED=<k> replays seed k.
inline constexpr ::mptcp::testing::SeedSpec kScenarioSeeds{"CONFORMANCE", 20, 5};

inline std::vector<uint64_t> Seeds() { return ::mptcp::testing::Seeds(kScenarioSeeds); }

// How to rerun one seed of the running test (target, variable and gtest filter).
inline std::string Replay(uint64_t seed) {
  return ::mptcp::testing::Replay(kScenarioSeeds, seed);
}

// A "FIGURE" line, the format the interop tests use; docs/conformance.md collects them.
inline void Figure(const std::string& name, double value, const std::string& unit) {
  std::printf("FIGURE %s %.3f %s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

}  // namespace mptcp::sim::conformance

#endif  // MPTCP_CONFORMANCE_SIM_SCENARIO_H_

// Link failure on the simulator: 2 or 4 paths, 4 MiB per path each way, and one or two paths
// cut (both directions, everything on them lost, as a pulled cable: Harness::SetPathUp(i,
// false)) in the middle of the transfer. The transfer must complete byte-exact over the paths
// left, and the longest receive stall must stay within the failed subflow's RTO + 200 ms.
//
// The definitions:
//   - Receive stall: the longest gap between two application reads that returned data
//     (HarnessResult::longest_client_stall / longest_server_stall), over the whole run.
//   - RTO: for the data one end receives, the RTO of the sender's subflow on each failed path,
//     read from its engine (RttEstimator::rto(): RFC 6298's SRTT + 4 * RTTVAR, at least
//     rto_min = 200 ms, times any backoff in force) at the instant the path goes down; with two
//     failed paths, the larger. So the server's reads are held to the client's RTO, the
//     client's reads to the server's.
//   - Budget: stall <= RTO + 200 ms. The sender cannot know a path is dead before its RTO
//     fires; 200 ms is left for moving the lost data to a live path and getting it across.
//
// The paths are 20 Mbit/s each way with different one-way delays and a 100-packet drop-tail
// queue (150 KB, a common router buffer; 60 ms at 20 Mbit/s). Each seed cuts the path(s) at its
// own time between 0.8 and 1.6 s (all subflows long established and busy) and adds up to
// 100 us of per-packet jitter.
//
// A case listed in kKnownMisses is one whose stall budget the current core misses: it reports
// "TARGET MISSED" and is skipped (byte-exact completion is still required), and it fails once
// every seed meets the budget, to keep the list honest.
//
// The cases, their configuration, the run with its cut and the invariants live in
// conformance/link_failure_cases.h, shared with mptcp_sim's seed sweeps
// (mptcp_sim --suite=link_failure).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "conformance/link_failure_cases.h"
#include "conformance/sim_scenario.h"
#include "io/sim/harness.h"
#include "mptcp/connection.h"
#include "mptcp/event.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {
namespace {

// Cases whose stall budget the current core misses (figures in docs/conformance.md).
const std::vector<std::string> kKnownMisses = {
};

bool KnownMiss(const std::string& name) {
  return std::find(kKnownMisses.begin(), kKnownMisses.end(), name) != kKnownMisses.end();
}

// FailureConfig (conformance/link_failure_cases.h), and to look at one seed:
// CONFORMANCE_SEED=<n> LINK_FAILURE_PCAP=<file> (every path, client end).
HarnessConfig TestConfig(const FailureCase& c, uint64_t seed) {
  HarnessConfig cfg = FailureConfig(c, seed);
  if (const char* pcap = std::getenv("LINK_FAILURE_PCAP")) {
    cfg.capture = true;
    cfg.pcap_path = pcap;
  }
  return cfg;
}

class LinkFailureTest : public ::testing::TestWithParam<FailureCase> {};

TEST_P(LinkFailureTest, CompletesWithStallWithinRtoPlus200ms) {
  const FailureCase& c = GetParam();
  std::vector<double> stalls_over_budget;  // stall - budget, worst end per seed
  std::vector<double> worst_stall, worst_rto;
  std::vector<uint64_t> missed;
  for (uint64_t seed : Seeds()) {
    const std::string replay = Replay(seed);
    // The run, its cut and its invariants: conformance/link_failure_cases.h, shared with
    // mptcp_sim's sweeps. A fatal violation ends the test as an ASSERT would.
    const FailureRun run = RunFailureCase(c, TestConfig(c, seed), seed);
    const HarnessResult& r = run.result;
    const Timestamp fail_at = run.fail_at;
    const Duration client_rto = run.client_rto, server_rto = run.server_rto;
    const FailureJudgement j = JudgeFailureRun(c, run);
    for (const Violation& v : j.violations) {
      if (v.fatal) FAIL() << c.name << " seed " << seed << ": " << v.what << "\n" << replay;
      ADD_FAILURE() << c.name << " seed " << seed << ": " << v.what;
    }
    const Duration server_budget = j.server_budget;
    const Duration client_budget = j.client_budget;
    const double over = j.over_s;
    stalls_over_budget.push_back(over);
    worst_stall.push_back(j.worst_stall_s);
    worst_rto.push_back(j.worst_rto_s);
    std::printf("%s seed %llu: cut at %.3f s; longest stall client %.3f s (budget %.3f = server "
                "RTO %.3f + 0.2), server %.3f s (budget %.3f = client RTO %.3f + 0.2); done at "
                "%.3f s; reinjected %llu + %llu bytes\n",
                c.name, static_cast<unsigned long long>(seed), Seconds(fail_at),
                r.longest_client_stall.seconds(), client_budget.seconds(), server_rto.seconds(),
                r.longest_server_stall.seconds(), server_budget.seconds(), client_rto.seconds(),
                r.elapsed.seconds(),
                static_cast<unsigned long long>(r.client_mib.reinjected_bytes),
                static_cast<unsigned long long>(r.server_mib.reinjected_bytes));
    if (over > 0) {
      missed.push_back(seed);
      std::printf("  over the budget by %.3f s; %s\n", over, replay.c_str());
    }
  }
  const auto max_of = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  std::vector<double> sorted = worst_stall;
  std::sort(sorted.begin(), sorted.end());
  const std::string fig = absl::StrCat("link_failure.", c.name);
  std::printf("%s: %zu seeds, longest stall median %.3f / max %.3f s; largest RTO at the cut "
              "%.3f s; worst stall - budget %+.3f s; %zu seeds over the budget\n",
              c.name, worst_stall.size(), sorted[sorted.size() / 2], sorted.back(),
              max_of(worst_rto), max_of(stalls_over_budget), missed.size());
  Figure(fig + ".max_stall", sorted.back(), "s");
  Figure(fig + ".median_stall", sorted[sorted.size() / 2], "s");
  Figure(fig + ".max_rto_at_cut", max_of(worst_rto), "s");
  Figure(fig + ".max_stall_minus_budget", max_of(stalls_over_budget), "s");

  if (KnownMiss(c.name)) {
    ASSERT_FALSE(missed.empty()) << c.name << " met its stall budget on every seed: remove it "
                                 << "from kKnownMisses in conformance/link_failure_test.cc";
    GTEST_SKIP() << "TARGET MISSED: " << c.name << ": longest stall " << sorted.back()
                 << " s, up to " << max_of(stalls_over_budget) << " s over RTO + 200 ms; "
                 << missed.size() << " of " << worst_stall.size() << " seeds over";
  }
  EXPECT_TRUE(missed.empty()) << c.name << ": " << missed.size() << " of " << worst_stall.size()
                              << " seeds stalled longer than RTO + 200 ms (up to "
                              << max_of(stalls_over_budget) << " s over); first: "
                              << Replay(missed.front());
}

INSTANTIATE_TEST_SUITE_P(Failures, LinkFailureTest, ::testing::ValuesIn(FailureCases()),
                         [](const ::testing::TestParamInfo<FailureCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace mptcp::sim::conformance

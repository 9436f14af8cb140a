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
#include "conformance/sim_scenario.h"
#include "io/sim/harness.h"
#include "mptcp/connection.h"
#include "mptcp/event.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {
namespace {

// Bytes each way: 4 MiB per path, so that the transfer is still running at the latest cut
// (1.6 s) however many paths carry it.
size_t Bytes(size_t paths) { return paths * (4 << 20); }
constexpr uint64_t kMbit = 20;
constexpr size_t kQueuePackets = 100;
const Duration kSlack = Duration::Millis(200);

struct FailureCase {
  const char* name;
  size_t paths;
  std::vector<int64_t> delays_ms;  // one-way, per path
  std::vector<size_t> fail;        // paths cut (at the same instant)
};

const std::vector<FailureCase>& Cases() {
  static const auto* v = new std::vector<FailureCase>{
      {"two_paths_initial_fails", 2, {10, 20}, {0}},
      {"two_paths_join_fails", 2, {10, 20}, {1}},
      {"four_paths_one_fails", 4, {10, 15, 20, 25}, {2}},
      {"four_paths_two_fail", 4, {10, 15, 20, 25}, {0, 3}},
  };
  return *v;
}

// Cases whose stall budget the current core misses (figures in docs/conformance.md).
const std::vector<std::string> kKnownMisses = {
};

bool KnownMiss(const std::string& name) {
  return std::find(kKnownMisses.begin(), kKnownMisses.end(), name) != kKnownMisses.end();
}

HarnessConfig FailureConfig(const FailureCase& c, uint64_t seed) {
  HarnessConfig cfg;
  cfg.seed = seed;
  LinkConfig base;
  base.bandwidth_bps = kMbit * 1'000'000;
  base.queue_bytes = kQueuePackets * kMtu;
  base.jitter = Duration::Micros(100);
  cfg.paths = DocumentationPaths(c.paths, base);
  for (size_t i = 0; i < c.paths; ++i) {
    cfg.paths[i].up.delay = cfg.paths[i].down.delay = Duration::Millis(c.delays_ms[i]);
  }
  cfg.client_bytes = cfg.server_bytes = Bytes(c.paths);
  cfg.deadline = Duration::Seconds(120);
  cfg.stall_timeout = Duration::Seconds(30);
  // To look at one seed: CONFORMANCE_SEED=<n> LINK_FAILURE_PCAP=<file> (every path, client end).
  if (const char* pcap = std::getenv("LINK_FAILURE_PCAP")) {
    cfg.capture = true;
    cfg.pcap_path = pcap;
  }
  return cfg;
}

// The subflow of `conn` on path i (client view `tuple`), if there is one.
std::optional<SubflowInfo> SubflowOnPath(Connection* conn, const FourTuple& client_tuple,
                                         bool client) {
  if (conn == nullptr) return std::nullopt;
  return conn->subflow(client ? client_tuple : client_tuple.Reversed());
}

class LinkFailureTest : public ::testing::TestWithParam<FailureCase> {};

TEST_P(LinkFailureTest, CompletesWithStallWithinRtoPlus200ms) {
  const FailureCase& c = GetParam();
  std::vector<double> stalls_over_budget;  // stall - budget, worst end per seed
  std::vector<double> worst_stall, worst_rto;
  std::vector<uint64_t> missed;
  for (uint64_t seed : Seeds()) {
    const std::string replay = Replay(seed);
    Harness h(FailureConfig(c, seed));
    Random rng(seed ^ 0x6c696e6b);  // the failure instant: its own stream, not the run's
    const Timestamp fail_at =
        Timestamp::Zero() + Duration::Millis(800 + static_cast<int64_t>(rng.Uniform(801)));
    // RTO of each end's subflows on the failed paths, read at the failure instant.
    Duration client_rto = Duration::Zero(), server_rto = Duration::Zero();
    bool all_found = true;
    h.sim().At(fail_at, [&] {
      for (size_t p : c.fail) {
        const auto cs = SubflowOnPath(h.client_conn(), h.ClientTuple(p), true);
        const auto ss = SubflowOnPath(h.server_conn(), h.ClientTuple(p), false);
        if (!cs || !ss) {
          all_found = false;
          continue;
        }
        client_rto = std::max(client_rto, cs->rto);
        server_rto = std::max(server_rto, ss->rto);
      }
      for (size_t p : c.fail) h.SetPathUp(p, false);
    });
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << c.name << " seed " << seed << ": " << r.Describe() << "\n" << replay;
    ASSERT_TRUE(all_found) << c.name << " seed " << seed
                           << ": a subflow on a failed path was not up at the failure\n"
                           << replay;
    ASSERT_EQ(r.client_read, Bytes(c.paths));
    ASSERT_EQ(r.server_read, Bytes(c.paths));
    EXPECT_FALSE(r.client_fell_back || r.server_fell_back);
    // The failure was real: the cut links dropped traffic, and the paths left carried the rest.
    for (size_t p : c.fail) {
      EXPECT_GT(r.paths[p].up.dropped(DropCause::kLinkDown) +
                    r.paths[p].down.dropped(DropCause::kLinkDown),
                0u)
          << c.name << " seed " << seed;
    }
    // The server's reads wait on the client's data and so on the client's RTO; and vice versa.
    const Duration server_budget = client_rto + kSlack;
    const Duration client_budget = server_rto + kSlack;
    const double over = std::max((r.longest_server_stall - server_budget).seconds(),
                                 (r.longest_client_stall - client_budget).seconds());
    stalls_over_budget.push_back(over);
    worst_stall.push_back(std::max(r.longest_client_stall, r.longest_server_stall).seconds());
    worst_rto.push_back(std::max(client_rto, server_rto).seconds());
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

INSTANTIATE_TEST_SUITE_P(Failures, LinkFailureTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<FailureCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace mptcp::sim::conformance

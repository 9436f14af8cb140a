// The Linux kernel's MPTCP selftest simult_flows.sh (tools/testing/selftests/net/mptcp/), run
// on the simulator: two paths between a client with two addresses and a server with one, each
// path shaped both ways like the selftest's `netem rate R mbit delay D` (rate, one-way delay,
// netem's 1000-packet drop-tail limit), 16 MiB moved with every byte checked, against the
// selftest's time limit
//
//     size * 8 / (rate1 + rate2) / 0.9 + 400 ms
//
// (the selftest computes it in integer milliseconds and adds another 50 ms of "slack"; we do
// not). The time is measured as mptcp_connect -T measures it: per end, from connect()/accept()
// returning (the connection established) until that end has written everything and read the
// peer's end of stream; the slower end counts (SelftestRunTime()). Each end shuts down its write
// side as soon as it has written everything, as mptcp_connect -j does (poll mode: shut_wr once
// its input is sent), whether or not it has read the peer's stream yet.
//
// Three transfers per case:
//   - Download:  the server sends 16 MiB, the client 80 KiB (the selftest's first run, whose
//                client input is its 80 KiB "small" file);
//   - Upload:    the reverse (the selftest's "- reverse direction" run);
//   - BothWays:  16 MiB each way at once. Not in the selftest, which moves the large file one
//                way per run; harder, since each direction's data queues ahead of the other's
//                ACKs. Same limit per direction.
//
// The links: path 1 (client 192.0.2.1, the initial subflow, as the selftest's default route)
// and path 2 (198.51.100.1, joined as soon as the connection is fully established, as the
// selftest's "subflow" endpoint does); the server is 203.0.113.3 on both (the selftest uses
// 10.0.x.0/24; we keep to the documentation ranges). Each seed adds a uniform
// jitter of up to 100 us per packet (host scheduling noise; FIFO kept) so that seeds differ in
// packet timing; without it every seed gives the same run, since nothing else is random here.
//
// Every case reports its figures (FIGURE lines: the median run time over the seeds and the
// fraction of the link sum it achieved, size * 8 / time / (rate1 + rate2)). A seed that breaks
// an invariant (a wrong byte, a stall, a fallback, an unused path) fails with its seed and the
// command to replay it. A case listed in kKnownMisses is one the current core cannot yet do in
// time: it reports "TARGET MISSED" and is skipped rather than failed (every invariant is still
// enforced), and it fails once every seed meets the target, so that the list is kept honest.
//
// The cases, their configuration, limit and invariants live in conformance/simult_flows_cases.h,
// shared with mptcp_sim's seed sweeps (mptcp_sim --suite=simult_flows).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "conformance/sim_scenario.h"
#include "conformance/simult_flows_cases.h"
#include "io/sim/harness.h"
#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {
namespace {

// Cases whose time target the current core misses (see docs/conformance.md for the measured
// figures and the diagnosis). Each is "<case>/<transfer>", with a hard limit: a known miss is
// reported and skipped, but any seed slower than hard_limit x the time limit fails, so that a
// miss cannot grow unseen. The hard limits sit above the worst of the 1,000-seed sweep
// (docs/sweeps/simult_flows_bothways_delay_1000.txt, "max / limit"), with some margin.
struct KnownMissCase {
  const char* id;
  double hard_limit;  // x the selftest's time limit
};
// None at present. The last, our extra BothWays case with opposed delays (both directions at
// once), left on 2026-12-03 as each end closed its write side once written (as mptcp_connect
// does), the default scheduler learnt to end the transfer where it ends soonest, and the
// in-flight limit kept a quarter of the bandwidth-delay product queued rather than half
// (docs/conformance.md).
const std::vector<KnownMissCase> kKnownMisses = {};

const KnownMissCase* KnownMiss(const std::string& id) {
  for (const KnownMissCase& k : kKnownMisses) {
    if (id == k.id) return &k;
  }
  return nullptr;
}

struct Param {
  SelftestCase c;
  Transfer t;
};

class SimultFlowsTest : public ::testing::TestWithParam<Param> {};

TEST_P(SimultFlowsTest, MeetsSelftestTimeLimit) {
  const SelftestCase& c = GetParam().c;
  const Transfer t = GetParam().t;
  const std::string id = absl::StrCat(c.name, "/", TransferName(t));
  const Duration limit = TimeLimit(c);
  const double link_sum_bps = (c.rate1 + c.rate2) * 1e6;

  std::vector<double> times;
  std::vector<uint64_t> missed;
  double worst_from_connect = 0;
  for (uint64_t seed : Seeds()) {
    Harness h(SelftestConfig(c, t, seed));
    const HarnessResult r = h.Run();
    const std::string replay = Replay(seed);
    // The invariants (conformance/simult_flows_cases.h, shared with mptcp_sim's sweeps): a
    // fatal violation ends the test as an ASSERT would, the others fail it and go on.
    const SelftestJudgement j = JudgeSelftestRun(c, t, r);
    for (const Violation& v : j.violations) {
      if (v.fatal) FAIL() << id << " seed " << seed << ": " << v.what << "\n" << replay;
      ADD_FAILURE() << id << " seed " << seed << ": " << v.what << "\n" << replay;
    }
    const Duration run = j.run_time;
    times.push_back(run.seconds());
    worst_from_connect =
        std::max(worst_from_connect, std::max(Seconds(r.client_eof_at), Seconds(r.server_eof_at)));
    if (run > limit) {
      missed.push_back(seed);
      std::printf("%s seed %llu: %.3f s > limit %.3f s (%.1f%% of the link sum); %s\n",
                  id.c_str(), static_cast<unsigned long long>(seed), run.seconds(),
                  limit.seconds(), 100.0 * kLarge * 8 / run.seconds() / link_sum_bps,
                  replay.c_str());
    }
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const std::string fig = absl::StrCat("simult_flows.", c.name, ".", TransferName(t));
  std::printf("%s: %zu seeds, run time min %.3f / median %.3f / max %.3f s (limit %.3f s), "
              "median %.1f%% of the link sum (%llu+%llu Mbit/s); from the connect call at most "
              "%.3f s; %zu seeds over the limit\n",
              id.c_str(), times.size(), sorted.front(), median, sorted.back(), limit.seconds(),
              100.0 * kLarge * 8 / median / link_sum_bps,
              static_cast<unsigned long long>(c.rate1), static_cast<unsigned long long>(c.rate2),
              worst_from_connect, missed.size());
  Figure(fig + ".median_run_time", median, "s");
  Figure(fig + ".max_run_time", sorted.back(), "s");
  Figure(fig + ".limit", limit.seconds(), "s");
  Figure(fig + ".link_sum_fraction", kLarge * 8 / median / link_sum_bps, "");

  if (const KnownMissCase* known = KnownMiss(id)) {
    // Reported, not failed; but never past its hard limit.
    ASSERT_LE(sorted.back(), known->hard_limit * limit.seconds())
        << id << ": a known miss got worse: max run time " << sorted.back() << " s, past its "
        << "hard limit of " << known->hard_limit << " x " << limit.seconds() << " s";
    // Only the full seed set can show that a known miss is fixed (ASan runs a subset).
    if (times.size() >= 20) {
      ASSERT_FALSE(missed.empty())
        << id << " met its time limit on every seed (max " << sorted.back()
        << " s): remove it from kKnownMisses in conformance/simult_flows_test.cc";
    }
    GTEST_SKIP() << "TARGET MISSED: " << id << ": max run time " << sorted.back()
                 << " s, median " << median << " s, limit " << limit.seconds() << " s; "
                 << missed.size() << " of " << times.size() << " seeds over";
  }
  EXPECT_TRUE(missed.empty()) << id << ": " << missed.size() << " of " << times.size()
                              << " seeds over the limit of " << limit.seconds()
                              << " s (max " << sorted.back() << " s); first: "
                              << Replay(missed.front());
}

std::vector<Param> AllParams() {
  std::vector<Param> v;
  for (const SelftestCase& c : kCases) {
    for (Transfer t : kTransfers) {
      v.push_back(Param{c, t});
    }
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Selftest, SimultFlowsTest, ::testing::ValuesIn(AllParams()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return absl::StrCat(info.param.c.name, "_",
                                               TransferName(info.param.t));
                         });

}  // namespace
}  // namespace mptcp::sim::conformance

// The link-failure scenarios on the simulator, shared by conformance/link_failure_test.cc and
// mptcp_sim's seed sweeps (tools/sim/sweep.h) so that the two can never diverge: the case
// table, the harness configuration, one run with its seeded cut (and the RTOs read at the
// cut), and the judgement of a run (its invariants and its stall against RTO + 200 ms). No
// gtest here; the test's file comment defines the stall, the RTO and the budget.
#ifndef MPTCP_CONFORMANCE_LINK_FAILURE_CASES_H_
#define MPTCP_CONFORMANCE_LINK_FAILURE_CASES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conformance/scenario_common.h"
#include "io/sim/harness.h"
#include "mptcp/connection.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {

// Bytes each way: 4 MiB per path, so that the transfer is still running at the latest cut
// (1.6 s) however many paths carry it.
inline size_t LinkFailureBytes(size_t paths) { return paths * (4 << 20); }
inline constexpr uint64_t kLinkFailureMbit = 20;
inline constexpr size_t kLinkFailureQueuePackets = 100;
// What the budget allows beyond the failed subflow's RTO.
inline constexpr Duration kStallSlack = Duration::Millis(200);

struct FailureCase {
  const char* name;
  size_t paths;
  std::vector<int64_t> delays_ms;  // one-way, per path
  std::vector<size_t> fail;        // paths cut (at the same instant)
};

inline const std::vector<FailureCase>& FailureCases() {
  static const auto* v = new std::vector<FailureCase>{
      {"two_paths_initial_fails", 2, {10, 20}, {0}},
      {"two_paths_join_fails", 2, {10, 20}, {1}},
      {"four_paths_one_fails", 4, {10, 15, 20, 25}, {2}},
      {"four_paths_two_fail", 4, {10, 15, 20, 25}, {0, 3}},
  };
  return *v;
}

inline const FailureCase* FindFailureCase(absl::string_view name) {
  for (const FailureCase& c : FailureCases()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

inline HarnessConfig FailureConfig(const FailureCase& c, uint64_t seed) {
  HarnessConfig cfg;
  cfg.seed = seed;
  LinkConfig base;
  base.bandwidth_bps = kLinkFailureMbit * 1'000'000;
  base.queue_bytes = kLinkFailureQueuePackets * kMtu;
  base.jitter = Duration::Micros(100);
  cfg.paths = DocumentationPaths(c.paths, base);
  for (size_t i = 0; i < c.paths; ++i) {
    cfg.paths[i].up.delay = cfg.paths[i].down.delay = Duration::Millis(c.delays_ms[i]);
  }
  cfg.client_bytes = cfg.server_bytes = LinkFailureBytes(c.paths);
  cfg.deadline = Duration::Seconds(120);
  cfg.stall_timeout = Duration::Seconds(30);
  return cfg;
}

// The seeded instant of the cut, between 0.8 and 1.6 s: its own random stream, not the run's.
inline Timestamp FailureInstant(uint64_t seed) {
  Random rng(seed ^ 0x6c696e6b);
  return Timestamp::Zero() + Duration::Millis(800 + static_cast<int64_t>(rng.Uniform(801)));
}

// The subflow of `conn` on path i (client view `tuple`), if there is one.
inline std::optional<SubflowInfo> SubflowOnPath(Connection* conn, const FourTuple& client_tuple,
                                                bool client) {
  if (conn == nullptr) return std::nullopt;
  return conn->subflow(client ? client_tuple : client_tuple.Reversed());
}

// One run with its cut.
struct FailureRun {
  HarnessResult result;
  Timestamp fail_at;
  // The largest RTO of each end's subflows on the failed paths, read at the cut.
  Duration client_rto = Duration::Zero(), server_rto = Duration::Zero();
  bool all_found = true;  // every failed path had its subflow up at both ends at the cut
};

// Runs `cfg` (FailureConfig(c, seed), perhaps with a capture added) and cuts c.fail at
// FailureInstant(seed), reading the RTOs first.
inline FailureRun RunFailureCase(const FailureCase& c, const HarnessConfig& cfg, uint64_t seed) {
  FailureRun run;
  run.fail_at = FailureInstant(seed);
  Harness h(cfg);
  h.sim().At(run.fail_at, [&] {
    for (size_t p : c.fail) {
      const auto cs = SubflowOnPath(h.client_conn(), h.ClientTuple(p), true);
      const auto ss = SubflowOnPath(h.server_conn(), h.ClientTuple(p), false);
      if (!cs || !ss) {
        run.all_found = false;
        continue;
      }
      run.client_rto = std::max(run.client_rto, cs->rto);
      run.server_rto = std::max(run.server_rto, ss->rto);
    }
    for (size_t p : c.fail) h.SetPathUp(p, false);
  });
  run.result = h.Run();
  return run;
}

struct FailureJudgement {
  std::vector<Violation> violations;  // empty: every invariant held
  // The server's reads wait on the client's data and so on the client's RTO; and vice versa.
  Duration server_budget, client_budget;
  // The worse end's stall minus its budget (> 0: over), and that end's stall and budget.
  double over_s = 0;
  Duration judged_stall, judged_budget;
  double worst_stall_s = 0, worst_rto_s = 0;  // either end

  bool ok() const { return violations.empty(); }
  bool within_budget() const { return over_s <= 0; }
};

// The invariants of one run: the harness saw every byte right and a clean close, both
// subflows on the failed paths were up at the cut, each end read everything, neither fell
// back, and the cut links really dropped traffic; then the stalls against their budgets.
inline FailureJudgement JudgeFailureRun(const FailureCase& c, const FailureRun& run) {
  FailureJudgement j;
  const HarnessResult& r = run.result;
  const auto fatal = [&j](std::string what) {
    j.violations.push_back(Violation{true, std::move(what)});
    return j;
  };
  if (!r.ok) return fatal(r.Describe());
  if (!run.all_found) return fatal("a subflow on a failed path was not up at the failure");
  const size_t want = LinkFailureBytes(c.paths);
  if (r.client_read != want) {
    return fatal(absl::StrCat("the client read ", r.client_read, " bytes, not ", want));
  }
  if (r.server_read != want) {
    return fatal(absl::StrCat("the server read ", r.server_read, " bytes, not ", want));
  }
  if (r.client_fell_back || r.server_fell_back) {
    j.violations.push_back({false, "fell back to TCP"});
  }
  for (size_t p : c.fail) {
    if (r.paths[p].up.dropped(DropCause::kLinkDown) +
            r.paths[p].down.dropped(DropCause::kLinkDown) ==
        0) {
      j.violations.push_back({false, absl::StrCat("cut path ", p, " dropped nothing")});
    }
  }
  j.server_budget = run.client_rto + kStallSlack;
  j.client_budget = run.server_rto + kStallSlack;
  const double server_over = (r.longest_server_stall - j.server_budget).seconds();
  const double client_over = (r.longest_client_stall - j.client_budget).seconds();
  j.over_s = std::max(server_over, client_over);
  j.judged_stall = server_over >= client_over ? r.longest_server_stall : r.longest_client_stall;
  j.judged_budget = server_over >= client_over ? j.server_budget : j.client_budget;
  j.worst_stall_s = std::max(r.longest_client_stall, r.longest_server_stall).seconds();
  j.worst_rto_s = std::max(run.client_rto, run.server_rto).seconds();
  return j;
}

}  // namespace mptcp::sim::conformance

#endif  // MPTCP_CONFORMANCE_LINK_FAILURE_CASES_H_

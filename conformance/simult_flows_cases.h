// The cases of the Linux selftest simult_flows.sh on the simulator, shared by
// conformance/simult_flows_test.cc and mptcp_sim's seed sweeps (tools/sim/sweep.h) so that the
// two can never diverge: the case table, the harness configuration of one run, the selftest's
// time limit, and the judgement of one run (its invariants and its time). No gtest here; the
// test's file comment explains the scenario and its limit.
#ifndef MPTCP_CONFORMANCE_SIMULT_FLOWS_CASES_H_
#define MPTCP_CONFORMANCE_SIMULT_FLOWS_CASES_H_

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
#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {

// simult_flows.sh: size=$((2 * 2048 * 4096)) and the 80 KiB "small" file (4096 * 20).
inline constexpr size_t kLarge = 2 * 2048 * 4096;
inline constexpr size_t kSmall = 4096 * 20;

struct SelftestCase {
  const char* name;  // the selftest's message, as an identifier
  uint64_t rate1, rate2;     // Mbit/s
  int64_t delay1, delay2;    // ms, one way
};

// The selftest's run_test lines, in its order.
inline constexpr SelftestCase kCases[] = {
    {"balanced_bwidth", 10, 10, 0, 0},
    {"balanced_bwidth_with_unbalanced_delay", 10, 10, 1, 50},
    {"unbalanced_bwidth", 30, 10, 0, 0},
    {"unbalanced_bwidth_with_unbalanced_delay", 30, 10, 1, 50},
    {"unbalanced_bwidth_with_opposed_unbalanced_delay", 30, 10, 50, 1},
};

enum class Transfer { kDownload, kUpload, kBothWays };

inline constexpr Transfer kTransfers[] = {Transfer::kDownload, Transfer::kUpload,
                                          Transfer::kBothWays};

inline const char* TransferName(Transfer t) {
  switch (t) {
    case Transfer::kDownload: return "Download";
    case Transfer::kUpload: return "Upload";
    case Transfer::kBothWays: return "BothWays";
  }
  return "?";
}

// "<case>/<transfer>", the name kKnownMisses and the sweeps use.
inline std::string SelftestId(const SelftestCase& c, Transfer t) {
  return absl::StrCat(c.name, "/", TransferName(t));
}

// The case and transfer an id names, if any.
struct SelftestRun {
  SelftestCase c;
  Transfer t;
};
inline std::optional<SelftestRun> FindSelftestRun(absl::string_view id) {
  for (const SelftestCase& c : kCases) {
    for (Transfer t : kTransfers) {
      if (SelftestId(c, t) == id) return SelftestRun{c, t};
    }
  }
  return std::nullopt;
}

// The selftest's limit, without its integer rounding and its extra 50 ms.
inline Duration TimeLimit(const SelftestCase& c) {
  const double s = kLarge * 8.0 / ((c.rate1 + c.rate2) * 1e6) / 0.9 + 0.4;
  return Duration::Nanos(static_cast<int64_t>(s * 1e9));
}

inline HarnessConfig SelftestConfig(const SelftestCase& c, Transfer t, uint64_t seed) {
  HarnessConfig cfg;
  cfg.seed = seed;
  cfg.paths.resize(2);
  cfg.paths[0].client_ip = IpAddress::V4(192, 0, 2, 1);
  cfg.paths[1].client_ip = IpAddress::V4(198, 51, 100, 1);
  cfg.paths[0].server_ip = cfg.paths[1].server_ip = IpAddress::V4(203, 0, 113, 3);
  const Duration jitter = Duration::Micros(100);
  cfg.paths[0].up = cfg.paths[0].down = NetemLink(c.rate1, c.delay1, jitter);
  cfg.paths[1].up = cfg.paths[1].down = NetemLink(c.rate2, c.delay2, jitter);
  cfg.client_bytes = t == Transfer::kDownload ? kSmall : kLarge;
  cfg.server_bytes = t == Transfer::kUpload ? kSmall : kLarge;
  // mptcp_connect -j (poll mode) shuts down its write side once its input is sent, reading or
  // not: in BothWays each end's DATA_FIN follows its own data, not the end of the peer's.
  cfg.close_at = HarnessConfig::CloseAt::kWritten;
  // The selftest's mptcp_connect gives up after 2 * 30 s.
  cfg.deadline = Duration::Seconds(61);
  cfg.stall_timeout = Duration::Seconds(30);
  return cfg;
}

// What one run of a case showed.
struct SelftestJudgement {
  std::vector<Violation> violations;  // empty: every invariant held
  Duration run_time = Duration::Infinite();  // SelftestRunTime()
  Duration limit;
  bool within_limit = false;

  bool ok() const { return violations.empty(); }
};

// The invariants of one run: the harness saw every byte right and the connection close
// cleanly, neither end fell back to TCP, each application read exactly what the other wrote,
// both subflows came up, both paths carried more than 1/20 of each large direction, and
// netem's queue limit was never the constraint; then the run time against the limit.
inline SelftestJudgement JudgeSelftestRun(const SelftestCase& c, Transfer t,
                                          const HarnessResult& r) {
  SelftestJudgement j;
  j.limit = TimeLimit(c);
  const auto fatal = [&j](std::string what) {
    j.violations.push_back(Violation{true, std::move(what)});
    return j;
  };
  if (!r.ok) return fatal(r.Describe());
  if (r.client_fell_back || r.server_fell_back) return fatal("fell back to TCP");
  const size_t want_client = t == Transfer::kUpload ? kSmall : kLarge;
  const size_t want_server = t == Transfer::kDownload ? kSmall : kLarge;
  if (r.client_read != want_client) {
    return fatal(absl::StrCat("the client read ", r.client_read, " bytes, not ", want_client));
  }
  if (r.server_read != want_server) {
    return fatal(absl::StrCat("the server read ", r.server_read, " bytes, not ", want_server));
  }
  int ups = 0;
  for (const SimEvent& e : r.events) ups += e.client && e.event.type == EventType::kSubflowUp;
  if (ups != 2) {
    return fatal(absl::StrCat(ups, " subflows came up at the client, not 2: ", r.Describe()));
  }
  for (size_t p = 0; p < 2; ++p) {
    if (t != Transfer::kDownload && r.paths[p].payload_bytes[0] <= kLarge / 20) {
      j.violations.push_back({false, absl::StrCat("path ", p, " (client to server) carried only ",
                                                  r.paths[p].payload_bytes[0], " bytes")});
    }
    if (t != Transfer::kUpload && r.paths[p].payload_bytes[1] <= kLarge / 20) {
      j.violations.push_back({false, absl::StrCat("path ", p, " (server to client) carried only ",
                                                  r.paths[p].payload_bytes[1], " bytes")});
    }
    // netem's limit was never the constraint (see kNetemLimitPackets).
    const size_t queued = std::max(r.paths[p].up.max_queue_bytes, r.paths[p].down.max_queue_bytes);
    if (queued >= kNetemLimitPackets * kMtu * 9 / 10) {
      j.violations.push_back(
          {false, absl::StrCat("path ", p, " queued ", queued, " bytes, near netem's limit")});
    }
  }
  j.run_time = SelftestRunTime(r);
  j.within_limit = j.run_time <= j.limit;
  return j;
}

}  // namespace mptcp::sim::conformance

#endif  // MPTCP_CONFORMANCE_SIMULT_FLOWS_CASES_H_

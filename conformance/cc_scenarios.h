// Congestion-control fairness scenarios on the simulator (io/sim/flow_network.h), one per goal
// of RFC 6356 §2, plus a five-flow mix for Jain's fairness index; shared by
// conformance/cc_fairness_test.cc (which asserts the goals) and `mptcp_sim --fairness` (which
// prints the table). Each run is deterministic per (controller, seed); every byte is checked.
//
// The single-path flows beside the multipath ones are MPTCP connections of one subflow whose
// controller is cc::UncoupledBase(algorithm): NewReno against LIA, OLIA and BALIA (RFC 6356 §3:
// LIA on one path is NewReno), the same algorithm against NewReno and CUBIC. For congestion
// purposes that is TCP: one subflow is one TCP engine with the same loss detection, recovery
// and window arithmetic as a plain TCP connection, and an uncoupled controller sees nothing of
// any other subflow. (Using MPTCP for it keeps one code path; its DSS option costs the same
// header bytes per segment as the multipath flow's, so neither side has an overhead advantage.)
//
// Throughput is goodput: bytes the receiving application read (every one checked), over a
// steady-state window that leaves out slow start and the first loss episodes.
#ifndef MPTCP_CONFORMANCE_CC_SCENARIOS_H_
#define MPTCP_CONFORMANCE_CC_SCENARIOS_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "io/sim/flow_network.h"
#include "io/sim/link.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {

// --- measurement --------------------------------------------------------------------------

// Jain's fairness index (R. Jain, D. Chiu, W. Hawe, DEC-TR-301, 1984): (Σx)² / (n·Σx²), 1 when
// every x is equal, 1/n when one takes everything. 1 for an empty or all-zero input.
inline double JainIndex(std::span<const double> x) {
  double sum = 0, squares = 0;
  for (double v : x) {
    sum += v;
    squares += v * v;
  }
  if (x.empty() || squares == 0) return 1;
  return sum * sum / (static_cast<double>(x.size()) * squares);
}

// The median (the mean of the two middle values for an even count); 0 for none.
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// --- topology -----------------------------------------------------------------------------

// A drop-tail bottleneck: `mbit` Mbit/s, `rtt_ms` of propagation round trip split evenly
// between the two directions, and a queue of `queue_bdp` bandwidth-delay products (of the
// propagation RTT) in each direction. A jitter of up to 100 us per packet (FIFO kept) stands
// for host scheduling noise, so that seeds differ in packet timing, as in simult_flows_test.
inline NetLinkSpec Bottleneck(std::string name, uint64_t mbit, int64_t rtt_ms, double queue_bdp) {
  LinkConfig l;
  l.bandwidth_bps = mbit * 1'000'000;
  l.delay = Duration::Micros(rtt_ms * 1000 / 2);
  l.jitter = Duration::Micros(100);
  l.queue_bytes = static_cast<size_t>(queue_bdp * static_cast<double>(mbit) * 1e6 / 8 *
                                      static_cast<double>(rtt_ms) / 1e3);
  return NetLinkSpec{std::move(name), l, l};
}

// Flow start times: each flow starts at a seeded instant in [0, 100 ms), so that seeds differ
// in which flow gets ahead in slow start.
inline void SeededStarts(uint64_t seed, std::vector<FlowSpec>& flows) {
  Random rng(seed * 7919 + 17);
  for (FlowSpec& f : flows) f.start = Duration::Micros(static_cast<int64_t>(rng.Uniform(100'000)));
}

inline FlowSpec MultipathFlow(std::string name, cc::CcAlgorithm a, std::vector<size_t> links) {
  FlowSpec f;
  f.name = std::move(name);
  f.congestion_control = a;
  for (size_t l : links) f.subflows.push_back(FlowSubflowSpec{l});
  return f;
}

// The single-path competitor of a multipath flow running `a` (see the header comment).
inline FlowSpec TcpFlow(std::string name, cc::CcAlgorithm a, size_t link) {
  return MultipathFlow(std::move(name), cc::UncoupledBase(a), {link});
}

inline Timestamp AtSecond(double s) {
  return Timestamp::Zero() + Duration::Millis(static_cast<int64_t>(s * 1000));
}

// The measurement window of a scenario, and its run length (the senders stop at its end).
struct Window {
  double from_s, to_s;
};

// --- 1. shared bottleneck (RFC 6356 §2 goal 2, "do no harm") ------------------------------

// One 20 Mbit/s bottleneck (RTT 40 ms, queue 1 BDP = 100 kB); an MPTCP connection with both
// its subflows (two address pairs) through it, and a TCP flow from another host.
struct SharedBottleneck {
  static constexpr uint64_t kMbit = 20;
  static constexpr int64_t kRttMs = 40;
  static constexpr double kQueueBdp = 1.0;
  static constexpr Window kWindow{10, 30};
};

struct SharedBottleneckResult {
  FlowNetworkResult run;
  double mptcp_mbps = 0, tcp_mbps = 0;
  double ratio() const { return tcp_mbps > 0 ? mptcp_mbps / tcp_mbps : 0; }
};

inline FlowNetworkConfig SharedBottleneckConfig(cc::CcAlgorithm a, uint64_t seed) {
  using S = SharedBottleneck;
  FlowNetworkConfig c;
  c.seed = seed;
  c.links = {Bottleneck("bottleneck", S::kMbit, S::kRttMs, S::kQueueBdp)};
  c.flows = {MultipathFlow("mptcp", a, {0, 0}), TcpFlow("tcp", a, 0)};
  SeededStarts(seed, c.flows);
  c.stop = Duration::Seconds(static_cast<int64_t>(S::kWindow.to_s));
  return c;
}

inline SharedBottleneckResult RunSharedBottleneck(cc::CcAlgorithm a, uint64_t seed) {
  SharedBottleneckResult r;
  r.run = FlowNetwork(SharedBottleneckConfig(a, seed)).Run();
  const Timestamp from = AtSecond(SharedBottleneck::kWindow.from_s);
  const Timestamp to = AtSecond(SharedBottleneck::kWindow.to_s);
  r.mptcp_mbps = r.run.GoodputMbps(0, from, to);
  r.tcp_mbps = r.run.GoodputMbps(1, from, to);
  return r;
}

// --- 2. disjoint paths (RFC 6356 §2 goal 1, "improve throughput") --------------------------

// Two paths of their own, 10 Mbit/s with a 40 ms RTT and 30 Mbit/s with 20 ms (queues 1 BDP),
// and nothing else on them.
struct DisjointPaths {
  static constexpr uint64_t kMbit[2] = {10, 30};
  static constexpr int64_t kRttMs[2] = {40, 20};
  static constexpr double kQueueBdp = 1.0;
  static constexpr Window kWindow{5, 20};
  static constexpr double kSumMbps = 40;
  static constexpr double kBestMbps = 30;
};

struct DisjointPathsResult {
  FlowNetworkResult run;
  double mptcp_mbps = 0;
  double path_mbps[2] = {0, 0};  // payload delivered on each path over the window
};

inline FlowNetworkConfig DisjointPathsConfig(cc::CcAlgorithm a, uint64_t seed) {
  using S = DisjointPaths;
  FlowNetworkConfig c;
  c.seed = seed;
  c.links = {Bottleneck("slow", S::kMbit[0], S::kRttMs[0], S::kQueueBdp),
             Bottleneck("fast", S::kMbit[1], S::kRttMs[1], S::kQueueBdp)};
  c.flows = {MultipathFlow("mptcp", a, {0, 1})};
  SeededStarts(seed, c.flows);
  c.stop = Duration::Seconds(static_cast<int64_t>(S::kWindow.to_s));
  return c;
}

inline DisjointPathsResult RunDisjointPaths(cc::CcAlgorithm a, uint64_t seed) {
  DisjointPathsResult r;
  r.run = FlowNetwork(DisjointPathsConfig(a, seed)).Run();
  const Timestamp from = AtSecond(DisjointPaths::kWindow.from_s);
  const Timestamp to = AtSecond(DisjointPaths::kWindow.to_s);
  const double secs = DisjointPaths::kWindow.to_s - DisjointPaths::kWindow.from_s;
  r.mptcp_mbps = r.run.GoodputMbps(0, from, to);
  for (size_t k = 0; k < 2; ++k) {
    r.path_mbps[k] = static_cast<double>(r.run.SubflowBytes(0, k, from, to)) * 8 / secs / 1e6;
  }
  return r;
}

// --- 3. congestion balancing (RFC 6356 §2 goal 3, "balance congestion") -------------------

// Two paths, RTT 40 ms each, queues 1 BDP: the "shared" one, 10 Mbit/s, also carries two TCP
// flows; the "free" one, 20 Mbit/s, carries only the MPTCP connection's other subflow.
// Measured: the share of the MPTCP connection's payload (over the window) sent on the free
// path. Uncoupled, each subflow is a TCP flow: a third of the shared path, all of the free
// one, a share of 20 / (20 + 10/3) = 0.857. Coupled, traffic should move off the congested
// path (cc_fairness_test.cc works out LIA's equilibrium).
struct CongestionBalancing {
  static constexpr uint64_t kSharedMbit = 10;
  static constexpr uint64_t kFreeMbit = 20;
  static constexpr int64_t kRttMs = 40;
  static constexpr double kQueueBdp = 1.0;
  static constexpr Window kWindow{10, 30};
};

struct CongestionBalancingResult {
  FlowNetworkResult run;
  double free_share = 0;   // of the MPTCP connection's payload, on the free path
  double mptcp_mbps = 0;   // goodput
  double shared_mbps = 0, free_mbps = 0;  // the MPTCP connection's payload per path
  double tcp_mbps[2] = {0, 0};
};

inline FlowNetworkConfig CongestionBalancingConfig(cc::CcAlgorithm a, uint64_t seed) {
  using S = CongestionBalancing;
  FlowNetworkConfig c;
  c.seed = seed;
  c.links = {Bottleneck("shared", S::kSharedMbit, S::kRttMs, S::kQueueBdp),
             Bottleneck("free", S::kFreeMbit, S::kRttMs, S::kQueueBdp)};
  c.flows = {MultipathFlow("mptcp", a, {0, 1}), TcpFlow("tcp1", a, 0), TcpFlow("tcp2", a, 0)};
  SeededStarts(seed, c.flows);
  c.stop = Duration::Seconds(static_cast<int64_t>(S::kWindow.to_s));
  return c;
}

inline CongestionBalancingResult RunCongestionBalancing(cc::CcAlgorithm a, uint64_t seed) {
  CongestionBalancingResult r;
  r.run = FlowNetwork(CongestionBalancingConfig(a, seed)).Run();
  const Timestamp from = AtSecond(CongestionBalancing::kWindow.from_s);
  const Timestamp to = AtSecond(CongestionBalancing::kWindow.to_s);
  const double secs = CongestionBalancing::kWindow.to_s - CongestionBalancing::kWindow.from_s;
  const uint64_t shared = r.run.SubflowBytes(0, 0, from, to);
  const uint64_t free = r.run.SubflowBytes(0, 1, from, to);
  r.free_share = shared + free > 0 ? static_cast<double>(free) / static_cast<double>(shared + free)
                                   : 0;
  r.shared_mbps = static_cast<double>(shared) * 8 / secs / 1e6;
  r.free_mbps = static_cast<double>(free) * 8 / secs / 1e6;
  r.mptcp_mbps = r.run.GoodputMbps(0, from, to);
  for (size_t i = 0; i < 2; ++i) r.tcp_mbps[i] = r.run.GoodputMbps(1 + i, from, to);
  return r;
}

// --- 4. five flows, Jain's index ----------------------------------------------------------

// One 25 Mbit/s bottleneck (RTT 40 ms, queue 1 BDP = 125 kB) shared by five flows: two MPTCP
// connections with two subflows each through it, and three TCP flows. A fair share is
// 5 Mbit/s each. Uncoupled, each subflow takes about one share: 2:2:1:1:1 of 7, Jain
// 49 / 55 = 0.891; a coupled controller that meets goal 2 approaches 1.
struct FiveFlows {
  static constexpr uint64_t kMbit = 25;
  static constexpr int64_t kRttMs = 40;
  static constexpr double kQueueBdp = 1.0;
  static constexpr Window kWindow{10, 30};
  static constexpr size_t kFlows = 5;
  static constexpr size_t kMultipathFlows = 2;
  // The snapshot's seeds: fixed, whatever CONFORMANCE_SEEDS says, so the table is too.
  static constexpr uint64_t kSeeds[] = {1, 2, 3};
};

struct FiveFlowsResult {
  FlowNetworkResult run;
  std::vector<double> mbps;  // per flow: mptcp1, mptcp2, tcp1, tcp2, tcp3
  double jain = 0;
};

inline FlowNetworkConfig FiveFlowsConfig(cc::CcAlgorithm a, uint64_t seed) {
  using S = FiveFlows;
  FlowNetworkConfig c;
  c.seed = seed;
  c.links = {Bottleneck("bottleneck", S::kMbit, S::kRttMs, S::kQueueBdp)};
  c.flows = {MultipathFlow("mptcp1", a, {0, 0}), MultipathFlow("mptcp2", a, {0, 0}),
             TcpFlow("tcp1", a, 0), TcpFlow("tcp2", a, 0), TcpFlow("tcp3", a, 0)};
  SeededStarts(seed, c.flows);
  c.stop = Duration::Seconds(static_cast<int64_t>(S::kWindow.to_s));
  return c;
}

inline FiveFlowsResult RunFiveFlows(cc::CcAlgorithm a, uint64_t seed) {
  FiveFlowsResult r;
  r.run = FlowNetwork(FiveFlowsConfig(a, seed)).Run();
  const Timestamp from = AtSecond(FiveFlows::kWindow.from_s);
  const Timestamp to = AtSecond(FiveFlows::kWindow.to_s);
  for (size_t f = 0; f < FiveFlows::kFlows; ++f) r.mbps.push_back(r.run.GoodputMbps(f, from, to));
  r.jain = JainIndex(r.mbps);
  return r;
}

// One row of the Jain table: a controller over FiveFlows::kSeeds (or the seeds given).
struct JainRow {
  cc::CcAlgorithm algorithm = cc::CcAlgorithm::kNewReno;
  std::vector<double> jain;                // per seed
  std::vector<double> mean_mbps;           // per flow, mean over the seeds
  std::string error;                       // the first failed run's, if any
};

inline JainRow RunJainRow(cc::CcAlgorithm a, std::span<const uint64_t> seeds) {
  JainRow row;
  row.algorithm = a;
  row.mean_mbps.assign(FiveFlows::kFlows, 0);
  for (uint64_t seed : seeds) {
    const FiveFlowsResult r = RunFiveFlows(a, seed);
    if (!r.run.ok && row.error.empty()) row.error = r.run.Describe();
    row.jain.push_back(r.jain);
    for (size_t f = 0; f < FiveFlows::kFlows; ++f) {
      row.mean_mbps[f] += r.mbps[f] / static_cast<double>(seeds.size());
    }
  }
  return row;
}

// The table, deterministically: fixed columns, Jain to 3 decimals, rates to 0.1 Mbit/s. The
// golden file conformance/testdata/cc_jain.txt is this text.
inline std::string FormatJainTable(const std::vector<JainRow>& rows,
                                   std::span<const uint64_t> seeds) {
  using S = FiveFlows;
  std::vector<std::string> seed_names;
  for (uint64_t s : seeds) seed_names.push_back(absl::StrCat(s));
  std::string out = absl::StrFormat(
      "# Jain's fairness index, five flows on one %d Mbit/s bottleneck (RTT %d ms, drop-tail "
      "queue %.0f BDP):\n# mptcp1, mptcp2: MPTCP, 2 subflows each; tcp1-3: one subflow, "
      "uncoupled (NewReno beside lia/olia/balia).\n# Goodput over %.0f-%.0f s, seeds %s; Jain "
      "per seed and their median; Mbit/s: mean over the seeds (a fifth of the link: %.1f).\n",
      S::kMbit, S::kRttMs, S::kQueueBdp, S::kWindow.from_s, S::kWindow.to_s,
      absl::StrJoin(seed_names, ","), static_cast<double>(S::kMbit) / S::kFlows);
  absl::StrAppendFormat(&out, "%-10s %6s  %-20s %7s %7s %7s %7s %7s %9s\n", "controller", "jain",
                        "per seed", "mptcp1", "mptcp2", "tcp1", "tcp2", "tcp3", "mptcp/tcp");
  for (const JainRow& row : rows) {
    std::vector<std::string> per_seed;
    for (double j : row.jain) per_seed.push_back(absl::StrFormat("%.3f", j));
    double mp = 0, tcp = 0;
    for (size_t f = 0; f < S::kFlows; ++f) {
      (f < S::kMultipathFlows ? mp : tcp) += row.mean_mbps[f];
    }
    mp /= S::kMultipathFlows;
    tcp /= S::kFlows - S::kMultipathFlows;
    absl::StrAppendFormat(&out, "%-10s %6.3f  %-20s", std::string(cc::CcAlgorithmName(row.algorithm)),
                          Median(row.jain), absl::StrJoin(per_seed, " "));
    for (double m : row.mean_mbps) absl::StrAppendFormat(&out, " %7.1f", m);
    absl::StrAppendFormat(&out, " %9.2f\n", tcp > 0 ? mp / tcp : 0.0);
  }
  return out;
}

// Every controller of cc::kAllCcAlgorithms (or just `only`), over FiveFlows::kSeeds.
inline std::vector<JainRow> RunJainTable(std::span<const cc::CcAlgorithm> algorithms,
                                         std::span<const uint64_t> seeds) {
  std::vector<JainRow> rows;
  for (cc::CcAlgorithm a : algorithms) rows.push_back(RunJainRow(a, seeds));
  return rows;
}

}  // namespace mptcp::sim::conformance

#endif  // MPTCP_CONFORMANCE_CC_SCENARIOS_H_

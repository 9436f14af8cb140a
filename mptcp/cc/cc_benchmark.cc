// Per-ACK cost of each congestion controller in congestion avoidance, with 1, 2, 4 and 8
// subflows coupled through the test rig's CouplingGroup (the coupled algorithms read every
// sibling's View() on each ACK; the uncoupled ones ignore the group).
//
//   bazel run -c opt //mptcp/cc:cc_benchmark
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "testing/cc_rig.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;
using ::mptcp::cc::testing::RigPath;

void BM_OnAck(benchmark::State& state) {
  const auto algorithm = static_cast<CcAlgorithm>(state.range(0));
  const size_t subflows = static_cast<size_t>(state.range(1));
  std::vector<RigPath> paths;
  for (size_t i = 0; i < subflows; ++i) {
    paths.push_back(RigPath{.rtt = Duration::Millis(static_cast<int64_t>(20 + 10 * i)),
                            .mss = 1448});
  }
  CcRig rig(algorithm, paths);
  for (size_t i = 0; i < subflows; ++i) rig.SetCongestionAvoidance(i, 100 * 1448);
  AckEvent ev;
  ev.bytes_acked = 1448;
  ev.bytes_in_flight = 100 * 1448;
  size_t i = 0;
  for (auto _ : state) {
    // Directly on the controller, so the cost measured is OnAck's (and, when coupled, the
    // group's View() calls it makes), not the rig's bookkeeping.
    ev.rtt = ev.srtt = ev.min_rtt = paths[i].rtt;
    rig.cc(i).OnAck(ev);
    benchmark::DoNotOptimize(rig.cc(i).cwnd());
    if (++i == subflows) i = 0;
    // Keep the windows in the same range however long the run: back to 100 segments.
    if (rig.cwnd(i) > 1000 * 1448) {
      state.PauseTiming();
      rig.SetCongestionAvoidance(i, 100 * 1448);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(CcAlgorithmName(algorithm)));
}

void Args(benchmark::internal::Benchmark* b) {
  for (CcAlgorithm a : kAllCcAlgorithms) {
    for (int n : {1, 2, 4, 8}) b->Args({static_cast<int>(a), n});
  }
  b->ArgNames({"algo", "subflows"});
}
BENCHMARK(BM_OnAck)->Apply(Args);

}  // namespace
}  // namespace mptcp::cc

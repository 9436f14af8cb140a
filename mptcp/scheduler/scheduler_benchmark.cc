// Per-decision cost of each scheduler with 2, 4 and 8 candidate subflows: one Pick and, when it
// picks, the OnScheduled the connection then calls. The fastest subflow is full and the others
// have room, so BLEST and ECF take their estimating path (the most work they do); the window
// alternates between one that makes them wait and one that lets them send, the first with the
// application's last bytes on offer, so that the default takes its end-of-data test too.
//
//   bazel run --config=opt //mptcp/scheduler:scheduler_benchmark
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mptcp/scheduler/factory.h"

namespace mptcp {
namespace {

void BM_Decision(benchmark::State& state) {
  const auto kind = static_cast<SchedulerKind>(state.range(0));
  const size_t n = static_cast<size_t>(state.range(1));
  std::unique_ptr<Scheduler> s = MakeScheduler(kind);
  std::vector<SubflowCandidate> c(n);
  for (size_t i = 0; i < n; ++i) {
    c[i].id = static_cast<SubflowId>(i + 1);
    c[i].srtt = Duration::Millis(static_cast<int64_t>(20 + 10 * i));
    c[i].rttvar = Duration::Millis(5);
    c[i].has_rtt = true;
    c[i].mss = 1420;
    c[i].cwnd = 30 * 1420;
    c[i].in_flight = i == 0 ? c[i].cwnd : 10 * 1420;
    c[i].room = c[i].cwnd - c[i].in_flight;
    c[i].forward_delay = c[i].srtt / 2;
    c[i].delivery_rate = c[i].cwnd / c[i].srtt.seconds();
  }
  const SchedulingContext contexts[2] = {
      {.send_window = 64 * 1024, .window_left = 32 * 1024, .unsent = 1 << 20, .app_limited = true},
      {.send_window = 4 << 20, .window_left = 2 << 20, .unsent = 1 << 20}};
  size_t k = 0;
  for (auto _ : state) {
    const SchedulingContext& ctx = contexts[k++ & 1];
    const std::optional<size_t> pick = s->Pick(c, ctx);
    if (pick) {
      s->OnScheduled(c, ctx, *pick, 1420);
    } else {
      s->OnWaited(c, ctx);
    }
    benchmark::DoNotOptimize(pick);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(SchedulerKindName(kind)));
}

void Args(benchmark::internal::Benchmark* b) {
  for (SchedulerKind k : kAllSchedulerKinds) {
    for (int n : {2, 4, 8}) b->Args({static_cast<int>(k), n});
  }
  b->ArgNames({"sched", "subflows"});
}
BENCHMARK(BM_Decision)->Apply(Args);

}  // namespace
}  // namespace mptcp

#include <gtest/gtest.h>
#include <cstdio>
#include "io/sim/harness.h"

namespace mptcp::sim {
namespace {
constexpr size_t kSize = 2 * 2048 * 4096;
LinkConfig Netem(uint64_t mbit, int64_t delay_ms) {
  LinkConfig l;
  l.bandwidth_bps = mbit * 1'000'000ULL * 1500 / 1514;
  l.delay = Duration::Millis(delay_ms);
  l.queue_bytes = 1000 * 1500;
  return l;
}
void RunCase(uint64_t r1, uint64_t r2, int64_t d1, int64_t d2, size_t cbytes, size_t sbytes, uint64_t seed) {
  HarnessConfig c;
  c.seed = seed;
  c.paths.resize(2);
  c.paths[0].client_ip = IpAddress::V4(10, 0, 1, 1);
  c.paths[1].client_ip = IpAddress::V4(10, 0, 2, 1);
  c.paths[0].server_ip = c.paths[1].server_ip = IpAddress::V4(10, 0, 3, 3);
  c.paths[0].up = c.paths[0].down = Netem(r1, d1);
  c.paths[1].up = c.paths[1].down = Netem(r2, d2);
  c.client_bytes = cbytes;
  c.server_bytes = sbytes;
  Harness h(c);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  double done = std::max((r.client_eof_at - Timestamp::Zero()).seconds(), (r.server_eof_at - Timestamp::Zero()).seconds());
  double limit = kSize * 8.0 / ((r1 + r2) * 1e6) / 0.9 + 0.4;
  std::printf("%llu/%llu %lld/%lld c%zu s%zu: done %.3f closed %.3f limit %.3f frac %.3f steps %llu | p0 up %llu down %llu p1 up %llu down %llu drops %llu\n",
    (unsigned long long)r1, (unsigned long long)r2, (long long)d1, (long long)d2, cbytes, sbytes, done, r.elapsed.seconds(), limit,
    std::max(cbytes, sbytes) * 8.0 / done / ((r1 + r2) * 1e6), (unsigned long long)r.steps,
    (unsigned long long)r.paths[0].payload_bytes[0], (unsigned long long)r.paths[0].payload_bytes[1],
    (unsigned long long)r.paths[1].payload_bytes[0], (unsigned long long)r.paths[1].payload_bytes[1], (unsigned long long)r.drops);
}
TEST(Proto, All) {
  struct C { uint64_t r1, r2; int64_t d1, d2; } cases[] = {{10,10,0,0},{10,10,1,50},{30,10,0,0},{30,10,1,50},{30,10,50,1}};
  for (auto cs : cases) {
    RunCase(cs.r1, cs.r2, cs.d1, cs.d2, 80*1024, kSize, 1);
    RunCase(cs.r1, cs.r2, cs.d1, cs.d2, kSize, 80*1024, 1);
    RunCase(cs.r1, cs.r2, cs.d1, cs.d2, kSize, kSize, 1);
  }
}
}
}

// The soak (issue 14): every seed draws its own network and transfer, and every run must be
// byte-exact both ways, close cleanly without falling back, and keep each connection's buffers
// within what its configuration allows, whatever the transfer's size (memory flat). Per seed:
// one to three paths, each 5-100 Mbit/s with a one-way delay of 0-49 ms, random loss of
// 0.01-1 % (log-uniform; 5 % in the stress variant), packets held back and overtaken (0-2 %,
// 1-5 ms), a drop-tail queue of 1000 packets and, on a third of the paths, a middlebox that
// re-cuts every segment into pieces of 300-1400 bytes (Segmenter, options copied as TSO does);
// 256 KiB-8 MiB each way at once (log-uniform). CI runs a few seeds (testing/seeds.h,
// CONFORMANCE family); the 1,000-seed record is in docs/testing.md, with its command.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/sim/harness.h"
#include "io/sim/link.h"
#include "io/sim/middlebox.h"
#include "mptcp/config.h"
#include "mptcp/connection.h"
#include "mptcp/random.h"
#include "mptcp/time.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {
namespace {

using ::mptcp::testing::Replay;
using ::mptcp::testing::SeedSpec;

constexpr SeedSpec kSeeds{"CONFORMANCE", 10, 3};

// Random's own draws (UniformDouble, Uniform), spread over [lo, hi).
double Between(Random& rng, double lo, double hi) { return lo + (hi - lo) * rng.UniformDouble(); }
double LogBetween(Random& rng, double lo, double hi) {
  return std::exp(Between(rng, std::log(lo), std::log(hi)));
}

struct SoakRun {
  HarnessConfig cfg;
  std::string network;  // what the seed drew, for the log line
};

SoakRun Draw(uint64_t seed, bool stress) {
  Random rng(seed * 0x9E3779B97F4A7C15ull + (stress ? 1 : 0));
  SoakRun run;
  HarnessConfig& c = run.cfg;
  c.seed = seed;
  const size_t paths = 1 + rng.Uniform(3);
  for (size_t i = 0; i < paths; ++i) {
    LinkConfig link;
    link.bandwidth_bps = static_cast<uint64_t>(Between(rng, 5, 100)) * 1'000'000;
    link.delay = Duration::Millis(static_cast<int64_t>(rng.Uniform(50)));
    link.loss = stress ? 0.05 : LogBetween(rng, 1e-4, 1e-2);
    link.reorder = Between(rng, 0, 0.02);
    link.reorder_delay = Duration::Millis(1 + static_cast<int64_t>(rng.Uniform(5)));
    link.queue_bytes = 1000 * 1500;
    PathConfig p = DocumentationPaths(i + 1, link)[i];
    const auto piece = static_cast<uint16_t>(rng.Uniform(3) == 0 ? 300 + rng.Uniform(1101) : 0);
    if (piece != 0) {
      p.middlebox = [piece](Simulator& sim) {
        return std::make_unique<Segmenter>(sim, SegmenterConfig{piece, Directions::kBoth});
      };
    }
    c.paths.push_back(p);
    absl::StrAppendFormat(&run.network, "%s[%u Mbit/s %lld ms loss %.3f%% reorder %.2f%%%s]",
                          i == 0 ? "" : " ", link.bandwidth_bps / 1'000'000,
                          static_cast<long long>(link.delay.nanos() / 1'000'000),
                          link.loss * 100, link.reorder * 100,
                          piece != 0 ? absl::StrCat(" pieces ", piece).c_str() : "");
  }
  c.client_bytes = static_cast<size_t>(LogBetween(rng, 256 << 10, 8 << 20));
  c.server_bytes = static_cast<size_t>(LogBetween(rng, 256 << 10, 8 << 20));
  c.close_at = HarnessConfig::CloseAt::kWrittenNow;
  c.until_finished = true;
  c.deadline = Duration::Seconds(stress ? 3600 : 900);
  c.stall_timeout = Duration::Seconds(120);
  return run;
}

// What the configuration allows a connection's buffers to hold at most: its own send and
// receive buffers (the latter with the window-scale slack) and every subflow's, as the
// connection raises them (ConnectionParams: a subflow may hold the whole shared window).
size_t BufferBound(const ConnectionConfig& c, size_t subflows) {
  const ConnectionParams p(c);
  return c.send_buffer + c.recv_buffer + p.recv_slack +
         subflows * (p.mptcp_subflow.send_buffer + p.mptcp_subflow.recv_buffer);
}

void Soak(bool stress) {
  size_t runs = 0, exact = 0;
  double worst_buffer_fraction = 0;
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    const SoakRun run = Draw(seed, stress);
    Harness h(run.cfg);
    const HarnessResult r = h.Run();
    ++runs;
    const size_t n = run.cfg.paths.size();
    const size_t client_bound = BufferBound(run.cfg.client.connection, n);
    const size_t server_bound = BufferBound(run.cfg.server.connection, n);
    EXPECT_TRUE(r.ok) << run.network << ": " << r.Describe();
    EXPECT_FALSE(r.client_fell_back || r.server_fell_back) << run.network;
    EXPECT_EQ(r.server_read, run.cfg.client_bytes) << run.network;
    EXPECT_EQ(r.client_read, run.cfg.server_bytes) << run.network;
    EXPECT_LE(r.max_client_buffer_bytes, client_bound) << run.network;
    EXPECT_LE(r.max_server_buffer_bytes, server_bound) << run.network;
    const bool ok = r.ok && r.server_read == run.cfg.client_bytes &&
                    r.client_read == run.cfg.server_bytes;
    exact += ok;
    const double fraction =
        std::max(static_cast<double>(r.max_client_buffer_bytes) / client_bound,
                 static_cast<double>(r.max_server_buffer_bytes) / server_bound);
    worst_buffer_fraction = std::max(worst_buffer_fraction, fraction);
    std::printf("soak%s seed %llu: %s, %zu + %zu bytes: %s in %.2f s, buffers at most %.0f %% "
                "of their bound\n",
                stress ? " stress" : "", static_cast<unsigned long long>(seed),
                run.network.c_str(), run.cfg.client_bytes, run.cfg.server_bytes,
                ok ? "exact" : "FAILED", r.elapsed.seconds(), fraction * 100);
  }
  std::printf("soak%s: %zu runs, %zu byte-exact; buffers at most %.0f %% of their bound\n",
              stress ? " stress" : "", runs, exact, worst_buffer_fraction * 100);
}

TEST(SoakTest, RandomNetworksAreByteExactWithBoundedMemory) { Soak(false); }

TEST(SoakTest, FivePercentLossStress) { Soak(true); }

}  // namespace
}  // namespace mptcp::sim::conformance

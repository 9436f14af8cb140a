// mptcp_trace's analysis on our own stack: a three-path transfer both ways on the simulator
// (io/sim/harness.h), captured at the client end by the harness' pcap taps and analysed. The
// analysis must see one connection, three subflows (two MP_JOINs, each HMAC verified), the
// payload bytes per subflow and direction that the harness' meters counted at the same point,
// and no findings. A second run loses packets, so that data is reinjected or retransmitted:
// the byte counts still match and the checks still hold.
#include <cstdint>
#include <span>
#include <string>

#include "gtest/gtest.h"
#include "io/sim/harness.h"
#include "tools/trace/analyzer.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"
#include "tools/trace/run.h"

namespace mptcp::trace {
namespace {

constexpr size_t kBytes = 1 << 20;

void CheckRun(const sim::HarnessConfig& cfg) {
  sim::Harness h(cfg);
  const sim::HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  ASSERT_FALSE(r.pcap.empty());
  auto reader = CaptureReader::FromBytes(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(r.pcap.data()), r.pcap.size()));
  ASSERT_TRUE(reader.ok()) << reader.status();
  Analyzer analyzer;
  const RunResult run = AnalyzeCapture(**reader, analyzer);
  ASSERT_TRUE(run.read_status.ok()) << run.read_status;
  const TraceSummary& s = run.summary;
  InputInfo info;
  info.path = "sim";
  info.format = "pcap";
  const std::string text = TextReport(info, s);
  EXPECT_TRUE(s.findings.empty()) << text;
  EXPECT_EQ(s.malformed_frames, 0u) << text;
  ASSERT_EQ(s.connections.size(), 1u) << text;
  const ConnectionSummary& c = s.connections[0];
  EXPECT_FALSE(c.fallback) << text;
  ASSERT_EQ(c.subflows.size(), cfg.paths.size()) << text;
  EXPECT_EQ(c.join_syns, cfg.paths.size() - 1) << text;
  EXPECT_EQ(c.join_acks, cfg.paths.size() - 1) << text;
  EXPECT_EQ(c.key[0].has_value() && c.key[1].has_value(), true) << text;
  EXPECT_TRUE(c.data_fin[0].has_value() && c.data_fin[1].has_value()) << text;
  if (c.data_fin[0]) {
    EXPECT_EQ(*c.data_fin[0], kBytes) << text;
  }
  for (const SubflowSummary& f : c.subflows) {
    if (f.join) {
      EXPECT_EQ(f.hmac, "ok") << text;
    }
    EXPECT_TRUE(f.established) << text;
    // Path i is client 192.0.2.(1+i): the tap sits where the meter counts.
    const size_t path = f.initiator.ip.data()[3] - 1u;
    ASSERT_LT(path, r.paths.size());
    EXPECT_EQ(f.payload_bytes[0], r.paths[path].payload_bytes[0]) << "path " << path << "\n"
                                                                  << text << r.Describe();
    EXPECT_EQ(f.payload_bytes[1], r.paths[path].payload_bytes[1]) << "path " << path << "\n"
                                                                  << text;
  }
  EXPECT_GE(c.payload_bytes(0), kBytes);
  EXPECT_GE(c.payload_bytes(1), kBytes);
  EXPECT_GT(analyzer.points().size(), 2 * kBytes / 1460);
}

sim::HarnessConfig Config(uint64_t seed, double loss) {
  sim::LinkConfig link;
  link.bandwidth_bps = 20'000'000;
  link.delay = Duration::Millis(10);
  link.queue_bytes = 128 << 10;
  link.loss = loss;
  sim::HarnessConfig cfg = sim::BothWaysBulkConfig(sim::DocumentationPaths(3, link), kBytes, seed);
  cfg.capture = true;
  return cfg;
}

TEST(SimTraceTest, ThreePathsBothWays) { CheckRun(Config(1, 0)); }

TEST(SimTraceTest, ThreePathsWithLoss) { CheckRun(Config(2, 0.01)); }

}  // namespace
}  // namespace mptcp::trace

// Scenario runs: the demo's claims (Wi-Fi carries the stream until it fails, the 3G backup
// carries it while Wi-Fi is down, every byte arrives, and over Wi-Fi alone the same stream
// stalls), determinism of the CSV and SVG, a media stream a path cannot sustain (stalls), bulk
// transfers both ways, rate changes, a run that reaches its duration first, and baselines.
#include "tools/sim/runner.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/demo_scenario.h"
#include "tools/sim/report.h"
#include "tools/sim/scenario.h"

namespace mptcp::tools {
namespace {

using nlohmann::json;

Scenario Demo() {
  absl::StatusOr<Scenario> s = ParseScenario(kDemoScenarioJson, "demo", "demo");
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

Scenario FromJson(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenario(text, "test", "test");
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

double Secs(Timestamp t) { return (t - Timestamp::Zero()).seconds(); }

// The demo's claims, asserted on its CSV rows (README.md describes this run).
TEST(RunnerTest, DemoWifiFailsAnd3gCarriesTheStream) {
  const Scenario s = Demo();
  const RunReport r = RunScenario(s);
  ASSERT_TRUE(r.ok) << r.error << "\n" << FormatTable(r);
  // Delivered byte-exact (the harness checks every byte) and closed cleanly.
  EXPECT_TRUE(r.complete) << FormatSummary(r);
  EXPECT_EQ(r.delivered, 7'000'000u);
  EXPECT_EQ(r.result.client_read, 7'000'000u);

  // The CSV: run,time_s,path,subflow,state,throughput_mbps,cwnd_bytes,srtt_ms,bytes,
  // goodput_mbps,buffer_s,stalled_s; the run over all paths, then Wi-Fi alone.
  const std::string csv = FormatCsv(r);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 3u * 25);
  EXPECT_EQ(lines[0],
            "run,time_s,path,subflow,state,throughput_mbps,cwnd_bytes,srtt_ms,bytes,goodput_mbps,"
            "buffer_s,stalled_s");
  const double per_second = s.app.bitrate_mbps;  // Mbit/s
  double g3_before = 0, g3_down = 0, wifi_down = 0, wifi_before = 0, wifi_after = 0;
  double stalled = 0, baseline_stalled = 0, baseline_down = 0;
  int rows = 0, baseline_rows = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), 12u) << lines[i];
    const double t = std::stod(f[1]);
    const double mbps = std::stod(f[5]);
    if (f[0] == "wifi only") {
      ASSERT_EQ(f[2], "wifi") << lines[i];
      ++baseline_rows;
      baseline_stalled += std::stod(f[11]);
      if (t > 10 && t <= 20) baseline_down += mbps;
      continue;
    }
    ASSERT_EQ(f[0], "all paths") << lines[i];
    stalled += std::stod(f[11]);
    ++rows;
    if (f[2] == "wifi") {
      EXPECT_EQ(f[3], "1") << lines[i];  // the initial subflow
      if (t <= 10) wifi_before += mbps;
      // Wi-Fi is down over (10, 20] and its subflow notices the return at its next RTO.
      if (t > 10 && t <= 20) {
        wifi_down += mbps;
        EXPECT_EQ(mbps, 0) << lines[i];
      }
      if (t > 24) wifi_after += mbps;
    } else {
      ASSERT_EQ(f[2], "3g");
      EXPECT_EQ(f[3], "2") << lines[i];
      if (t <= 10) g3_before += mbps;
      if (t > 10 && t <= 20) g3_down += mbps;
    }
  }
  EXPECT_EQ(rows, 2 * static_cast<int>(r.rows.size()));
  ASSERT_NE(r.baseline, nullptr);
  EXPECT_EQ(baseline_rows, static_cast<int>(r.baseline->rows.size()));
  // Before the failure Wi-Fi carries the stream and the 3G backup carries nothing.
  EXPECT_NEAR(wifi_before, 10 * per_second, 0.1 * per_second);
  EXPECT_EQ(g3_before, 0);
  // While Wi-Fi is down, 3G carries (nearly) the whole stream: 10 s at the bitrate, less the
  // time the server takes to give up on the Wi-Fi subflow (two RTOs), plus catching up.
  EXPECT_EQ(wifi_down, 0);
  EXPECT_GT(g3_down, 0.85 * 10 * per_second) << FormatTable(r);
  // And Wi-Fi takes over again once it is back.
  EXPECT_GT(wifi_after, 3 * per_second * 0.9) << FormatTable(r);
  // README.md says the default demo plays without a stall; if a change to the core alters
  // that, update the demo's paragraph there (or the scenario) rather than this number alone.
  EXPECT_EQ(r.player.stalls.size(), 0u) << FormatSummary(r);
  EXPECT_EQ(stalled, 0);
  ASSERT_TRUE(r.player.finished_s.has_value());
  EXPECT_NEAR(*r.player.finished_s, *r.player.startup_s + s.app.length_s, 1e-6);

  // Over Wi-Fi alone the same stream stalls for most of the outage: its buffer (2.2 s) runs
  // out at about 12 s and refills only once the subflow retransmits after Wi-Fi is back.
  // README.md's Quickstart says "stalls for 11 s"; keep the two in step.
  const RunReport& b = *r.baseline;
  EXPECT_TRUE(b.complete) << FormatSummary(b);
  EXPECT_EQ(b.scenario.paths.size(), 1u);
  EXPECT_EQ(baseline_down, 0);
  ASSERT_EQ(b.player.stalls.size(), 1u) << FormatSummary(b);
  EXPECT_NEAR(b.player.stalls[0].start_s, 10 + 2.2, 0.5);
  EXPECT_GT(b.player.stalls[0].end_s, 20);
  EXPECT_NEAR(b.player.total_stall_s, 11, 1) << FormatSummary(b);
  EXPECT_NEAR(baseline_stalled, b.player.total_stall_s, 0.01);
  const std::string summary = FormatSummary(r);
  EXPECT_NE(summary.find("compared with wifi only (one subflow, as single-path TCP): playback "
                         "started at"),
            std::string::npos)
      << summary;
  // The table shows both players, the baseline's stall marked.
  const std::string table = FormatTable(r);
  EXPECT_NE(table.find("player (wifi only)"), std::string::npos) << table;
  EXPECT_NE(table.find("STALL 1.00s"), std::string::npos) << table;
  EXPECT_NE(table.find(" 10-11 |"), std::string::npos) << table;
}

TEST(RunnerTest, SinglePathScenarioKeepsThatPathAndItsEvents) {
  const Scenario s = Demo();
  const Scenario one = SinglePathScenario(s, 1);
  ASSERT_EQ(one.paths.size(), 1u);
  EXPECT_EQ(one.paths[0].name, "3g");
  EXPECT_FALSE(one.paths[0].backup);
  EXPECT_TRUE(one.events.empty());  // both are Wi-Fi's
  EXPECT_FALSE(one.baseline_path.has_value());
  EXPECT_EQ(one.output.pcap, "");
  const Scenario wifi = SinglePathScenario(s, 0);
  ASSERT_EQ(wifi.events.size(), 2u);
  EXPECT_EQ(wifi.events[1].path, 0u);
  EXPECT_EQ(wifi.events[1].action, EventAction::kUp);
  EXPECT_EQ(wifi.app.StreamBytes(), s.app.StreamBytes());
}

TEST(RunnerTest, SameSeedSameCsvAndSvg) {
  Scenario s = Demo();
  const RunReport a = RunScenario(s);
  const RunReport b = RunScenario(s);
  EXPECT_TRUE(FormatCsv(a) == FormatCsv(b));
  EXPECT_TRUE(RenderSvg(a) == RenderSvg(b));
  EXPECT_TRUE(FormatTable(a) == FormatTable(b));
  s.seed = 2;
  const RunReport c = RunScenario(s);
  EXPECT_FALSE(FormatCsv(a) == FormatCsv(c));
}

TEST(RunnerTest, AStreamThePathCannotCarryStalls) {
  const Scenario s = FromJson(R"({
    "seed": 5, "duration_s": 30,
    "paths": [{"name": "3g", "rate_mbps": 3, "delay_ms": 60, "queue_bytes": 131072}],
    "app": {"type": "media", "bitrate_mbps": 4, "length_s": 8, "startup_s": 2}
  })");
  const RunReport r = RunScenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.complete) << FormatSummary(r);
  ASSERT_GE(r.player.stalls.size(), 1u) << FormatSummary(r);
  // 32 Mbit at under 3 Mbit/s takes over 10.7 s; 8 s of media with 2 s of start-up needs
  // at least 0.7 s of stalls.
  EXPECT_GT(r.player.total_stall_s, 0.7);
  double stalled = 0;
  for (const Row& row : r.rows) stalled += row.stalled_s;
  EXPECT_NEAR(stalled, r.player.total_stall_s, 1e-6);
  EXPECT_NE(FormatTable(r).find("STALL"), std::string::npos);
  EXPECT_NE(RenderSvg(r).find(">stall</text>"), std::string::npos);
}

// A fast path fails and returns while a much slower one (0.5 Mbit/s, about a second of
// queue) holds part of the stream: once the fast path is back, the data stuck on the slow one
// is resent on it (opportunistic retransmission while the sender is application-limited), so
// the player stalls no longer than over the fast path alone. Without that, multipath stalled
// 4.5 s here against 2.5 s for single-path TCP. Where the fast subflow's next backed-off RTO
// falls against the return moves both figures, so the return is tried at three times. Met on
// each since spurious timeouts are undone and a subflow keeps 1,024 out-of-order ranges
// (2026-12-03; returns at 6.6-7.6 s: 2.22-3.18 s stalled against 2.85-6.08 s for single-path
// TCP); before, this was a known miss (4.50 s against 2.85 s at 7 s).
TEST(RunnerTest, DataStuckOnASlowPathDoesNotOutlastTheFastPath) {
  for (const char* up : {"6.6", "7", "7.4"}) {
    SCOPED_TRACE(absl::StrCat("path a back at ", up, " s"));
    const Scenario s = FromJson(absl::StrCat(R"({
      "seed": 1, "duration_s": 30,
      "paths": [{"name": "a", "rate_mbps": 3}, {"name": "b", "rate_mbps": 0.5, "delay_ms": 150}],
      "events": [{"at_s": 4, "path": "a", "action": "down"},
                 {"at_s": )", up, R"(, "path": "a", "action": "up"}],
      "app": {"type": "media", "bitrate_mbps": 2, "length_s": 20},
      "baseline_path": "a"
    })"));
    const RunReport r = RunScenario(s);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.complete) << FormatSummary(r);
    ASSERT_NE(r.baseline, nullptr);
    ASSERT_TRUE(r.baseline->complete) << FormatSummary(*r.baseline);
    EXPECT_GT(r.baseline->player.total_stall_s, 1.0) << "the outage must hurt single-path TCP";
    EXPECT_LE(r.player.total_stall_s, r.baseline->player.total_stall_s)
        << FormatTable(r) << FormatSummary(r);
  }
}

TEST(RunnerTest, BulkDownloadAndUploadUseBothPaths) {
  for (const char* dir : {"download", "upload"}) {
    SCOPED_TRACE(dir);
    const Scenario s = FromJson(absl::StrCat(R"({
      "paths": [{"name": "a", "rate_mbps": 30, "delay_ms": 10},
                {"name": "b", "rate_mbps": 10, "delay_ms": 20}],
      "app": {"type": "bulk", "bytes": 4194304, "direction": ")",
                                             dir, R"("}})"));
    const RunReport r = RunScenario(s);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.delivered, 4u << 20);
    ASSERT_FALSE(r.rows.empty());
    const Row& last = r.rows.back();
    // Both paths carried a real share of the data, in the data direction.
    EXPECT_GT(last.paths[0].bytes, 1u << 20);
    EXPECT_GT(last.paths[1].bytes, 256u << 10);
    EXPECT_GE(last.paths[0].bytes + last.paths[1].bytes, 4u << 20);
    EXPECT_EQ(last.delivered, 4u << 20);
    EXPECT_GT(last.paths[0].cwnd, 0u);
    EXPECT_GT(last.paths[1].srtt_ms, 40.0);  // 2 x 20 ms
    // 4 MiB over 40 Mbit/s: about a second; rows are whole seconds.
    EXPECT_LT(r.end_s, 3.0);
    EXPECT_EQ(r.table_end_s, std::ceil(r.end_s));
  }
}

TEST(RunnerTest, ABulkBaselineTakesLonger) {
  const Scenario s = FromJson(R"({
    "paths": [{"name": "a", "rate_mbps": 30, "delay_ms": 10},
              {"name": "b", "rate_mbps": 10, "delay_ms": 20}],
    "app": {"type": "bulk", "bytes": 16777216},
    "baseline_path": "a"
  })");
  const RunReport r = RunScenario(s);
  ASSERT_TRUE(r.complete) << FormatSummary(r);
  ASSERT_NE(r.baseline, nullptr);
  ASSERT_TRUE(r.baseline->complete) << FormatSummary(*r.baseline);
  EXPECT_EQ(r.baseline->baseline, nullptr);
  EXPECT_EQ(r.baseline->scenario.name, "test-a-only");
  // 16 MiB at 40 Mbit/s against 30: the single path takes longer. (Over 4 MiB with these
  // 64 KiB queues it does not, since single-path TCP detects lost retransmissions (RFC 8985):
  // the slow path's losses hold DATA_ACK back in slow start; a scheduling matter.)
  EXPECT_GT(r.baseline->end_s, r.end_s * 1.1) << FormatSummary(r);
  const std::string csv = FormatCsv(r);
  EXPECT_NE(csv.find("\nall paths,1.000,b,2,active,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\na only,1.000,a,1,active,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("\na only,1.000,b"), std::string::npos) << csv;
  EXPECT_NE(FormatSummary(r).find("compared with a only (one subflow, as single-path TCP): "
                                  "delivered all in "),
            std::string::npos);
  EXPECT_NE(RenderSvg(r).find("(a only: "), std::string::npos);
}

TEST(RunnerTest, RateChangesApplyAtTheirTime) {
  const Scenario s = FromJson(R"({
    "paths": [{"name": "a", "rate_mbps": 10, "delay_ms": 5, "queue_bytes": 30000}],
    "events": [{"at_s": 3, "path": "a", "action": "set", "downlink": {"rate_mbps": 2}}],
    "duration_s": 6,
    "app": {"type": "bulk", "bytes": 100000000}
  })");
  const RunReport r = RunScenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  // The run reaches its duration first: no failure, not complete, rows up to 6 s.
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.end_s, 6.0);
  ASSERT_EQ(r.rows.size(), 6u);
  EXPECT_EQ(Secs(r.rows.back().end), 6.0);
  EXPECT_NEAR(r.rows[2].paths[0].throughput_mbps, 9.5, 0.6);  // [2, 3): 10 Mbit/s of IP
  EXPECT_NEAR(r.rows[4].paths[0].throughput_mbps, 1.9, 0.2);  // [4, 5): 2 Mbit/s
  EXPECT_NE(FormatSummary(r).find("reached duration_s first"), std::string::npos);
}

// Reordering is not loss: 2 % of packets held 3 ms (overtaken by about five) from 0.5 s on,
// set by an event. A fixed duplicate threshold of 3 made each a spurious fast retransmit and
// halved cwnd (8 MiB took 18.8 s where the same path without reordering takes 3.7 s); undone
// by the late original's echoed timestamp (RFC 3522) and learnt as DupThresh, it costs
// next to nothing.
TEST(RunnerTest, ReorderingIsNotLoss) {
  const auto run = [](double reorder) {
    return RunScenario(FromJson(absl::StrCat(R"({
      "paths": [{"name": "a", "rate_mbps": 20, "delay_ms": 20, "queue_bytes": 200000}],
      "events": [{"at_s": 0.5, "path": "a", "action": "set", "reorder": )",
                                             reorder, R"(, "reorder_delay_ms": 3}],
      "app": {"type": "bulk", "bytes": 8388608}
    })")));
  };
  const RunReport clean = run(0);
  const RunReport reordered = run(0.02);
  ASSERT_TRUE(clean.complete) << FormatSummary(clean);
  ASSERT_TRUE(reordered.complete) << FormatSummary(reordered);
  EXPECT_EQ(clean.result.paths[0].down.reordered, 0u);
  EXPECT_GT(reordered.result.paths[0].down.reordered, 80u);
  EXPECT_LT(reordered.end_s, clean.end_s * 1.1) << FormatSummary(reordered);
  const tcp::TcpMib& mib = reordered.result.server_tcp;
  EXPECT_GT(mib.partial_undo + mib.full_undo, 0u);
  EXPECT_LT(mib.fast_retrans, 10u) << "the threshold was learnt";
}

TEST(RunnerTest, DownIntervalsFromEvents) {
  const Scenario s = FromJson(R"({
    "paths": [{"name": "a", "rate_mbps": 10}, {"name": "b", "rate_mbps": 10}],
    "events": [{"at_s": 5, "path": "b", "action": "up"},
               {"at_s": 2, "path": "b", "action": "down"},
               {"at_s": 7, "path": "a", "action": "down"}],
    "app": {"type": "bulk", "bytes": 1000}
  })");
  const auto down = runner_internal::DownIntervals(s, 9);
  ASSERT_EQ(down.size(), 2u);
  ASSERT_EQ(down[0].size(), 1u);
  EXPECT_EQ(down[0][0].start_s, 7);
  EXPECT_EQ(down[0][0].end_s, 9);
  ASSERT_EQ(down[1].size(), 1u);
  EXPECT_EQ(down[1][0].start_s, 2);
  EXPECT_EQ(down[1][0].end_s, 5);
}

TEST(RunnerTest, SvgIsWellFormedEnough) {
  const RunReport r = RunScenario(Demo());
  const std::string svg = RenderSvg(r);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // A line per path, the legend's names, the shaded Wi-Fi outage.
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    ++polylines;
  }
  // wifi and 3g throughput, their subflows' cwnd (both exist from their first second to the
  // end, so one line each), and the two runs' buffers.
  EXPECT_EQ(polylines, 6u);
  EXPECT_NE(svg.find(">wifi down</text>"), std::string::npos);
  EXPECT_NE(svg.find(">3g (backup)</text>"), std::string::npos);
  // Axis titles, the playback lanes and their stall totals.
  EXPECT_NE(svg.find(">throughput (Mbit/s)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">cwnd (KB)</text>"), std::string::npos);
  EXPECT_NE(svg.find("sending subflow (cubic)"), std::string::npos);
  EXPECT_NE(svg.find(">simulated time (s)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">all paths</text>"), std::string::npos);
  EXPECT_NE(svg.find(">wifi only</text>"), std::string::npos);
  EXPECT_NE(svg.find(">no stall</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1 stall, 1"), std::string::npos);  // the baseline's, about 11 s

  // Every tag opened is closed: count '<' against '>' (no text holds either).
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<'), std::count(svg.begin(), svg.end(), '>'));
}

}  // namespace
}  // namespace mptcp::tools

// mptcp_sim end to end, as a user runs it: the demo without arguments, identical CSV, SVG and
// pcap bytes for the same seed, the shipped demo file equal to the built-in one, every shipped
// scenario valid, scenarios from flags, and bad scenarios and flags rejected with exit status 2
// and a message naming the field.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mptcp/scheduler/factory.h"
#include "testing/tool_test.h"
#include "tools/demo_scenario.h"

namespace mptcp::tools {
namespace {

namespace fs = std::filesystem;

using Result = ::mptcp::testing::ToolResult;
using ::mptcp::testing::SlurpFile;

class MptcpSimTest : public ::mptcp::testing::ToolTest {
 protected:
  MptcpSimTest() : ToolTest("tools/mptcp_sim") {}

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

};

TEST_F(MptcpSimTest, DemoRunsWithoutArguments) {
  const Result r = Run("");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("scenario demo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wifi down"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("playback: started at"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delivered 7000000 of 7000000 bytes, byte-exact"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("compared with wifi only (one subflow, as single-path TCP): playback "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("wrote out/demo.csv, out/demo.svg\n"), std::string::npos) << r.out;
  // Not a terminal: periodic progress lines, then the speed.
  EXPECT_NE(r.err.find("[sim "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_NE(r.err.find("of wall time"), std::string::npos) << r.err;
  const std::string csv = SlurpFile(dir_ / "out/demo.csv");
  EXPECT_EQ(csv.rfind("run,time_s,path,subflow,state,throughput_mbps,cwnd_bytes,srtt_ms,bytes,"
                      "goodput_mbps,buffer_s,stalled_s\n",
                      0),
            0u);
  EXPECT_GT(csv.size(), 1000u);
  EXPECT_EQ(SlurpFile(dir_ / "out/demo.svg").rfind("<svg ", 0), 0u);
}

TEST_F(MptcpSimTest, SameSeedSameBytes) {
  const std::string flags = "--quiet --pcap=run.pcap --csv=run.csv --svg=run.svg";
  ASSERT_EQ(Run(flags).code, 0);
  const std::string csv = SlurpFile(dir_ / "run.csv"), svg = SlurpFile(dir_ / "run.svg"),
                    pcap = SlurpFile(dir_ / "run.pcap");
  EXPECT_GT(pcap.size(), 7'000'000u);  // the stream and its headers
  ASSERT_EQ(Run(flags).code, 0);
  EXPECT_TRUE(csv == SlurpFile(dir_ / "run.csv"));
  EXPECT_TRUE(svg == SlurpFile(dir_ / "run.svg"));
  EXPECT_TRUE(pcap == SlurpFile(dir_ / "run.pcap"));
  // Another seed, other bytes.
  ASSERT_EQ(Run(flags + " --seed=2").code, 0);
  EXPECT_FALSE(csv == SlurpFile(dir_ / "run.csv"));
}

TEST_F(MptcpSimTest, ShippedDemoFileIsTheBuiltInOne) {
  const fs::path file = fs::absolute("tools/scenarios/demo.json");
  EXPECT_EQ(SlurpFile(file), std::string(kDemoScenarioJson));
  ASSERT_EQ(Run(absl::StrCat("--quiet --scenario='", file.string(), "' --csv=a.csv --svg=a.svg"))
                .code,
            0);
  ASSERT_EQ(Run("--quiet --csv=b.csv --svg=b.svg").code, 0);
  EXPECT_TRUE(SlurpFile(dir_ / "a.csv") == SlurpFile(dir_ / "b.csv"));
  const Result p = Run("--print-demo");
  EXPECT_EQ(p.code, 0);
  EXPECT_EQ(p.out, std::string(kDemoScenarioJson));
}

TEST_F(MptcpSimTest, ScenarioFromFlags) {
  const Result r = Run(
      "--quiet --path name=a,rate_mbps=30,delay_ms=10 --path=name=b,rate_mbps=10,delay_ms=20 "
      "--app type=bulk,bytes=2097152 --duration 20");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("delivered 2097152 of 2097152 bytes, byte-exact"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("scenario sim\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("path a "), std::string::npos) << r.out;
  // Not the demo any more: none of its description, its baseline or its file names.
  EXPECT_EQ(r.out.find("Wi-Fi"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("compared with"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "out/sim.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "out/sim.svg"));
  EXPECT_FALSE(fs::exists(dir_ / "out/demo.csv"));

  // A baseline from the flags: the same transfer over path a alone.
  const Result b = Run("--quiet --path name=a,rate_mbps=30 --path name=b,rate_mbps=10 "
                       "--app type=bulk,bytes=1048576 --baseline=a");
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("compared with a only (one subflow, as single-path TCP): delivered all "
                       "in "),
            std::string::npos)
      << b.out;
  EXPECT_NE(SlurpFile(dir_ / "out/sim.csv").find("\na only,"), std::string::npos);
  // And none for the demo.
  const Result n = Run("--quiet --baseline=none --csv=n.csv --svg=n.svg");
  ASSERT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(n.out.find("compared with"), std::string::npos) << n.out;
  EXPECT_EQ(SlurpFile(dir_ / "n.csv").find("wifi only"), std::string::npos);
}

TEST_F(MptcpSimTest, EveryShippedScenarioChecksOut) {
  size_t n = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::absolute("tools/scenarios"))) {
    if (e.path().extension() != ".json") continue;
    ++n;
    const Result r = Run(absl::StrCat("--check --scenario='", e.path().string(), "'"));
    EXPECT_EQ(r.code, 0) << e.path() << "\n" << r.err;
    EXPECT_NE(r.out.find(absl::StrCat("scenario ", e.path().stem().string(), "\n")),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("wrote"), std::string::npos);  // checked, not run
  }
  EXPECT_GE(n, 2u);  // demo.json, unbalanced_bwidth.json
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(MptcpSimTest, BadScenariosExitTwoNamingTheField) {
  Write("bad.json", R"({
    "paths": [{"name": "wifi", "rate_mbps": 20}, {"name": "3g", "rate_mbps": -3}],
    "app": {"type": "bulk", "bytes": 1000}
  })");
  Result r = Run("--scenario bad.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: bad.json: paths[1].rate_mbps: expected a positive number\n");
  EXPECT_EQ(r.out, "");

  Write("typo.json", R"({"paths": [{"rate_mbps": 1, "dealy_ms": 5}], "app": {"type": "bulk",
                         "bytes": 1}})");
  r = Run("--scenario typo.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: typo.json: paths[0].dealy_ms: unknown field (did you mean "
            "\"delay_ms\"?)\n");

  Write("syntax.json", "{\"seed\": 1,,}");
  r = Run("--scenario syntax.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("mptcp_sim: syntax.json: parse error at line 1, column 12:", 0), 0u)
      << r.err;

  r = Run("--scenario missing.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: missing.json: cannot read\n");

  Write("event.json", R"({"paths": [{"name": "wifi", "rate_mbps": 20}],
                         "events": [{"at_s": 5, "path": "wifi", "action": "dwn"}],
                         "app": {"type": "media", "bitrate_mbps": 1, "length_s": 3}})");
  r = Run("--check --scenario event.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: event.json: events[0].action: expected one of \"down\", \"up\", "
            "\"set\"\n");

  Write("baseline.json", R"({"paths": [{"name": "wifi", "rate_mbps": 20}],
                            "app": {"type": "bulk", "bytes": 1000}, "baseline_path": "lte"})");
  r = Run("--scenario baseline.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: baseline.json: baseline_path: no path named \"lte\" (the paths are "
            "\"wifi\")\n");
}

TEST_F(MptcpSimTest, BadFlagsExitTwo) {
  Result r = Run("--seed=-1");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: --seed: expected a non-negative integer\n");
  r = Run("--duration=0");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: --duration: expected a positive number of seconds, at most 1e+06\n");
  r = Run("--path name=x,rate_mbps=0");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: paths[0].rate_mbps: expected a positive number\n");
  r = Run("--path name=x,rate_mbps=5 --event at_s=1,path=wifi,action=down");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: events[0].path: no path named \"wifi\" (the paths are \"x\")\n");
  r = Run("--event");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: --event: missing its value\n");
  r = Run("--baseline=lte");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: baseline_path: no path named \"lte\" (the paths are \"wifi\", \"3g\")\n");
  r = Run("--app type=media,bitrate_mbps=2");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: app.length_s: required (a positive number)\n");
  r = Run("--sead=3");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: unknown flag --sead (see --help)\n");
  r = Run("extra");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: unexpected argument \"extra\"\n");
  r = Run("--cc=reno");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: --cc: unknown congestion control \"reno\" (expected one of newreno, "
            "cubic, lia, olia, balia)\n");
  r = Run("--fairness --cc=LIA");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "mptcp_sim: --cc: unknown congestion control \"LIA\" (expected one of newreno, "
            "cubic, lia, olia, balia)\n");
  r = Run("--fairness --seed=x");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mptcp_sim: --seed: expected a non-negative integer\n");
}

// A seed sweep's flags: each mistake exits 2 with a message naming the flag.
TEST_F(MptcpSimTest, SweepFlagsExitTwo) {
  const std::pair<const char*, const char*> cases[] = {
      {"--suite=tcp --seeds=1-2",
       "mptcp_sim: --suite: unknown suite \"tcp\" (expected simult_flows or link_failure)\n"},
      {"--suite=simult_flows",
       "mptcp_sim: --suite needs --seeds=A-B (or --seed=N to replay one)\n"},
      {"--suite=link_failure --seeds=5-1",
       "mptcp_sim: --seeds: \"5-1\": the first seed is after the last (expected A-B, e.g. "
       "1-1000, or N)\n"},
      {"--suite=link_failure --seeds=1-x",
       "mptcp_sim: --seeds: \"1-x\": not a non-negative integer (expected A-B, e.g. 1-1000, or "
       "N)\n"},
      {"--suite=link_failure --seeds=1-2 --shard=3/2",
       "mptcp_sim: --shard: \"3/2\": I outside 1..N (shards count from 1) (expected I/N with 1 "
       "<= I <= N)\n"},
      {"--suite=link_failure --seeds=1-2 --shard=half",
       "mptcp_sim: --shard: \"half\": not two integers I/N (expected I/N with 1 <= I <= N)\n"},
      {"--suite=link_failure --seeds=1-2 --case=five_paths",
       "mptcp_sim: --case: no link_failure case \"five_paths\" (expected one of "
       "two_paths_initial_fails, two_paths_join_fails, four_paths_one_fails, "
       "four_paths_two_fail)\n"},
      {"--suite=link_failure --seed=1 --seeds=1-2",
       "mptcp_sim: --seed and --seeds: give one of them\n"},
      {"--seeds=1-2", "mptcp_sim: --seeds needs --suite\n"},
      {"--shard=1/2", "mptcp_sim: --shard needs --suite\n"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = Run(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err, message) << args;
    EXPECT_EQ(r.out, "") << args;
  }
}

// The replay command a sweep prints runs that one seed again: the same JSON line (but for
// the host's wall time), and exit 0 for a run that broke no invariant.
TEST_F(MptcpSimTest, SweepReplaysOneSeed) {
  const Result r = Run("--suite=simult_flows --case=unbalanced_bwidth/Download --seeds=3-4 "
                       "--shard=2/2 --jsonl=runs.jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string line = SlurpFile(dir_ / "runs.jsonl");
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  const std::string replay =
      "bazel-bin/tools/mptcp_sim --suite=simult_flows --case=unbalanced_bwidth/Download --seed=4";
  EXPECT_NE(line.find(absl::StrCat("\"replay\":\"", replay, "\"")), std::string::npos) << line;
  EXPECT_NE(r.err.find("simult_flows: 1 runs, 0 broke an invariant, 0 over the limit"),
            std::string::npos)
      << r.err;
  const Result again = Run("--quiet --suite=simult_flows --case=unbalanced_bwidth/Download "
                           "--seed=4");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.err, "");
  const auto without_wall = [](std::string s) {
    const size_t at = s.find("\"wall_ms\":");
    return at == std::string::npos ? s : s.erase(at, s.find(',', at) - at);
  };
  EXPECT_EQ(without_wall(again.out), without_wall(line));
}

TEST_F(MptcpSimTest, SchedFlagAndJsonNameEveryScheduler) {
  for (const char* name : {"default", "min-rtt", "round-robin", "rr", "redundant", "blest", "ecf"}) {
    Result r = Run(absl::StrCat("--check --sched=", name));
    EXPECT_EQ(r.code, 0) << name << ": " << r.err;
    const std::string canonical = std::string(SchedulerKindName(*ParseSchedulerKind(name)));
    EXPECT_NE(r.out.find(absl::StrCat("scheduler ", canonical, ", ")), std::string::npos)
        << r.out;
    Write("sched.json", absl::StrCat(R"({"scheduler": ")", name, R"(",
        "paths": [{"rate_mbps": 10}], "app": {"type": "bulk", "bytes": 100000}})"));
    r = Run("--check --scenario sched.json");
    EXPECT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find(absl::StrCat("scheduler ", canonical, ", ")), std::string::npos)
        << r.out;
  }
  const Result bad = Run("--check --sched=fastest");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.err.find("--sched: unknown scheduler \"fastest\""), std::string::npos) << bad.err;
}

TEST_F(MptcpSimTest, CcFlagAndJsonNameEveryController) {
  for (const char* name : {"newreno", "cubic", "lia", "olia", "balia"}) {
    Result r = Run(absl::StrCat("--check --cc=", name));
    EXPECT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find(absl::StrCat("scheduler min-rtt, ", name, "\n")), std::string::npos)
        << r.out;
    Write("cc.json", absl::StrCat(R"({"congestion_control": ")", name, R"(",
        "paths": [{"rate_mbps": 10}], "app": {"type": "bulk", "bytes": 100000}})"));
    r = Run("--check --scenario cc.json");
    EXPECT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find(absl::StrCat(", ", name, "\n")), std::string::npos) << r.out;
  }
  // The flag wins over the file.
  const Result r = Run("--check --scenario cc.json --cc=olia");
  EXPECT_NE(r.out.find(", olia\n"), std::string::npos) << r.out;
}

TEST_F(MptcpSimTest, SvgShowsEachSubflowsCwnd) {
  ASSERT_EQ(Run("--quiet --cc=newreno --duration=4 --csv=c.csv --svg=c.svg").code, 0);
  const std::string svg = SlurpFile(dir_ / "c.svg");
  EXPECT_NE(svg.find(">cwnd (KB)</text>"), std::string::npos);
  EXPECT_NE(svg.find("sending subflow (newreno)"), std::string::npos);
}

TEST_F(MptcpSimTest, FairnessPrintsTheJainTable) {
  const Result r = Run("--fairness --cc=newreno --seed=2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "five flows, newreno: 1 run\n");
  // The header, the column titles and one row: "newreno 0.916 0.916 6.x ...".
  EXPECT_EQ(r.out.rfind("# Jain's fairness index, five flows on one 25 Mbit/s bottleneck", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("\ncontroller   jain  per seed"), std::string::npos) << r.out;
  const size_t row = r.out.find("\nnewreno ");
  ASSERT_NE(row, std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin() + static_cast<ptrdiff_t>(row) + 1, r.out.end(), '\n'), 1);
  // Deterministic: the same run prints the same table.
  EXPECT_EQ(Run("--fairness --cc=newreno --seed=2 --quiet").out, r.out);
}

}  // namespace
}  // namespace mptcp::tools

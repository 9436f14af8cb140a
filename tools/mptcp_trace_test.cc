// mptcp_trace end to end, as a user runs it: a missing file, a directory, a text file and a
// malformed capture exit 2 with a message naming the file; a capture cut inside its last
// record is analysed with a warning; a good capture prints the summary (text and JSON) and
// writes the SVG and the CSV.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "testing/tool_test.h"
#include "tools/trace/capture_builder.h"

namespace mptcp::trace {
namespace {

namespace fs = std::filesystem;

using Result = ::mptcp::testing::ToolResult;
using ::mptcp::testing::SlurpFile;

class MptcpTraceTest : public ::mptcp::testing::ToolTest {
 protected:
  MptcpTraceTest() : ToolTest("tools/mptcp_trace") {}

  void Write(const std::string& name, const testing::Bytes& b) {
    std::ofstream f(dir_ / name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

  // The scripted two-subflow connection as pcapng on Ethernet, headers only (96 bytes).
  testing::Bytes GoodCapture() {
    const testing::ScriptedConnection sc = testing::ScriptConnection();
    testing::PcapngFile f;
    f.AddInterface(1, 96, 9);
    for (size_t i = 0; i < sc.packets.size(); ++i) {
      f.AddPacket(0, static_cast<uint64_t>(sc.times_ns[i]), testing::Ethernet(sc.packets[i]), 96);
    }
    return f.bytes();
  }

};

TEST_F(MptcpTraceTest, BadInputsExitTwo) {
  Result r = Run("missing.pcap");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing.pcap: cannot open")) << r.err;
  r = Run(".");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "directory")) << r.err;
  Write("notes.txt", testing::Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  r = Run("notes.txt");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "notes.txt: not a pcap or pcapng file")) << r.err;
  r = Run("");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "expected a capture file")) << r.err;
  // A block length that runs wild in the middle: what came before is reported, exit 2.
  testing::Bytes bad = GoodCapture();
  bad.insert(bad.end(), {6, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f});
  Write("bad.pcapng", bad);
  r = Run("bad.pcapng");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "bad block length")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "1 MPTCP connection")) << r.out;
}

TEST_F(MptcpTraceTest, TruncatedTailIsAWarning) {
  testing::Bytes cut = GoodCapture();
  ASSERT_GT(cut.size(), 30u);
  cut.erase(cut.end() - 30, cut.end());  // (resize() trips gcc 12 -Wstringop-overflow at -O1)
  Write("cut.pcapng", cut);
  const Result r = Run("cut.pcapng --json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "warning")) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["truncated_tail"], true);
  EXPECT_EQ(j["connections"].size(), 1u);
}

TEST_F(MptcpTraceTest, GoodCaptureSummarySvgCsv) {
  Write("good.pcapng", GoodCapture());
  Result r = Run("good.pcapng --svg plot.svg --csv segs.csv --subflow_csv subflows.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;  // no progress bar when stderr is not a terminal
  for (const char* want : {"1 MPTCP connection", "subflow 0: 192.0.2.1:40000 -> 198.51.100.1:80",
                           "subflow 1: 192.0.2.2:40001 -> 198.51.100.1:80", "HMAC ok",
                           "payload c2s 8000 bytes, s2c 4000 bytes", "findings: none",
                           "ADD_ADDR id 1 203.0.113.1"}) {
    EXPECT_TRUE(absl::StrContains(r.out, want)) << want << " in\n" << r.out;
  }
  const std::string svg = SlurpFile(dir_ / "plot.svg");
  EXPECT_TRUE(absl::StartsWith(svg, "<svg")) << svg.substr(0, 80);
  EXPECT_TRUE(absl::StrContains(svg, "subflow 1"));
  const std::string csv = SlurpFile(dir_ / "segs.csv");
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 13u) << csv;  // header + 12 data segments
  EXPECT_EQ(lines[0], "time_s,connection,subflow,direction,dsn,length,ssn,reinjected,frame");
  EXPECT_TRUE(absl::StartsWith(lines[1], "0.005000,0,0,c2s,0,1000,0,0,6")) << lines[1];

  const std::string sub = SlurpFile(dir_ / "subflows.csv");
  const std::vector<std::string> rows = absl::StrSplit(sub, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 3u) << sub;
  EXPECT_TRUE(absl::StartsWith(rows[0], "connection,subflow,initiator,")) << rows[0];
  EXPECT_EQ(rows[2], "0,1,192.0.2.2:40001,198.51.100.1:80,client,1,2,0,0,1,ok,6,1,4000,0");

  r = Run("good.pcapng --json --progress");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(r.err.empty());  // --progress draws even without a terminal
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "pcapng");
  EXPECT_EQ(j["connections"][0]["subflows"].size(), 2u);
  EXPECT_EQ(j["connections"][0]["join_syn"], 1);
  EXPECT_EQ(j["connections"][0]["payload_bytes"][0], 8000);
  EXPECT_EQ(j["findings"].size(), 0u);

  r = Run("good.pcapng --svg /nonexistent/dir/plot.svg");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "/nonexistent/dir/plot.svg: cannot write")) << r.err;
}

}  // namespace
}  // namespace mptcp::trace

// The MPTCP analysis on scripted connections (capture_builder.h) whose truth is known: the
// grouping by key and token, joins, signalling, bytes per subflow, reinjection, DATA_FIN, and
// each check firing on exactly the fault it looks for and staying silent otherwise; also the
// same numbers from a snaplen-cut capture, and the JSON and plot outputs.
#include "tools/trace/analyzer.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "mptcp/wire/tcp.h"
#include "nlohmann/json.hpp"
#include "tools/trace/capture_builder.h"
#include "tools/trace/packet_decode.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"
#include "tools/trace/run.h"

namespace mptcp::trace {
namespace {

using testing::ScriptConnection;
using testing::ScriptOptions;

InputInfo Info() {
  InputInfo i;
  i.path = "in.pcap";
  i.format = "pcap";
  return i;
}

TraceSummary AnalyzeScript(const testing::ScriptedConnection& sc, uint32_t snaplen = 65535,
                           std::vector<DataPoint>* points = nullptr) {
  testing::PcapFile file(LinkType::kRaw, false, true, snaplen);
  for (size_t i = 0; i < sc.packets.size(); ++i) file.Add(sc.times_ns[i], sc.packets[i]);
  auto reader = CaptureReader::FromBytes(file.bytes());
  EXPECT_TRUE(reader.ok()) << reader.status();
  Analyzer a;
  RunResult r = AnalyzeCapture(**reader, a);
  EXPECT_TRUE(r.read_status.ok()) << r.read_status;
  if (points != nullptr) *points = a.points();
  return r.summary;
}

std::vector<std::string> Checks(const TraceSummary& s) {
  std::vector<std::string> v;
  for (const Finding& f : s.findings) v.push_back(f.check);
  return v;
}

TEST(AnalyzerTest, CleanConnectionWithJoinAndAddAddr) {
  const auto sc = ScriptConnection();
  const TraceSummary s = AnalyzeScript(sc);
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  ASSERT_EQ(s.connections.size(), 1u);
  const ConnectionSummary& c = s.connections[0];
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.key[0], sc.client_key);
  EXPECT_EQ(c.key[1], sc.server_key);
  ASSERT_EQ(c.subflows.size(), 2u);
  EXPECT_FALSE(c.subflows[0].join);
  EXPECT_TRUE(c.subflows[1].join);
  EXPECT_EQ(c.subflows[1].initiator.ToString(), "192.0.2.2:40001");
  EXPECT_EQ(c.subflows[1].initiator_side, 0);
  EXPECT_EQ(c.subflows[1].initiator_address_id, 2);
  EXPECT_EQ(c.subflows[1].responder_address_id, 0);
  EXPECT_EQ(c.subflows[1].hmac, "ok");
  EXPECT_TRUE(c.subflows[1].established);
  EXPECT_EQ(c.join_syns, 1u);
  EXPECT_EQ(c.join_acks, 1u);
  EXPECT_EQ(c.add_addr[1], 1u);
  EXPECT_EQ(c.add_addr_echo[0], 1u);
  EXPECT_EQ(c.payload_bytes(0), sc.c2s_bytes);
  EXPECT_EQ(c.payload_bytes(1), sc.s2c_bytes);
  EXPECT_EQ(c.subflows[0].payload_bytes[0], 4000u);
  EXPECT_EQ(c.subflows[1].payload_bytes[0], 4000u);
  EXPECT_EQ(c.reinjected_bytes[0], 0u);
  ASSERT_TRUE(c.data_fin[0].has_value());
  EXPECT_EQ(*c.data_fin[0], 8000u);  // the DATA_FIN follows the 8000 data bytes
  EXPECT_FALSE(c.fallback);
  // The timeline names the steps in order.
  std::string timeline;
  for (const TraceEvent& e : c.events) timeline += e.what + "\n";
  for (const char* step : {"MP_CAPABLE SYN v1", "MP_CAPABLE SYN/ACK", "MP_CAPABLE ACK",
                           "ADD_ADDR id 1 203.0.113.1 HMAC ok", "ADD_ADDR echo id 1",
                           "MP_JOIN SYN", "MP_JOIN SYN/ACK address id 0, HMAC ok",
                           "MP_JOIN ACK HMAC ok", "DATA_FIN at dsn 8000"}) {
    EXPECT_TRUE(absl::StrContains(timeline, step)) << step << " in\n" << timeline;
  }
}

TEST(AnalyzerTest, DataPointsHaveRelativeSequenceNumbers) {
  std::vector<DataPoint> points;
  AnalyzeScript(ScriptConnection(), 65535, &points);
  ASSERT_EQ(points.size(), 12u);  // 4 + 4 on subflow 0 (both ways), 4 on the join
  EXPECT_EQ(points[0].dsn, 0u);
  EXPECT_EQ(points[0].ssn, 0u);
  EXPECT_EQ(points[0].direction, 0);
  EXPECT_EQ(points[1].direction, 1);
  EXPECT_EQ(points[1].dsn, 0u);
  EXPECT_EQ(points[2].dsn, 1000u);
  const DataPoint& join_first = points[8];
  EXPECT_EQ(join_first.subflow, 1);
  EXPECT_EQ(join_first.dsn, 4000u);
  EXPECT_EQ(join_first.ssn, 0u);
}

// The interop harness captures headers only: the same numbers from 96-byte frames.
TEST(AnalyzerTest, SnaplenCutCaptureGivesTheSameBytes) {
  const auto sc = ScriptConnection();
  const TraceSummary s = AnalyzeScript(sc, 96);
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  EXPECT_EQ(s.malformed_frames, 0u);
  ASSERT_EQ(s.connections.size(), 1u);
  EXPECT_EQ(s.connections[0].payload_bytes(0), sc.c2s_bytes);
  EXPECT_EQ(s.connections[0].payload_bytes(1), sc.s2c_bytes);
}

TEST(AnalyzerTest, SignallingWithPortPrioAndRemove) {
  ScriptOptions o;
  o.add_addr_port = 8080;
  o.prio_and_remove = true;
  const TraceSummary s = AnalyzeScript(ScriptConnection(o));
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  const ConnectionSummary& c = s.connections[0];
  EXPECT_EQ(c.mp_prio[0], 1u);
  EXPECT_EQ(c.remove_addr[1], 1u);
  EXPECT_TRUE(c.subflows[1].backup);
  std::string timeline;
  for (const TraceEvent& e : c.events) timeline += e.what + "\n";
  for (const char* step : {"ADD_ADDR id 1 203.0.113.1:8080 HMAC ok", "ADD_ADDR echo id 1 "
                           "203.0.113.1:8080", "MP_PRIO backup", "REMOVE_ADDR ids 1"}) {
    EXPECT_TRUE(absl::StrContains(timeline, step)) << step << " in\n" << timeline;
  }
}

TEST(AnalyzerTest, ReinjectionCounted) {
  ScriptOptions o;
  o.reinject = true;
  const auto sc = ScriptConnection(o);
  const TraceSummary s = AnalyzeScript(sc);
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  EXPECT_EQ(s.connections[0].reinjected_bytes[0], sc.reinjected_c2s);
  EXPECT_EQ(s.connections[0].reinjected_bytes[1], 0u);
}

TEST(AnalyzerTest, MappingConflictFound) {
  ScriptOptions o;
  o.conflicting_mapping = true;
  const TraceSummary s = AnalyzeScript(ScriptConnection(o));
  EXPECT_EQ(Checks(s), std::vector<std::string>{"mapping_conflict"}) << TextReport(Info(), s);
  EXPECT_GT(s.findings[0].frame, 0u);
}

TEST(AnalyzerTest, DataAckBackwardsFound) {
  ScriptOptions o;
  o.data_ack_backwards = true;
  const TraceSummary s = AnalyzeScript(ScriptConnection(o));
  EXPECT_EQ(Checks(s), std::vector<std::string>{"data_ack_backwards"})
      << TextReport(Info(), s);
}

TEST(AnalyzerTest, BadJoinHmacFound) {
  ScriptOptions o;
  o.bad_join_hmac = true;
  const TraceSummary s = AnalyzeScript(ScriptConnection(o));
  EXPECT_EQ(Checks(s), std::vector<std::string>{"join_hmac"}) << TextReport(Info(), s);
  EXPECT_EQ(s.connections[0].subflows[1].hmac, "bad");
}

TEST(AnalyzerTest, FallbackAndFastcloseReported) {
  ScriptOptions o;
  o.infinite_mapping = true;
  o.fastclose = true;
  const TraceSummary s = AnalyzeScript(ScriptConnection(o));
  const ConnectionSummary& c = s.connections[0];
  EXPECT_TRUE(c.fallback);
  EXPECT_TRUE(absl::StrContains(c.fallback_reason, "infinite mapping"));
  EXPECT_EQ(c.mp_fastclose, 1u);
  EXPECT_EQ(c.mp_tcprst, 1u);
  EXPECT_EQ(c.subflows[0].tcprst_reason, 1);
  EXPECT_TRUE(c.subflows[0].reset);
}

// Without the MP_CAPABLE handshake in the capture, joins are still grouped by token and their
// HMACs reported as unverified, not as failures.
TEST(AnalyzerTest, JoinWithoutHandshakeGroupedByToken) {
  const auto sc = ScriptConnection();
  testing::ScriptedConnection tail;
  for (size_t i = 0; i < sc.packets.size(); ++i) {
    const DecodeResult r = DecodeIp(sc.packets[i]);
    ASSERT_EQ(r.outcome, DecodeOutcome::kTcp);
    if (r.segment.src.ip == IpAddress::V4(192, 0, 2, 2) ||
        r.segment.dst.ip == IpAddress::V4(192, 0, 2, 2)) {
      tail.packets.push_back(sc.packets[i]);
      tail.times_ns.push_back(sc.times_ns[i]);
    }
  }
  const TraceSummary s = AnalyzeScript(tail);
  EXPECT_TRUE(s.findings.empty());
  ASSERT_EQ(s.connections.size(), 1u);
  EXPECT_EQ(s.connections[0].subflows.size(), 1u);
  EXPECT_EQ(s.connections[0].subflows[0].hmac, "unverified");
  EXPECT_EQ(s.connections[0].subflows[0].payload_bytes[0], 4000u);
}

// A keepalive probe carries one byte at ISN (relative sequence -1): no DSN, no jump of the
// subflow sequence space, and the data after it still maps.
TEST(AnalyzerTest, KeepaliveBeforeDataIgnored) {
  auto sc = ScriptConnection();
  testing::SegmentSpec probe;
  probe.src = {IpAddress::V4(192, 0, 2, 1), 40000};
  probe.dst = {IpAddress::V4(198, 51, 100, 1), 80};
  probe.seq = 1000;  // the client's ISN
  probe.ack = 5001;
  probe.flags = wire::TcpFlag::kAck;
  probe.payload_len = 1;
  sc.packets.insert(sc.packets.begin() + 3, testing::BuildPacket(probe));
  sc.times_ns.insert(sc.times_ns.begin() + 3, sc.times_ns[2]);
  std::vector<DataPoint> points;
  const TraceSummary s = AnalyzeScript(sc, 65535, &points);
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  EXPECT_FALSE(s.connections[0].fallback);
  EXPECT_EQ(points.size(), 12u);
  EXPECT_EQ(s.connections[0].payload_bytes(0), sc.c2s_bytes + 1);
}

// MPTCP v0 (RFC 6824): keys on the SYN, SHA-1 tokens match the join to its connection; the
// HMAC-SHA1 join HMACs are not checked.
TEST(AnalyzerTest, Version0Grouped) {
  ScriptOptions o;
  o.v0 = true;
  const auto sc = ScriptConnection(o);
  const TraceSummary s = AnalyzeScript(sc);
  EXPECT_TRUE(s.findings.empty()) << TextReport(Info(), s);
  ASSERT_EQ(s.connections.size(), 1u) << TextReport(Info(), s);
  const ConnectionSummary& c = s.connections[0];
  EXPECT_EQ(c.version, 0);
  ASSERT_EQ(c.subflows.size(), 2u);
  EXPECT_EQ(c.subflows[1].hmac, "unverified");
  EXPECT_EQ(c.add_addr[1], 1u);
  EXPECT_EQ(c.payload_bytes(0), sc.c2s_bytes);
  EXPECT_EQ(*c.data_fin[0], 8000u);
}

TEST(AnalyzerTest, PlainTcpCounted) {
  testing::SegmentSpec syn;
  syn.src = {IpAddress::V4(192, 0, 2, 1), 1};
  syn.dst = {IpAddress::V4(192, 0, 2, 2), 2};
  syn.flags = wire::TcpFlag::kSyn;
  Analyzer a;
  const DecodeResult r = DecodeIp(testing::BuildPacket(syn));
  a.OnSegment(1, 0, r.segment);
  a.OnSegment(2, 0, r.segment);  // retransmitted
  const TraceSummary s = a.Finish();
  EXPECT_EQ(s.plain_tcp_flows, 1u);
  EXPECT_TRUE(s.connections.empty());
}

TEST(AnalyzerTest, ReportsRender) {
  std::vector<DataPoint> points;
  const TraceSummary s = AnalyzeScript(ScriptConnection(), 65535, &points);
  const nlohmann::json j = JsonReport(Info(), s);
  EXPECT_EQ(j["connections"][0]["subflows"].size(), 2u);
  EXPECT_EQ(j["connections"][0]["add_addr"][1], 1);
  EXPECT_EQ(j["connections"][0]["payload_bytes"][0], 8000);
  EXPECT_EQ(j["findings"].size(), 0u);
  const std::string svg = SvgPlot(Info(), s, points);
  EXPECT_TRUE(absl::StartsWith(svg, "<svg")) << svg.substr(0, 100);
  EXPECT_TRUE(absl::StrContains(svg, "subflow 1"));
  EXPECT_TRUE(absl::StrContains(svg, "server to client"));
  EXPECT_EQ(CsvLine(points[2], points[0].time_ns).substr(0, 12), "0.002000,0,0");
  const std::string text = TextReport(Info(), s);
  EXPECT_TRUE(absl::StrContains(text, "findings: none")) << text;
}

}  // namespace
}  // namespace mptcp::trace

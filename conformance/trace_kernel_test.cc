// mptcp_trace on captures of Linux's own MPTCP: a kernel client (namespace kcli, a second
// address announced as a `subflow` endpoint) transfers both ways with the kernel server
// (namespace kern, a `signal` endpoint on its second address, so it sends an ADD_ADDR) through
// the router namespace, captured headers-only (snaplen 200) on the server's two veths. The
// analysis of that capture must agree with the kernels' own MPTCP counters (nstat, read in
// each namespace): MP_JOINs received and accepted, ADD_ADDRs and their echoes, and the
// subflow count; its payload bytes per direction must cover the transfer with at most a small
// retransmission slack; and no check may fail. Skips (with the reason) without root, TUN,
// kernel MPTCP, dumpcap or mergecap.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "tools/trace/analyzer.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"
#include "tools/trace/run.h"

namespace mptcp::interop {
namespace {

constexpr uint64_t kBytes = 4 << 20;

// A counter of `nstat -asz` in namespace `ns` (absolute, history untouched), 0 if absent.
uint64_t Nstat(const Netns& ns, const std::string& name) {
  const CommandResult r = ns.Exec("nstat -asz " + name);
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t v = 0;
    if (cols.size() >= 2 && cols[0] == name && absl::SimpleAtoi(cols[1], &v)) return v;
  }
  return 0;
}

class TraceKernelTest : public InteropTest {};

TEST_F(TraceKernelTest, KernelToKernelCaptureMatchesNstat) {
  for (const char* tool : {"dumpcap", "mergecap", "nstat"}) {
    if (!HaveTool(tool)) GTEST_SKIP() << tool << " is not installed";
  }
  // The client's second address, routed back to it by the router; its `subflow` endpoint
  // opens a join from there. The server announces its second address (RFC 8684 §3.4.1).
  ASSERT_TRUE(topo_->kcli().ExecOk("ip addr add 192.0.2.101 peer 192.0.2.99 dev c0").ok());
  ASSERT_TRUE(topo_->ours().ExecOk("ip route add 192.0.2.101 dev ac").ok());
  ASSERT_TRUE(
      topo_->kcli().ExecOk("ip mptcp limits set subflows 4 add_addr_accepted 4").ok());
  ASSERT_TRUE(topo_->kcli().ExecOk("ip mptcp endpoint add 192.0.2.101 dev c0 subflow").ok());
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 signal").ok());

  const std::string pcap = TmpDir() + "/trace_kernel.pcapng";
  auto capture = Capture::Start(topo_->kern(), {"b0", "b1"}, pcap);
  ASSERT_TRUE(capture.ok()) << capture.status();

  KernelPeerConfig server_cfg = KernelServer(kBytes);
  // Stay open a little after the data, so that the joins and the announcement complete on a
  // live connection whatever the scheduling.
  server_cfg.half_close_delay = Duration::Millis(500);
  server_cfg.timeout = Duration::Seconds(15);
  KernelPeer server(topo_->kern().name(), server_cfg);
  ASSERT_TRUE(server.WaitListening().ok());
  KernelPeerConfig client_cfg;
  client_cfg.server = false;
  client_cfg.remote = {Topology::Path(0).kernel, kServerPort};
  client_cfg.send_bytes = kBytes;
  client_cfg.seed = kOurSeed;
  client_cfg.expect_seed = kKernelSeed;
  client_cfg.half_close_delay = Duration::Millis(500);
  client_cfg.timeout = Duration::Seconds(15);
  KernelPeer client(topo_->kcli().name(), client_cfg);
  const TransferResult c = client.Join();
  const TransferResult s = server.Join();
  ASSERT_TRUE(c.status.ok()) << c.status;
  ASSERT_TRUE(s.status.ok()) << s.status;
  ExpectKernelToKernelExact(c, s, kBytes);
  auto path = (*capture)->Stop();
  ASSERT_TRUE(path.ok()) << path.status();

  auto reader = trace::CaptureReader::OpenFile(*path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  trace::Analyzer analyzer;
  const trace::RunResult run = trace::AnalyzeCapture(**reader, analyzer);
  ASSERT_TRUE(run.read_status.ok()) << run.read_status;
  trace::InputInfo info;
  info.path = *path;
  trace::DescribeInput(**reader, run, &info);
  const std::string text = trace::TextReport(info, run.summary);
  std::printf("%s\n", text.c_str());

  const uint64_t join_syn_rx = Nstat(topo_->kern(), "MPTcpExtMPJoinSynRx");
  const uint64_t join_ack_rx = Nstat(topo_->kern(), "MPTcpExtMPJoinAckRx");
  const uint64_t join_synack_rx = Nstat(topo_->kcli(), "MPTcpExtMPJoinSynAckRx");
  const uint64_t add_addr_rx = Nstat(topo_->kcli(), "MPTcpExtAddAddr");
  const uint64_t echo_rx = Nstat(topo_->kern(), "MPTcpExtEchoAdd");
  std::printf("nstat: kern MPJoinSynRx %lu MPJoinAckRx %lu EchoAdd %lu; kcli MPJoinSynAckRx %lu "
              "AddAddr %lu\n",
              static_cast<unsigned long>(join_syn_rx), static_cast<unsigned long>(join_ack_rx),
              static_cast<unsigned long>(echo_rx), static_cast<unsigned long>(join_synack_rx),
              static_cast<unsigned long>(add_addr_rx));

  const trace::TraceSummary& sum = run.summary;
  EXPECT_EQ(sum.malformed_frames, 0u) << text;
  ASSERT_EQ(sum.connections.size(), 1u) << text;
  const trace::ConnectionSummary& conn = sum.connections[0];
  EXPECT_FALSE(conn.fallback) << text;
  // Two joins: the client's `subflow` endpoint and the announced address.
  EXPECT_GE(conn.subflows.size(), 2u) << text;
  EXPECT_EQ(conn.join_syns, join_syn_rx) << text;
  EXPECT_EQ(conn.join_synacks, join_synack_rx) << text;
  EXPECT_EQ(conn.join_acks, join_ack_rx) << text;
  size_t established = 0;
  for (const trace::SubflowSummary& f : conn.subflows) {
    established += f.established ? 1 : 0;
    if (f.join) {
      EXPECT_EQ(f.hmac, "ok") << "subflow " << f.index << "\n" << text;
    }
  }
  EXPECT_EQ(established, 1 + join_ack_rx) << text;
  EXPECT_GE(conn.add_addr[1], 1u) << text;
  EXPECT_EQ(conn.add_addr[1], add_addr_rx) << text;
  EXPECT_EQ(conn.add_addr_echo[0], echo_rx) << text;
  // Payload on the wire covers the transfer; a few retransmissions or reinjections at most.
  const uint64_t slack = kBytes / 20 + (64 << 10);
  for (int dir = 0; dir < 2; ++dir) {
    EXPECT_GE(conn.payload_bytes(dir), kBytes) << "direction " << dir << "\n" << text;
    EXPECT_LE(conn.payload_bytes(dir), kBytes + slack) << "direction " << dir << "\n" << text;
    EXPECT_TRUE(conn.data_fin[dir].has_value()) << text;
    if (conn.data_fin[dir]) {
      EXPECT_EQ(*conn.data_fin[dir], kBytes) << text;
    }
  }
  EXPECT_TRUE(sum.findings.empty()) << text;
  std::printf("FIGURE trace_kernel_subflows %zu\nFIGURE trace_kernel_joins %lu\n"
              "FIGURE trace_kernel_add_addr %lu\nFIGURE trace_kernel_bytes_c2s %lu\n"
              "FIGURE trace_kernel_bytes_s2c %lu\n",
              conn.subflows.size(), static_cast<unsigned long>(conn.join_acks),
              static_cast<unsigned long>(conn.add_addr[1]),
              static_cast<unsigned long>(conn.payload_bytes(0)),
              static_cast<unsigned long>(conn.payload_bytes(1)));
  if (!HasFailure() && std::getenv("INTEROP_KEEP_PCAP") == nullptr) std::remove(path->c_str());
}

}  // namespace
}  // namespace mptcp::interop

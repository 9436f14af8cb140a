// mptcp_trace on captures of Linux's own MPTCP: a kernel client (namespace kcli, a second
// address announced as a `subflow` endpoint) transfers both ways with the kernel server
// (namespace kern, a `signal` endpoint on its second address, so it sends an ADD_ADDR) through
// the router namespace, captured headers-only (snaplen 200) on the server's two veths. The
// analysis of that capture must agree with the kernels' own MPTCP counters (nstat, read in
// each namespace): MP_JOINs received and accepted, ADD_ADDRs and their echoes, and the
// subflow count; its payload bytes per direction must cover the transfer with at most a small
// retransmission slack; and no check may fail. Skips (with the reason) without root, TUN,
// kernel MPTCP, dumpcap, mergecap, bash or timeout.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "testing/prerequisites.h"
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

// The kernels' counters this test compares with, in the namespace that receives each.
struct Counters {
  uint64_t join_syn_rx = 0, join_ack_rx = 0, echo_rx = 0;  // kern
  uint64_t join_synack_rx = 0, add_addr_rx = 0;             // kcli

  Counters operator-(const Counters& o) const {
    return {join_syn_rx - o.join_syn_rx, join_ack_rx - o.join_ack_rx, echo_rx - o.echo_rx,
            join_synack_rx - o.join_synack_rx, add_addr_rx - o.add_addr_rx};
  }
};

class TraceKernelTest : public InteropTest {
 protected:
  Counters ReadCounters() {
    Counters c;
    c.join_syn_rx = Nstat(topo_->kern(), "MPTcpExtMPJoinSynRx");
    c.join_ack_rx = Nstat(topo_->kern(), "MPTcpExtMPJoinAckRx");
    c.echo_rx = Nstat(topo_->kern(), "MPTcpExtEchoAdd");
    c.join_synack_rx = Nstat(topo_->kcli(), "MPTcpExtMPJoinSynAckRx");
    c.add_addr_rx = Nstat(topo_->kcli(), "MPTcpExtAddAddr");
    return c;
  }

  // One captured transfer; fills the analysis of its capture, the counters' increase and the
  // capture's path. Fatal failures for anything but the analysis.
  void CapturedTransfer(int attempt, trace::RunResult* run, Counters* counters,
                        std::string* pcap) {
    const Counters before = ReadCounters();
    const std::string path = absl::StrCat(TmpDir(), "/trace_kernel_", attempt, ".pcapng");
    auto capture = Capture::Start(topo_->kern(), {"b0", "b1"}, path);
    ASSERT_TRUE(capture.ok()) << capture.status();
    // A refused TCP connection over each path first (port 9: nothing listens, the kernel
    // answers RST), so that both dumpcaps have seen traffic before the transfer (dumpcap says
    // it captures a little before it does). These show up as plain TCP flows.
    for (int round = 0; round < 2; ++round) {
      for (const char* addr : {"198.51.100.1", "203.0.113.1"}) {
        (void)topo_->kcli().Exec(
            absl::StrCat("timeout 1 bash -c 'exec 3<>/dev/tcp/", addr, "/9' 2>/dev/null"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    KernelPeerConfig server_cfg = KernelServer(kBytes);
    // Stay open a little after the data, so that the joins and the announcement complete on
    // a live connection whatever the scheduling.
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
    auto stopped = (*capture)->Stop();
    ASSERT_TRUE(stopped.ok()) << stopped.status();
    *pcap = *stopped;
    *counters = ReadCounters() - before;
    auto reader = trace::CaptureReader::OpenFile(*pcap);
    ASSERT_TRUE(reader.ok()) << reader.status();
    trace::Analyzer analyzer;
    *run = trace::AnalyzeCapture(**reader, analyzer);
    ASSERT_TRUE(run->read_status.ok()) << run->read_status;
  }
};

TEST_F(TraceKernelTest, KernelToKernelCaptureMatchesNstat) {
  for (const char* tool : {"dumpcap", "mergecap", "nstat", "bash", "timeout"}) {
    if (!HaveTool(tool)) MPTCP_SKIP_MISSING_PREREQUISITE(tool << " is not installed");
  }
  // The client's second address, routed back to it by the router; its `subflow` endpoint
  // opens a join from there. The server announces its second address (RFC 8684 §3.4.1).
  ASSERT_TRUE(topo_->kcli().ExecOk("ip addr add 192.0.2.101 peer 192.0.2.99 dev c0").ok());
  ASSERT_TRUE(topo_->ours().ExecOk("ip route add 192.0.2.101 dev ac").ok());
  ASSERT_TRUE(
      topo_->kcli().ExecOk("ip mptcp limits set subflows 4 add_addr_accepted 4").ok());
  ASSERT_TRUE(topo_->kcli().ExecOk("ip mptcp endpoint add 192.0.2.101 dev c0 subflow").ok());
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 signal").ok());

  // On a loaded machine a dumpcap can still miss a subflow's first packets: the analysis
  // then sees segments of a flow without its SYN. That is the capture's fault, not the
  // analyser's: try again, at most 3 transfers in all (the counters are compared as deltas).
  trace::RunResult run;
  Counters k;
  std::string pcap;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_NO_FATAL_FAILURE(CapturedTransfer(attempt, &run, &k, &pcap));
    if (run.summary.unmatched_segments == 0) break;
    std::printf("attempt %d: the capture missed the start of a subflow (%lu segments without "
                "their SYN)%s\n",
                attempt, static_cast<unsigned long>(run.summary.unmatched_segments),
                attempt < 3 ? "; again" : "");
    if (attempt < 3) std::remove(pcap.c_str());
  }
  trace::InputInfo info;
  info.path = pcap;
  info.format = "pcapng";
  const std::string text = trace::TextReport(info, run.summary);
  std::printf("%s\n", text.c_str());
  std::printf("nstat: kern MPJoinSynRx %lu MPJoinAckRx %lu EchoAdd %lu; kcli MPJoinSynAckRx %lu "
              "AddAddr %lu\n",
              static_cast<unsigned long>(k.join_syn_rx), static_cast<unsigned long>(k.join_ack_rx),
              static_cast<unsigned long>(k.echo_rx), static_cast<unsigned long>(k.join_synack_rx),
              static_cast<unsigned long>(k.add_addr_rx));

  const trace::TraceSummary& sum = run.summary;
  EXPECT_EQ(sum.unmatched_segments, 0u) << "the capture missed packets\n" << text;
  EXPECT_EQ(sum.malformed_frames, 0u) << text;
  ASSERT_EQ(sum.connections.size(), 1u) << text;
  const trace::ConnectionSummary& conn = sum.connections[0];
  EXPECT_FALSE(conn.fallback) << text;
  // Two joins: the client's `subflow` endpoint and the announced address.
  EXPECT_GE(conn.subflows.size(), 2u) << text;
  EXPECT_EQ(conn.join_syns, k.join_syn_rx) << text;
  EXPECT_EQ(conn.join_synacks, k.join_synack_rx) << text;
  EXPECT_EQ(conn.join_acks, k.join_ack_rx) << text;
  size_t established = 0;
  for (const trace::SubflowSummary& f : conn.subflows) {
    established += f.established ? 1 : 0;
    if (f.join) {
      EXPECT_EQ(f.hmac, "ok") << "subflow " << f.index << "\n" << text;
    }
  }
  EXPECT_EQ(established, 1 + k.join_ack_rx) << text;
  EXPECT_GE(conn.add_addr[1], 1u) << text;
  EXPECT_EQ(conn.add_addr[1], k.add_addr_rx) << text;
  EXPECT_EQ(conn.add_addr_echo[0], k.echo_rx) << text;
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
  if (!HasFailure() && std::getenv("INTEROP_KEEP_PCAP") == nullptr) std::remove(pcap.c_str());
}

}  // namespace
}  // namespace mptcp::interop

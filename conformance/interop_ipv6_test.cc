// Interop over IPv6 (RFC 8684 works the same on both IP versions; RFC 8200 headers are 20
// bytes longer): our client and server against the kernel's MPTCP on the topology's IPv6
// addresses, the MSS our SYN announces there (1440 on a 1500-byte link, seen in the capture
// and in the kernel's socket), and mptcp_nc's Ctrl-C, whose MP_FASTCLOSE must reach the kernel
// within a second on either IP version.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "io/event_loop.h"
#include "testing/prerequisites.h"

namespace mptcp::interop {
namespace {

// The values tshark finds for `field` in the packets of `pcap` that match `filter`.
std::vector<std::string> PcapFields(const std::string& pcap, const std::string& filter,
                                    const std::string& field) {
  std::vector<std::string> out;
  const CommandResult r = Run(absl::StrFormat("tshark -n -r %s -Y '%s' -T fields -e %s 2>/dev/null",
                                              pcap, filter, field));
  for (absl::string_view line : absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    out.emplace_back(line);
  }
  return out;
}

class InteropIpv6Test : public InteropTest {};

// Our client to a kernel server over IPv6, two subflows: byte-exact both ways, and our SYNs
// announce MSS 1440 (RFC 9293 §3.7.1: 1500 less 40 bytes of IPv6 and 20 of TCP header). The
// SYNs are read by tshark from the capture our stack writes of what crosses its TUN devices
// (every packet, in order; the kernel-side capture may miss a link's first packets).
TEST_F(InteropIpv6Test, OurClientToKernelServerAnnouncesIpv6Mss) {
  const uint64_t bytes = TransferBytes() / 4;
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes, true, /*v6=*/true));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, 40101, /*v6=*/true);
  cfg.extra_subflows.push_back(
      {{Topology::Path(1, true).ours, 40102}, {Topology::Path(1, true).kernel, kServerPort}});
  cfg.pcap = TmpDir() + "/ipv6_ours.pcap";
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back) << Describe(o);
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  if (HaveTool("tshark")) {
    const std::vector<std::string> mss =
        PcapFields(cfg.pcap, "tcp.flags.syn == 1 && ipv6.src == 2001:db8:1::/64",
                   "tcp.options.mss_val");
    ASSERT_EQ(mss.size(), 2u) << "one SYN per subflow expected";
    for (const std::string& m : mss) EXPECT_EQ(m, "1440") << "our IPv6 SYN's MSS";
    // And the kernel's: it announces 1440 too on this link.
    const std::vector<std::string> theirs =
        PcapFields(cfg.pcap, "tcp.flags.syn == 1 && ipv6.dst == 2001:db8:1::/64",
                   "tcp.options.mss_val");
    ASSERT_EQ(theirs.size(), 2u);
    for (const std::string& m : theirs) EXPECT_EQ(m, "1440");
  }
  std::remove(cfg.pcap.c_str());
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// A kernel client to our server over IPv6, with a second subflow from its `subflow` endpoint.
TEST_F(InteropIpv6Test, KernelClientToOurServer) {
  const uint64_t bytes = TransferBytes() / 4;
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 2001:db8:3::1 dev b1 subflow").ok());
  StartCapture();
  OurPeerConfig cfg = OurServer(bytes);
  cfg.pcap = TmpDir() + "/ipv6_ours_server.pcap";
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes, /*v6=*/true);
  kc.local = {Topology::Path(0, true).kernel, 0};
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  EXPECT_EQ(o.mib.mp_join_syn_rx, 1u) << Describe(o);
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  if (HaveTool("tshark")) {
    const std::vector<std::string> mss = PcapFields(
        cfg.pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 1 && ipv6.src == 2001:db8:1::/64",
        "tcp.options.mss_val");
    ASSERT_EQ(mss.size(), 2u) << "one SYN-ACK per subflow expected";
    for (const std::string& m : mss) EXPECT_EQ(m, "1440") << "our IPv6 SYN-ACK's MSS";
  }
  std::remove(cfg.pcap.c_str());
  CheckCaptureClean();
}

// mptcp_nc interrupted mid-transfer (SIGINT) sends MP_FASTCLOSE with RSTs (RFC 8684 §3.5): the
// kernel's connection ends within a second, on IPv4 and on IPv6.
class MptcpNcInterruptTest : public InteropTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MptcpNcInterruptTest, CtrlCReachesTheKernelWithinASecond) {
  const bool v6 = GetParam();
  const std::string nc = NcPath();
  if (::access(nc.c_str(), X_OK) != 0)
    MPTCP_SKIP_MISSING_PREREQUISITE("no mptcp_nc binary at " << nc);
  const uint64_t fastclose_before = NstatCounter("MPTcpExtMPFastcloseRx");
  // The kernel sends far more than the second the transfer lasts.
  KernelPeerConfig kc = KernelServer(uint64_t{1} << 40, true, v6);
  kc.timeout = Duration::Seconds(30);
  KernelPeer kernel(topo_->kern().name(), kc);
  ASSERT_TRUE(kernel.WaitListening().ok());
  const Timestamp start = io::EventLoop::MonotonicNow();
  const std::string err = TmpDir() + "/nc_interrupt_err";
  const CommandResult r = topo_->ours().Exec(absl::StrFormat(
      "timeout --preserve-status -s INT 1 %s -v --mib --local %s --timeout 20 %s %d < /dev/zero > /dev/null 2> %s",
      nc, Topology::Path(0, v6).ours.ToString(), Topology::Path(0, v6).kernel.ToString(),
      kServerPort, err));
  const Timestamp interrupted = start + Duration::Seconds(1);
  const TransferResult k = kernel.Join();
  std::string log;
  (void)ReadFile(err, &log);
  EXPECT_EQ(r.exit_code, 130) << "mptcp_nc exits 130 on SIGINT\n" << r.output << log;
  EXPECT_FALSE(k.status.ok()) << "the kernel's connection must end with a reset";
  EXPECT_GT(k.received, 0u) << "the transfer was under way when interrupted";
  EXPECT_LT(k.finished - interrupted, Duration::Seconds(1))
      << "the kernel's connection ended " << (k.finished - interrupted).seconds()
      << " s after SIGINT: " << k.status << "\n" << log;
  EXPECT_GE(NstatCounter("MPTcpExtMPFastcloseRx"), fastclose_before + 1)
      << "the kernel never saw MP_FASTCLOSE\n" << log;
  Figure(absl::StrFormat("ctrl_c_%s_reset_after", v6 ? "ipv6" : "ipv4"),
         (k.finished - interrupted).seconds() * 1000, "ms");
}

INSTANTIATE_TEST_SUITE_P(IpVersions, MptcpNcInterruptTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Ipv6" : "Ipv4";
                         });

}  // namespace
}  // namespace mptcp::interop

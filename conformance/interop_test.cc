// Interop with the Linux kernel's MPTCP v1: our stack (behind TUN devices, driven by
// io::EventLoop) against IPPROTO_MPTCP sockets in another network namespace, over veths and a
// router namespace (topology in conformance/interop_harness.h). Each case moves
// INTEROP_MIB MiB (default 64) in each direction, checks both by SHA-256, captures the veths and
// has tshark look for malformed packets and MPTCP expert errors. The figures (goodput, the
// kernel-to-kernel goodput, the TUN packet-rate limit) are printed as "FIGURE ..." lines for
// docs/performance.md.
//
// Needs root, /dev/net/tun and /proc/sys/net/mptcp: each test skips with the reason otherwise.
// Captures are deleted after a passing test unless INTEROP_KEEP_PCAP is set (they are in
// TEST_TMPDIR, or /tmp when run by hand).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "io/event_loop.h"
#include "io/net_config.h"
#include "io/stream_pattern.h"
#include "io/tun_device.h"
#include "testing/prerequisites.h"

namespace mptcp::interop {
namespace {

// (a) our client, one subflow, to a kernel MPTCP server, and (b) a kernel MPTCP client to our
// server: byte-exact, and tshark finds the capture clean. With `offload` (issue 15) our TUN
// devices take TCP offload: the kernel cuts our GSO super-segments and its TSO bursts reach us
// whole, and both must have happened.
void ExpectOffloadUsed(const OurResult& o, bool offload) {
  if (!offload) return;
  EXPECT_GT(o.loop.super_segments_out, 0u) << Describe(o);
  EXPECT_GT(o.gso_packets_in, 0u) << Describe(o);
}

}  // namespace

void InteropTest::OurClientToKernel(uint16_t port, bool offload, const std::string& figure) {
  const uint64_t bytes = TransferBytes();
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, port);
  cfg.offload = offload;
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back);
  ExpectOffloadUsed(o, offload);
  PrintGoodput(figure, o, bytes);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

void InteropTest::KernelClientToOurs(bool offload, const std::string& figure) {
  const uint64_t bytes = TransferBytes();
  StartCapture();
  OurPeerConfig cfg = OurServer(bytes);
  cfg.offload = offload;
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeer kernel(topo_->kern().name(), KernelClient(bytes));
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back);
  EXPECT_EQ(o.mib.mp_capable_syn_rx, 1u);
  ExpectOffloadUsed(o, offload);
  PrintGoodput(figure, o, bytes);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

namespace {

TEST_F(InteropTest, OurClientToKernelServer) {
  OurClientToKernel(40001, OffloadFromEnvironment(), "a_our_client");
}
TEST_F(InteropTest, KernelClientToOurServer) {
  KernelClientToOurs(OffloadFromEnvironment(), "b_our_server");
}
TEST_F(InteropTest, OurClientToKernelServerWithOffload) {
  OurClientToKernel(40003, true, "a_our_client_offload");
}
TEST_F(InteropTest, KernelClientToOurServerWithOffload) {
  KernelClientToOurs(true, "b_our_server_offload");
}

// (c) Two subflows: our client joins over the second path; the kernel counts the MP_JOIN ACK.
TEST_F(InteropTest, OurClientJoinsSecondPath) {
  const uint64_t bytes = TransferBytes();
  const uint64_t joins_before = NstatCounter("MPTcpExtMPJoinAckRx");
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, 40021);
  cfg.extra_subflows.push_back(
      {{Topology::Path(1).ours, 40022}, {Topology::Path(1).kernel, kServerPort}});
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  EXPECT_EQ(o.mib.mp_join_synack_rx, 1u) << Describe(o);
  EXPECT_GE(NstatCounter("MPTcpExtMPJoinAckRx"), joins_before + 1)
      << "the kernel did not complete our MP_JOIN\n" << Describe(o);
  PrintGoodput("c_two_subflows", o, bytes);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// (d) The kernel server announces its second address (ADD_ADDR); our client joins it.
TEST_F(InteropTest, OurClientJoinsAnnouncedAddress) {
  const uint64_t bytes = TransferBytes();
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 signal").ok());
  // The ADD_ADDR rides on one pure ACK, which a loaded machine may drop at the TUN queue; the
  // kernel resends it only after add_addr_timeout (120 s by default). Resend after 1 s, as a
  // user on a lossy path would: a resent copy must not make us join twice.
  ASSERT_TRUE(topo_->kern().ExecOk("sysctl -qw net.mptcp.add_addr_timeout=1").ok());
  const uint64_t joins_before = NstatCounter("MPTcpExtMPJoinAckRx");
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, 40031);
  cfg.join_announced = true;
  cfg.join_local = Topology::Path(1).ours;
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  bool announced = false;
  for (const Event& e : o.events) {
    announced |= e.type == EventType::kAddressAnnounced &&
                 e.address.ip == Topology::Path(1).kernel;
  }
  const std::string kernel_counters = topo_->kern().Exec("nstat -asz 'MPTcp*'").output;
  EXPECT_TRUE(announced) << Describe(o) << kernel_counters;
  EXPECT_GE(o.mib.add_addr, 1u) << Describe(o) << kernel_counters;
  EXPECT_EQ(o.mib.add_addr, 1u + o.mib.dup_add_addr) << Describe(o) << kernel_counters;
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o) << kernel_counters;
  EXPECT_GE(NstatCounter("MPTcpExtMPJoinAckRx"), joins_before + 1)
      << Describe(o) << kernel_counters;
  EXPECT_EQ(NstatCounter("MPTcpExtAddAddrDrop"), 0u) << kernel_counters;
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// (e) A kernel client with a `subflow` endpoint joins our server over the second path.
TEST_F(InteropTest, KernelClientJoinsOurServer) {
  const uint64_t bytes = TransferBytes();
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 subflow").ok());
  const uint64_t synacks_before = NstatCounter("MPTcpExtMPJoinSynAckRx");
  StartCapture();
  OurPeer ours(topo_->ours().name(), OurServer(bytes));
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.local = {Topology::Path(0).kernel, 0};
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  EXPECT_EQ(o.mib.mp_join_syn_rx, 1u) << Describe(o);
  EXPECT_EQ(o.mib.mp_join_ack_rx, 1u) << Describe(o);
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  EXPECT_GE(NstatCounter("MPTcpExtMPJoinSynAckRx"), synacks_before + 1) << Describe(o);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// A stateless MP_CAPABLE v1 server (SYN cookies, as Linux's tcp_syncookies=2): the kernel's
// SYN gets a cookie SYN-ACK and no state; its third ACK, echoing both keys (RFC 8684 §3.1),
// opens the connection, which the kernel then joins over its second address. A plain TCP
// kernel client goes through the same cookies.
TEST_F(InteropTest, KernelClientToOurCookieServer) {
  const uint64_t bytes = std::min<uint64_t>(TransferBytes(), 16 << 20);
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 subflow").ok());
  for (const bool mptcp : {true, false}) {
    SCOPED_TRACE(mptcp ? "MPTCP client" : "plain TCP client");
    StartCapture();
    OurPeerConfig oc = OurServer(bytes);
    oc.endpoint.syn_cookies = SynCookieMode::kAlways;
    OurPeer ours(topo_->ours().name(), oc);
    ASSERT_TRUE(ours.WaitReady().ok());
    KernelPeerConfig kc = KernelClient(bytes);
    kc.local = {Topology::Path(0).kernel, 0};
    kc.mptcp = mptcp;
    KernelPeer kernel(topo_->kern().name(), kc);
    const TransferResult k = kernel.Join();
    const OurResult o = ours.Join();
    ExpectExact(o, k, bytes);
    EXPECT_EQ(o.fell_back, !mptcp) << Describe(o);
    EXPECT_GE(o.endpoint_stats.syncookies_sent, 1u) << Describe(o);
    EXPECT_EQ(o.endpoint_stats.syncookies_recv, 1u) << Describe(o);
    EXPECT_EQ(o.endpoint_stats.syncookies_failed, 0u) << Describe(o);
    if (mptcp) {
      EXPECT_EQ(o.mib.mp_capable_syn_rx, 1u) << Describe(o);
      EXPECT_EQ(o.mib.mp_join_ack_rx, 1u) << Describe(o);
      EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
    }
    std::printf("%s", Describe(o).c_str());
    CheckCaptureClean();
  }
}

// Beyond the list: DSS checksums (RFC 8684 §3.3.1) negotiated either way. The kernel
// asks for them with net.mptcp.checksum_enabled=1; or we ask (config.checksum): either side
// asking makes them required, and every mapping must then verify at the other end.
TEST_F(InteropTest, DssChecksumsRequestedByTheKernel) {
  const uint64_t bytes = TransferBytes() / 4;
  ASSERT_TRUE(topo_->kern().ExecOk("sysctl -qw net.mptcp.checksum_enabled=1").ok());
  const uint64_t csum_errors_before = NstatCounter("MPTcpExtDataCsumErr");
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), OurClient(bytes, 40061));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  EXPECT_TRUE(o.checksum) << "the kernel's A flag must turn checksums on\n" << Describe(o);
  EXPECT_FALSE(o.fell_back);
  EXPECT_EQ(o.mib.data_csum_err, 0u);
  EXPECT_EQ(NstatCounter("MPTcpExtDataCsumErr"), csum_errors_before)
      << "the kernel rejected our DSS checksums";
  CheckCaptureClean();
}

TEST_F(InteropTest, DssChecksumsRequestedByUs) {
  const uint64_t bytes = TransferBytes() / 4;
  const uint64_t csum_errors_before = NstatCounter("MPTcpExtDataCsumErr");
  StartCapture();
  OurPeerConfig server = OurServer(bytes);
  server.endpoint.connection.checksum = true;
  OurPeer ours(topo_->ours().name(), server);
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeer kernel(topo_->kern().name(), KernelClient(bytes));
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  EXPECT_TRUE(o.checksum) << Describe(o);
  EXPECT_FALSE(o.fell_back);
  EXPECT_EQ(o.mib.data_csum_err, 0u);
  EXPECT_EQ(NstatCounter("MPTcpExtDataCsumErr"), csum_errors_before)
      << "the kernel rejected our DSS checksums";
  CheckCaptureClean();
}

// Beyond the list: our client joins the second path as a backup (MP_JOIN with B set);
// the kernel's scheduler then keeps it idle while the first path works (RFC 8684 §3.3.8).
TEST_F(InteropTest, BackupSubflowStaysIdle) {
  const uint64_t bytes = TransferBytes() / 4;
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, 40071);
  cfg.extra_subflows.push_back(
      {{Topology::Path(1).ours, 40072}, {Topology::Path(1).kernel, kServerPort}});
  cfg.backup_extra = true;
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  ASSERT_EQ(o.max_subflows, 2u) << Describe(o);
  // Subflow 1 is the initial one; the backup is the other. Both directions: we send nothing
  // on it ourselves, and the kernel (which saw B=1 in our MP_JOIN) sends nothing either, so
  // it carries at most the handshake and a few ACKs.
  uint64_t backup_segs = 0, primary_segs = 0;
  for (const auto& [id, segs] : o.subflow_out_segs) (id == 1 ? primary_segs : backup_segs) += segs;
  EXPECT_GT(primary_segs, 1000u) << Describe(o);
  EXPECT_LT(backup_segs, primary_segs / 50) << Describe(o);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// (f) Two subflows, and the second path's link goes down a third of the way through: the
// transfer completes over the first.
TEST_F(InteropTest, PathDownMidTransfer) {
  const uint64_t bytes = TransferBytes();
  StartCapture();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, 40041);
  cfg.extra_subflows.push_back(
      {{Topology::Path(1).ours, 40042}, {Topology::Path(1).kernel, kServerPort}});
  // The connection reports Closed as soon as both DATA_FINs are acknowledged (RFC 8684
  // §3.3.3), even with a subflow stuck on the dead path (reset later by the close timeout).
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  // Bounded wait for a third of the data in both directions, then cut path 1.
  bool cut = false;
  const Timestamp give_up = io::EventLoop::MonotonicNow() + Duration::Seconds(120);
  while (io::EventLoop::MonotonicNow() < give_up) {
    if (ours.received_so_far() >= bytes / 3 && kernel.received_so_far() >= bytes / 3) {
      ASSERT_TRUE(topo_->ours().ExecOk("ip link set a1 down").ok());
      cut = true;
      break;
    }
    ::usleep(2000);
  }
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  EXPECT_TRUE(cut) << "the transfer never reached a third";
  ExpectExact(o, k, bytes);
  EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  // The second subflow carried data before the cut, so the first finished its share.
  ASSERT_TRUE(o.subflow_out_segs.contains(2)) << Describe(o);
  EXPECT_GT(o.subflow_out_segs.at(2), 100u) << Describe(o);
  if (!o.closed_cleanly) {
    std::printf("NOTE: data complete both ways, but Closed(normal) not reported within %.1f s "
                "(a subflow on the dead path still holds the close)\n",
                OurPeerConfig().close_grace.seconds());
  }
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// (g) The kernel namespace has MPTCP disabled: our client falls back to plain TCP.
TEST_F(InteropTest, FallbackWhenKernelMptcpDisabled) {
  const uint64_t bytes = TransferBytes();
  ASSERT_TRUE(topo_->kern().ExecOk("echo 0 > /proc/sys/net/mptcp/enabled").ok());
  StartCapture();
  KernelPeerConfig kc = KernelServer(bytes);
  kc.tcp_if_mptcp_disabled = true;
  KernelPeer kernel(topo_->kern().name(), kc);
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), OurClient(bytes, 40051));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  ExpectExact(o, k, bytes);
  EXPECT_TRUE(o.fell_back) << Describe(o);
  bool event = false;
  for (const Event& e : o.events) event |= e.type == EventType::kFellBackToTcp;
  EXPECT_TRUE(event) << Describe(o);
  std::printf("%s", Describe(o).c_str());
  CheckCaptureClean();
}

// (g') A plain-TCP kernel client to our server: served as TCP.
TEST_F(InteropTest, PlainTcpKernelClientToOurServer) {
  const uint64_t bytes = TransferBytes();
  StartCapture();
  OurPeer ours(topo_->ours().name(), OurServer(bytes));
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.mptcp = false;
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  EXPECT_TRUE(o.fell_back) << Describe(o);
  CheckCaptureClean();
}

// Kernel-to-kernel MPTCP goodput over the same router hop, for comparison with (a) and (b).
TEST_F(InteropTest, KernelToKernelGoodput) {
  const uint64_t bytes = TransferBytes();
  const char* k2k_tcp = std::getenv("INTEROP_K2K_TCP");
  const bool mptcp = k2k_tcp == nullptr || *k2k_tcp == 0;
  KernelPeer server(topo_->kern().name(), KernelServer(bytes, mptcp));
  ASSERT_TRUE(server.WaitListening().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.mptcp = mptcp;
  kc.remote = {Topology::Path(0).kernel, kServerPort};
  kc.seed = kOurSeed;
  kc.expect_seed = kKernelSeed;
  KernelPeer client(topo_->kcli().name(), kc);
  const TransferResult c = client.Join();
  const TransferResult s = server.Join();
  ASSERT_TRUE(c.status.ok()) << c.status;
  ASSERT_TRUE(s.status.ok()) << s.status;
  ExpectKernelToKernelExact(c, s, bytes);
  Figure("kernel_to_kernel_goodput_each_way", MiBps(bytes, c.elapsed()), "MiB/s");
  Figure("kernel_to_kernel_goodput_total", MiBps(2 * bytes, c.elapsed()), "MiB/s");
}

// One thread's packet-rate limit through a TUN device on this machine: write a packet that the
// kernel routes straight back into the same TUN, read it back; batches of 32, for one second.
// Each round trip is one write and one read, the two operations our loop does per packet.
double TunRoundTripsPerSecond(Topology& topo, size_t packet_size) {
  double rate = 0;
  std::string error;
  std::thread t = SpawnInNetns(topo.ours().name(), [&] {
    auto tun = io::TunDevice::Open("tunp");
    if (!tun.ok()) {
      error = tun.status().ToString();
      return;
    }
    absl::Status st = io::SetLinkUp("tunp", 1500);
    if (st.ok()) st = io::AddRoute(IpAddress::V4(192, 0, 2, 200), 32, "tunp");
    if (!st.ok()) {
      error = st.ToString();
      return;
    }
    // IPv4 + UDP (checksum 0: none), 192.0.2.201 -> 192.0.2.200, TTL 64.
    std::vector<uint8_t> pkt(packet_size, 0);
    pkt[0] = 0x45;
    pkt[2] = static_cast<uint8_t>(packet_size >> 8);
    pkt[3] = static_cast<uint8_t>(packet_size);
    pkt[8] = 64;
    pkt[9] = 17;
    const uint8_t src[4] = {192, 0, 2, 201}, dst[4] = {192, 0, 2, 200};
    std::memcpy(&pkt[12], src, 4);
    std::memcpy(&pkt[16], dst, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(pkt[i] << 8 | pkt[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    pkt[10] = static_cast<uint8_t>(~sum >> 8);
    pkt[11] = static_cast<uint8_t>(~sum);
    pkt[20] = 0x9c;  // UDP ports 40000 -> 40001
    pkt[21] = 0x40;
    pkt[22] = 0x9c;
    pkt[23] = 0x41;
    pkt[24] = static_cast<uint8_t>((packet_size - 20) >> 8);
    pkt[25] = static_cast<uint8_t>(packet_size - 20);
    std::vector<uint8_t> in(65536);
    uint64_t round_trips = 0;
    const Timestamp start = io::EventLoop::MonotonicNow();
    Timestamp now = start;
    while (now - start < Duration::Seconds(1)) {
      int written = 0;
      for (int i = 0; i < 32; ++i) written += (*tun)->Write(pkt).ok();
      for (int i = 0, spins = 0; i < written && spins < 1000; ++spins) {
        auto n = (*tun)->Read(in);
        if (!n.ok()) break;
        if (*n > 0) {
          ++i;
          ++round_trips;
        }
      }
      now = io::EventLoop::MonotonicNow();
    }
    rate = static_cast<double>(round_trips) / (now - start).seconds();
  });
  t.join();
  EXPECT_TRUE(error.empty()) << error;
  return rate;
}

TEST_F(InteropTest, TunPacketRateLimit) {
  const double small = TunRoundTripsPerSecond(*topo_, 64);
  const double full = TunRoundTripsPerSecond(*topo_, 1500);
  Figure("tun_round_trips_per_s_64B", small, "round-trips/s");
  Figure("tun_round_trips_per_s_1500B", full, "round-trips/s");
  // A full-sized data segment carries 1448 bytes (MSS 1460 less the timestamp option); in a
  // bulk transfer each one costs a write at the sender's TUN and a read at the receiver's.
  Figure("tun_goodput_ceiling_1500B", full * 1448 / (1 << 20), "MiB/s");
  EXPECT_GT(small, 0);
}

// The mptcp_nc tool end to end: a file through it to a kernel server that announces its second
// address, the kernel's reply back through it to stdout, both checked by SHA-256. mptcp_nc
// exits only once the subflows' FIN exchanges are done: the kernel, which closes its socket
// after the transfer, has none of its FINs left to resend.
TEST_F(InteropTest, MptcpNcToKernelServer) {
  const std::string nc = NcPath();
  if (::access(nc.c_str(), X_OK) != 0)
    MPTCP_SKIP_MISSING_PREREQUISITE("no mptcp_nc binary at " << nc);
  const uint64_t bytes = std::min<uint64_t>(TransferBytes(), 16 << 20);
  ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp endpoint add 203.0.113.1 dev b1 signal").ok());
  const std::string in = TmpDir() + "/nc_in", out = TmpDir() + "/nc_out",
                    err = TmpDir() + "/nc_err";
  ASSERT_TRUE(WritePatternFile(in, bytes, kOurSeed)) << in;
  // The kernel's application half-closes 300 ms after its last byte: its DATA_FIN is the last
  // of the two, so its subflows' FINs follow mptcp_nc's Closed event by a round trip.
  KernelPeerConfig kc = KernelServer(bytes);
  kc.half_close_delay = Duration::Millis(300);
  KernelPeer kernel(topo_->kern().name(), kc);
  ASSERT_TRUE(kernel.WaitListening().ok());
  const CommandResult r = topo_->ours().Exec(absl::StrFormat(
      "%s -v --mib --join-announced --local 192.0.2.1,192.0.2.2 --timeout 120%s "
      "198.51.100.1 %d < %s > %s 2> %s",
      nc, OffloadFromEnvironment() ? " --offload" : "", kServerPort, in, out, err));
  // mptcp_nc has exited: every FIN the kernel sent must have been acknowledged by then, so that
  // the kernel resends none to the devices that went away with it.
  const uint64_t retrans_at_exit = NstatCounter("TcpRetransSegs");
  const TransferResult k = kernel.Join();
  std::string log;
  if (std::FILE* f = std::fopen(err.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof(line), f)) {
      if (!absl::StrContains(line, " 0\n")) log += line;  // skip zero counters
    }
    std::fclose(f);
  }
  ExpectNcExact(r, k, out, bytes, log);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(absl::StrContains(log, "AddressAnnounced")) << log;
  EXPECT_TRUE(absl::StrContains(log, "SubflowUp(2)")) << log;
  EXPECT_TRUE(absl::StrContains(log, "MPTcpExtMPJoinSynAckRx")) << log;
  // The kernel's FIN retransmission timer (RTO, at least 200 ms) would have fired by now.
  ::usleep(1'500'000);
  EXPECT_EQ(NstatCounter("TcpRetransSegs"), retrans_at_exit)
      << "the kernel retransmitted after mptcp_nc exited (FINs left unacknowledged)\n"
      << topo_->kern().Exec("ss -tanio").output;
  const std::string closing =
      topo_->kern().Exec("ss -tanH state fin-wait-1 state closing state last-ack").output;
  EXPECT_TRUE(closing.empty()) << "kernel subflows still closing:\n" << closing;
  std::printf("%s", log.c_str());
}

}  // namespace
}  // namespace mptcp::interop

// Interop over the RawSocket binding (io/raw_socket.h) instead of TUN: our stack owns a port on
// an address the namespace itself has configured, receives copies of TCP packets through a raw
// socket, and sends through it with IP_HDRINCL. The kernel's own TCP would answer our peer's
// SYN-ACK (or SYN) with a RST; the iptables rule documented in raw_socket.h drops exactly
// those, and the test checks that the rule did drop some, i.e. that it was needed.
//
//   ns "raw" 192.0.2.1/24 r0 ===== k0 192.0.2.2/24 ns "rawk" (kernel MPTCP server)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "io/net_config.h"
#include "io/raw_socket.h"
#include "io/stream_pattern.h"
#include "testing/prerequisites.h"

namespace mptcp::interop {
namespace {

constexpr uint16_t kOurPort = 40061;
constexpr uint16_t kServerPort = 5201;

TEST(RawSocketInteropTest, OurClientOverRawSocketToKernelServer) {
  const std::string why = MissingPrerequisite();
  if (!why.empty()) MPTCP_SKIP_MISSING_PREREQUISITE("interop prerequisites missing: " << why);
  if (!HaveTool("iptables"))
    MPTCP_SKIP_MISSING_PREREQUISITE("no iptables: cannot keep the kernel's RSTs away");
  CleanStaleNamespaces();
  uint64_t mib = 64;
  if (const char* e = std::getenv("INTEROP_MIB")) (void)absl::SimpleAtoi(e, &mib);
  const uint64_t bytes = mib << 20;

  auto ours = Netns::Create("raw");
  ASSERT_TRUE(ours.ok()) << ours.status();
  auto kern = Netns::Create("rawk");
  ASSERT_TRUE(kern.ok()) << kern.status();
  const std::string R = (*ours)->name(), K = (*kern)->name();
  for (const std::string& cmd : {
           absl::StrFormat("ip -n %s link add r0 type veth peer name k0 netns %s", R, K),
           absl::StrFormat("ip -n %s addr add 192.0.2.1/24 dev r0", R),
           absl::StrFormat("ip -n %s addr add 192.0.2.2/24 dev k0", K),
           absl::StrFormat("ip -n %s link set r0 up", R),
           absl::StrFormat("ip -n %s link set k0 up", K),
       }) {
    ASSERT_TRUE(RunOk(cmd).ok()) << cmd;
  }
  const std::string rule = absl::StrFormat(
      "OUTPUT -p tcp --sport %d --tcp-flags RST RST -m mark ! --mark 0x%x -j DROP", kOurPort,
      io::kRawSocketMark);
  const absl::Status rule_st = (*ours)->ExecOk("iptables -A " + rule);
  if (!rule_st.ok()) MPTCP_SKIP_MISSING_PREREQUISITE("iptables does not work here: " << rule_st);
  // The kernel peer sends whole, checksummed, MTU-sized packets (see raw_socket.h).
  absl::Status offloads;
  SpawnInNetns(K, [&] { offloads = io::DisableOffloads("k0"); }).join();
  ASSERT_TRUE(offloads.ok()) << offloads;
  ASSERT_TRUE((*kern)->ExecOk("ip mptcp limits set subflows 2 add_addr_accepted 2").ok());

  std::unique_ptr<Capture> capture;
  if (HaveTool("dumpcap") && HaveTool("tshark")) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    auto c = Capture::Start(**kern, {"k0"}, std::string(tmp ? tmp : "/tmp") + "/raw.pcapng");
    ASSERT_TRUE(c.ok()) << c.status();
    capture = std::move(*c);
  }

  KernelPeerConfig kc;
  kc.server = true;
  kc.local = {IpAddress::V4(0, 0, 0, 0), kServerPort};
  kc.send_bytes = bytes;
  kc.seed = 22;
  KernelPeer kernel(K, kc);
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig oc;
  oc.raw_socket = true;
  oc.tun_count = 0;
  oc.local = {IpAddress::V4(192, 0, 2, 1), kOurPort};
  oc.remote = {IpAddress::V4(192, 0, 2, 2), kServerPort};
  oc.send_bytes = bytes;
  oc.seed = 11;
  OurPeer us(R, oc);
  ASSERT_TRUE(us.WaitReady().ok());
  const OurResult o = us.Join();
  const TransferResult k = kernel.Join();
  ASSERT_TRUE(o.status.ok()) << Describe(o) << "kernel: " << k.status;
  ASSERT_TRUE(k.status.ok()) << k.status;
  EXPECT_FALSE(o.fell_back) << Describe(o);
  EXPECT_EQ(k.received, bytes);
  EXPECT_EQ(o.received, bytes);
  EXPECT_EQ(io::DigestHex(k.received_digest), io::DigestHex(io::StreamPattern(11).Digest(bytes)));
  EXPECT_EQ(io::DigestHex(o.received_digest), io::DigestHex(io::StreamPattern(22).Digest(bytes)));
  EXPECT_EQ(o.endpoint_stats.bad_checksum, 0u) << Describe(o);
  std::printf("FIGURE raw_socket_goodput_each_way %.1f MiB/s\n",
              static_cast<double>(bytes) / (1 << 20) / o.elapsed().seconds());

  // The rule did its job: the kernel tried to reset our connection at least once (its answer
  // to the server's SYN-ACK, for which it has no socket).
  const CommandResult counters = (*ours)->Exec("iptables -L OUTPUT -v -n -x");
  uint64_t dropped = 0;
  for (absl::string_view line : absl::StrSplit(counters.output, '\n')) {
    std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cols.size() > 2 && cols[2] == "DROP") (void)absl::SimpleAtoi(cols[0], &dropped);
  }
  EXPECT_GE(dropped, 1u) << counters.output;
  std::printf("kernel RSTs dropped by the rule: %lu\n", static_cast<unsigned long>(dropped));

  if (capture != nullptr) {
    auto path = capture->Stop();
    ASSERT_TRUE(path.ok()) << path.status();
    auto f = CheckCapture(*path);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(f->malformed.empty()) << f->malformed.front();
    EXPECT_TRUE(f->mptcp_errors.empty()) << f->mptcp_errors.front();
    if (!HasFailure()) std::remove(path->c_str());
  }
}

}  // namespace
}  // namespace mptcp::interop

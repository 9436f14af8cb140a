// MP_FAIL and the infinite mapping (RFC 8684 §3.7) against the kernel: DSS checksums on
// (net.mptcp.checksum_enabled=1 at the kernel), and one payload byte of one segment rewritten
// at our TUN device with the TCP checksum fixed (CorruptSpec), so only the DSS checksum can
// tell. Each direction, with one subflow and with two.
//
// What Linux does, and so what "survives" means here:
// - With two subflows, the receiver (either of us) resets the subflow with MP_FAIL on the RST,
//   and the sender resends on the other: both streams byte-exact.
// - With one subflow, Linux as the receiver sends MP_FAIL and delivers the failed mapping to
//   its application anyway (net/mptcp/subflow.c: the bad-checksum branch marks the data
//   available); our infinite mapping then resumes at its DATA_ACK, so the connection carries
//   on as TCP and exactly the rewritten byte differs in what it received.
// - With one subflow, Linux as the sender does not resend what failed. Its code answers MP_FAIL
//   with an infinite mapping at its next new byte (a hole for us, who discarded the failed
//   bytes: InfiniteMapGap); on 6.18, here, it counts InfiniteMapTx but sends nothing at all
//   after its MP_FAIL echo, and our MP_FAIL timeout ends it (MPFailTimeout). Either way we
//   reset the connection and never deliver a wrong byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "io/stream_pattern.h"
#include "mptcp/event.h"

namespace mptcp::interop {
namespace {

class InteropMpFailTest : public InteropTest {
 protected:
  void SetUp() override {
    InteropTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(topo_->kern().ExecOk("sysctl -qw net.mptcp.checksum_enabled=1").ok());
  }
  uint64_t Bytes() const { return std::min<uint64_t>(TransferBytes(), 8 << 20); }
  // What we received is a correct prefix of the kernel's stream.
  static bool PrefixExact(const OurResult& o) {
    return io::DigestHex(o.received_digest) ==
           io::DigestHex(io::StreamPattern(kKernelSeed).Digest(o.received));
  }
  OurPeerConfig Client(uint64_t bytes, uint16_t port, bool two_paths, CorruptSpec c) {
    OurPeerConfig cfg = OurClient(bytes, port);
    if (two_paths) {
      cfg.extra_subflows.push_back(
          {{Topology::Path(1).ours, static_cast<uint16_t>(port + 1)},
           {Topology::Path(1).kernel, kServerPort}});
    }
    cfg.corrupt = c;
    if (const char* p = std::getenv("INTEROP_MPFAIL_PCAP")) cfg.pcap = p;
    cfg.require_clean_close = false;
    cfg.timeout = Duration::Seconds(60);
    return cfg;
  }
  void PrintCounters(const char* name, const OurResult& o, const TransferResult& k) {
    std::printf("%s: corrupted %llu; ours: %s; kernel received %llu B, %llu wrong (first at %s); "
                "kernel: %s\n",
                name, static_cast<unsigned long long>(o.corrupted), Describe(o).c_str(),
                static_cast<unsigned long long>(k.received),
                static_cast<unsigned long long>(k.wrong_bytes),
                k.first_wrong_byte ? std::to_string(*k.first_wrong_byte).c_str() : "-",
                topo_->kern().Exec("nstat -asz | grep -E 'MPTcpExt(DataCsumErr|MPFail|InfiniteMap|MPRst)' | awk '$2 != 0'").output.c_str());
  }
};

TEST_F(InteropMpFailTest, OneSubflowOurDataCorruptedFallsBackToTcp) {
  const uint64_t bytes = Bytes();
  const uint64_t csum_before = NstatCounter("MPTcpExtDataCsumErr");
  const uint64_t inf_before = NstatCounter("MPTcpExtInfiniteMapRx");
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), Client(bytes, 40071, false, CorruptSpec::Rewrite(0, true, 200)));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  PrintCounters("one subflow, our data", o, k);
  ASSERT_EQ(o.corrupted, 1u) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtDataCsumErr"), csum_before + 1);
  EXPECT_GE(o.mib.mp_fail_rx, 1u) << Describe(o);
  EXPECT_EQ(o.mib.infinite_map_tx, 1u) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtInfiniteMapRx"), inf_before + 1);
  EXPECT_TRUE(o.fell_back);
  // Both streams complete; ours exact; the kernel's differs in the one byte rewritten.
  ASSERT_TRUE(o.status.ok()) << Describe(o);
  ASSERT_TRUE(k.status.ok()) << k.status;
  EXPECT_EQ(o.received, bytes);
  EXPECT_TRUE(PrefixExact(o));
  EXPECT_EQ(k.received, bytes);
  EXPECT_EQ(k.wrong_bytes, 1u) << "Linux delivers the failed mapping; nothing else may differ";
}

TEST_F(InteropMpFailTest, OneSubflowKernelDataCorruptedNeverDeliversAWrongByte) {
  const uint64_t bytes = Bytes();
  const uint64_t fail_before = NstatCounter("MPTcpExtMPFailRx");
  // The kernel's side may outlive our reset: our stack stops at once, so a RST the kernel
  // does not take (RFC 5961 §3.2, data in flight) gets no second one. Bound its wait.
  KernelPeerConfig kc = KernelServer(bytes);
  kc.timeout = Duration::Seconds(15);
  KernelPeer kernel(topo_->kern().name(), kc);
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), Client(bytes, 40073, false, CorruptSpec::Rewrite(0, false, 200)));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  PrintCounters("one subflow, the kernel's data", o, k);
  ASSERT_EQ(o.corrupted, 1u) << Describe(o);
  EXPECT_EQ(o.mib.data_csum_err, 1u) << Describe(o);
  EXPECT_GE(o.mib.mp_fail_tx, 1u) << Describe(o);
  EXPECT_GE(NstatCounter("MPTcpExtMPFailRx"), fail_before + 1);
  EXPECT_TRUE(PrefixExact(o)) << "a wrong byte was delivered\n" << Describe(o);
  if (o.received == bytes) {
    EXPECT_EQ(o.mib.infinite_map_rx, 1u) << Describe(o);
  } else {
    // The kernel does not resend the failed bytes: it resumed past them (InfiniteMapGap), or,
    // as Linux 6.18 does here, sent nothing more after its MP_FAIL echo (MPFailTimeout). The
    // connection ends, clearly, and the hole is never delivered.
    EXPECT_EQ(o.mib.infinite_map_gap + o.mib.mp_fail_timeout, 1u) << Describe(o);
    EXPECT_EQ(o.close_reason, CloseReason::kProtocolError) << Describe(o);
    EXPECT_LT(o.elapsed(), Duration::Seconds(30)) << Describe(o);
  }
}

TEST_F(InteropMpFailTest, TwoSubflowsOurDataCorruptedIsResentOnTheOther) {
  const uint64_t bytes = Bytes();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), Client(bytes, 40075, true, CorruptSpec::Rewrite(1, true, 100)));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  PrintCounters("two subflows, our data", o, k);
  ASSERT_EQ(o.corrupted, 1u) << Describe(o);
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back);
  EXPECT_GE(o.mib.mp_fail_rx + o.mib.mp_rst_rx, 1u) << Describe(o);
}

TEST_F(InteropMpFailTest, TwoSubflowsKernelDataCorruptedIsResentOnTheOther) {
  const uint64_t bytes = Bytes();
  const uint64_t fail_before = NstatCounter("MPTcpExtMPFailRx");
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeer ours(topo_->ours().name(), Client(bytes, 40077, true, CorruptSpec::Rewrite(1, false, 100)));
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  PrintCounters("two subflows, the kernel's data", o, k);
  ASSERT_EQ(o.corrupted, 1u) << Describe(o);
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back);
  EXPECT_EQ(o.mib.data_csum_err, 1u) << Describe(o);
  EXPECT_EQ(o.mib.mp_fail_tx, 1u) << Describe(o);  // on the subflow's RST
  // The kernel counts it only if it takes that RST: with data in flight towards us its
  // sequence number may not be RCV.NXT, and RFC 5961 §3.2 makes it a challenge ACK instead
  // (the subflow is gone on our side either way, and its data came again on the other).
  std::printf("kernel MPFailRx +%llu\n",
              static_cast<unsigned long long>(NstatCounter("MPTcpExtMPFailRx") - fail_before));
}

}  // namespace
}  // namespace mptcp::interop

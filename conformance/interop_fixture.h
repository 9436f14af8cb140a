// The fixture every interop test shares: the namespaces of conformance/interop_harness.h built
// and torn down around each test, a capture of the kernel-side veths checked by tshark, the
// byte-exact comparison of both directions, the kernel's counters, and FIGURE lines for
// docs/performance.md and docs/conformance.md.
#ifndef MPTCP_CONFORMANCE_INTEROP_FIXTURE_H_
#define MPTCP_CONFORMANCE_INTEROP_FIXTURE_H_

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "io/stream_pattern.h"
#include "mptcp/crypto/sha256.h"
#include "testing/prerequisites.h"

namespace mptcp::interop {

inline constexpr uint64_t kOurSeed = 11;
inline constexpr uint64_t kKernelSeed = 22;
inline constexpr uint16_t kServerPort = 5201;

inline uint64_t TransferBytes() {
  uint64_t mib = 64;
  if (const char* e = std::getenv("INTEROP_MIB")) (void)absl::SimpleAtoi(e, &mib);
  return mib << 20;
}

inline std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

// The mptcp_nc binary in the test's runfiles (or, run by hand, the workspace's): tests check
// that it is executable and skip otherwise.
inline std::string NcPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return srcdir != nullptr ? std::string(srcdir) + "/mptcp/tools/mptcp_nc" : "tools/mptcp_nc";
}

// Writes `bytes` of io::StreamPattern(seed) to `path`: the input an mptcp_nc run sends.
inline bool WritePatternFile(const std::string& path, uint64_t bytes, uint64_t seed) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::vector<uint8_t> buf(1 << 16);
  io::StreamPattern p(seed);
  bool ok = true;
  for (uint64_t off = 0; off < bytes && ok; off += buf.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), bytes - off));
    p.Fill(off, std::span<uint8_t>(buf.data(), n));
    ok = std::fwrite(buf.data(), 1, n, f) == n;
  }
  return std::fclose(f) == 0 && ok;
}

inline double MiBps(uint64_t bytes, Duration d) {
  return d.nanos() <= 0 ? 0 : static_cast<double>(bytes) / (1 << 20) / d.seconds();
}

inline void Figure(const std::string& name, double value, const std::string& unit) {
  std::printf("FIGURE %s %.1f %s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = MissingPrerequisite();
    if (!why.empty()) MPTCP_SKIP_MISSING_PREREQUISITE("interop prerequisites missing: " << why);
    CleanStaleNamespaces();
    auto t = Topology::Create();
    ASSERT_TRUE(t.ok()) << t.status();
    topo_ = std::move(*t);
    // Linux's default limits allow 2 extra subflows and accept 0 ADD_ADDRs; be explicit.
    ASSERT_TRUE(topo_->kern().ExecOk("ip mptcp limits set subflows 4 add_addr_accepted 4").ok());
  }

  void TearDown() override {
    if (HasFailure() && topo_ != nullptr) {
      // The kernel's side of the story: its nonzero MPTCP counters.
      std::printf("kernel MPTCP counters:\n%s\n",
                  topo_->kern().Exec("nstat -asz | grep MPTcp | awk '$2 != 0'").output.c_str());
    }
    capture_.reset();
    topo_.reset();  // deletes the namespaces
  }

  // Captures both kernel-side veths (everything that crosses a "wire").
  void StartCapture() {
    if (!HaveTool("dumpcap") || !HaveTool("tshark")) {
      std::printf("NOTE: no dumpcap/tshark: capture check skipped\n");
      return;
    }
    const std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto c = Capture::Start(topo_->kern(), {"b0", "b1"}, TmpDir() + "/" + name + ".pcapng");
    ASSERT_TRUE(c.ok()) << c.status();
    capture_ = std::move(*c);
  }

  void CheckCaptureClean() {
    if (capture_ == nullptr) return;
    auto path = capture_->Stop();
    ASSERT_TRUE(path.ok()) << path.status();
    auto f = interop::CheckCapture(*path);
    ASSERT_TRUE(f.ok()) << f.status();
    std::printf("capture %s: %lu frames, %lu with MPTCP options\n", path->c_str(),
                static_cast<unsigned long>(f->frames), static_cast<unsigned long>(f->mptcp_frames));
    EXPECT_GT(f->frames, 0u);
    auto head = [](const std::vector<std::string>& v) {
      return absl::StrJoin(v.begin(), v.begin() + std::min<size_t>(v.size(), 20), "\n");
    };
    EXPECT_TRUE(f->malformed.empty()) << f->malformed.size() << " malformed:\n"
                                      << head(f->malformed);
    EXPECT_TRUE(f->mptcp_errors.empty()) << f->mptcp_errors.size() << " MPTCP expert errors:\n"
                                         << head(f->mptcp_errors);
    if (!f->other_errors.empty()) {
      std::printf("note: %zu non-MPTCP expert errors, first:\n%s\n", f->other_errors.size(),
                  head(f->other_errors).c_str());
    }
    if (!HasFailure() && std::getenv("INTEROP_KEEP_PCAP") == nullptr) std::remove(path->c_str());
  }

  // Both directions arrived intact.
  void ExpectExact(const OurResult& ours, const TransferResult& kernel, uint64_t bytes) {
    ASSERT_TRUE(ours.status.ok()) << Describe(ours) << "kernel: " << kernel.status;
    ASSERT_TRUE(kernel.status.ok()) << kernel.status << "\n" << Describe(ours);
    EXPECT_EQ(ours.sent, bytes);
    EXPECT_EQ(kernel.sent, bytes);
    EXPECT_EQ(kernel.received, bytes) << Describe(ours);
    EXPECT_EQ(ours.received, bytes) << Describe(ours);
    EXPECT_EQ(io::DigestHex(kernel.received_digest),
              io::DigestHex(io::StreamPattern(kOurSeed).Digest(bytes)))
        << "kernel received corrupted data, from stream offset "
        << (kernel.first_wrong_byte ? std::to_string(*kernel.first_wrong_byte) : "?");
    EXPECT_EQ(io::DigestHex(ours.received_digest),
              io::DigestHex(io::StreamPattern(kKernelSeed).Digest(bytes)))
        << "we received corrupted data";
    ExpectStreamChecked(ours);
  }

  // With OurPeerConfig::check_stream: every data segment carried its mapping's bytes.
  static void ExpectStreamChecked(const OurResult& ours) {
    EXPECT_EQ(ours.stream_error_out, "") << "we sent a segment whose payload is not its mapping's";
    EXPECT_EQ(ours.stream_error_in, "") << "the kernel sent a segment whose payload is not its "
                                           "mapping's";
    // RFC 8684 §3.3.1: data needs a mapping; a receiver would take unmapped bytes as the
    // continuation of the mapping before them. Only a fallback to TCP sends data without one.
    if (!ours.fell_back) {
      EXPECT_EQ(ours.stream_unmapped_out, 0u) << "we sent data without a mapping";
    }
  }

  // mptcp_nc (exit code in `nc`) moved `bytes` of kOurSeed's pattern to the kernel and wrote the
  // kernel's `bytes` of kKernelSeed's pattern to `out_path`; `log` (its stderr) goes into every
  // failure message.
  void ExpectNcExact(const CommandResult& nc, const TransferResult& kernel,
                     const std::string& out_path, uint64_t bytes, const std::string& log) {
    ASSERT_EQ(nc.exit_code, 0) << nc.output << log;
    ASSERT_TRUE(kernel.status.ok()) << kernel.status << "\n" << log;
    EXPECT_EQ(kernel.received, bytes) << log;
    EXPECT_EQ(io::DigestHex(kernel.received_digest),
              io::DigestHex(io::StreamPattern(kOurSeed).Digest(bytes)));
    crypto::Sha256 h;
    uint64_t got = 0;
    if (std::FILE* f = std::fopen(out_path.c_str(), "rb")) {
      std::vector<uint8_t> buf(1 << 16);
      while (size_t n = std::fread(buf.data(), 1, buf.size(), f)) {
        h.Update(std::span<const uint8_t>(buf.data(), n));
        got += n;
      }
      std::fclose(f);
    }
    EXPECT_EQ(got, bytes) << log;
    EXPECT_EQ(io::DigestHex(h.Final()),
              io::DigestHex(io::StreamPattern(kKernelSeed).Digest(bytes)));
  }

  // Both paths shaped to `rate` each way with tbf (a 50 ms queue): the router's egress towards
  // the kernel (a0, a1) and the kernel's egress towards the router (b0, b1).
  void ShapePaths(const std::string& rate) {
    for (const char* dev : {"a0", "a1"}) {
      ASSERT_TRUE(topo_->ours()
                      .ExecOk(absl::StrFormat(
                          "tc qdisc add dev %s root tbf rate %s burst 30kb latency 50ms", dev, rate))
                      .ok());
    }
    for (const char* dev : {"b0", "b1"}) {
      ASSERT_TRUE(topo_->kern()
                      .ExecOk(absl::StrFormat(
                          "tc qdisc add dev %s root tbf rate %s burst 30kb latency 50ms", dev, rate))
                      .ok());
    }
  }

  // A kernel client (seed kOurSeed) and a kernel server (kKernelSeed) moved every byte intact.
  void ExpectKernelToKernelExact(const TransferResult& client, const TransferResult& server,
                                 uint64_t bytes) {
    EXPECT_EQ(client.received, bytes);
    EXPECT_EQ(server.received, bytes);
    auto where = [](const TransferResult& r) {
      return r.first_wrong_byte ? std::to_string(*r.first_wrong_byte) : std::string("?");
    };
    EXPECT_EQ(io::DigestHex(server.received_digest),
              io::DigestHex(io::StreamPattern(kOurSeed).Digest(bytes)))
        << "the kernel server received corrupted data, from stream offset " << where(server);
    EXPECT_EQ(io::DigestHex(client.received_digest),
              io::DigestHex(io::StreamPattern(kKernelSeed).Digest(bytes)))
        << "the kernel client received corrupted data, from stream offset " << where(client);
  }

  // `v6`: the IPv6 addresses of the topology (Topology::Path(i, true)).
  static KernelPeerConfig KernelServer(uint64_t bytes, bool mptcp = true, bool v6 = false) {
    KernelPeerConfig k;
    k.server = true;
    k.mptcp = mptcp;
    k.local = {v6 ? IpAddress::V6FromBytes(std::array<uint8_t, 16>{}.data())
                  : IpAddress::V4(0, 0, 0, 0),
               kServerPort};
    k.send_bytes = bytes;
    k.seed = kKernelSeed;
    k.expect_seed = kOurSeed;
    return k;
  }
  static OurPeerConfig OurClient(uint64_t bytes, uint16_t port, bool v6 = false) {
    OurPeerConfig o;
    o.server = false;
    o.local = {Topology::Path(0, v6).ours, port};
    o.remote = {Topology::Path(0, v6).kernel, kServerPort};
    o.send_bytes = bytes;
    o.seed = kOurSeed;
    return o;
  }
  static OurPeerConfig OurServer(uint64_t bytes) {
    OurPeerConfig o;
    o.server = true;
    o.listen_port = kServerPort;
    o.send_bytes = bytes;
    o.seed = kOurSeed;
    return o;
  }
  static KernelPeerConfig KernelClient(uint64_t bytes, bool v6 = false) {
    KernelPeerConfig k;
    k.server = false;
    k.remote = {Topology::Path(0, v6).ours, kServerPort};
    k.send_bytes = bytes;
    k.seed = kKernelSeed;
    k.expect_seed = kOurSeed;
    return k;
  }

  uint64_t NstatCounter(const std::string& name) {
    CommandResult r = topo_->kern().Exec("nstat -asz " + name);
    for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
      std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
      uint64_t v = 0;
      if (cols.size() >= 2 && cols[0] == name && absl::SimpleAtoi(cols[1], &v)) return v;
    }
    return 0;
  }

  // The (a) and (b) transfers, with or without TUN offload (defined in interop_test.cc).
  void OurClientToKernel(uint16_t port, bool offload, const std::string& figure);
  void KernelClientToOurs(bool offload, const std::string& figure);

  void PrintGoodput(const std::string& name, const OurResult& ours, uint64_t bytes) {
    const Duration d = ours.elapsed();
    Figure(name + "_goodput_each_way", MiBps(bytes, d), "MiB/s");
    Figure(name + "_goodput_total", MiBps(2 * bytes, d), "MiB/s");
    Figure(name + "_tun_packets_per_s",
           static_cast<double>(ours.loop.packets_in + ours.loop.packets_out) / d.seconds(),
           "packets/s");
  }

  std::unique_ptr<Topology> topo_;
  std::unique_ptr<Capture> capture_;
};

}  // namespace mptcp::interop

#endif  // MPTCP_CONFORMANCE_INTEROP_FIXTURE_H_

// End-to-end runs on the simulator: a client and a server Endpoint over simulated paths, every
// byte checked, with taps, middleboxes and scheduled failures; determinism of whole captures;
// and, when tshark is installed, Wireshark's dissection of a capture.
#include "io/sim/harness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "io/sim/middlebox.h"
#include "testing/prerequisites.h"

namespace mptcp::sim {
namespace {

constexpr size_t kMiB = 1 << 20;

LinkConfig Link(uint64_t mbps = 20, int64_t delay_ms = 10) {
  LinkConfig l;
  l.bandwidth_bps = mbps * 1'000'000;
  l.delay = Duration::Millis(delay_ms);
  l.queue_bytes = 64 * 1024;
  return l;
}

HarnessConfig Config(size_t paths, size_t bytes, uint64_t seed, const LinkConfig& link = Link()) {
  HarnessConfig c;
  c.seed = seed;
  c.paths = DocumentationPaths(paths, link);
  c.client_bytes = bytes;
  c.server_bytes = bytes;
  c.deadline = Duration::Seconds(300);
  return c;
}

int CountEvents(const HarnessResult& r, bool client, EventType type) {
  int n = 0;
  for (const SimEvent& e : r.events) n += e.client == client && e.event.type == type;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The acceptance run: 2 paths, 4 MiB each way, byte-exact, with a tap.
// ---------------------------------------------------------------------------------------------

TEST(HarnessTest, TwoPathsFourMebibytesEachWayWithTap) {
  HarnessConfig cfg = Config(2, 4 * kMiB, 1);
  cfg.paths[0].up.loss = cfg.paths[0].down.loss = 0.002;
  cfg.paths[1].up.delay = cfg.paths[1].down.delay = Duration::Millis(25);
  cfg.capture = true;
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.server_read, 4 * kMiB);
  EXPECT_EQ(r.client_read, 4 * kMiB);
  EXPECT_FALSE(r.client_fell_back);
  EXPECT_EQ(CountEvents(r, true, EventType::kSubflowUp), 2) << r.Describe();
  ASSERT_EQ(r.paths.size(), 2u);
  for (size_t p = 0; p < 2; ++p) {
    // Both paths carry a real share of the data both ways.
    EXPECT_GT(r.paths[p].payload_bytes[0], kMiB / 4) << "path " << p << "\n" << r.Describe();
    EXPECT_GT(r.paths[p].payload_bytes[1], kMiB / 4) << "path " << p << "\n" << r.Describe();
  }
  // With 2 x 20 Mbit/s each way, 4 MiB takes at least 0.84 s; well under 10 s.
  EXPECT_GT(r.elapsed, Duration::Millis(800));
  EXPECT_LT(r.elapsed, Duration::Seconds(10));
  // The capture holds every packet the client end saw.
  uint64_t packets = 0;
  for (const PathReport& p : r.paths) packets += p.packets[0] + p.packets[1];
  EXPECT_GT(packets, 2 * 4 * kMiB / 1460);
  EXPECT_GT(r.pcap.size(), 8 * kMiB);
  std::printf("2 paths, 4 MiB each way: %.3f s simulated, %llu steps, %llu drops, pcap %zu "
              "bytes, longest stalls %.3f / %.3f s\n",
              r.elapsed.seconds(), static_cast<unsigned long long>(r.steps),
              static_cast<unsigned long long>(r.drops), r.pcap.size(),
              r.longest_client_stall.seconds(), r.longest_server_stall.seconds());
}

TEST(HarnessTest, Ipv6Paths) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 14);
  for (size_t i = 0; i < 2; ++i) {
    cfg.paths[i].client_ip = *IpAddress::Parse(i == 0 ? "2001:db8:1::10" : "2001:db8:2::10");
    cfg.paths[i].server_ip = *IpAddress::Parse(i == 0 ? "2001:db8:ff::1" : "2001:db8:fe::1");
  }
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(CountEvents(r, true, EventType::kSubflowUp), 2) << r.Describe();
  EXPECT_GT(r.paths[1].payload_bytes[1], kMiB / 8) << r.Describe();
}

// Two client addresses, one server address: the router sends the server's packets down the
// path of their destination.
TEST(HarnessTest, OneServerAddressTwoClientAddresses) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 15);
  cfg.paths[1].server_ip = cfg.paths[0].server_ip;
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(h.server().addresses().size(), 1u);
  EXPECT_GT(r.paths[0].payload_bytes[1], kMiB / 8) << r.Describe();
  EXPECT_GT(r.paths[1].payload_bytes[1], kMiB / 8) << r.Describe();
  EXPECT_EQ(h.server_router().stats().no_route, 0u);
}

// ---------------------------------------------------------------------------------------------
// Determinism.
// ---------------------------------------------------------------------------------------------

std::string CaptureOf(uint64_t seed) {
  LinkConfig l = Link(20, 10);
  l.loss = 0.01;
  l.jitter = Duration::Millis(2);
  l.reorder = 0.01;
  l.reorder_delay = Duration::Millis(5);
  l.duplicate = 0.005;
  HarnessConfig cfg = Config(2, 512 * 1024, seed, l);
  cfg.capture = true;
  Harness h(cfg);
  const HarnessResult r = h.Run();
  EXPECT_TRUE(r.ok) << r.Describe();
  return r.pcap;
}

TEST(HarnessTest, SameSeedGivesTheSameCaptureByteForByte) {
  const std::string a = CaptureOf(7);
  const std::string b = CaptureOf(7);
  ASSERT_GT(a.size(), 1'000'000u);
  EXPECT_TRUE(a == b) << "captures differ in size " << a.size() << " vs " << b.size();
  const std::string c = CaptureOf(8);
  EXPECT_FALSE(a == c);
}

// ---------------------------------------------------------------------------------------------
// Fallback through a middlebox that strips MPTCP (RFC 8684 §3.7).
// ---------------------------------------------------------------------------------------------

MiddleboxFactory Stripper(uint8_t classes, bool join_only = false) {
  return [classes, join_only](Simulator&) {
    return std::make_unique<MptcpOptionStripper>(
        StripConfig{classes, join_only, Directions::kBoth});
  };
}

TEST(HarnessTest, StrippedSynFallsBackToTcpAndStillTransfersByteExact) {
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE(seed);
    HarnessConfig cfg = Config(2, 4 * kMiB, seed);
    cfg.paths[0].middlebox = Stripper(SegmentClass::kSyn);
    Harness h(cfg);
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(r.server_read, 4 * kMiB);
    EXPECT_EQ(r.client_read, 4 * kMiB);
    auto* strip = static_cast<MptcpOptionStripper*>(h.middlebox(0));
    EXPECT_EQ(strip->stripped(), 1u);
    EXPECT_TRUE(r.client_fell_back);
    EXPECT_TRUE(r.server_fell_back);
    // The client asked for MPTCP and got plain TCP: it is told so, once.
    EXPECT_EQ(CountEvents(r, true, EventType::kFellBackToTcp), 1) << r.Describe();
    EXPECT_EQ(r.server_mib.mp_capable_syn_rx, 0u);
    // No join is attempted after fallback: path 1 stays silent.
    EXPECT_EQ(r.paths[1].packets[0], 0u) << r.Describe();
  }
}

TEST(HarnessTest, StrippedJoinLeavesTheInitialSubflowToCarryEverything) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 3);
  cfg.paths[1].middlebox = Stripper(SegmentClass::kAll, /*join_only=*/true);
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_FALSE(r.client_fell_back);
  EXPECT_GE(static_cast<MptcpOptionStripper*>(h.middlebox(1))->stripped(), 1u);
  // The join SYN reaches the server without MP_JOIN: it is not a valid join, so no data
  // goes over path 1.
  EXPECT_EQ(r.paths[1].payload_bytes[0] + r.paths[1].payload_bytes[1], 0u) << r.Describe();
  EXPECT_EQ(r.server_mib.mp_join_syn_rx, 0u);
}

// ---------------------------------------------------------------------------------------------
// Other middleboxes on the paths.
// ---------------------------------------------------------------------------------------------

TEST(HarnessTest, IsnRewritingIsTransparent) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 4);
  for (size_t p = 0; p < 2; ++p) {
    cfg.paths[p].middlebox = [](Simulator& sim) {
      IsnRewriteConfig c;
      c.rewrite_forward = c.rewrite_reverse = true;
      return std::make_unique<IsnRewriter>(sim.Fork(), c);
    };
  }
  cfg.paths[0].up.loss = cfg.paths[0].down.loss = 0.005;  // SACK blocks get rewritten too
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_GT(static_cast<IsnRewriter*>(h.middlebox(0))->rewritten(), 1000u);
  EXPECT_GT(r.paths[1].payload_bytes[0], 0u) << r.Describe();
}

TEST(HarnessTest, JoinThroughANat) {
  const IpAddress kPublic = IpAddress::V4(203, 0, 113, 9);
  HarnessConfig cfg = Config(2, 2 * kMiB, 5);
  cfg.paths[1].middlebox = [kPublic](Simulator& sim) {
    return std::make_unique<Nat>(sim.Fork(), NatConfig{kPublic, 50000, 100, true});
  };
  cfg.paths[1].client_ip_at_server = kPublic;
  Harness h(cfg);
  // The server's view of each subflow as it comes up.
  std::vector<FourTuple> server_tuples;
  h.SetEventHook([&server_tuples](Harness& hh, bool client, const Event& e) {
    if (client || e.type != EventType::kSubflowUp) return;
    for (const SubflowInfo& s : hh.server_conn()->Subflows()) {
      if (s.id == e.subflow) server_tuples.push_back(s.tuple);
    }
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  auto* nat = static_cast<Nat*>(h.middlebox(1));
  EXPECT_EQ(nat->mapping_count(), 1u);
  EXPECT_EQ(CountEvents(r, true, EventType::kSubflowUp), 2) << r.Describe();
  EXPECT_GT(r.paths[1].payload_bytes[0], kMiB / 8) << r.Describe();
  // The server knows the joined subflow by the NAT's public socket.
  ASSERT_EQ(server_tuples.size(), 2u);
  EXPECT_EQ(server_tuples[0].remote, h.ClientTuple(0).local);
  EXPECT_EQ(server_tuples[1].remote, nat->OutsideOf(h.ClientTuple(1).local));
  EXPECT_EQ(server_tuples[1].remote.ip, kPublic);
}

TEST(HarnessTest, SegmentationOffloadSplitsIntoSmallerSegments) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 6);
  for (size_t p = 0; p < 2; ++p) {
    cfg.paths[p].middlebox = [](Simulator& sim) {
      return std::make_unique<Segmenter>(sim, SegmenterConfig{400, Directions::kBoth});
    };
  }
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_GT(static_cast<Segmenter*>(h.middlebox(0))->split(), 100u);
}

TEST(HarnessTest, ReceiveOffloadCoalescesSegments) {
  for (bool identical : {true, false}) {
    SCOPED_TRACE(identical ? "Linux GRO (identical options)" : "any options");
    HarnessConfig cfg = Config(2, 2 * kMiB, 7);
    for (size_t p = 0; p < 2; ++p) {
      cfg.paths[p].middlebox = [identical](Simulator& sim) {
        CoalescerConfig c;
        c.flush_after = Duration::Millis(1);
        c.require_identical_options = identical;
        return std::make_unique<Coalescer>(sim, c);
      };
    }
    Harness h(cfg);
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    const auto* lro = static_cast<Coalescer*>(h.middlebox(0));
    std::printf("coalescer (%s): %llu batches, %llu segments merged, %.3f s\n",
                identical ? "identical options" : "any options",
                static_cast<unsigned long long>(lro->batches()),
                static_cast<unsigned long long>(lro->merged()), r.elapsed.seconds());
    if (!identical) {
      EXPECT_GT(lro->batches(), 10u);
    }
  }
}

TEST(HarnessTest, CorruptionIsCaughtByTheDssChecksum) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 8);
  cfg.client.connection.checksum = true;
  cfg.paths[1].middlebox = [](Simulator& sim) {
    CorruptConfig c;
    c.skip = 50;
    c.limit = 1;
    c.min_payload = 100;
    c.directions = Directions::kForward;
    return std::make_unique<PayloadCorrupter>(sim.Fork(), c);
  };
  Harness h(cfg);
  const HarnessResult r = h.Run();
  EXPECT_EQ(static_cast<PayloadCorrupter*>(h.middlebox(1))->corrupted(), 1u);
  // The invariant: no wrong byte reaches the application, and everything arrives.
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.server_mib.data_csum_err, 1u) << r.Describe();
}

// The harness's own check can fail: without DSS checksums nothing in MPTCP or TCP notices a
// rewritten byte whose TCP checksum was fixed, so it reaches the server, and the harness, which
// compares every byte read with io::StreamPattern, must stop the run there.
TEST(HarnessTest, AWrongByteReadFailsTheRun) {
  HarnessConfig cfg = Config(2, 2 * kMiB, 8);
  cfg.client.connection.checksum = false;
  cfg.server.connection.checksum = false;
  cfg.paths[1].middlebox = [](Simulator& sim) {
    CorruptConfig c;
    c.skip = 50;
    c.limit = 1;
    c.min_payload = 100;
    c.directions = Directions::kForward;
    return std::make_unique<PayloadCorrupter>(sim.Fork(), c);
  };
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_EQ(static_cast<PayloadCorrupter*>(h.middlebox(1))->corrupted(), 1u);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("server read byte"), std::string::npos) << r.Describe();
  EXPECT_NE(r.error.find("wrong"), std::string::npos) << r.Describe();
}

// ---------------------------------------------------------------------------------------------
// Path failures and impairments.
// ---------------------------------------------------------------------------------------------

TEST(HarnessTest, PathCutMidTransferAndRestored) {
  HarnessConfig cfg = Config(2, 8 * kMiB, 9);
  Harness h(cfg);
  h.sim().At(Timestamp::Zero() + Duration::Millis(700), [&h] { h.SetPathUp(1, false); });
  h.sim().At(Timestamp::Zero() + Duration::Seconds(20), [&h] { h.SetPathUp(1, true); });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_GT(r.paths[1].up.dropped(DropCause::kLinkDown) +
                r.paths[1].down.dropped(DropCause::kLinkDown),
            0u);
  // The data goes on over path 0 alone: 8 MiB at 20 Mbit/s is 3.4 s, so both ends of stream
  // arrive long before the path comes back.
  EXPECT_LT(r.client_eof_at, Timestamp::Zero() + Duration::Seconds(10)) << r.Describe();
  EXPECT_LT(r.server_eof_at, Timestamp::Zero() + Duration::Seconds(10)) << r.Describe();
  EXPECT_LT(r.longest_client_stall, Duration::Seconds(2));
  EXPECT_LT(r.longest_server_stall, Duration::Seconds(2));
  // Nor does the close wait for the dead subflow: Closed comes long before the path is back
  // (a core that waited for every subflow to end took until 925 s here without the restore).
  EXPECT_LT(r.elapsed, Duration::Seconds(10)) << r.Describe();
  std::printf("path 1 cut at 0.7 s: end of stream at %.3f / %.3f s, Closed at %.3f s\n",
              (r.client_eof_at - Timestamp::Zero()).seconds(),
              (r.server_eof_at - Timestamp::Zero()).seconds(), r.elapsed.seconds());
}

TEST(HarnessTest, BurstyLossAndReordering) {
  LinkConfig l = Link(20, 15);
  l.burst_loss = GilbertElliott{0.002, 0.3, 0.0, 0.8};
  l.reorder = 0.02;
  l.reorder_delay = Duration::Millis(8);
  l.jitter = Duration::Millis(1);
  for (uint64_t seed : {10, 11}) {
    SCOPED_TRACE(seed);
    Harness h(Config(2, 2 * kMiB, seed, l));
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_GT(r.paths[0].up.dropped(DropCause::kBurstLoss) +
                  r.paths[0].down.dropped(DropCause::kBurstLoss),
              0u);
  }
}

TEST(HarnessTest, StallDetectorAndDeadlineEndARunThatCannotFinish) {
  HarnessConfig cfg = Config(1, 1 * kMiB, 12);
  cfg.stall_timeout = Duration::Seconds(5);
  Harness h(cfg);
  h.sim().At(Timestamp::Zero() + Duration::Millis(300), [&h] { h.SetPathUp(0, false); });
  const HarnessResult r = h.Run();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("stall"), std::string::npos) << r.error;
  EXPECT_LT(r.elapsed, Duration::Seconds(60));

  HarnessConfig cfg2 = Config(1, 64 * kMiB, 12);
  cfg2.deadline = Duration::Seconds(1);
  Harness h2(cfg2);
  const HarnessResult r2 = h2.Run();
  EXPECT_FALSE(r2.ok);
  EXPECT_EQ(r2.outcome, RunOutcome::kDeadline);
  EXPECT_EQ(r2.elapsed, Duration::Seconds(1));
}

// ---------------------------------------------------------------------------------------------
// The capture, dissected by Wireshark's tshark (skipped when it is not installed).
// ---------------------------------------------------------------------------------------------

std::optional<std::string> FindTshark() {
  for (const char* p : {"/usr/bin/tshark", "/usr/local/bin/tshark"}) {
    if (access(p, X_OK) == 0) return std::string(p);
  }
  return std::nullopt;
}

std::string RunCommand(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(HarnessTest, CaptureOpensInTsharkWithMptcpDissected) {
  const std::optional<std::string> tshark = FindTshark();
  if (!tshark)
    MPTCP_SKIP_MISSING_PREREQUISITE("tshark not installed (scripts/install-deps.sh installs it)");
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string path = dir + "/sim_two_paths.pcap";
  HarnessConfig cfg = Config(2, 1 * kMiB, 13);
  cfg.capture = true;
  cfg.pcap_path = path;
  {
    Harness h(cfg);
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    ASSERT_EQ(CountEvents(r, true, EventType::kSubflowUp), 2) << r.Describe();
  }
  // One line per packet: its MPTCP subtypes and expert severities. A private configuration
  // directory, so nobody's preferences apply; HTTP off, since the server port is 80 and the
  // HTTP dissector would call the random payload malformed.
  int code = -1;
  const std::string out = RunCommand(
      absl::StrCat("HOME='", dir, "' XDG_CONFIG_HOME='", dir, "' '", *tshark, "' -r '", path,
                   "' --disable-protocol http -T fields -e tcp.options.mptcp.subtype "
                   "-e _ws.expert.severity 2>/dev/null"),
      &code);
  ASSERT_EQ(code, 0) << out;
  std::map<std::string, int> subtypes;
  int lines = 0, malformed = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    ++lines;
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (!cols.empty()) {
      for (absl::string_view st : absl::StrSplit(cols[0], ',', absl::SkipEmpty())) {
        ++subtypes[std::string(st)];
      }
    }
    // PI_ERROR is 0x00800000 (8388608): a malformed packet.
    if (cols.size() > 1 && cols[1].find("8388608") != std::string::npos) ++malformed;
  }
  EXPECT_GT(lines, 300);
  EXPECT_GE(subtypes["0"], 3) << out.substr(0, 2000);  // MP_CAPABLE: SYN, SYN/ACK, ACK
  EXPECT_GE(subtypes["1"], 3) << out.substr(0, 2000);  // MP_JOIN: SYN, SYN/ACK, ACK
  EXPECT_GT(subtypes["2"], 100) << out.substr(0, 2000);  // DSS
  EXPECT_EQ(malformed, 0) << out.substr(0, 2000);
}

}  // namespace
}  // namespace mptcp::sim

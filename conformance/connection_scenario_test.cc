// Scenario tests of the MPTCP connection on the simulator (io/sim Harness): a subflow killed
// mid-transfer, a backup path, fallback through option-stripping middleboxes, DSS checksums
// against a payload-rewriting middlebox, ADD_ADDR / REMOVE_ADDR / MP_PRIO, MP_FASTCLOSE, and a
// graceful close. The harness checks every byte the applications read; each scenario also
// checks what RFC 8684 requires of the connection. Each runs over seeds 1..3 (testing/seeds.h,
// CONFORMANCE family: CONFORMANCE_SEEDS=<n> runs n, CONFORMANCE_SEED=<k> replays k); a failure
// prints its seed and the command that replays it. (MPTCP_SCENARIO_SEEDS, which these tests
// read when they lived in mptcp/, folded into CONFORMANCE: they are simulator scenarios like
// the others in conformance/, and CI's ASan pass scales them with the rest.)
//
// What a path "carried" is the TCP payload that crossed it (PathReport::
// delivered_payload_total()): a cut path carries nothing more, whatever its ends still send
// into it. What a scheduler puts on a path is what the ends sent into it
// (sent_payload_total()), which a path's queue delivers only later.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/sim/harness.h"
#include "io/sim/link.h"
#include "io/sim/middlebox.h"
#include "io/sim/packet_edit.h"
#include "io/sim/packet_filter.h"
#include "mptcp/connection.h"
#include "mptcp/event.h"
#include "mptcp/mib.h"
#include "mptcp/tcp/tcp_state.h"
#include "mptcp/time.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {
namespace {

using ::mptcp::testing::Replay;
using ::mptcp::testing::SeedSpec;

constexpr SeedSpec kSeeds{"CONFORMANCE", 3, 3};

Timestamp At(Duration d) { return Timestamp::Zero() + d; }
// A moment that varies with the seed: base + step * (seed mod 4).
Timestamp AtVaried(int64_t base_ms, int64_t step_ms, uint64_t seed) {
  return At(Duration::Millis(base_ms + step_ms * static_cast<int64_t>(seed % 4)));
}
Duration Ms(int64_t n) { return Duration::Millis(n); }

// Both ways: `rate_bps`, one-way `delay_ms`, random `loss`, no queue limit.
LinkConfig Link(double loss = 0.0, int64_t delay_ms = 10, uint64_t rate_bps = 50'000'000) {
  LinkConfig l;
  l.bandwidth_bps = rate_bps;
  l.delay = Ms(delay_ms);
  l.loss = loss;
  return l;
}

// Paths differ in delay by a few milliseconds, differently for each seed, so that seeds vary
// the timing even on loss-free links. Each side closes once it has written its stream, and the
// run lasts until both connections are finished (subflow FINs too), as the close and fallback
// checks below expect.
HarnessConfig Config(size_t paths, size_t bytes, uint64_t seed, const LinkConfig& link = Link()) {
  std::vector<PathConfig> v = DocumentationPaths(paths, link);
  for (size_t i = 0; i < paths; ++i) {
    const Duration extra = Ms(static_cast<int64_t>((seed + 3 * i) % 5));
    v[i].up.delay += extra;
    v[i].down.delay += extra;
  }
  return BothWaysBulkConfig(std::move(v), bytes, seed);
}

// --- helpers over the result --------------------------------------------------------------------

std::string NonZero(const MptcpMib& m) {
  std::string s;
  m.ForEach([&s](std::string_view name, uint64_t v) {
    if (v != 0) absl::StrAppend(&s, std::string(name), "=", v, " ");
  });
  return s;
}

int CountEvents(const std::vector<SimEvent>& events, bool client, EventType type) {
  int n = 0;
  for (const SimEvent& e : events) n += e.client == client && e.event.type == type;
  return n;
}

std::optional<SimEvent> FirstEvent(const std::vector<SimEvent>& events, bool client,
                                      EventType type) {
  for (const SimEvent& e : events) {
    if (e.client == client && e.event.type == type) return e;
  }
  return std::nullopt;
}

// Payload `path` carried (crossed it) between two PathReports() snapshots.
uint64_t PayloadSince(const std::vector<PathReport>& now, const std::vector<PathReport>& then,
                      size_t path) {
  return now[path].delivered_payload_total() -
         (then.empty() ? 0 : then[path].delivered_payload_total());
}

// Payload the ends sent into `path` between two snapshots.
uint64_t SentSince(const std::vector<PathReport>& now, const std::vector<PathReport>& then,
                   size_t path) {
  return now[path].sent_payload_total() - (then.empty() ? 0 : then[path].sent_payload_total());
}

double Seconds(Timestamp t) { return (t - Timestamp::Zero()).seconds(); }

std::string LivelockHint(const HarnessResult& r) {
  if (r.error.find("livelock") == std::string::npos) return "";
  return "regression: Connection::NextDeadline() (connection_output.h) returns \"now\" when a backup "
         "subflow has room, but Schedule() does not use backups while a regular subflow can "
         "carry data (RFC 8684 §3.3.8), so nothing is sent and the caller spins\n";
}

// The subflow of `c` whose tuple is `t`, as a snapshot.
std::optional<SubflowInfo> InfoFor(Connection* c, const FourTuple& t) {
  if (c == nullptr) return std::nullopt;
  for (const SubflowInfo& s : c->Subflows()) {
    if (s.tuple == t) return s;
  }
  return std::nullopt;
}

size_t LiveSubflows(Connection* c) {
  size_t n = 0;
  for (const SubflowInfo& s : c->Subflows()) n += s.state != tcp::TcpState::kClosed;
  return n;
}

// ==============================================================================================
// 1. A subflow killed mid-transfer: black-holed, then reset. RFC 8684 §3.3.6: data outstanding on
// a failed subflow is retransmitted on others; the connection survives the loss of a subflow.
// ==============================================================================================

struct KillCase {
  size_t paths;
  size_t killed;
  size_t bytes;
  uint64_t rate_bps;  // per path and direction
};
void PrintTo(const KillCase& k, std::ostream* os) {
  *os << k.paths << " paths, kill " << k.killed;
}

class SubflowKilledTest : public ::testing::TestWithParam<KillCase> {};

TEST_P(SubflowKilledTest, TransferCompletesOnRemainingSubflows) {
  const KillCase k = GetParam();
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(k.paths, k.bytes, seed, Link(0.001, 10, k.rate_bps));
    Harness h(cfg);
    // Vary the moment of failure with the seed so different phases of the transfer are hit.
    const Timestamp t_blackhole = AtVaried(300, 70, seed);
    // By then two RTOs have passed on the black-holed subflow (the stale threshold): the
    // first after up to ~430 ms (srtt grows with the queues), the second twice that later.
    const Timestamp t_reset = t_blackhole + Ms(1300);
    SubflowId killed_id = 0;
    bool killed_was_up = false;
    std::vector<PathReport> at_kill;
    h.At(t_blackhole, [&](Harness& p) {
      const auto info = InfoFor(p.client_conn(), p.ClientTuple(k.killed));
      if (info) {
        killed_id = info->id;
        killed_was_up = info->fully_established && info->state == tcp::TcpState::kEstablished;
      }
      at_kill = p.PathReports();
      p.SetPathUp(k.killed, false);
    });
    bool stale_before_reset = false, injected = false;
    h.At(t_reset, [&](Harness& p) {
      const auto info = InfoFor(p.client_conn(), p.ClientTuple(k.killed));
      stale_before_reset = info && info->stale;
      injected = p.InjectResetToClient(k.killed);
    });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    ASSERT_TRUE(killed_was_up) << "the subflow to kill was not carrying data at t_blackhole";
    EXPECT_TRUE(injected);
    EXPECT_EQ(r.client_read, k.bytes);
    EXPECT_EQ(r.server_read, k.bytes);
    EXPECT_FALSE(r.client_fell_back);
    // The black-holed subflow is declared stale on both ends and its data reinjected.
    EXPECT_TRUE(stale_before_reset) << "client subflow not stale 1.3 s into the black hole";
    EXPECT_GE(r.client_mib.subflow_stale, 1u);
    EXPECT_GE(r.server_mib.subflow_stale, 1u);
    EXPECT_GT(r.client_mib.reinjected_bytes + r.server_mib.reinjected_bytes, 0u);
    // The reset takes the client's subflow down; no other subflow goes down.
    int downs = 0;
    for (const SimEvent& e : r.events) {
      if (!e.client || e.event.type != EventType::kSubflowDown) continue;
      if (e.at < t_reset) continue;  // the graceful close at the end is not counted
      if (e.event.subflow == killed_id) {
        ++downs;
        EXPECT_EQ(e.event.reason, CloseReason::kReset);
        EXPECT_EQ(e.at, t_reset);
      }
    }
    EXPECT_EQ(downs, 1) << r.Describe();
    // The remaining paths carried the rest.
    uint64_t after = 0;
    for (size_t p = 0; p < k.paths; ++p) {
      if (p == k.killed) continue;
      EXPECT_GT(PayloadSince(r.paths, at_kill, p), 0u) << "path " << p;
      after += PayloadSince(r.paths, at_kill, p);
    }
    EXPECT_EQ(PayloadSince(r.paths, at_kill, k.killed), 0u);
    const Duration stall = std::max(r.longest_client_stall, r.longest_server_stall);
    std::printf("kill path %zu of %zu, seed %llu: done in %.2f s (close at %.1f s), longest "
                "receive stall %.3f s (client %.3f, server %.3f); stale c/s %llu/%llu, "
                "reinjected c/s %llu/%llu bytes; %.1f MiB carried after the failure\n",
                k.killed, k.paths, static_cast<unsigned long long>(seed),
                Seconds(std::max(r.client_eof_at, r.server_eof_at)), r.elapsed.seconds(),
                stall.seconds(), r.longest_client_stall.seconds(),
                r.longest_server_stall.seconds(),
                static_cast<unsigned long long>(r.client_mib.subflow_stale),
                static_cast<unsigned long long>(r.server_mib.subflow_stale),
                static_cast<unsigned long long>(r.client_mib.reinjected_bytes),
                static_cast<unsigned long long>(r.server_mib.reinjected_bytes), after / 1048576.0);
    // Detection takes two RTOs (config.stale_rto_threshold) of a few hundred ms each.
    EXPECT_LT(stall, Duration::Seconds(2)) << "receive stall after a subflow failure";
    EXPECT_GT(std::max(r.client_eof_at, r.server_eof_at), t_reset)
        << "(the transfer should still run when the RST comes; adjust sizes or times)";
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, SubflowKilledTest,
                         ::testing::Values(KillCase{2, 1, 12 << 20, 50'000'000},
                                           KillCase{4, 2, 16 << 20, 25'000'000}),
                         [](const auto& info) {
                           return absl::StrCat(info.param.paths, "_paths_kill_",
                                               info.param.killed);
                         });

// The only subflow is reset mid-transfer: nothing can carry the data any more, so the
// connection must end and say so (Closed{reset}), not linger without subflows.
TEST(SubflowFailureTest, ResetOfTheOnlySubflowClosesTheConnection) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(1, 8 << 20, seed);
    cfg.allow_abnormal_close = true;
    cfg.deadline = Duration::Seconds(120);
    Harness h(cfg);
    const Timestamp t_reset = AtVaried(300, 50, seed);
    h.At(t_reset, [](Harness& p) { EXPECT_TRUE(p.InjectResetToClient(0)); });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << (FirstEvent(r.events, true, EventType::kClosed)
                              ? ""
                              : "regression: a connection whose last subflow is gone never reports "
                                "Closed: SweepSubflows() erases dead subflows before "
                                "FinishIfDone(), whose 'alive == 0 && !subflows_.empty()' test "
                                "then never holds (connection_output.h)\n")
                      << r.Describe();
    const auto closed = FirstEvent(r.events, true, EventType::kClosed);
    ASSERT_TRUE(closed.has_value()) << r.Describe();
    EXPECT_EQ(closed->event.reason, CloseReason::kReset);
    EXPECT_EQ(closed->at, t_reset);
    // The server learns it from the RST the client's endpoint answers its next segment with.
    EXPECT_EQ(r.server_final.close_reason, CloseReason::kReset);
    EXPECT_LT(r.client_read, cfg.server_bytes);
  }
}

// After a subflow fails for good, closing the connection must not wait for that subflow's
// retransmissions to run out: RFC 8684 §3.3.3 says the connection is closed once both DATA_FINs
// are DATA_ACKed. (Linux resets leftover subflows at close rather than wait.)
TEST(SubflowFailureTest, CloseIsNotHeldUpByADeadSubflow) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, 4 << 20, seed);
    Harness h(cfg);
    h.At(At(Ms(300)), [](Harness& p) { p.SetPathUp(1, false); });
    h.At(At(Ms(1500)), [](Harness& p) { EXPECT_TRUE(p.InjectResetToClient(1)); });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    const Timestamp eof = std::max(r.client_eof_at, r.server_eof_at);
    const auto client_closed = FirstEvent(r.events, true, EventType::kClosed);
    const auto server_closed = FirstEvent(r.events, false, EventType::kClosed);
    ASSERT_TRUE(client_closed && server_closed);
    EXPECT_EQ(server_closed->event.reason, CloseReason::kNormal);
    std::printf("dead subflow, seed %llu: last DATA_FIN received at %.2f s; Closed at %.2f s "
                "(client), %.2f s (server)\n",
                static_cast<unsigned long long>(seed), Seconds(eof), Seconds(client_closed->at),
                Seconds(server_closed->at));
    EXPECT_LT(server_closed->at - eof, Duration::Seconds(60))
        << "regression: Closed comes " << (server_closed->at - eof).seconds()
        << " s after the DATA_FIN exchange: FinishIfDone() (connection_output.h) waits for "
           "every subflow to close, and the black-holed one only does after its 15 RTOs";
  }
}

// ==============================================================================================
// 2. A backup path. RFC 8684 §3.2 / §3.3.8: a subflow joined with B=1 carries data only when no
// regular subflow can; it takes over when the regular path fails.
// ==============================================================================================

enum class BackupFailure { kBlackhole, kBlackholeAndReset };

void PrintTo(BackupFailure f, std::ostream* os) {
  *os << (f == BackupFailure::kBlackhole ? "black hole" : "black hole and RST");
}

class BackupPathTest : public ::testing::TestWithParam<BackupFailure> {};

TEST_P(BackupPathTest, IdleWhileRegularPathWorksThenTakesOver) {
  const BackupFailure failure = GetParam();
  constexpr size_t kBytes = 8 << 20;
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, kBytes, seed);
    cfg.paths[1].backup = true;
    Harness h(cfg);
    const Timestamp t_fail = AtVaried(600, 70, seed);
    std::vector<PathReport> before;
    std::optional<SubflowInfo> client_backup, server_backup;
    h.At(t_fail, [&](Harness& p) {
      before = p.PathReports();
      client_backup = InfoFor(p.client_conn(), p.ClientTuple(1));
      server_backup = InfoFor(p.server_conn(), p.ClientTuple(1).Reversed());
      p.SetPathUp(0, false);
    });
    if (failure == BackupFailure::kBlackholeAndReset) {
      h.At(t_fail + Ms(300), [](Harness& p) { EXPECT_TRUE(p.InjectResetToClient(0)); });
    }
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << LivelockHint(r) << r.Describe();
    ASSERT_FALSE(before.empty());
    // Both ends know the subflow is a backup: the client asked (MP_JOIN B=1), the server was told.
    ASSERT_TRUE(client_backup.has_value());
    ASSERT_TRUE(server_backup.has_value());
    EXPECT_TRUE(client_backup->fully_established);
    EXPECT_TRUE(client_backup->backup);
    EXPECT_TRUE(server_backup->backup);
    // While path 0 worked, the backup path carried no data in either direction.
    EXPECT_GT(before[0].delivered_payload_total(), 2u << 20);
    EXPECT_EQ(before[1].delivered_payload_total(), 0u) << "backup subflow carried data while the regular "
                                                "path worked";
    // Then it carried the rest: at least what was not yet delivered, in both directions.
    const uint64_t after1 = PayloadSince(r.paths, before, 1);
    EXPECT_GE(after1 + before[0].delivered_payload_total(), 2 * kBytes);
    EXPECT_GT(r.paths[1].server_payload_bytes[0], 0u);  // reached the server
    EXPECT_GT(r.paths[1].payload_bytes[1], 0u);         // and the client
    EXPECT_GE(r.client_mib.subflow_stale + r.server_mib.subflow_stale, 1u);
    std::printf("backup (%s), seed %llu: path 0 carried %.1f MiB before the failure, backup "
                "%llu bytes; backup then carried %.1f MiB; done at %.2f s, longest stall %.3f s\n",
                failure == BackupFailure::kBlackhole ? "black hole" : "black hole + RST",
                static_cast<unsigned long long>(seed), before[0].delivered_payload_total() / 1048576.0,
                static_cast<unsigned long long>(before[1].delivered_payload_total()), after1 / 1048576.0,
                Seconds(std::max(r.client_eof_at, r.server_eof_at)),
                std::max(r.longest_client_stall, r.longest_server_stall).seconds());
  }
}

INSTANTIATE_TEST_SUITE_P(Failures, BackupPathTest,
                         ::testing::Values(BackupFailure::kBlackhole,
                                           BackupFailure::kBlackholeAndReset),
                         [](const auto& info) {
                           return info.param == BackupFailure::kBlackhole ? "Blackhole"
                                                                          : "BlackholeAndReset";
                         });

// ==============================================================================================
// 3. Fallback to TCP (RFC 8684 §3.7) through a middlebox that strips MPTCP options, on one path.
// ==============================================================================================

enum class Strip {
  kSyn,             // the client's SYN only
  kSynAck,          // the server's SYN-ACK only
  kThirdAck,        // the client's third ACK only
  kAfterHandshake,  // every segment after the third ACK, both directions ("DSS disappears")
};

struct FallbackCase {
  const char* name;
  Strip strip;
  size_t client_bytes;
  size_t server_bytes;
};
void PrintTo(const FallbackCase& c, std::ostream* os) { *os << c.name; }

// A middlebox that strips MPTCP options from the segments `strip` names.
FunctionFilter::Fn Stripper(Strip strip, int* stripped) {
  auto third_ack_seen = std::make_shared<bool>(false);
  return [strip, stripped, third_ack_seen](Direction dir, Packet& packet) {
    const auto seg = ParseTcpPacket(packet.bytes);
    if (!seg) return true;
    const bool upstream = dir == Direction::kForward;
    const bool syn = seg->has_flag(wire::TcpFlag::kSyn);
    const bool ack = seg->has_flag(wire::TcpFlag::kAck);
    bool third_ack = false;
    if (upstream && !syn && !*third_ack_seen) {
      third_ack = true;  // the first client segment after its SYN
      *third_ack_seen = true;
    }
    bool strip_this = false;
    switch (strip) {
      case Strip::kSyn: strip_this = upstream && syn && !ack; break;
      case Strip::kSynAck: strip_this = !upstream && syn && ack; break;
      case Strip::kThirdAck: strip_this = third_ack; break;
      case Strip::kAfterHandshake: strip_this = !syn && !third_ack && *third_ack_seen; break;
    }
    if (strip_this && StripMptcpOptions(*seg)) ++*stripped;
    return true;
  };
}

class FallbackTest : public ::testing::TestWithParam<FallbackCase> {};

TEST_P(FallbackTest, CompletesAsPlainTcp) {
  const FallbackCase fc = GetParam();
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(1, 0, seed, Link(0.002));
    cfg.client_bytes = fc.client_bytes;
    cfg.server_bytes = fc.server_bytes;
    cfg.deadline = Duration::Seconds(300);
    int stripped = 0;
    cfg.paths[0].middlebox = FunctionMiddlebox("strip", Stripper(fc.strip, &stripped));
    Harness h(cfg);
    const auto r = h.Run();
    EXPECT_GT(stripped, 0);
    if (!r.ok && r.client_final.fallen_back != r.server_final.fallen_back) {
      ADD_FAILURE() << "regression: one-sided fallback. The receiver fell back, but the data sender "
                       "stays in MPTCP mode: its data is TCP-acknowledged without a DATA_ACK, "
                       "which RFC 8684 §3.7 says means the path strips MPTCP; instead the "
                       "data-level RTO reinjects old data onto the same subflow, which the "
                       "receiver takes as new stream bytes"
                    << (r.error.find("wrong") != std::string::npos
                            ? " (here: wrong bytes delivered)"
                            : " (here: the connection hangs)")
                    << "\n" << r.Describe();
      continue;
    }
    if (!r.ok && r.error.find("stalled") != std::string::npos &&
        (fc.client_bytes == 0 || fc.server_bytes == 0)) {
      ADD_FAILURE() << "regression: the side that sends nothing closed (DATA_FIN queued) before it "
                       "fell back; EnterFallback() (connection_input.h) keeps data_fin_dsn_, so "
                       "MaybeQueueDataFin() never closes the TCP subflow and the peer never "
                       "sees a FIN\n"
                    << r.Describe();
      continue;
    }
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(r.server_read, fc.client_bytes);
    EXPECT_EQ(r.client_read, fc.server_bytes);
    EXPECT_TRUE(r.client_final.fallen_back);
    EXPECT_TRUE(r.server_final.fallen_back);
    EXPECT_EQ(r.client_final.close_reason, CloseReason::kNormal);
    EXPECT_EQ(r.server_final.close_reason, CloseReason::kNormal);
    // The client asked for MPTCP and got TCP: it is told so, once.
    EXPECT_EQ(CountEvents(r.events, true, EventType::kFellBackToTcp), 1) << r.Describe();
    // So is the server (for a SYN without MP_CAPABLE: a plain TCP client, same API).
    EXPECT_EQ(CountEvents(r.events, false, EventType::kFellBackToTcp), 1) << r.Describe();
    switch (fc.strip) {
      case Strip::kSyn:
        EXPECT_EQ(r.server_mib.mp_capable_syn_rx, 0u);
        EXPECT_EQ(r.client_mib.mp_capable_fallback_synack, 1u);
        break;
      case Strip::kSynAck:
        EXPECT_EQ(r.server_mib.mp_capable_syn_rx, 1u);
        EXPECT_EQ(r.client_mib.mp_capable_fallback_synack, 1u);
        EXPECT_EQ(r.server_mib.mp_capable_fallback_ack, 1u);
        break;
      case Strip::kThirdAck:
        EXPECT_EQ(r.client_mib.mp_capable_synack_rx, 1u);
        EXPECT_EQ(r.server_mib.mp_capable_fallback_ack, 1u);
        break;
      case Strip::kAfterHandshake:
        EXPECT_EQ(r.client_mib.mp_capable_synack_rx, 1u);
        EXPECT_EQ(r.server_mib.mp_capable_ack_rx, 1u);
        EXPECT_GE(r.client_mib.dss_no_match_tcp + r.server_mib.dss_no_match_tcp, 1u);
        break;
    }
    std::printf("fallback %s, seed %llu: %d segments stripped, done in %.2f s; client MIB: %s; "
                "server MIB: %s\n",
                fc.name, static_cast<unsigned long long>(seed), stripped, r.elapsed.seconds(),
                NonZero(r.client_mib).c_str(), NonZero(r.server_mib).c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Middleboxes, FallbackTest,
    ::testing::Values(FallbackCase{"Syn", Strip::kSyn, 2 << 20, 2 << 20},
                      FallbackCase{"SynAck", Strip::kSynAck, 2 << 20, 2 << 20},
                      FallbackCase{"ThirdAck", Strip::kThirdAck, 2 << 20, 2 << 20},
                      FallbackCase{"ThirdAckClientSendsOnly", Strip::kThirdAck, 2 << 20, 0},
                      FallbackCase{"AfterHandshake", Strip::kAfterHandshake, 2 << 20, 2 << 20},
                      FallbackCase{"AfterHandshakeClientSendsOnly", Strip::kAfterHandshake,
                                   2 << 20, 0},
                      FallbackCase{"AfterHandshakeServerSendsOnly", Strip::kAfterHandshake, 0,
                                   2 << 20}),
    [](const auto& info) { return std::string(info.param.name); });

// ==============================================================================================
// 4. DSS checksums (RFC 8684 §3.3.1): negotiated when either side asks; a payload rewritten by a
// middlebox that fixes the TCP checksum is caught by the DSS checksum and never delivered.
// ==============================================================================================

// Counts DSS mappings with and without a checksum on a path (a passive tap).
struct DssTap {
  uint64_t with_checksum = 0;
  uint64_t without_checksum = 0;
};

void TapDss(Packet& packet, DssTap& tap) {
  const auto seg = ParseTcpPacket(packet.bytes);
  if (!seg) return;
  auto repr = wire::TcpRepr::Parse(seg->segment());
  if (!repr.ok()) return;
  for (std::span<const uint8_t> o : repr->options.mptcp_options()) {
    auto opt = wire::ParseMptcpOption(o);
    if (!opt.ok()) continue;
    if (const auto* dss = std::get_if<wire::Dss>(&*opt); dss && dss->mapping &&
                                                        dss->mapping->data_len > 0) {
      ++(dss->mapping->checksum ? tap.with_checksum : tap.without_checksum);
    }
  }
}

struct ChecksumCase {
  const char* name;
  bool client;
  bool server;
};
void PrintTo(const ChecksumCase& c, std::ostream* os) { *os << c.name; }

class ChecksumNegotiationTest : public ::testing::TestWithParam<ChecksumCase> {};

TEST_P(ChecksumNegotiationTest, EitherSideAskingMeansChecksumsBothWays) {
  const ChecksumCase cc = GetParam();
  const bool expected = cc.client || cc.server;
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, 4 << 20, seed, Link(0.002));
    cfg.client.connection.checksum = cc.client;
    cfg.server.connection.checksum = cc.server;
    DssTap taps[2][2];  // [path][upstream]
    for (size_t p = 0; p < 2; ++p) {
      cfg.paths[p].middlebox = FunctionMiddlebox("dss-tap", [&taps, p](Direction dir, Packet& pkt) {
        TapDss(pkt, taps[p][dir == Direction::kForward ? 1 : 0]);
        return true;
      });
    }
    Harness h(cfg);
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(r.client_final.checksum_enabled, expected);
    EXPECT_EQ(r.server_final.checksum_enabled, expected);
    EXPECT_EQ(r.client_mib.data_csum_err + r.server_mib.data_csum_err, 0u);
    for (size_t p = 0; p < 2; ++p) {
      for (int up = 0; up < 2; ++up) {
        SCOPED_TRACE(absl::StrCat("path ", p, up ? " upstream" : " downstream"));
        const DssTap& t = taps[p][up];
        EXPECT_GT(t.with_checksum + t.without_checksum, 0u);
        // RFC 8684 §3.3.1: once negotiated, every mapping carries the checksum (and none
        // otherwise).
        EXPECT_EQ(expected ? t.without_checksum : t.with_checksum, 0u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sides, ChecksumNegotiationTest,
                         ::testing::Values(ChecksumCase{"Neither", false, false},
                                           ChecksumCase{"ClientOnly", true, false},
                                           ChecksumCase{"ServerOnly", false, true},
                                           ChecksumCase{"Both", true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// A middlebox that corrupts one payload byte of the n-th segment it sees in one direction with
// at least 100 bytes of payload, and fixes the TCP checksum; `*made` is set to it.
MiddleboxFactory Corrupter(bool upstream, uint64_t n, PayloadCorrupter** made) {
  return [upstream, n, made](Simulator& sim) {
    CorruptConfig c;
    c.skip = n - 1;
    c.limit = 1;
    c.min_payload = 100;
    c.directions = upstream ? Directions::kForward : Directions::kReverse;
    auto corrupter = std::make_unique<PayloadCorrupter>(sim.Fork(), c);
    *made = corrupter.get();
    return corrupter;
  };
}

class ChecksumCorruptionTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ChecksumCorruptionTest, CorruptedBytesAreNeverDelivered) {
  const size_t paths = GetParam();
  for (uint64_t seed : Seeds(kSeeds)) {
    // Seeds vary the direction and, with two paths, whether the initial or the joined subflow
    // is hit.
    const bool upstream = seed % 2 == 1;
    const size_t bad_path = paths == 1 ? 0 : ((seed + 1) / 2) % 2;
    SCOPED_TRACE(absl::StrCat(Replay(kSeeds, seed), "; path ", bad_path,
                              upstream ? " upstream" : " downstream"));
    HarnessConfig cfg = Config(paths, 4 << 20, seed);
    cfg.client.connection.checksum = true;
    cfg.deadline = Duration::Seconds(300);
    PayloadCorrupter* corrupter = nullptr;
    cfg.paths[bad_path].middlebox = Corrupter(upstream, 30 + seed, &corrupter);
    Harness h(cfg);
    const auto r = h.Run();
    ASSERT_NE(corrupter, nullptr);
    EXPECT_EQ(corrupter->corrupted(), 1u);
    // The invariant: the applications never read a wrong byte, and everything arrives.
    ASSERT_TRUE(r.ok) << r.Describe();
    const MptcpMib& receiver = upstream ? r.server_mib : r.client_mib;
    const MptcpMib& sender = upstream ? r.client_mib : r.server_mib;
    EXPECT_EQ(receiver.data_csum_err, 1u);
    if (paths == 1) {
      // RFC 8684 §3.7: on the only subflow the receiver sends MP_FAIL, the sender answers
      // (MP_FAIL echo) and sends an infinite mapping from the receiver's DATA_ACK, resending
      // the failed bytes; both continue as TCP.
      EXPECT_TRUE(r.client_fell_back);
      EXPECT_TRUE(r.server_fell_back);
      // Our MP_FAIL rides on every ACK until the infinite mapping comes; the echo goes once.
      EXPECT_GE(receiver.mp_fail_tx, 1u);
      EXPECT_EQ(sender.mp_fail_rx, receiver.mp_fail_tx);
      EXPECT_EQ(sender.mp_fail_tx, 1u);
      EXPECT_EQ(receiver.mp_fail_rx, 1u);
      EXPECT_EQ(sender.infinite_map_tx, 1u);
      EXPECT_EQ(receiver.infinite_map_rx, 1u);
      EXPECT_EQ(receiver.infinite_map_gap + receiver.mp_fail_timeout, 0u);
    } else {
      // RFC 8684 §3.7: with other subflows, the receiver resets the corrupting subflow
      // (MP_TCPRST, with MP_FAIL on the RST) and the data goes on elsewhere.
      EXPECT_FALSE(r.client_fell_back);
      EXPECT_GE(receiver.mp_rst_tx, 1u);
      EXPECT_EQ(sender.mp_rst_rx, 1u);
      EXPECT_EQ(receiver.mp_fail_tx, 1u);
      EXPECT_EQ(sender.mp_fail_rx, 1u);
      EXPECT_EQ(sender.infinite_map_tx, 0u);
      EXPECT_EQ(CountEvents(r.events, !upstream, EventType::kSubflowDown), 1) << r.Describe();
    }
    std::printf("corruption on path %zu of %zu (%s), seed %llu: done in %.2f s; client MIB: "
                "%s; server MIB: %s\n",
                bad_path, paths, upstream ? "upstream" : "downstream",
                static_cast<unsigned long long>(seed), r.elapsed.seconds(),
                NonZero(r.client_mib).c_str(), NonZero(r.server_mib).c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ChecksumCorruptionTest, ::testing::Values(1, 2),
                         [](const auto& info) { return absl::StrCat(info.param, "_paths"); });

// ==============================================================================================
// 5. Address signalling: ADD_ADDR (RFC 8684 §3.4.1), REMOVE_ADDR (§3.4.2), MP_PRIO (§3.3.8).
// ==============================================================================================

constexpr uint8_t kAnnouncedId = 5;

// The server announces its path-1 address; the client joins it when told.
HarnessConfig AnnounceConfig(uint64_t seed) {
  HarnessConfig cfg = Config(2, 8 << 20, seed);
  cfg.join_all = false;
  // Resend an unechoed ADD_ADDR soon (add_addr_timeout 200 ms, Linux's is 120 s), so a lost
  // echo shows within the run.
  cfg.server.connection.add_addr_timeout = Ms(200);
  return cfg;
}

void JoinWhenAnnounced(Harness& h, std::vector<Event>* announced) {
  h.SetEventHook([announced](Harness& p, bool client, const Event& e) {
    if (!client || e.type != EventType::kAddressAnnounced) return;
    announced->push_back(e);
    SocketAddress remote = e.address;
    if (remote.port == 0) remote.port = p.config().server_port;
    const auto sid = p.client().endpoint().OpenSubflow(p.sim().now(), p.client_id(),
                                                       p.ClientTuple(1).local, remote);
    EXPECT_TRUE(sid.ok()) << sid.status();
  });
}

TEST(AddressSignalTest, AnnouncedAddressIsEchoedAndJoined) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    const HarnessConfig cfg = AnnounceConfig(seed);
    Harness h(cfg);
    std::vector<Event> announced;
    JoinWhenAnnounced(h, &announced);
    const Timestamp t_announce = AtVaried(200, 20, seed);
    h.At(t_announce, [&cfg](Harness& p) {
      ASSERT_NE(p.server_conn(), nullptr);
      p.server_conn()->AnnounceAddress(p.sim().now(), kAnnouncedId,
                                       SocketAddress{cfg.paths[1].server_ip, 0});
    });
    std::optional<SubflowInfo> joined;
    h.At(At(Ms(600)), [&joined](Harness& p) {
      joined = InfoFor(p.client_conn(), p.ClientTuple(1));
    });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    ASSERT_EQ(announced.size(), 1u) << r.Describe();
    EXPECT_EQ(announced[0].address_id, kAnnouncedId);
    EXPECT_EQ(announced[0].address.ip, cfg.paths[1].server_ip);
    EXPECT_EQ(announced[0].address.port, 0);
    EXPECT_EQ(r.client_mib.add_addr, 1u);
    EXPECT_EQ(r.client_mib.add_addr_hmac_failure, 0u);
    EXPECT_EQ(r.client_mib.echo_add_tx, 1u) << "the client echoes the announcement once";
    // The echo reached the server (Linux's EchoAdd counts echoes received), so it stopped
    // resending (it would resend after 200 ms, and the run lasts about a second).
    EXPECT_EQ(r.server_mib.echo_add, 1u);
    EXPECT_EQ(r.server_mib.add_addr_tx, 1u);
    // The client joined the announced address; the server's SYN-ACK named it by its ID.
    EXPECT_EQ(r.server_mib.mp_join_ack_rx, 1u);
    ASSERT_TRUE(joined.has_value());
    EXPECT_TRUE(joined->fully_established);
    EXPECT_EQ(joined->remote_id, kAnnouncedId);
    EXPECT_GT(r.paths[1].server_payload_bytes[0], 1u << 20);  // reached the server
    EXPECT_GT(r.paths[1].payload_bytes[1], 1u << 20);         // and the client
  }
}

// The client's first echo is lost, so the server resends its ADD_ADDR (RFC 8684 §3.4.1): the
// client echoes the copy too, but tells its application once and joins the address once.
TEST(AddressSignalTest, ResentAnnouncementIsEchoedButJoinedOnce) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = AnnounceConfig(seed);
    int echoes_seen = 0;
    int echoes_dropped = 0;
    for (size_t path = 0; path < 2; ++path) {
      cfg.paths[path].middlebox = FunctionMiddlebox("drop-echo", [&](Direction dir, Packet& pkt) {
        if (dir != Direction::kForward) return true;
        const auto seg = ParseTcpPacket(pkt.bytes);
        if (!seg) return true;
        auto repr = wire::TcpRepr::Parse(seg->segment());
        if (!repr.ok()) return true;
        for (std::span<const uint8_t> o : repr->options.mptcp_options()) {
          auto opt = wire::ParseMptcpOption(o);
          const auto* add = opt.ok() ? std::get_if<wire::AddAddr>(&*opt) : nullptr;
          if (add != nullptr && add->echo && ++echoes_seen == 1) {
            ++echoes_dropped;
            return false;
          }
        }
        return true;
      });
    }
    Harness h(cfg);
    std::vector<Event> announced;
    JoinWhenAnnounced(h, &announced);
    h.At(AtVaried(200, 20, seed), [&cfg](Harness& p) {
      p.server_conn()->AnnounceAddress(p.sim().now(), kAnnouncedId,
                                       SocketAddress{cfg.paths[1].server_ip, 0});
    });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(echoes_dropped, 1);
    EXPECT_EQ(r.server_mib.add_addr_tx, 2u) << "resent once its echo was missing";
    EXPECT_EQ(r.client_mib.add_addr, 2u);
    EXPECT_EQ(r.client_mib.dup_add_addr, 1u);
    EXPECT_EQ(r.client_mib.echo_add_tx, 2u) << "every copy is echoed";
    EXPECT_EQ(r.server_mib.echo_add, 1u);
    EXPECT_EQ(announced.size(), 1u) << "the application hears of the address once";
    EXPECT_EQ(r.client_mib.mp_join_syn_tx, 1u) << "and joins it once";
    EXPECT_EQ(r.server_mib.mp_join_ack_rx, 1u);
  }
}

TEST(AddressSignalTest, RemovedAddressClosesItsSubflows) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    const HarnessConfig cfg = AnnounceConfig(seed);
    Harness h(cfg);
    std::vector<Event> announced;
    JoinWhenAnnounced(h, &announced);
    h.At(At(Ms(200)), [&cfg](Harness& p) {
      p.server_conn()->AnnounceAddress(p.sim().now(), kAnnouncedId,
                                       SocketAddress{cfg.paths[1].server_ip, 0});
    });
    const Timestamp t_remove = AtVaried(450, 30, seed);
    std::vector<PathReport> at_remove;
    SubflowId removed_id = 0;
    h.At(t_remove, [&](Harness& p) {
      const auto info = InfoFor(p.client_conn(), p.ClientTuple(1));
      ASSERT_TRUE(info.has_value());
      removed_id = info->id;
      at_remove = p.PathReports();
      p.server_conn()->WithdrawAddress(p.sim().now(), kAnnouncedId);
    });
    std::vector<PathReport> settled;
    h.At(t_remove + Ms(150), [&](Harness& p) { settled = p.PathReports(); });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    ASSERT_FALSE(settled.empty());
    EXPECT_GT(at_remove[1].delivered_payload_total(), 0u) << "the joined subflow carried data before";
    EXPECT_EQ(PayloadSince(r.paths, settled, 1), 0u) << "and none once removed";
    EXPECT_GT(PayloadSince(r.paths, settled, 0), 0u);
    EXPECT_EQ(r.server_mib.rm_subflow, 1u);
    EXPECT_EQ(r.client_mib.rm_addr, 1u) << "REMOVE_ADDR reached the client";
    const auto removed = FirstEvent(r.events, true, EventType::kAddressRemoved);
    ASSERT_TRUE(removed.has_value()) << r.Describe();
    EXPECT_EQ(removed->event.address_id, kAnnouncedId);
    bool down = false;
    for (const SimEvent& e : r.events) {
      down |= e.client && e.event.type == EventType::kSubflowDown && e.event.subflow == removed_id;
    }
    EXPECT_TRUE(down) << r.Describe();
  }
}

TEST(AddressSignalTest, MpPrioMakesASubflowBackupAndBack) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, 16 << 20, seed);
    Harness h(cfg);
    const Timestamp t_backup = AtVaried(400, 30, seed);
    const Timestamp t_regular = t_backup + Ms(600);
    std::vector<PathReport> c0, c1, c2, c3;
    std::optional<SubflowInfo> server_view;
    h.At(t_backup, [&](Harness& p) {
      c0 = p.PathReports();
      const auto info = InfoFor(p.client_conn(), p.ClientTuple(1));
      ASSERT_TRUE(info.has_value());
      EXPECT_TRUE(p.client_conn()->SetBackup(p.sim().now(), info->id, true));
    });
    // Give the MP_PRIO and what was already queued on the subflow time to go.
    h.At(t_backup + Ms(150), [&](Harness& p) { c1 = p.PathReports(); });
    h.At(t_regular, [&](Harness& p) {
      c2 = p.PathReports();
      // (The MP_PRIO may wait behind a queue of data on its path: look just before the undo.)
      server_view = InfoFor(p.server_conn(), p.ClientTuple(1).Reversed());
      const auto info = InfoFor(p.client_conn(), p.ClientTuple(1));
      ASSERT_TRUE(info.has_value());
      EXPECT_TRUE(p.client_conn()->SetBackup(p.sim().now(), info->id, false));
    });
    h.At(t_regular + Ms(300), [&](Harness& p) { c3 = p.PathReports(); });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << LivelockHint(r) << r.Describe();
    ASSERT_FALSE(c3.empty()) << "transfer ended too early for the scenario";
    EXPECT_EQ(r.client_mib.mp_prio_tx, 2u);
    EXPECT_EQ(r.server_mib.mp_prio_rx, 2u);
    ASSERT_TRUE(server_view.has_value());
    EXPECT_TRUE(server_view->backup) << "the server took the MP_PRIO";
    // As a backup, path 1 gets nothing in either direction while path 0 works (what the ends
    // send into it: its queue still delivers what it held)...
    EXPECT_GT(SentSince(c1, c0, 1), 0u);
    EXPECT_EQ(SentSince(c2, c1, 1), 0u) << "backup subflow still used";
    EXPECT_GT(SentSince(c2, c1, 0), 1u << 20);
    // ...and gets data again once it is regular.
    EXPECT_GT(SentSince(c3, c2, 1), 256u << 10);
  }
}

// ==============================================================================================
// 6. Abort: MP_FASTCLOSE (RFC 8684 §3.5) ends the connection at once on both ends.
// ==============================================================================================

class AbortTest : public ::testing::TestWithParam<bool> {};  // true: the client aborts

TEST_P(AbortTest, FastcloseReachesThePeer) {
  const bool client_aborts = GetParam();
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, 8 << 20, seed);
    cfg.allow_abnormal_close = true;
    cfg.deadline = Duration::Seconds(60);
    Harness h(cfg);
    const Timestamp t_abort = AtVaried(300, 50, seed);
    size_t subflows_at_abort = 0;
    h.At(t_abort, [&](Harness& p) {
      Connection* c = client_aborts ? p.client_conn() : p.server_conn();
      subflows_at_abort = LiveSubflows(c);
      c->Abort(p.sim().now());
    });
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(subflows_at_abort, 2u);
    const ConnectionSnapshot& aborter = client_aborts ? r.client_final : r.server_final;
    const ConnectionSnapshot& peer = client_aborts ? r.server_final : r.client_final;
    const MptcpMib& aborter_mib = client_aborts ? r.client_mib : r.server_mib;
    const MptcpMib& peer_mib = client_aborts ? r.server_mib : r.client_mib;
    EXPECT_EQ(aborter.close_reason, CloseReason::kAborted);
    EXPECT_EQ(peer.close_reason, CloseReason::kReset);
    EXPECT_GE(aborter_mib.mp_fastclose_tx, 1u);
    EXPECT_EQ(peer_mib.mp_fastclose_rx, 1u);
    const auto aborter_closed = FirstEvent(r.events, client_aborts, EventType::kClosed);
    const auto peer_closed = FirstEvent(r.events, !client_aborts, EventType::kClosed);
    ASSERT_TRUE(aborter_closed && peer_closed) << r.Describe();
    EXPECT_EQ(aborter_closed->event.reason, CloseReason::kAborted);
    EXPECT_EQ(peer_closed->event.reason, CloseReason::kReset);
    // As soon as the RST gets through the path's queue, not after any timeout.
    EXPECT_LE(peer_closed->at - t_abort, Ms(500));
    EXPECT_EQ(CountEvents(r.events, true, EventType::kClosed), 1);
    EXPECT_EQ(CountEvents(r.events, false, EventType::kClosed), 1);
    // The aborted connection is gone from its Endpoint; the peer's, reset under its
    // application, stays until that application closes or reaps it, with no live subflow.
    EXPECT_EQ(client_aborts ? h.client_conn() : h.server_conn(), nullptr);
    Connection* peer_conn = client_aborts ? h.server_conn() : h.client_conn();
    ASSERT_NE(peer_conn, nullptr);
    EXPECT_EQ(LiveSubflows(peer_conn), 0u);
    EXPECT_EQ((client_aborts ? h.server() : h.client()).endpoint().Reap(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Sides, AbortTest, ::testing::Bool(), [](const auto& info) {
  return info.param ? "ClientAborts" : "ServerAborts";
});

// ==============================================================================================
// 7. Graceful close (RFC 8684 §3.3.3): DATA_FIN both ways, then the subflows close.
// ==============================================================================================

struct CloseCase {
  const char* name;
  size_t paths;
  double loss;
  size_t client_bytes;
  size_t server_bytes;
};
void PrintTo(const CloseCase& c, std::ostream* os) { *os << c.name; }

class GracefulCloseTest : public ::testing::TestWithParam<CloseCase> {};

TEST_P(GracefulCloseTest, BothSidesCloseNormally) {
  const CloseCase cc = GetParam();
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(cc.paths, 0, seed, Link(cc.loss));
    cfg.client_bytes = cc.client_bytes;
    cfg.server_bytes = cc.server_bytes;
    cfg.deadline = Duration::Seconds(120);
    Harness h(cfg);
    const auto r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    for (bool client : {true, false}) {
      SCOPED_TRACE(client ? "client" : "server");
      EXPECT_EQ((client ? r.client_final : r.server_final).close_reason, CloseReason::kNormal);
      EXPECT_EQ(CountEvents(r.events, client, EventType::kClosed), 1);
      const auto closed = FirstEvent(r.events, client, EventType::kClosed);
      ASSERT_TRUE(closed.has_value());
      EXPECT_EQ(closed->event.reason, CloseReason::kNormal);
      // The close takes a few round trips after the second DATA_FIN, not a timeout.
      ASSERT_FALSE(r.client_eof_at.IsNever() || r.server_eof_at.IsNever());
      const Timestamp both_fins = std::max(r.client_eof_at, r.server_eof_at);
      EXPECT_LE(closed->at - both_fins, Duration::Seconds(cc.loss > 0 ? 2 : 1))
          << "closed at " << Seconds(closed->at) << " s, DATA_FINs in by " << Seconds(both_fins)
          << " s";
      // Released (closed, finished, read), or its subflows done.
      if (Connection* c = client ? h.client_conn() : h.server_conn()) {
        for (const SubflowInfo& s : c->Subflows()) {
          EXPECT_TRUE(s.state == tcp::TcpState::kClosed || s.state == tcp::TcpState::kTimeWait)
              << "subflow " << s.id << " in " << tcp::TcpStateName(s.state);
        }
      }
      // (A side that sends nothing closes at once, and a closing connection takes no joins.)
      if (cc.client_bytes > 0 && cc.server_bytes > 0) {
        EXPECT_EQ(CountEvents(r.events, client, EventType::kSubflowUp),
                  static_cast<int>(cc.paths));
      }
    }
    std::printf("close %s, seed %llu: DATA_FINs at %.3f/%.3f s, closed at %.3f/%.3f s "
                "(client/server)\n",
                cc.name, static_cast<unsigned long long>(seed), Seconds(r.client_eof_at),
                Seconds(r.server_eof_at),
                Seconds(FirstEvent(r.events, true, EventType::kClosed)->at),
                Seconds(FirstEvent(r.events, false, EventType::kClosed)->at));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GracefulCloseTest,
    ::testing::Values(CloseCase{"TwoPathsBothWays", 2, 0.0, 4 << 20, 4 << 20},
                      CloseCase{"TwoPathsLossy", 2, 0.01, 4 << 20, 4 << 20},
                      CloseCase{"OnePathClientOnly", 1, 0.0, 2 << 20, 0},
                      CloseCase{"FourPathsServerOnly", 4, 0.005, 0, 4 << 20}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mptcp::testing

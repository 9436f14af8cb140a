// Backup subflows on the simulator (RFC 8684 §3.2 flag B, §3.3.8): two paths, the second
// joined as a backup. While the primary path is up the backup carries no data, either way;
// when the primary fails (cut both ways) the backup takes the whole transfer over and it
// completes byte-exact; when the primary comes back, the data returns to it and the backup
// falls silent again.
//
// Both paths are 20 Mbit/s each way, 100-packet drop-tail queues, one-way delays 10 ms
// (primary) and 20 ms (backup), up to 100 us of per-packet jitter per seed. "Data" on a path
// is TCP payload counted at the client end of the path (PathMeter), both directions; the
// backup subflow's handshake, its ACKs and signals carry none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conformance/sim_scenario.h"
#include "io/sim/harness.h"
#include "mptcp/connection.h"
#include "mptcp/event.h"
#include "mptcp/tcp/tcp_state.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {
namespace {

constexpr size_t kQueuePackets = 100;

HarnessConfig BackupConfig(uint64_t seed, size_t bytes) {
  HarnessConfig cfg;
  cfg.seed = seed;
  LinkConfig base;
  base.bandwidth_bps = 20'000'000;
  base.queue_bytes = kQueuePackets * kMtu;
  base.jitter = Duration::Micros(100);
  cfg.paths = DocumentationPaths(2, base);
  cfg.paths[0].up.delay = cfg.paths[0].down.delay = Duration::Millis(10);
  cfg.paths[1].up.delay = cfg.paths[1].down.delay = Duration::Millis(20);
  cfg.paths[1].backup = true;
  cfg.client_bytes = cfg.server_bytes = bytes;
  cfg.deadline = Duration::Seconds(120);
  cfg.stall_timeout = Duration::Seconds(30);
  return cfg;
}

// Data bytes sent so far on path i's subflow, both ends together: each end's SND.NXT less its
// ISN, less the SYN (RFC 9293 §3.4: the SYN takes one sequence number), read while the subflow
// is established and has sent no FIN. New data only; retransmissions do not move SND.NXT.
// Zero when there is no such subflow (callers keep a running maximum).
uint64_t PathData(Harness& h, size_t i) {
  uint64_t n = 0;
  const FourTuple t = h.ClientTuple(i);
  for (Connection* c : {h.client_conn(), h.server_conn()}) {
    if (c == nullptr) continue;
    const auto s = c->subflow(c == h.client_conn() ? t : t.Reversed());
    // Before its FIN, which takes a sequence number too.
    if (!s || (s->state != tcp::TcpState::kEstablished && s->state != tcp::TcpState::kCloseWait)) {
      continue;
    }
    const uint32_t seq_used = static_cast<uint32_t>(s->snd_nxt - s->iss);
    n += seq_used > 0 ? seq_used - 1 : 0;
  }
  return n;
}

bool SubflowIsBackup(Connection* conn, const FourTuple& t) {
  if (conn == nullptr) return false;
  for (const SubflowInfo& s : conn->Subflows()) {
    if (s.tuple == t) return s.backup;
  }
  return false;
}

TEST(BackupPathTest, BackupCarriesNoDataWhilePrimaryIsUp) {
  for (uint64_t seed : Seeds()) {
    const std::string replay = Replay(seed);
    Harness h(BackupConfig(seed, 8 << 20));
    bool backup_seen_client = false, backup_seen_server = false;
    h.SetEventHook([&](Harness& hh, bool client, const Event& e) {
      if (e.type != EventType::kSubflowUp) return;
      const FourTuple t = hh.ClientTuple(1);
      if (client) backup_seen_client |= SubflowIsBackup(hh.client_conn(), t);
      if (!client) backup_seen_server |= SubflowIsBackup(hh.server_conn(), {t.remote, t.local});
    });
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << "seed " << seed << ": " << r.Describe() << "\n" << replay;
    EXPECT_TRUE(backup_seen_client && backup_seen_server)
        << "seed " << seed << ": the joined subflow is not a backup on both ends\n" << replay;
    EXPECT_EQ(r.server_mib.mp_join_syn_rx, 1u) << replay;
    // The backup subflow exists (its handshake crossed path 1) but carried no data.
    EXPECT_GT(r.paths[1].packets[0], 0u) << replay;
    EXPECT_EQ(r.paths[1].payload_bytes[0] + r.paths[1].payload_bytes[1], 0u)
        << "seed " << seed << ": " << r.Describe() << "\n" << replay;
    EXPECT_EQ(r.paths[0].payload_bytes[0] + r.paths[0].payload_bytes[1] > 0, true);
    if (seed == 1) {
      Figure("backup.primary_up.backup_payload_bytes",
             static_cast<double>(r.paths[1].payload_bytes[0] + r.paths[1].payload_bytes[1]), "B");
    }
  }
}

// The primary is cut at a seeded time in [0.8, 1.6] s and restored 2 s later: the backup takes
// over, then hands the data back. What is checked, in data bytes sent on each path's subflow
// (PathData, sampled every 5 ms):
//   - until the cut: none on the backup;
//   - after the cut: the transfer goes on over the backup (at least 2 MiB until the restore);
//   - after the restore: the primary carries new data again once its subflow's backed-off
//     retransmission timer fires and gets through, so within that RTO (read at the restore,
//     the larger of the two ends) + 200 ms;
//   - from 1 s after that (time for what the backup already holds to drain) to the end: no new
//     data on the backup, the rest on the primary.
TEST(BackupPathTest, BackupTakesOverWhenPrimaryFailsAndHandsBack) {
  std::vector<double> takeover, handback;
  for (uint64_t seed : Seeds()) {
    const std::string replay = Replay(seed);
    // 24 MiB each way: about 10 s at 20 Mbit/s, so that data still flows after the restore.
    constexpr size_t kBytes = 24 << 20;
    Harness h(BackupConfig(seed, kBytes));
    Random rng(seed ^ 0x6261636b);
    const Timestamp cut =
        Timestamp::Zero() + Duration::Millis(800 + static_cast<int64_t>(rng.Uniform(801)));
    const Timestamp restore = cut + Duration::Seconds(2);
    Duration rto_at_restore = Duration::Zero();
    h.sim().At(cut, [&h] { h.SetPathUp(0, false); });
    h.sim().At(restore, [&] {
      const FourTuple t = h.ClientTuple(0);
      for (Connection* c : {h.client_conn(), h.server_conn()}) {
        const auto s = c == nullptr ? std::nullopt
                                    : c->subflow(c == h.client_conn() ? t : t.Reversed());
        if (s) rto_at_restore = std::max(rto_at_restore, s->rto);
      }
      h.SetPathUp(0, true);
    });
    // Running maxima (a closed subflow is forgotten, and PathData() then reads zero) and their
    // values at the cut, the restore and the settle time (1 s after the primary came back).
    uint64_t backup = 0, primary = 0;
    uint64_t backup_at_cut = 0, backup_at_restore = 0, backup_at_settle = 0;
    uint64_t primary_at_restore = 0, primary_at_settle = 0;
    Timestamp backup_from = Timestamp::Never(), primary_back = Timestamp::Never();
    Timestamp settle = Timestamp::Never();
    std::function<void()> probe = [&] {
      const Timestamp now = h.sim().now();
      backup = std::max(backup, PathData(h, 1));
      primary = std::max(primary, PathData(h, 0));
      if (now <= cut) backup_at_cut = backup;
      if (now <= restore) backup_at_restore = backup, primary_at_restore = primary;
      if (now > cut && backup_from.IsNever() && backup > backup_at_cut) backup_from = now;
      if (now > restore && primary_back.IsNever() && primary > primary_at_restore) {
        primary_back = now;
        settle = now + Duration::Seconds(1);
      }
      if (settle.IsNever() || now <= settle) backup_at_settle = backup, primary_at_settle = primary;
      h.sim().After(Duration::Millis(5), probe);
    };
    h.sim().After(Duration::Millis(5), probe);
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << "seed " << seed << ": " << r.Describe() << "\n" << replay;
    ASSERT_EQ(r.client_read, kBytes);
    ASSERT_EQ(r.server_read, kBytes);
    EXPECT_EQ(backup_at_cut, 0u) << "seed " << seed << ": data on the backup before the cut\n"
                                 << replay;
    ASSERT_FALSE(backup_from.IsNever()) << "seed " << seed << ": the backup never took over\n"
                                        << r.Describe() << "\n" << replay;
    EXPECT_GT(backup_at_restore - backup_at_cut, 2u << 20) << "seed " << seed << "\n" << replay;
    ASSERT_FALSE(primary_back.IsNever()) << "seed " << seed << ": the primary never carried "
                                         << "data again\n" << r.Describe() << "\n" << replay;
    EXPECT_LE(primary_back - restore, rto_at_restore + Duration::Millis(200))
        << "seed " << seed << ": RTO at the restore " << rto_at_restore.seconds() << " s\n"
        << replay;
    ASSERT_GT(r.elapsed, settle - Timestamp::Zero() + Duration::Seconds(1))
        << "seed " << seed << ": the transfer ended too soon to see the hand-back\n" << replay;
    EXPECT_GT(primary - primary_at_settle, 1u << 20) << "seed " << seed << "\n" << replay;
    EXPECT_EQ(backup - backup_at_settle, 0u)
        << "seed " << seed << ": data on the backup after the primary came back\n" << replay;
    takeover.push_back((backup_from - cut).seconds());
    if (!primary_back.IsNever()) handback.push_back((primary_back - restore).seconds());
    std::printf("seed %llu: cut %.3f s, backup carried data from +%.3f s (%llu bytes until the "
                "restore); restored %.3f s (RTO %.3f s), primary carried data again from +%.3f s; "
                "after %.3f s: backup %llu bytes, primary %llu bytes; done %.3f s, longest stall "
                "%.3f / %.3f s\n",
                static_cast<unsigned long long>(seed), Seconds(cut), (backup_from - cut).seconds(),
                static_cast<unsigned long long>(backup_at_restore - backup_at_cut),
                Seconds(restore), rto_at_restore.seconds(),
                primary_back.IsNever() ? -1.0 : (primary_back - restore).seconds(),
                Seconds(settle), static_cast<unsigned long long>(backup - backup_at_settle),
                static_cast<unsigned long long>(primary - primary_at_settle), r.elapsed.seconds(),
                r.longest_client_stall.seconds(), r.longest_server_stall.seconds());
  }
  if (!takeover.empty()) {
    Figure("backup.takeover_delay_max", *std::max_element(takeover.begin(), takeover.end()), "s");
  }
  if (!handback.empty()) {
    Figure("backup.handback_delay_max", *std::max_element(handback.begin(), handback.end()), "s");
  }
}

}  // namespace
}  // namespace mptcp::sim::conformance

// Memory stays bounded under hostile or stalled peers, with nothing accepted silently lost:
// a receiver that stops reading, and a sender whose data sequence numbers are rewritten far
// beyond the window. Also the footprint of an idle connection (docs/performance.md). End to
// end on the simulator (io/sim Harness); seeds 1..3 (testing/seeds.h, CONFORMANCE family), a
// failure prints the command that replays its seed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <variant>
#include <vector>

#include "io/sim/harness.h"
#include "io/sim/link.h"
#include "io/sim/packet.h"
#include "io/sim/packet_edit.h"
#include "io/sim/packet_filter.h"
#include "mptcp/config.h"
#include "mptcp/connection.h"
#include "mptcp/time.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {
namespace {

using ::mptcp::testing::Replay;
using ::mptcp::testing::SeedSpec;

constexpr SeedSpec kSeeds{"CONFORMANCE", 3, 3};

// The client sends `bytes`, the server nothing; both close once written (the server at once).
HarnessConfig Config(size_t paths, size_t bytes, uint64_t seed) {
  LinkConfig link;
  link.bandwidth_bps = 100'000'000;
  link.delay = Duration::Millis(10);
  HarnessConfig c;
  c.paths = DocumentationPaths(paths, link);
  c.client_bytes = bytes;
  c.server_bytes = 0;
  c.seed = seed;
  c.close_at = HarnessConfig::CloseAt::kWrittenNow;
  c.until_finished = true;
  for (EndpointConfig* e : {&c.client, &c.server}) {
    e->connection.send_buffer = 512 * 1024;
    e->connection.recv_buffer = 512 * 1024;
    e->connection.subflow.send_buffer = 256 * 1024;
    e->connection.subflow.recv_buffer = 512 * 1024;
  }
  return c;
}

// What the configuration allows a connection's buffers to hold at most.
size_t BufferBound(const ConnectionConfig& c, size_t subflows) {
  return c.send_buffer + c.recv_buffer +
         subflows * (c.subflow.send_buffer + c.subflow.recv_buffer);
}

TEST(ConnectionMemoryTest, PeerThatNeverReadsHoldsBuffersAtTheirLimits) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(2, 16 << 20, seed);
    cfg.server_reads_from = Timestamp::Zero() + Duration::Seconds(30);
    Harness h(cfg);
    size_t max_readable = 0;
    bool checked = false;
    h.At(Timestamp::Zero() + Duration::Seconds(29), [&](Harness& p) {
      // 29 s of a reader that never reads: the shared window is closed and the server holds
      // its receive buffer of data (plus at most the rounding slack of the window scale).
      Connection* s = p.server_conn();
      ASSERT_NE(s, nullptr);
      max_readable = s->readable();
      EXPECT_GE(s->readable(), cfg.server.connection.recv_buffer);
      EXPECT_LE(s->readable(), s->receive_capacity());
      EXPECT_LE(s->receive_capacity(), cfg.server.connection.recv_buffer + 64);
      EXPECT_LE(s->BufferBytes(), BufferBound(cfg.server.connection, 2));
      Connection* c = p.client_conn();
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->write_space(), 0u) << "the writer is blocked, not buffering without bound";
      EXPECT_LE(c->BufferBytes(), BufferBound(cfg.client.connection, 2));
      checked = true;
    });
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    ASSERT_TRUE(checked);
    EXPECT_EQ(r.server_read, cfg.client_bytes) << "everything arrives once the reader reads";
    EXPECT_LE(r.max_server_buffer_bytes, BufferBound(cfg.server.connection, 2));
    EXPECT_LE(r.max_client_buffer_bytes, BufferBound(cfg.client.connection, 2));
    std::printf("seed %llu: server held %zu readable bytes while stalled; max buffer bytes "
                "server %zu, client %zu\n",
                static_cast<unsigned long long>(seed), max_readable, r.max_server_buffer_bytes,
                r.max_client_buffer_bytes);
  }
}

// Adds `delta` to the DSN of every DSS mapping in a data packet (a hostile or broken sender),
// fixing the checksums. Returns whether anything changed.
bool ShiftDsn(std::vector<uint8_t>& pkt, uint64_t delta) {
  const auto v = ParseTcpPacket(pkt);
  if (!v || v->payload().empty()) return false;
  bool changed = false;
  ForEachTcpOption(v->options(), [&](uint8_t kind, std::span<uint8_t> opt) {
    if (kind != wire::kMptcpOptionKind) return;
    auto parsed = wire::ParseMptcpOption(opt);
    if (!parsed.ok()) return;
    if (auto* dss = std::get_if<wire::Dss>(&parsed.value()); dss && dss->mapping) {
      dss->mapping->dsn += delta;
      changed |= wire::EmitMptcpOption(parsed.value(), opt).ok();
    }
  });
  if (changed) v->FixChecksums();
  return changed;
}

TEST(ConnectionMemoryTest, FarOutOfWindowDsnsAreDroppedAndRecovered) {
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(1, 4 << 20, seed);
    int rewritten = 0;
    bool hostile = true;
    // For the first half second every client data segment claims DSNs 2^40 further on.
    cfg.paths[0].middlebox = FunctionMiddlebox("shift-dsn", [&](Direction dir, Packet& p) {
      if (dir == Direction::kForward && hostile && ShiftDsn(p.bytes, uint64_t{1} << 40)) {
        ++rewritten;
      }
      return true;
    });
    Harness h(cfg);
    size_t ooo_during = 0;
    h.At(Timestamp::Zero() + Duration::Millis(500), [&](Harness& p) {
      hostile = false;
      Connection* s = p.server_conn();
      ASSERT_NE(s, nullptr);
      ooo_during = s->BufferBytes();
      EXPECT_EQ(s->readable(), 0u) << "nothing wrong may be delivered";
      EXPECT_LE(s->BufferBytes(), BufferBound(cfg.server.connection, 1));
    });
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_GT(rewritten, 10);
    // RFC 8684 §3.3.5: data beyond the advertised edge is cut off before the subflow
    // acknowledges it (counted), so the sender's subflow resends it; none is taken and then
    // dropped at the data level.
    EXPECT_GT(r.server_mib.rcv_window_trim, 0u) << "out-of-window data is refused and counted";
    EXPECT_EQ(r.server_mib.rcv_window_drop, 0u) << "nothing acknowledged is dropped";
    EXPECT_EQ(r.server_read, cfg.client_bytes);
    std::printf("seed %llu: %d segments rewritten, %llu bytes refused as out of window, server "
                "buffers %zu bytes meanwhile\n",
                static_cast<unsigned long long>(seed), rewritten,
                static_cast<unsigned long long>(r.server_mib.rcv_window_trim), ooo_during);
  }
}

TEST(ConnectionMemoryTest, IdleConnectionWithTwoSubflowsIsSmall) {
  HarnessConfig cfg = Config(2, 0, 1);
  cfg.close_when_done = false;
  cfg.run_at_least = Duration::Seconds(3);
  Harness h(cfg);
  size_t client_state = 0, server_state = 0, client_buffers = 0;
  size_t subflows = 0;
  h.At(Timestamp::Zero() + Duration::Seconds(2), [&](Harness& p) {
    Connection* c = p.client_conn();
    Connection* s = p.server_conn();
    ASSERT_NE(c, nullptr);
    ASSERT_NE(s, nullptr);
    subflows = c->subflow_count();
    client_state = c->StateBytes();
    server_state = s->StateBytes();
    client_buffers = c->BufferBytes();
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  ASSERT_EQ(subflows, 2u);
  std::printf("idle connection, 2 subflows: client %zu bytes of state, server %zu; buffers "
              "hold %zu bytes\n",
              client_state, server_state, client_buffers);
  EXPECT_LE(client_state, 4096u);
  EXPECT_LE(server_state, 4096u);
  EXPECT_EQ(client_buffers, 0u) << "an idle connection holds no buffer memory";
}

}  // namespace
}  // namespace mptcp::sim::conformance

// What connections cost in memory, counted by a counting allocator (this binary replaces the
// global operator new and delete): every heap byte a connection owns (subflows, engines,
// congestion controllers, the scheduler, queues) plus its share of the Endpoint's tables
// (hash maps, the timer heap, TIME-WAIT records), not sizeof sums. docs/performance.md quotes
// the figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "mptcp/endpoint.h"
#include "testing/endpoint_pair.h"

namespace {

// Bytes requested and not yet freed, and the most at any moment since the last reset. The
// size of each block is kept in a header in front of it (16 bytes, keeping the alignment).
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};
constexpr size_t kHeader = 16;

void* CountedAlloc(size_t n) {
  void* p = std::malloc(n + kHeader);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<size_t*>(p) = n;
  const int64_t live = g_live.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
  return static_cast<char*>(p) + kHeader;
}

void CountedFree(void* p) {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - kHeader;
  g_live.fetch_sub(static_cast<int64_t>(*reinterpret_cast<size_t*>(base)));
  std::free(base);
}

}  // namespace

void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }

namespace mptcp::testing {
namespace {

int64_t Live() { return g_live.load(); }

// `n` established, idle connections with two subflows each between two Endpoints: the bytes
// each side's Endpoint holds per connection.
TEST(EndpointMemoryTest, IdleConnectionWithTwoSubflowsCostsAtMost4KiB) {
  constexpr size_t kConnections = 2000;
  EndpointConfig cfg;
  cfg.max_connections = kConnections + 16;
  cfg.accept_backlog = kConnections + 16;
  EndpointPair p(cfg);
  const SocketAddress second_local{IpAddress::V4(203, 0, 113, 1), 0};
  std::vector<ConnectionId> ids;
  ids.reserve(kConnections);
  std::vector<ConnectionId> server_ids;
  server_ids.reserve(kConnections);
  const int64_t before = Live();
  for (uint32_t i = 0; i < kConnections; ++i) {
    auto id = p.client.Connect(p.now, NthClientAddress(i), kPairServer0);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    ASSERT_TRUE(p.RunUntil([&] { return p.client.connection(*id)->fully_established(); }, 50));
    SocketAddress local = second_local;
    local.port = static_cast<uint16_t>(1024 + i);
    ASSERT_TRUE(p.client.OpenSubflow(p.now, *id, local, kPairServer1).ok());
    p.RunUntil([&] { return false; }, 10);
    while (auto e = p.server.PollEvent()) server_ids.push_back(e->id);
  }
  // Let delayed ACKs and the like go out; then nothing is pending.
  p.now = p.now + Duration::Seconds(1);
  p.Timers();
  p.RunUntil([&] { return false; }, 20);
  const int64_t after = Live();
  ASSERT_EQ(server_ids.size(), kConnections);
  for (ConnectionId id : ids) {
    ASSERT_EQ(p.client.connection(id)->subflow_count(), 2u);
    ASSERT_EQ(p.client.connection(id)->BufferBytes(), 0u) << "idle: no buffer memory";
  }
  // Both sides' Endpoints together hold 2 * kConnections connections.
  const double per_connection =
      static_cast<double>(after - before) / static_cast<double>(2 * kConnections);
  std::printf("idle connection with 2 subflows: %.0f bytes (counting allocator, both sides, "
              "Endpoint tables included; %zu connections per side)\n",
              per_connection, kConnections);
  // Where it goes, as the objects report it themselves: the connection's own state
  // (Connection::StateBytes: the object, subflows, engines, controllers, scheduler, side
  // tables) and its share of the Endpoint's tables (Endpoint::TableBytes). The rest of the
  // counted figure is allocator rounding of containers and what those reports do not see.
  double state = 0;
  for (ConnectionId id : ids) state += static_cast<double>(p.client.connection(id)->StateBytes());
  for (ConnectionId id : server_ids) {
    state += static_cast<double>(p.server.connection(id)->StateBytes());
  }
  const double tables = static_cast<double>(p.client.TableBytes() + p.server.TableBytes());
  std::printf("  of which Connection::StateBytes %.0f, Endpoint::TableBytes share %.0f, "
              "other %.0f\n",
              state / (2 * kConnections), tables / (2 * kConnections),
              per_connection - (state + tables) / (2 * kConnections));
  std::printf("  sizeof: Connection %zu, Subflow %zu (of which TcpEngine %zu)\n",
              sizeof(Connection), sizeof(Subflow), sizeof(tcp::TcpEngine));
  EXPECT_LE(per_connection, 4096.0);
}

// A million connections, one after another: connect, accept, close, read to the end, close;
// nobody reaps. The Endpoints let each connection go, keep a bounded number of TIME-WAIT
// records, and the memory they hold stops growing once the TIME-WAIT table is full. The
// table's bound is set to 8,192 records here (Linux's tcp_max_tw_buckets plays the same role);
// the peak of every later window of 10,000 cycles must stay within 64 KiB of the peak of the
// first (hash tables rehash in place, never grow, under this churn).
// MEMORY_CYCLES=<n> runs n cycles instead (the sanitizer pass runs fewer).
TEST(EndpointMemoryTest, MillionConnectCloseCyclesKeepMemoryFlat) {
  uint64_t cycles = 1'000'000;
  if (const char* e = std::getenv("MEMORY_CYCLES")) cycles = std::strtoull(e, nullptr, 10);
  constexpr uint64_t kWindow = 10'000;
  ASSERT_GE(cycles, 2 * kWindow);
  EndpointConfig cfg;
  cfg.max_time_wait = 8192;
  EndpointPair p(cfg);
  const int64_t base = Live();
  std::vector<int64_t> peaks;  // per window, above `base`
  uint64_t packets = 0, unclean = 0;
  g_peak.store(Live());
  for (uint64_t i = 0; i < cycles; ++i) {
    if (!ConnectAcceptClose(p, NthClientAddress(static_cast<uint32_t>(i)), &packets)) ++unclean;
    p.now = p.now + Duration::Micros(10);
    if ((i + 1) % kWindow == 0) {
      peaks.push_back(g_peak.load() - base);
      g_peak.store(Live());
    }
  }
  EXPECT_EQ(unclean, 0u);
  EXPECT_EQ(p.client.connection_count(), 0u);
  EXPECT_EQ(p.server.connection_count(), 0u);
  EXPECT_EQ(p.client.time_wait_count() + p.server.time_wait_count(), 8192u)
      << "the TIME-WAIT table full, at its bound";
  const int64_t first = peaks.front();
  const int64_t worst_later = *std::max_element(peaks.begin() + 1, peaks.end());
  std::printf("%lu connect/close cycles, %.1f packets each: peak %.2f MiB in the first %lu, "
              "at most %.2f MiB in any later window of %lu; %.2f MiB at the end\n",
              static_cast<unsigned long>(cycles),
              static_cast<double>(packets) / static_cast<double>(cycles), first / 1048576.0,
              static_cast<unsigned long>(kWindow), worst_later / 1048576.0,
              static_cast<unsigned long>(kWindow), (Live() - base) / 1048576.0);
  EXPECT_LE(worst_later, first + 64 * 1024);
}

}  // namespace
}  // namespace mptcp::testing

// Two Endpoints in memory on one core: IP packets built and parsed, TCP and MPTCP options on
// every segment, checksums computed and verified, data copied in and out.
//  - BM_TwoSubflowTransfer: goodput of one connection with two subflows.
//  - BM_BulkWithIdleConnections: the same while N other connections sit idle and established
//    in the same Endpoints (the work per packet must not grow with N).
//  - BM_Handshake: connect, accept, close by the server, EOF and close by the client, each
//    connection let go by the Endpoints themselves; syn_cookies:1 through SYN cookies.
//
//   bazel run -c opt //mptcp:connection_benchmark
#include <benchmark/benchmark.h>

#include <vector>

#include "mptcp/endpoint.h"
#include "testing/endpoint_pair.h"

namespace mptcp {
namespace {

using testing::EndpointPair;
using testing::kPairServer0;
using testing::kPairServer1;
using testing::NthClientAddress;

EndpointConfig BulkConfig(bool checksum, size_t connections) {
  EndpointConfig cfg;
  cfg.connection.send_buffer = 4 << 20;
  cfg.connection.recv_buffer = 4 << 20;
  cfg.connection.subflow.send_buffer = 2 << 20;
  cfg.connection.subflow.recv_buffer = 4 << 20;
  cfg.connection.checksum = checksum;
  cfg.max_connections = connections + 16;
  cfg.accept_backlog = connections + 16;
  return cfg;
}

// Opens `n` connections and leaves them idle and established.
bool OpenIdle(EndpointPair& p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!p.client.Connect(p.now, NthClientAddress(static_cast<uint32_t>(1000 + i)), kPairServer0).ok()) {
      return false;
    }
    p.Exchange();
    while (p.server.PollEvent()) {
    }
  }
  p.RunUntil([&] { return p.Exchange() == 0; });
  return true;
}

void Bulk(benchmark::State& state, bool checksum, size_t idle) {
  EndpointPair p(BulkConfig(checksum, idle));
  if (!OpenIdle(p, idle)) {
    state.SkipWithError("idle connections failed");
    return;
  }
  const SocketAddress c0 = NthClientAddress(0);
  const SocketAddress c1{IpAddress::V4(203, 0, 113, 1), 40000};
  const ConnectionId cid = *p.client.Connect(p.now, c0, kPairServer0);
  ConnectionId sid = 0;
  p.RunUntil([&] {
    while (auto e = p.server.PollEvent()) sid = e->id;
    return p.client.connection(cid)->fully_established() && sid != 0;
  });
  if (!p.client.OpenSubflow(p.now, cid, c1, kPairServer1).ok()) state.SkipWithError("join failed");
  p.RunUntil([&] { return false; }, 100);
  Connection* c = p.client.connection(cid);
  Connection* s = p.server.connection(sid);
  if (s == nullptr || c->subflow_count() != 2) {
    state.SkipWithError("setup failed");
    return;
  }

  std::vector<uint8_t> app(64 * 1024);
  for (size_t i = 0; i < app.size(); ++i) app[i] = static_cast<uint8_t>(i * 31);
  std::vector<uint8_t> sink(64 * 1024);
  uint64_t delivered = 0, packets = 0;
  for (auto _ : state) {
    while (c->write_space() > 0) {
      const size_t n = std::min(app.size(), c->write_space());
      if (c->Write(p.now, std::span<const uint8_t>(app.data(), n)) == 0) break;
    }
    packets += p.Shuttle(p.client, p.server);
    while (const size_t n = s->Read(p.now, sink)) delivered += n;
    p.now = p.now + Duration::Micros(10);
    packets += p.Shuttle(p.server, p.client);
    p.Timers();
  }
  state.SetBytesProcessed(static_cast<int64_t>(delivered));
  state.counters["packets"] = static_cast<double>(packets);
  state.counters["Gbit/s"] =
      benchmark::Counter(static_cast<double>(delivered) * 8 / 1e9, benchmark::Counter::kIsRate);
  state.counters["ns/packet"] = benchmark::Counter(
      static_cast<double>(packets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["connections"] = static_cast<double>(p.client.connection_count());
  uint64_t per_subflow[2] = {};
  size_t i = 0;
  for (const SubflowInfo& info : c->Subflows()) per_subflow[i++ % 2] = info.bytes_sent_segments;
  state.counters["segs_sf0"] = static_cast<double>(per_subflow[0]);
  state.counters["segs_sf1"] = static_cast<double>(per_subflow[1]);
}

void BM_TwoSubflowTransfer(benchmark::State& state) { Bulk(state, state.range(0) != 0, 0); }
BENCHMARK(BM_TwoSubflowTransfer)->Arg(0)->Arg(1)->ArgName("dss_checksum")->MinTime(2.0);

void BM_BulkWithIdleConnections(benchmark::State& state) {
  Bulk(state, false, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_BulkWithIdleConnections)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->ArgName("idle")
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond);

// One connection's life, as a request/response client and server would have it: the client
// connects, the server accepts and closes (its response sent), the client reads the end of
// the stream and closes. Neither side reaps: the Endpoints let finished connections go.
void BM_Handshake(benchmark::State& state) {
  EndpointConfig cfg;
  // Arg 1: every SYN answered with a cookie (SynCookieMode::kAlways), the connection made at
  // the third ACK; against arg 0, the cost of keeping no state.
  if (state.range(0) != 0) cfg.syn_cookies = SynCookieMode::kAlways;
  EndpointPair p{cfg};
  uint32_t n = 0;
  uint64_t packets = 0, unclean = 0;
  for (auto _ : state) {
    if (!testing::ConnectAcceptClose(p, NthClientAddress(n++), &packets)) ++unclean;
    p.now = p.now + Duration::Micros(1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["connections/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["packets/connection"] =
      static_cast<double>(packets) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["open_client"] = static_cast<double>(p.client.connection_count());
  state.counters["open_server"] = static_cast<double>(p.server.connection_count());
  state.counters["time_wait"] =
      static_cast<double>(p.client.time_wait_count() + p.server.time_wait_count());
  // Every connection closed cleanly (both DATA_FINs) and was let go by the Endpoint.
  if (unclean > 0) state.SkipWithError("a connection did not close cleanly");
}
BENCHMARK(BM_Handshake)->Arg(0)->Arg(1)->ArgName("syn_cookies")->MinTime(2.0);

}  // namespace
}  // namespace mptcp

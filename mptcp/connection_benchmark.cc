// Goodput of one MPTCP connection with two subflows between two Endpoints in memory, on one
// core: IP packets built and parsed, TCP and MPTCP options (DSS with 64-bit DATA_ACK and DSN)
// on every segment, checksums computed and verified, data copied in and out.
//
//   bazel run -c opt //mptcp:connection_benchmark
#include <benchmark/benchmark.h>

#include <vector>

#include "mptcp/endpoint.h"

namespace mptcp {
namespace {

void BM_TwoSubflowTransfer(benchmark::State& state) {
  EndpointConfig cfg;
  cfg.connection.send_buffer = 4 << 20;
  cfg.connection.recv_buffer = 4 << 20;
  cfg.connection.subflow.send_buffer = 2 << 20;
  cfg.connection.subflow.recv_buffer = 4 << 20;
  cfg.connection.checksum = state.range(0) != 0;
  Endpoint client(cfg, 1), server(cfg, 2);
  server.Listen(80);
  const SocketAddress c0{IpAddress::V4(192, 0, 2, 1), 40000}, s0{IpAddress::V4(198, 51, 100, 1), 80};
  const SocketAddress c1{IpAddress::V4(192, 0, 2, 2), 40000}, s1{IpAddress::V4(198, 51, 100, 2), 80};
  Timestamp now = Timestamp::Zero();
  const ConnectionId cid = *client.Connect(now, c0, s0);
  std::vector<uint8_t> pkt(2048);
  auto shuttle = [&](Endpoint& from, Endpoint& to) {
    uint64_t n = 0;
    while (auto len = from.PollTransmit(now, pkt)) {
      to.OnPacket(now, std::span<const uint8_t>(pkt.data(), *len));
      ++n;
    }
    return n;
  };
  auto timers = [&] {
    for (Endpoint* e : {&client, &server}) {
      const Timestamp d = e->NextDeadline();
      if (d != Timestamp::Zero() && d <= now) e->OnTimeout(now);
    }
  };
  Connection* c = client.connection(cid);
  for (int i = 0; i < 100 && !c->fully_established(); ++i) {
    shuttle(client, server);
    shuttle(server, client);
    now = now + Duration::Micros(10);
    timers();
  }
  if (!client.OpenSubflow(now, cid, c1, s1).ok()) state.SkipWithError("join failed");
  for (int i = 0; i < 100; ++i) {
    shuttle(client, server);
    shuttle(server, client);
    now = now + Duration::Micros(10);
    timers();
  }
  Connection* s = nullptr;
  server.ForEachConnection([&](ConnectionId, Connection& conn) { s = &conn; });
  if (s == nullptr || c->subflow_count() != 2) state.SkipWithError("setup failed");

  std::vector<uint8_t> app(64 * 1024);
  for (size_t i = 0; i < app.size(); ++i) app[i] = static_cast<uint8_t>(i * 31);
  std::vector<uint8_t> sink(64 * 1024);
  uint64_t delivered = 0, packets = 0;
  for (auto _ : state) {
    while (c->write_space() > 0) {
      if (c->Write(std::span<const uint8_t>(app.data(), std::min(app.size(), c->write_space()))) == 0) break;
    }
    packets += shuttle(client, server);
    while (const size_t n = s->Read(sink)) delivered += n;
    now = now + Duration::Micros(10);
    packets += shuttle(server, client);
    timers();
  }
  state.SetBytesProcessed(static_cast<int64_t>(delivered));
  state.counters["packets"] = static_cast<double>(packets);
  state.counters["Gbit/s"] =
      benchmark::Counter(static_cast<double>(delivered) * 8 / 1e9, benchmark::Counter::kIsRate);
  uint64_t per_subflow[2] = {};
  size_t i = 0;
  for (const SubflowInfo& info : c->Subflows()) per_subflow[i++ % 2] = info.bytes_sent_segments;
  state.counters["segs_sf0"] = static_cast<double>(per_subflow[0]);
  state.counters["segs_sf1"] = static_cast<double>(per_subflow[1]);
}
BENCHMARK(BM_TwoSubflowTransfer)->Arg(0)->Arg(1)->ArgName("dss_checksum")->MinTime(2.0);

}  // namespace
}  // namespace mptcp

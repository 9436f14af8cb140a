// Bulk transfer between two TcpEngines in memory on one core: ACK-clocked, 1448-byte segments
// (MSS 1460 less the timestamp option), checksums computed and verified, every byte copied in
// and out as an application would. Reports goodput as bytes_per_second.
//
//   bazel run -c opt //mptcp/tcp:engine_benchmark
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "mptcp/tcp/engine.h"

namespace mptcp::tcp {
namespace {

void BM_BulkTransfer(benchmark::State& state) {
  TcpConfig cfg;
  cfg.mss = 1460;
  cfg.send_buffer = 4 << 20;
  cfg.recv_buffer = 4 << 20;
  cfg.congestion_control = static_cast<cc::CcAlgorithm>(state.range(0));
  const FourTuple tuple{{IpAddress::V4(192, 0, 2, 1), 40000},
                        {IpAddress::V4(198, 51, 100, 1), 80}};
  TcpEngine client(cfg, tuple, SeqNum32(1000), 1);
  TcpEngine server(cfg, tuple.Reversed(), SeqNum32(9000), 2);
  Timestamp now = Timestamp::Zero();
  std::vector<uint8_t> app(64 * 1024);
  for (size_t i = 0; i < app.size(); ++i) app[i] = static_cast<uint8_t>(i * 13);
  std::vector<uint8_t> sink(64 * 1024);
  uint8_t pkt[2048];

  server.Listen();
  client.Connect(now);
  auto shuttle = [&](TcpEngine& from, TcpEngine& to) {
    uint64_t n = 0;
    while (auto len = from.PollTransmit(now, pkt)) {
      to.OnSegmentBytes(now, std::span<const uint8_t>(pkt, *len));
      ++n;
    }
    return n;
  };
  while (client.state() != TcpState::kEstablished || server.state() != TcpState::kEstablished) {
    shuttle(client, server);
    shuttle(server, client);
  }
  if (client.smss() != 1448) state.SkipWithError("unexpected segment size");

  uint64_t delivered = 0;
  uint64_t segments = 0;
  for (auto _ : state) {
    // One round: fill the send buffer, move a flight, deliver, move the ACKs.
    while (client.send_buffer_free() > 0) {
      if (client.Write(std::span<const uint8_t>(app.data(),
                                                std::min(app.size(), client.send_buffer_free()))) == 0)
        break;
    }
    segments += shuttle(client, server);
    while (const size_t n = server.Read(sink)) delivered += n;
    now = now + Duration::Micros(10);  // keeps RTT samples and timers meaningful
    shuttle(server, client);
    if (server.NextDeadline().DueBy(now)) server.OnTimeout(now);
    if (client.NextDeadline().DueBy(now)) client.OnTimeout(now);
  }
  state.SetBytesProcessed(static_cast<int64_t>(delivered));
  state.counters["segments"] = static_cast<double>(segments);
  state.counters["Gbit/s"] = benchmark::Counter(static_cast<double>(delivered) * 8 / 1e9,
                                                benchmark::Counter::kIsRate);
  if (client.mib().retrans_segs != 0) state.SkipWithError("retransmissions on a clean pipe");
}
BENCHMARK(BM_BulkTransfer)->Arg(static_cast<int>(cc::CcAlgorithm::kNewReno))
    ->Arg(static_cast<int>(cc::CcAlgorithm::kCubic))->ArgName("cc")->MinTime(2.0);

}  // namespace
}  // namespace mptcp::tcp

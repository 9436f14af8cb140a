// An out-of-tree program built against an installed mptcp package (see CMakeLists.txt here and
// packaging/test_consumer.sh): two Endpoints joined in memory, 8 KiB sent and checked.
// It uses only the installed headers, so it fails to build if the install misses one.
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "mptcp/endpoint.h"

namespace {

using mptcp::Endpoint;
using mptcp::Timestamp;

// Hands every packet `from` has ready to `to`, as a wire with no delay would.
void Pump(Endpoint& from, Endpoint& to, Timestamp now, std::vector<uint8_t>& buf) {
  if (from.NextDeadline().DueBy(now)) from.OnTimeout(now);
  while (mptcp::TransmitResult t = from.PollTransmit(now, buf)) {
    to.OnPacket(now, std::span<const uint8_t>(buf).first(t->len));
  }
}

}  // namespace

int main() {
  const mptcp::SocketAddress client_addr{mptcp::IpAddress::V4(192, 0, 2, 1), 40000};
  const mptcp::SocketAddress server_addr{mptcp::IpAddress::V4(198, 51, 100, 1), 80};
  Endpoint client(mptcp::EndpointConfig{}, /*seed=*/1);
  Endpoint server(mptcp::EndpointConfig{}, /*seed=*/2);
  server.Listen(server_addr.port);

  Timestamp now = Timestamp::Zero();
  auto id = client.Connect(now, client_addr, server_addr);
  if (!id.ok()) return 1;

  std::vector<uint8_t> data(8 * 1024), got, buf(65536);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  size_t written = 0;
  mptcp::ConnectionId accepted = 0;
  // Bounded: each round advances the clock 1 ms; the transfer needs a handful of rounds.
  for (int round = 0; round < 10000 && got.size() < data.size(); ++round) {
    Pump(client, server, now, buf);
    Pump(server, client, now, buf);
    while (auto e = server.PollEvent()) accepted = e->id;
    if (mptcp::Connection* c = client.connection(*id); c != nullptr && c->established()) {
      written += c->Write(now, std::span<const uint8_t>(data).subspan(written));
    }
    if (mptcp::Connection* s = server.connection(accepted)) {
      uint8_t chunk[4096];
      while (size_t n = s->Read(now, chunk)) got.insert(got.end(), chunk, chunk + n);
    }
    now = now + mptcp::Duration::Millis(1);
  }
  if (got != data) {
    std::fprintf(stderr, "consumer: received %zu of %zu bytes, or wrong bytes\n", got.size(),
                 data.size());
    return 1;
  }
  std::printf("consumer: %zu bytes over MPTCP in memory, checked\n", got.size());
  return 0;
}

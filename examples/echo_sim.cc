// An echo client and server over MPTCP on the in-memory simulator (io/sim): two paths with
// different delays, the client joins the second one (MP_JOIN), sends N bytes, and checks that
// the server echoes every one of them. Deterministic: the same seed gives the same run.
//
//   client 192.0.2.1 --- path 0 (10 ms) ---+
//                                           +--- server 198.51.100.1:7
//   client 192.0.2.2 --- path 1 (30 ms) ---+
//
// Usage: echo_sim [bytes]  (default 256 KiB). Exit 0 when every byte came back.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <span>
#include <vector>

#include "io/sim/host.h"
#include "io/sim/link.h"
#include "io/sim/router.h"
#include "io/sim/simulator.h"
#include "mptcp/endpoint.h"

using namespace mptcp;  // NOLINT: an example reads better without the prefixes

double Seconds(Timestamp t) { return (t - Timestamp::Zero()).seconds(); }

int main(int argc, char** argv) {
  const size_t total = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256 * 1024;
  const IpAddress client_ip[2] = {IpAddress::V4(192, 0, 2, 1), IpAddress::V4(192, 0, 2, 2)};
  const SocketAddress server{IpAddress::V4(198, 51, 100, 1), 7};

  // The simulator first: it must outlive every actor (hosts, links).
  sim::Simulator simulator(/*seed=*/1);
  sim::Host client(simulator, "client", EndpointConfig{}, /*seed=*/2);
  sim::Host server_host(simulator, "server", EndpointConfig{}, /*seed=*/3);
  server_host.endpoint().Listen(server.port);
  // The server answers through a router that picks the path by the client's address.
  sim::Router router;
  server_host.AddInterface(server.ip, &router);
  std::vector<std::unique_ptr<sim::OneWayLink>> links;
  for (int i = 0; i < 2; ++i) {
    sim::LinkConfig lc;
    lc.bandwidth_bps = 4'000'000;
    lc.delay = Duration::Millis(10 + 20 * i);
    sim::OneWayLink* up = links.emplace_back(
        std::make_unique<sim::OneWayLink>(simulator, "up", lc, &server_host)).get();
    sim::OneWayLink* down = links.emplace_back(
        std::make_unique<sim::OneWayLink>(simulator, "down", lc, &client)).get();
    client.AddInterface(client_ip[i], up);
    router.AddHostRoute(client_ip[i], router.AddPort(down));
  }

  // The client: connect over path 0, join path 1 once fully established, send, check echoes.
  std::vector<uint8_t> sent(total);
  for (size_t i = 0; i < total; ++i) sent[i] = static_cast<uint8_t>(i * 31 + (i >> 8));
  ConnectionId id = 0;
  size_t written = 0, echoed = 0;
  bool joined = false, ok = true;
  client.set_on_wake([&](Timestamp now, sim::Host& h) {
    Endpoint& ep = h.endpoint();
    if (id == 0) id = *ep.Connect(now, {client_ip[0], 40000}, server);
    Connection* c = ep.connection(id);  // valid until the host next calls the endpoint
    if (c == nullptr || !c->established()) return;
    while (auto e = c->PollEvent()) {  // Readable and Writable: too many to print
      if (e->type != EventType::kReadable && e->type != EventType::kWritable) {
        std::cout << Seconds(now) << " s  client: " << *e << "\n";
      }
    }
    if (!joined && c->fully_established()) {
      joined = ep.OpenSubflow(now, id, {client_ip[1], 40001}, server).ok();
    }
    written += c->Write(now, std::span<const uint8_t>(sent).subspan(written));
    uint8_t buf[16384];
    while (size_t n = c->Read(now, buf)) {
      for (size_t i = 0; i < n; ++i) ok = ok && echoed + i < total && buf[i] == sent[echoed + i];
      echoed += n;
    }
    if (echoed == total) c->Close(now);
  });
  client.WakeAt(Timestamp::Zero());

  // The server: accept, echo what it reads (keeping what Write could not take yet), and close
  // once the client has closed and everything went back.
  ConnectionId peer = 0;
  std::deque<uint8_t> pending;
  server_host.set_on_wake([&](Timestamp now, sim::Host& h) {
    while (auto e = h.endpoint().PollEvent()) peer = e->id;
    Connection* c = h.endpoint().connection(peer);
    if (c == nullptr) return;
    uint8_t buf[16384];
    while (size_t n = c->Read(now, buf)) pending.insert(pending.end(), buf, buf + n);
    while (!pending.empty()) {
      const size_t n = std::min(pending.size(), sizeof(buf));
      std::copy_n(pending.begin(), n, buf);
      const size_t w = c->Write(now, std::span<const uint8_t>(buf, n));
      pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(w));
      if (w < n) break;  // the send buffer is full: Writable comes later, and so does a wake
    }
    if (c->eof() && pending.empty()) c->Close(now);
  });

  // Bounded in simulated time (60 s) and in events.
  const sim::RunResult r = simulator.RunUntil(
      [&] { return echoed == total && client.endpoint().connection_count() == 0; },
      Timestamp::Zero() + Duration::Seconds(60), /*max_steps=*/10'000'000);
  const uint64_t path0 = client.interface_packets(client_ip[0]);
  const uint64_t path1 = client.interface_packets(client_ip[1]);
  std::printf("%s after %.3f s simulated: %zu of %zu bytes echoed%s; client sent %llu packets "
              "on path 0, %llu on path 1\n",
              sim::RunOutcomeName(r.outcome).data(), Seconds(r.now), echoed, total,
              ok ? " and checked" : ", WRONG BYTES", static_cast<unsigned long long>(path0),
              static_cast<unsigned long long>(path1));
  return r.outcome == sim::RunOutcome::kDone && ok && path1 > 0 ? 0 : 1;
}

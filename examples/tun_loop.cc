// An embedder's own event loop (epoll + timerfd, not io::EventLoop) driving an mptcp::Endpoint
// over a TUN device: the client connects to an echo server, joins a second path (MP_JOIN),
// sends N bytes, checks the echo and closes. It shows the driving-loop contract of
// mptcp/endpoint.h with nothing hidden: read packets, run due timers, let the application act,
// drain PollTransmit, sleep until NextDeadline().
//
// Run it as root inside a network namespace where the echo server's address is local and our
// addresses are not (examples/tun_loop_test.sh builds one): the program creates TUN device
// "mptcpex0" and routes 192.0.2.0/24 (our two addresses) to it, so the kernel hands us every
// packet for them.
//
// Usage: tun_loop SERVER_IP PORT [bytes]   e.g. tun_loop 198.51.100.1 7 65536
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "io/net_config.h"
#include "io/tun_device.h"
#include "mptcp/endpoint.h"

using namespace mptcp;  // NOLINT: an example reads better without the prefixes

namespace {

Timestamp MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(ts.tv_sec * 1'000'000'000LL + ts.tv_nsec);
}

int Fail(const char* what) {
  std::fprintf(stderr, "tun_loop: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  in_addr server_v4;
  if (argc < 3 || inet_pton(AF_INET, argv[1], &server_v4) != 1) {
    return Fail("usage: tun_loop SERVER_IP PORT [bytes]");
  }
  const uint8_t* b = reinterpret_cast<const uint8_t*>(&server_v4);
  const SocketAddress server{IpAddress::V4(b[0], b[1], b[2], b[3]),
                             static_cast<uint16_t>(std::atoi(argv[2]))};
  const size_t total = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64 * 1024;
  const SocketAddress local[2] = {{IpAddress::V4(192, 0, 2, 1), 40000},
                                  {IpAddress::V4(192, 0, 2, 2), 40001}};

  // The device: one TUN carries both paths; the kernel routes by destination.
  auto tun = io::TunDevice::Open("mptcpex0");
  if (!tun.ok()) return Fail(tun.status().ToString().c_str());
  if (!io::SetLinkUp("mptcpex0").ok() ||
      !io::AddRoute(IpAddress::V4(192, 0, 2, 0), 24, "mptcpex0").ok()) {
    return Fail("cannot bring mptcpex0 up or route 192.0.2.0/24 to it");
  }
  // epoll watches the device and a timerfd armed at the endpoint's next deadline.
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  for (int fd : {(*tun)->fd(), tfd}) {
    epoll_event ev{.events = EPOLLIN, .data = {.fd = fd}};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }

  Endpoint ep(EndpointConfig{}, /*seed=*/MonotonicNow().nanos());
  const Timestamp stop = MonotonicNow() + Duration::Seconds(10);  // the whole run is bounded
  auto id = ep.Connect(MonotonicNow(), local[0], server);
  if (!id.ok()) return Fail(id.status().ToString().c_str());

  std::vector<uint8_t> sent(total), in(65536), out(1500);  // `out` grows on BufferTooSmall
  for (size_t i = 0; i < total; ++i) sent[i] = static_cast<uint8_t>(i * 13 + (i >> 10));
  size_t written = 0, echoed = 0;
  bool joined = false, closed = false, ok = true;
  int subflows_up = 0;

  for (int iteration = 0; iteration < 1'000'000; ++iteration) {
    const Timestamp now = MonotonicNow();
    if (now >= stop) return Fail("timed out");
    // 1. Input: a bounded batch, so that output gets its turn under a flood.
    for (int i = 0; i < 64; ++i) {
      auto n = (*tun)->Read(in);
      if (!n.ok()) return Fail(n.status().ToString().c_str());
      if (*n == 0) break;  // nothing more for now
      ep.OnPacket(now, std::span<const uint8_t>(in).first(*n));
    }
    // 2. Timers.
    if (ep.NextDeadline().DueBy(now)) ep.OnTimeout(now);
    // 3. The application. The Connection* is valid until the next OnPacket/PollTransmit/
    // OnTimeout; null once the Endpoint released the connection (closed, finished, read).
    Connection* c = ep.connection(*id);
    if (c == nullptr) break;  // released: done
    while (auto e = c->PollEvent()) {
      if (e->type == EventType::kSubflowUp) ++subflows_up;
      if (e->type == EventType::kClosed && e->reason != CloseReason::kNormal) ok = false;
      if (e->type == EventType::kFellBackToTcp) std::printf("fell back to plain TCP\n");
    }
    if (!joined && c->fully_established() && !c->fallen_back()) {
      joined = ep.OpenSubflow(now, *id, local[1], server).ok();
    }
    if (c->established()) {
      written += c->Write(now, std::span<const uint8_t>(sent).subspan(written));
      uint8_t buf[16384];
      while (size_t n = c->Read(now, buf)) {
        for (size_t i = 0; i < n; ++i) ok = ok && echoed + i < total && buf[i] == sent[echoed + i];
        echoed += n;
      }
      if (echoed == total && !closed) {
        c->Close(now);
        closed = true;
      }
    }
    // 4. Output: drain PollTransmit; a packet larger than `out` stays queued until it grows.
    for (int i = 0; i < 256; ++i) {
      const TransmitResult t = ep.PollTransmit(now, out);
      if (t.status() == TransmitResult::Status::kBufferTooSmall) {
        out.resize(t.needed());
        continue;
      }
      if (!t) break;
      if (!(*tun)->Write(std::span<const uint8_t>(out).first(t->len)).ok()) ok = false;
    }
    // 5. Sleep until a packet comes or the next deadline (at most until `stop`).
    const PollAt next = ep.NextDeadline();
    if (next.DueBy(now)) continue;  // more to do right away
    const Timestamp wake = next.never() || next.at() > stop ? stop : next.at();
    itimerspec its{.it_interval = {},
                   .it_value = {.tv_sec = wake.nanos() / 1'000'000'000,
                                .tv_nsec = wake.nanos() % 1'000'000'000}};
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
    epoll_event events[2];
    const int ready = epoll_wait(epfd, events, 2, /*timeout_ms=*/1000);
    uint64_t expirations;
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.fd == tfd) (void)!read(tfd, &expirations, sizeof(expirations));
    }
  }
  close(tfd);
  close(epfd);
  std::printf("%zu of %zu bytes echoed%s, %d subflows up, connection released: %s\n", echoed,
              total, ok ? " and checked" : ", WRONG", subflows_up,
              ep.connection(*id) == nullptr ? "yes" : "no");
  return ok && echoed == total && ep.connection(*id) == nullptr ? 0 : 1;
}

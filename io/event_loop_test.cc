#include "io/event_loop.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "io/stream_pattern.h"
#include "mptcp/endpoint.h"

namespace mptcp::io {
namespace {

// One end of a SOCK_SEQPACKET socketpair: a "wire" that keeps packet boundaries, so two event
// loops can talk without root, TUN devices or namespaces.
class SocketPairDevice : public PacketDevice {
 public:
  explicit SocketPairDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~SocketPairDevice() override { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const override { return fd_; }
  std::string_view name() const override { return name_; }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return absl::UnavailableError(name_ + ": peer closed");
    if (errno == EAGAIN) return size_t{0};
    return absl::UnavailableError(name_ + ": " + std::strerror(errno));
  }
  absl::Status Write(std::span<const uint8_t> p) override {
    if (::send(fd_, p.data(), p.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
      return absl::OkStatus();
    }
    if (errno == EAGAIN || errno == ENOBUFS) return absl::UnavailableError("full");
    return absl::FailedPreconditionError(name_ + ": " + std::strerror(errno));
  }

 private:
  int fd_;
  std::string name_;
};

struct Wire {
  std::unique_ptr<SocketPairDevice> a, b;
  static Wire Make(const std::string& name) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
    // Room for a window's worth of packets in flight.
    const int size = 4 << 20;
    for (int fd : fds) {
      (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    return {std::make_unique<SocketPairDevice>(fds[0], name + "/a"),
            std::make_unique<SocketPairDevice>(fds[1], name + "/b")};
  }
};

const IpAddress kClient[2] = {IpAddress::V4(192, 0, 2, 1), IpAddress::V4(192, 0, 2, 2)};
const IpAddress kServer[2] = {IpAddress::V4(198, 51, 100, 1), IpAddress::V4(203, 0, 113, 1)};

struct Side {
  absl::Status status;
  uint64_t sent = 0, received = 0;
  crypto::Sha256::Digest digest{};
  size_t max_subflows = 0;
  uint64_t hooks = 0;
};

// Runs one side's application in `loop`: writes `bytes` of pattern `seed`, reads and hashes
// everything, closes after writing, stops once the connection closed.
void RunSide(EventLoop& loop, Endpoint& ep, ConnectionId id, bool client, uint64_t bytes,
             uint64_t seed, bool join, Side& side) {
  StreamPattern pattern(seed);
  crypto::Sha256 hash;
  std::vector<uint8_t> buf(1 << 15);
  bool closed = false, joined = !join, seen = false;
  CloseReason reason = CloseReason::kNone;
  loop.SetHook([&](Timestamp now) {
    ++side.hooks;
    while (auto e = ep.PollEvent()) {
      if (!client && id == 0) id = e->id;
    }
    Connection* c = ep.connection(id);
    if (c == nullptr) {
      // Seen before and now gone: the Endpoint let it go (closed, finished, read).
      if (seen) loop.Stop();
      return;
    }
    seen = true;
    reason = c->close_reason();
    while (c->PollEvent()) {
    }
    if (!joined && c->fully_established()) {
      joined = true;
      EXPECT_TRUE(ep.OpenSubflow(now, id, {kClient[1], 40001}, {kServer[1], 80}).ok());
    }
    side.max_subflows = std::max(side.max_subflows, c->subflow_count());
    while (size_t n = c->Read(now, buf)) {
      hash.Update(std::span<const uint8_t>(buf.data(), n));
      side.received += n;
    }
    while (c->established() && side.sent < bytes && c->write_space() > 0) {
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>({buf.size(), bytes - side.sent, c->write_space()}));
      pattern.Fill(side.sent, std::span<uint8_t>(buf.data(), n));
      side.sent += c->Write(now, std::span<const uint8_t>(buf.data(), n));
    }
    if (c->established() && side.sent == bytes && !closed) {
      c->Close(now);
      closed = true;
    }
    if (c->closed()) loop.Stop();
  });
  side.status = loop.Run();
  side.digest = hash.Final();
  if (Connection* c = ep.connection(id)) reason = c->close_reason();
  if (side.status.ok() && reason != CloseReason::kNormal) {
    side.status = absl::AbortedError(std::string(CloseReasonName(reason)));
  }
}

void Transfer(int paths, uint64_t bytes) {
  Wire w[2] = {Wire::Make("path0"), Wire::Make("path1")};
  EventLoopOptions opts;
  opts.run_for = Duration::Seconds(60);
  Endpoint client_ep(EndpointConfig{}, 1), server_ep(EndpointConfig{}, 2);
  auto client = EventLoop::Create(&client_ep, opts);
  auto server = EventLoop::Create(&server_ep, opts);
  ASSERT_TRUE(client.ok() && server.ok());
  for (int p = 0; p < paths; ++p) {
    ASSERT_TRUE((*client)->AddDevice(w[p].a.get(), {kClient[p]}).ok());
    ASSERT_TRUE((*server)->AddDevice(w[p].b.get(), {kServer[p]}).ok());
  }
  server_ep.Listen(80);
  auto id = client_ep.Connect(EventLoop::MonotonicNow(), {kClient[0], 40000}, {kServer[0], 80});
  ASSERT_TRUE(id.ok());
  Side cs, ss;
  std::thread st([&] { RunSide(**server, server_ep, 0, false, bytes, 2, false, ss); });
  RunSide(**client, client_ep, *id, true, bytes, 1, paths > 1, cs);
  st.join();
  ASSERT_TRUE(cs.status.ok()) << cs.status;
  ASSERT_TRUE(ss.status.ok()) << ss.status;
  EXPECT_EQ(cs.received, bytes);
  EXPECT_EQ(ss.received, bytes);
  EXPECT_EQ(DigestHex(cs.digest), DigestHex(StreamPattern(2).Digest(bytes)));
  EXPECT_EQ(DigestHex(ss.digest), DigestHex(StreamPattern(1).Digest(bytes)));
  EXPECT_EQ(cs.max_subflows, static_cast<size_t>(paths));
  EXPECT_GT((*client)->stats().packets_out, bytes / 1500);
  EXPECT_EQ((*client)->stats().invalid_out, 0u);
}

TEST(EventLoopTest, TwoEndpointsOverOnePath) { Transfer(1, 4 << 20); }

TEST(EventLoopTest, TwoEndpointsOverTwoPathsRouteBySource) { Transfer(2, 4 << 20); }

TEST(EventLoopTest, RunForBoundsAnIdleLoop) {
  Endpoint ep(EndpointConfig{}, 1);
  EventLoopOptions opts;
  opts.run_for = Duration::Millis(50);
  auto loop = EventLoop::Create(&ep, opts);
  ASSERT_TRUE(loop.ok());
  const Timestamp t0 = EventLoop::MonotonicNow();
  const absl::Status st = (*loop)->Run();
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_GE(EventLoop::MonotonicNow() - t0, Duration::Millis(50));
  EXPECT_LT(EventLoop::MonotonicNow() - t0, Duration::Seconds(2));
}

TEST(EventLoopTest, MaxIterationsBoundsTheLoop) {
  Endpoint ep(EndpointConfig{}, 1);
  EventLoopOptions opts;
  opts.max_iterations = 5;
  auto loop = EventLoop::Create(&ep, opts);
  ASSERT_TRUE(loop.ok());
  (*loop)->SetHook([&](Timestamp) { (*loop)->RunSoon(); });
  EXPECT_TRUE(absl::IsDeadlineExceeded((*loop)->Run()));
  EXPECT_EQ((*loop)->stats().iterations, 5u);
}

TEST(EventLoopTest, MaxIdleRunsTheHookWhileNothingHappens) {
  Endpoint ep(EndpointConfig{}, 1);
  EventLoopOptions opts;
  opts.max_idle = Duration::Millis(10);
  opts.run_for = Duration::Seconds(10);
  auto loop = EventLoop::Create(&ep, opts);
  ASSERT_TRUE(loop.ok());
  int calls = 0;
  (*loop)->SetHook([&](Timestamp) {
    if (++calls == 5) (*loop)->Stop();
  });
  EXPECT_TRUE((*loop)->Run().ok());
  EXPECT_EQ(calls, 5);
}

TEST(EventLoopTest, StopFromAnotherThread) {
  Endpoint ep(EndpointConfig{}, 1);
  EventLoopOptions opts;
  opts.run_for = Duration::Seconds(30);
  auto loop = EventLoop::Create(&ep, opts);
  ASSERT_TRUE(loop.ok());
  std::thread t([&] {
    ::usleep(20000);
    (*loop)->Stop();
  });
  const Timestamp t0 = EventLoop::MonotonicNow();
  EXPECT_TRUE((*loop)->Run().ok());
  t.join();
  EXPECT_LT(EventLoop::MonotonicNow() - t0, Duration::Seconds(5));
}

TEST(EventLoopTest, DeviceErrorEndsRun) {
  Wire w = Wire::Make("gone");
  Endpoint ep(EndpointConfig{}, 1);
  EventLoopOptions opts;
  opts.run_for = Duration::Seconds(30);
  auto loop = EventLoop::Create(&ep, opts);
  ASSERT_TRUE(loop.ok());
  ASSERT_TRUE((*loop)->AddDevice(w.a.get(), {kClient[0]}).ok());
  w.b->Close();  // the other end goes away: reads see EOF
  const absl::Status st = (*loop)->Run();
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
}

TEST(EventLoopTest, RejectsBadArguments) {
  Endpoint ep(EndpointConfig{}, 1);
  EXPECT_FALSE(EventLoop::Create(nullptr).ok());
  EventLoopOptions bad;
  bad.max_writes = 0;
  EXPECT_FALSE(EventLoop::Create(&ep, bad).ok());
  auto loop = EventLoop::Create(&ep);
  ASSERT_TRUE(loop.ok());
  EXPECT_FALSE((*loop)->AddDevice(nullptr, {}).ok());
  Wire w = Wire::Make("dup");
  ASSERT_TRUE((*loop)->AddDevice(w.a.get(), {kClient[0]}).ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*loop)->AddDevice(w.b.get(), {kClient[0]})));
  // A regular file cannot be polled: the caller is told to read it from the hook.
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument((*loop)->WatchFd(::fileno(f), 1, [](uint32_t) {})));
  std::fclose(f);
}

}  // namespace
}  // namespace mptcp::io

// tun_relay: a one-thread userspace relay between two TUN devices, the "kernel TCP through a
// one-thread TUN relay" baseline of issue 15 (run by tools/tun_goodput.sh).
//
//   tun_relay --a NAME [--a_netns NS] --b NAME [--b_netns NS] [--timeout SECONDS]
//
// Opens (creates) TUN devices A and B (IFF_TUN | IFF_NO_PI, no offloads), A inside network
// namespace NS when --a_netns is given (likewise B), and copies every packet the kernel routes
// into one device out of the other: one read() and one write() per packet, waiting in epoll.
// That is on purpose: the same system-call cost per packet as our stack's loop over its TUN
// device, so that kernel TCP through this relay is the figure our loop can be held to. The
// caller brings the devices up and routes (tools/tun_goodput.sh).
//
// Prints "tun_relay: ready" on stderr once both devices exist, and on SIGTERM, SIGINT or after
// --timeout one line on stdout:
//   a_to_b_packets=N a_to_b_bytes=N b_to_a_packets=N b_to_a_bytes=N write_errors=N seconds=S
//
// Exit status: 0 after a signal, 1 on an error or when --timeout ends it, 2 bad flags.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, a, "", "TUN device A (created if it does not exist)");
ABSL_FLAG(std::string, a_netns, "", "open device A inside this named network namespace");
ABSL_FLAG(std::string, b, "", "TUN device B (created if it does not exist)");
ABSL_FLAG(std::string, b_netns, "", "open device B inside this named network namespace");
ABSL_FLAG(int, timeout, 600, "stop after this many seconds (a bound, not a measurement)");

namespace mptcp::tools {
namespace {

using Clock = std::chrono::steady_clock;

// Packets read from one device per wakeup before the other gets its turn: fairness between
// the two directions, not batching (each packet is still one read and one write).
constexpr int kPacketsPerTurn = 64;

std::string ErrnoText(int err) { return std::strerror(err); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens TUN device `name` (non-blocking), inside network namespace `netns` if not empty; the
// calling thread is back in its own namespace afterwards. The device stays where it was made.
absl::StatusOr<Fd> OpenTun(const std::string& name, const std::string& netns) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError("bad TUN device name '" + name + "'");
  }
  Fd home;
  if (!netns.empty()) {
    home = Fd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    Fd target(::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
    if (home.get() < 0 || target.get() < 0 || ::setns(target.get(), CLONE_NEWNET) < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot enter network namespace ", netns, ": ", ErrnoText(errno)));
    }
  }
  Fd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  const int open_errno = errno;
  struct ifreq ifr {};
  int rc = -1;
  if (fd.get() >= 0) {
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    rc = ::ioctl(fd.get(), TUNSETIFF, &ifr);
  }
  const int ioctl_errno = errno;
  if (home.get() >= 0 && ::setns(home.get(), CLONE_NEWNET) < 0) {
    return absl::InternalError("cannot return to our network namespace: " + ErrnoText(errno));
  }
  if (fd.get() < 0) {
    return absl::FailedPreconditionError("/dev/net/tun: " + ErrnoText(open_errno));
  }
  if (rc < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("TUNSETIFF ", name, ": ", ErrnoText(ioctl_errno)));
  }
  return fd;
}

struct Direction {
  int from = -1, to = -1;
  uint64_t packets = 0, bytes = 0;
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "One-thread userspace relay between two TUN devices (one read + one write per packet).\n"
      "  tun_relay --a NAME [--a_netns NS] --b NAME [--b_netns NS] [--timeout SECONDS]");
  absl::ParseCommandLine(argc, argv);
  const int timeout = absl::GetFlag(FLAGS_timeout);
  if (absl::GetFlag(FLAGS_a).empty() || absl::GetFlag(FLAGS_b).empty() || timeout <= 0) {
    std::fprintf(stderr, "tun_relay: --a and --b are required, --timeout must be > 0\n");
    return 2;
  }
  // Signals arrive on a descriptor in the same epoll set: no handler, no race with epoll_wait.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  Fd sig(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

  absl::StatusOr<Fd> a = OpenTun(absl::GetFlag(FLAGS_a), absl::GetFlag(FLAGS_a_netns));
  absl::StatusOr<Fd> b = a.ok() ? OpenTun(absl::GetFlag(FLAGS_b), absl::GetFlag(FLAGS_b_netns))
                                : a.status();
  if (!a.ok() || !b.ok() || sig.get() < 0) {
    std::fprintf(stderr, "tun_relay: %s\n",
                 !a.ok() ? std::string(a.status().message()).c_str()
                 : !b.ok() ? std::string(b.status().message()).c_str()
                           : ("signalfd: " + ErrnoText(errno)).c_str());
    return 1;
  }
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  std::array<Direction, 2> dirs = {Direction{a->get(), b->get()}, Direction{b->get(), a->get()}};
  for (int i = 0; i < 3; ++i) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);  // 0: A readable, 1: B readable, 2: a signal
    const int fd = i < 2 ? dirs[i].from : sig.get();
    if (ep.get() < 0 || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
      std::fprintf(stderr, "tun_relay: epoll: %s\n", ErrnoText(errno).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "tun_relay: ready\n");

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::seconds(timeout);
  std::array<uint8_t, 65536> packet;
  uint64_t write_errors = 0;
  int exit_code = 1;
  bool running = true;
  while (running) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      std::fprintf(stderr, "tun_relay: --timeout %d s reached\n", timeout);
      break;
    }
    std::array<struct epoll_event, 3> events;
    const int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "tun_relay: epoll_wait: %s\n", ErrnoText(errno).c_str());
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint32_t which = events[i].data.u32;
      if (which == 2) {
        running = false;
        exit_code = 0;
        continue;
      }
      Direction& d = dirs[which];
      for (int k = 0; k < kPacketsPerTurn; ++k) {
        const ssize_t len = ::read(d.from, packet.data(), packet.size());
        if (len <= 0) break;  // EAGAIN: drained (level-triggered epoll says when there is more)
        if (::write(d.to, packet.data(), static_cast<size_t>(len)) != len) {
          ++write_errors;  // the kernel refused it; TCP will resend, as after a drop on a wire
          continue;
        }
        ++d.packets;
        d.bytes += static_cast<uint64_t>(len);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "a_to_b_packets=%llu a_to_b_bytes=%llu b_to_a_packets=%llu b_to_a_bytes=%llu "
      "write_errors=%llu seconds=%.3f\n",
      static_cast<unsigned long long>(dirs[0].packets),
      static_cast<unsigned long long>(dirs[0].bytes),
      static_cast<unsigned long long>(dirs[1].packets),
      static_cast<unsigned long long>(dirs[1].bytes),
      static_cast<unsigned long long>(write_errors), seconds);
  std::fflush(stdout);
  return exit_code;
}

}  // namespace
}  // namespace mptcp::tools

int main(int argc, char** argv) { return mptcp::tools::Main(argc, argv); }

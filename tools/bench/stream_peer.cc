// stream_peer: a small, fast peer on a kernel socket (TCP or MPTCP), the kernel side of the
// goodput measurements in tools/tun_goodput.sh: kernel to kernel, and the kernel facing
// mptcp_nc. It replaces the Python peers of earlier measurements: no interpreter, 256 KiB
// reads and writes, and a figure that counts only acknowledged (or received) bytes.
//
//   stream_peer --listen PORT [--bind ADDR] [flags]      serve one connection
//   stream_peer --connect ADDR:PORT [--bind ADDR] [flags] connect ([v6]:PORT for IPv6)
//     --proto tcp|mptcp   IPPROTO_TCP or IPPROTO_MPTCP (262); default mptcp
//     --send BYTES        send this many bytes (zeros), then half-close
//     --recv              receive until EOF (with --send: both at once)
//     --sockbuf BYTES     SO_SNDBUF and SO_RCVBUF (0, the default: the kernel's autotuning)
//     --chunk BYTES       bytes per send() / recv() (default 256 KiB)
//     --timeout SECONDS   give up after this long (default 60): it never hangs
//     --blocking          blocking send()/recv() (one direction), for comparison only
//
// The socket is non-blocking and driven by poll(), which waits at most 1 ms for send space:
// on Linux 6.18 the MPTCP socket sometimes misses the wakeup after a send() found its buffer
// full, so a blocking writer stalls in send() for about 200 ms at a time (20-40 MiB/s instead
// of hundreds), and a poll() for POLLOUT may sleep to its timeout (seen: 100 ms of 100 ms)
// (docs/performance.md, "TUN goodput against the kernel"). --blocking keeps the blocking way,
// to show it.
//
// Prints one line on stdout at the end:
//   bytes=N seconds=S MiB/s=R [sent=N received=N] [subflows=N fallback=0|1]
// `seconds` runs from the connection being established (connect() returned, or accept()) to
//   - receiving: EOF after the last byte;
//   - sending: the peer's acknowledgement of the last byte (SIOCOUTQ reaches 0; for MPTCP that
//     is the DATA_ACK), so a sender's figure does not count data still in its socket buffer;
//   - both: the later of the two.
// `bytes` is what was sent plus what was received. For MPTCP, `subflows` is how many subflows
// the connection had at the end and `fallback` whether it fell back to TCP. A server prints
// "stream_peer: listening" on stderr once it listens.
//
// Exit status: 0 done, 1 failed (refused, reset, short transfer, --timeout), 2 bad flags, 77
// kernel MPTCP unavailable (socket(IPPROTO_MPTCP) refused).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
// After <netinet/in.h>: the kernel's UAPI headers then skip what glibc already defines.
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

ABSL_FLAG(int, listen, 0, "serve one connection on this port");
ABSL_FLAG(std::string, connect, "", "connect to ADDR:PORT ([ADDR]:PORT for IPv6)");
ABSL_FLAG(std::string, bind, "", "local address (server: to listen on; client: the source)");
ABSL_FLAG(std::string, proto, "mptcp", "tcp or mptcp");
ABSL_FLAG(uint64_t, send, 0, "bytes to send, then half-close");
ABSL_FLAG(bool, recv, false, "receive until EOF");
ABSL_FLAG(int, sockbuf, 0, "SO_SNDBUF and SO_RCVBUF in bytes (0: the kernel's autotuning)");
ABSL_FLAG(int, chunk, 256 << 10, "bytes per send() and recv()");
ABSL_FLAG(int, timeout, 60, "seconds before giving up");
ABSL_FLAG(bool, blocking, false,
          "blocking send()/recv() instead of a non-blocking socket and poll() (one direction)");

namespace mptcp::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIpprotoMptcp = 262;  // IPPROTO_MPTCP
constexpr int kSolMptcp = 284;      // SOL_MPTCP
constexpr int kExitSkip = 77;
// A client retries a refused connect this long: the server may be a moment from listening.
constexpr auto kConnectRetryFor = std::chrono::seconds(5);
constexpr int kCallsPerTurn = 64;

std::string ErrnoText(int err) { return std::strerror(err); }

bool Retry(int err) { return err == EINTR || err == EAGAIN || err == EWOULDBLOCK; }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(-1); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

// "1.2.3.4" or "2001:db8::1" (brackets allowed) with `port`.
absl::StatusOr<Address> ParseIp(std::string ip, uint16_t port) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError("bad address '" + ip + "'");
  }
  return a;
}

// "ADDR:PORT", "[V6]:PORT".
absl::StatusOr<Address> ParseAddressPort(const std::string& s) {
  const size_t colon = s.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(s.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError("bad --connect '" + s + "' (ADDR:PORT)");
  }
  return ParseIp(s.substr(0, colon), static_cast<uint16_t>(port));
}

// Every blocking call returns at least once a second, so loops can watch the deadline.
void SetIoTimeouts(int fd) {
  struct timeval tv = {1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

absl::StatusOr<int> NewSocket(int family, int proto, int sockbuf) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (fd < 0) {
    const int err = errno;
    if (proto == kIpprotoMptcp &&
        (err == EPROTONOSUPPORT || err == EINVAL || err == ENOPROTOOPT)) {
      return absl::FailedPreconditionError("socket(IPPROTO_MPTCP): " + ErrnoText(err) +
                                           " (no kernel MPTCP, or net.mptcp.enabled=0)");
    }
    return absl::InternalError("socket: " + ErrnoText(err));
  }
  if (sockbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof(sockbuf));
  }
  SetIoTimeouts(fd);
  return fd;
}

struct Result {
  uint64_t sent = 0, received = 0;
  double seconds = 0;
  int subflows = 0;  // 0: not MPTCP, or not known
  bool fallback = false;
};

// The subflows of an MPTCP socket (MPTCP_INFO, Linux 5.16+), best effort.
void ReadMptcpInfo(int fd, Result* r) {
  struct mptcp_info info = {};
  socklen_t len = sizeof(info);
  if (::getsockopt(fd, kSolMptcp, MPTCP_INFO, &info, &len) == 0) {
    r->subflows = info.mptcpi_subflows + 1;  // mptcpi_subflows counts the additional ones
    r->fallback = (info.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK) != 0;
  } else if (errno == EOPNOTSUPP) {
    r->subflows = 1;  // fell back to plain TCP: MPTCP_INFO is refused
    r->fallback = true;
  }
}

// Bytes sent but not yet acknowledged by the peer (for MPTCP: not yet DATA_ACKed).
absl::StatusOr<int> Unacked(int fd) {
  int outq = 0;
  if (::ioctl(fd, SIOCOUTQ, &outq) < 0) return absl::InternalError("SIOCOUTQ: " + ErrnoText(errno));
  return outq;
}

// The transfer on a non-blocking socket driven by poll(): sends `send_bytes` zeros (then waits
// until the peer has acknowledged them all and half-closes) and/or receives until EOF. Returns
// the time the last of the two finished.
absl::StatusOr<Clock::time_point> TransferPolled(int fd, uint64_t send_bytes, bool recv,
                                                 size_t chunk, Clock::time_point deadline,
                                                 Result* r) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::vector<uint8_t> out(chunk, 0), in(chunk);
  bool sent_all = send_bytes == 0, acked = send_bytes == 0, eof = !recv;
  Clock::time_point acked_at = Clock::now(), eof_at = acked_at;
  while (!(acked && eof)) {
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("--timeout: sent %d of %d bytes%s, received %d%s", r->sent, send_bytes,
                          sent_all && !acked ? " (not all acknowledged)" : "", r->received,
                          recv && !eof ? " (no EOF)" : ""));
    }
    // How long one poll() may wait. For the last acknowledgement no event says when it comes:
    // look every 100 us (a small share of a transfer that lasts tenths of a second). For send
    // space, at most 1 ms: Linux 6.18's MPTCP sometimes misses the wakeup after a send() that
    // found the buffer full (EAGAIN), and poll() then sleeps to its timeout (seen: 100 ms with
    // a 100 ms timeout; a blocking send() sleeps about 200 ms).
    struct pollfd p {fd, static_cast<short>((eof ? 0 : POLLIN) | (sent_all ? 0 : POLLOUT)), 0};
    const struct timespec wait = sent_all && !acked ? timespec{0, 100'000}
                                 : !sent_all        ? timespec{0, 1'000'000}
                                                    : timespec{0, 100'000'000};
    if (::ppoll(&p, 1, &wait, nullptr) < 0 && errno != EINTR) {
      return absl::InternalError("poll: " + ErrnoText(errno));
    }
    // At most kCallsPerTurn calls each way per wakeup, so neither direction starves the other.
    for (int i = 0; i < kCallsPerTurn && !eof; ++i) {
      const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
      if (n > 0) {
        r->received += static_cast<uint64_t>(n);
      } else if (n == 0) {
        eof = true;
        eof_at = Clock::now();
      } else if (Retry(errno)) {
        break;
      } else {
        return absl::AbortedError(
            absl::StrFormat("recv after %d bytes: %s", r->received, ErrnoText(errno)));
      }
    }
    for (int i = 0; i < kCallsPerTurn && !sent_all; ++i) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, send_bytes - r->sent));
      const ssize_t n = ::send(fd, out.data(), want, MSG_NOSIGNAL);
      if (n > 0) {
        r->sent += static_cast<uint64_t>(n);
        sent_all = r->sent == send_bytes;
      } else if (n < 0 && Retry(errno)) {
        break;
      } else {
        return absl::AbortedError(
            absl::StrFormat("send after %d bytes: %s", r->sent, ErrnoText(errno)));
      }
    }
    if (sent_all && !acked) {
      absl::StatusOr<int> unacked = Unacked(fd);
      if (!unacked.ok() || *unacked == 0) {
        if (!unacked.ok()) {
          std::fprintf(stderr, "stream_peer: %s; timing ends at the last send()\n",
                       std::string(unacked.status().message()).c_str());
        }
        acked = true;
        acked_at = Clock::now();
        ::shutdown(fd, SHUT_WR);
      }
    }
  }
  return std::max(acked_at, eof_at);
}

// --blocking: the same with blocking calls, one direction only. Kept to show how a blocking
// writer fares on a kernel MPTCP socket (docs/performance.md, issue 15).
absl::StatusOr<Clock::time_point> TransferBlocking(int fd, uint64_t send_bytes, size_t chunk,
                                                   Clock::time_point deadline, Result* r) {
  std::vector<uint8_t> buf(chunk, 0);
  while (send_bytes > 0 && r->sent < send_bytes) {
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError(absl::StrFormat("sent %d of %d", r->sent, send_bytes));
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, send_bytes - r->sent));
    const ssize_t n = ::send(fd, buf.data(), want, MSG_NOSIGNAL);
    if (n > 0) {
      r->sent += static_cast<uint64_t>(n);
    } else if (n < 0 && !Retry(errno)) {
      return absl::AbortedError(absl::StrFormat("send after %d: %s", r->sent, ErrnoText(errno)));
    }
  }
  if (send_bytes > 0) {
    for (;;) {
      absl::StatusOr<int> unacked = Unacked(fd);
      if (!unacked.ok() || *unacked == 0) break;
      if (Clock::now() > deadline) return absl::DeadlineExceededError("unacknowledged data");
      ::usleep(100);
    }
    const Clock::time_point acked = Clock::now();
    ::shutdown(fd, SHUT_WR);
    return acked;
  }
  for (;;) {
    if (Clock::now() > deadline) return absl::DeadlineExceededError("no EOF");
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n > 0) {
      r->received += static_cast<uint64_t>(n);
    } else if (n == 0) {
      return Clock::now();
    } else if (!Retry(errno)) {
      return absl::AbortedError(absl::StrFormat("recv after %d: %s", r->received,
                                                ErrnoText(errno)));
    }
  }
}

absl::StatusOr<Result> Run(Clock::time_point deadline) {
  const std::string proto_name = absl::GetFlag(FLAGS_proto);
  const int proto = proto_name == "mptcp" ? kIpprotoMptcp : IPPROTO_TCP;
  const int sockbuf = absl::GetFlag(FLAGS_sockbuf);
  const size_t chunk = static_cast<size_t>(absl::GetFlag(FLAGS_chunk));
  const uint64_t send_bytes = absl::GetFlag(FLAGS_send);
  const bool recv = absl::GetFlag(FLAGS_recv);
  const std::string bind = absl::GetFlag(FLAGS_bind);

  Fd listener, conn;
  if (absl::GetFlag(FLAGS_listen) != 0) {
    absl::StatusOr<Address> local =
        ParseIp(bind.empty() ? "::" : bind, static_cast<uint16_t>(absl::GetFlag(FLAGS_listen)));
    if (!local.ok()) return local.status();
    absl::StatusOr<int> s = NewSocket(local->family(), proto, sockbuf);
    if (!s.ok()) return s.status();
    listener.Reset(*s);
    const int one = 1, zero = 0;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (local->family() == AF_INET6) {  // "::" takes IPv4 connections too
      ::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (::bind(listener.get(), local->get(), local->len) < 0 || ::listen(listener.get(), 4) < 0) {
      return absl::InternalError("bind/listen: " + ErrnoText(errno));
    }
    std::fprintf(stderr, "stream_peer: listening\n");
    while (conn.get() < 0) {
      if (Clock::now() > deadline) return absl::DeadlineExceededError("no connection");
      const int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        conn.Reset(fd);
        SetIoTimeouts(fd);  // not every protocol hands them down from the listener
      } else if (!Retry(errno)) {
        return absl::InternalError("accept: " + ErrnoText(errno));
      }
    }
    // The listener stays open until the end: Linux hands MP_JOIN SYNs to it.
  } else {
    absl::StatusOr<Address> remote = ParseAddressPort(absl::GetFlag(FLAGS_connect));
    if (!remote.ok()) return remote.status();
    const Clock::time_point retry_until = Clock::now() + kConnectRetryFor;
    for (;;) {
      absl::StatusOr<int> s = NewSocket(remote->family(), proto, sockbuf);
      if (!s.ok()) return s.status();
      conn.Reset(*s);
      if (!bind.empty()) {
        absl::StatusOr<Address> local = ParseIp(bind, 0);
        if (!local.ok()) return local.status();
        if (::bind(conn.get(), local->get(), local->len) < 0) {
          return absl::InternalError("bind " + bind + ": " + ErrnoText(errno));
        }
      }
      if (::connect(conn.get(), remote->get(), remote->len) == 0) break;
      const int err = errno;
      if ((err != ECONNREFUSED && err != EINPROGRESS && err != EINTR) ||
          Clock::now() > std::min(retry_until, deadline)) {
        return absl::UnavailableError("connect: " + ErrnoText(err));
      }
      ::usleep(50'000);
    }
  }

  Result r;
  const int fd = conn.get();
  const Clock::time_point start = Clock::now();
  absl::StatusOr<Clock::time_point> end =
      absl::GetFlag(FLAGS_blocking) ? TransferBlocking(fd, send_bytes, chunk, deadline, &r)
                                    : TransferPolled(fd, send_bytes, recv, chunk, deadline, &r);
  if (!end.ok()) return end.status();
  if (proto == kIpprotoMptcp) ReadMptcpInfo(fd, &r);
  r.seconds = std::chrono::duration<double>(*end - start).count();
  if (!recv) {
    // Wait (bounded) for the peer's close, so that our close sends no RST over unread data.
    std::vector<uint8_t> buf(chunk);
    const Clock::time_point give_up = std::min(deadline, Clock::now() + std::chrono::seconds(5));
    while (Clock::now() < give_up) {
      struct pollfd p {fd, POLLIN, 0};
      (void)::poll(&p, 1, 100);
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && !Retry(errno))) break;
    }
  } else if (send_bytes == 0) {
    ::shutdown(fd, SHUT_WR);
  }
  return r;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A fast kernel TCP/MPTCP peer for goodput measurements.\n"
      "  stream_peer --listen PORT | --connect ADDR:PORT  [--proto tcp|mptcp] [--send BYTES] "
      "[--recv] [--sockbuf BYTES] [--chunk BYTES] [--timeout SECONDS]");
  absl::ParseCommandLine(argc, argv);
  const std::string proto = absl::GetFlag(FLAGS_proto);
  const bool listen = absl::GetFlag(FLAGS_listen) != 0;
  const bool connect = !absl::GetFlag(FLAGS_connect).empty();
  std::string usage_error;
  if (listen == connect) {
    usage_error = "give exactly one of --listen PORT and --connect ADDR:PORT";
  } else if (absl::GetFlag(FLAGS_listen) < 0 || absl::GetFlag(FLAGS_listen) > 65535) {
    usage_error = "--listen: bad port";
  } else if (proto != "tcp" && proto != "mptcp") {
    usage_error = "--proto must be tcp or mptcp";
  } else if (absl::GetFlag(FLAGS_send) == 0 && !absl::GetFlag(FLAGS_recv)) {
    usage_error = "nothing to do: give --send BYTES and/or --recv";
  } else if (absl::GetFlag(FLAGS_blocking) && absl::GetFlag(FLAGS_send) > 0 &&
             absl::GetFlag(FLAGS_recv)) {
    usage_error = "--blocking does one direction: --send or --recv";
  } else if (absl::GetFlag(FLAGS_chunk) <= 0 || absl::GetFlag(FLAGS_timeout) <= 0 ||
             absl::GetFlag(FLAGS_sockbuf) < 0) {
    usage_error = "--chunk and --timeout must be > 0, --sockbuf >= 0";
  }
  if (!usage_error.empty()) {
    std::fprintf(stderr, "stream_peer: %s\n", usage_error.c_str());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::seconds(absl::GetFlag(FLAGS_timeout));
  absl::StatusOr<Result> r = Run(deadline);
  if (!r.ok()) {
    std::fprintf(stderr, "stream_peer: %s\n", std::string(r.status().message()).c_str());
    if (absl::IsFailedPrecondition(r.status())) return kExitSkip;
    return absl::IsInvalidArgument(r.status()) ? 2 : 1;
  }
  const uint64_t bytes = r->sent + r->received;
  std::string line = absl::StrFormat("bytes=%d seconds=%.6f MiB/s=%.2f", bytes, r->seconds,
                                     r->seconds > 0 ? bytes / r->seconds / (1 << 20) : 0.0);
  if (r->sent > 0 && absl::GetFlag(FLAGS_recv)) {
    absl::StrAppend(&line, absl::StrFormat(" sent=%d received=%d", r->sent, r->received));
  }
  if (proto == "mptcp") {
    absl::StrAppend(&line, absl::StrFormat(" subflows=%d fallback=%d", r->subflows,
                                           r->fallback ? 1 : 0));
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace
}  // namespace mptcp::tools

int main(int argc, char** argv) { return mptcp::tools::Main(argc, argv); }

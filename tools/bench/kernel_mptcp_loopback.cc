// kernel_mptcp_loopback: the Linux kernel's own MPTCP goodput over loopback, the reference that
// tools/compare_with_kernel.sh sets our in-memory two-subflow benchmark against.
//
//   kernel_mptcp_loopback [--bytes N] [--write_size N] [--timeout SECONDS] [--tcp]
//
// Creates a private network namespace (deleted on every exit path: normal return, error,
// SIGINT/SIGTERM/SIGHUP and an overall watchdog), brings lo up, adds 127.0.0.2 to it and makes
// it an MPTCP "subflow" endpoint (limits: 2 subflows), so that the kernel path manager opens a
// second subflow 127.0.0.2 -> 127.0.0.1 next to the initial 127.0.0.1 -> 127.0.0.1 one. One
// thread writes --bytes through one socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP), another reads
// and discards them; the goodput is --bytes over the wall time from connect() to the last byte
// read. --tcp measures one plain TCP connection instead, for reference.
//
// Output, one "key value" line each on stdout (prefix kernel_tcp_loopback with --tcp):
//   kernel_mptcp_loopback_gbit_s 17.3
//   kernel_mptcp_loopback_bytes 1073741824
//   kernel_mptcp_loopback_seconds 0.496
//   kernel_mptcp_loopback_subflows 2              (MPTCP_TCPINFO, at the end of the transfer)
//   kernel_mptcp_loopback_subflow_bytes_acked 1,2 (per subflow, from each subflow's tcp_info)
//
// Exit status: 0 measured, 1 failed (setup, transfer or timeout), 2 bad flag, 77 skipped (not
// root, no network namespaces, no kernel MPTCP or no `ip mptcp`), with the reason on stderr.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
// After <netinet/in.h>: the kernel's UAPI headers then skip what glibc already defines.
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/bench/temp_netns.h"

ABSL_FLAG(uint64_t, bytes, uint64_t{1} << 30, "bytes to transfer");
ABSL_FLAG(uint64_t, write_size, uint64_t{1} << 20, "bytes per write() (and per read())");
ABSL_FLAG(int, timeout, 60, "seconds the transfer may take before it counts as failed");
ABSL_FLAG(bool, tcp, false, "measure one plain TCP connection instead of MPTCP");

namespace mptcp::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIpprotoMptcp = 262;  // IPPROTO_MPTCP
constexpr int kSolMptcp = 284;      // SOL_MPTCP
constexpr int kExitSkip = 77;       // the automake/meson "skipped" status
constexpr const char* kNsPrefix = "kmlb";
// Setup and teardown may take this long on top of --timeout before the watchdog ends it all.
constexpr int kWatchdogSlackSeconds = 30;

// Prepares the namespace: lo up, 127.0.0.2 on lo, MPTCP on with a "subflow" endpoint.
// FailedPrecondition means this machine cannot run the measurement (exit 77).
absl::Status Configure(const TempNetns& ns, bool tcp) {
  if (auto st = ns.ExecOk("ip link set lo up"); !st.ok()) return st;
  if (tcp) return absl::OkStatus();
  (void)ns.Exec("sysctl -qw net.mptcp.enabled=1");
  CommandResult enabled = ns.Exec("cat /proc/sys/net/mptcp/enabled");
  if (enabled.exit_code != 0) {
    return absl::FailedPreconditionError("no kernel MPTCP (/proc/sys/net/mptcp/enabled missing)");
  }
  if (absl::StripAsciiWhitespace(enabled.output) != "1") {
    return absl::FailedPreconditionError("kernel MPTCP disabled (net.mptcp.enabled = " +
                                         std::string(absl::StripAsciiWhitespace(enabled.output)) +
                                         " and cannot be set to 1)");
  }
  if (auto st = ns.ExecOk("ip addr add 127.0.0.2/8 dev lo"); !st.ok()) return st;
  if (auto st = ns.ExecOk("ip mptcp limits set subflows 2 add_addr_accepted 0"); !st.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("`ip mptcp` does not work: ", st.message()));
  }
  return ns.ExecOk("ip mptcp endpoint add 127.0.0.2 dev lo subflow");
}

struct Measurement {
  uint64_t bytes = 0;
  Clock::time_point start;
  Clock::time_point last_byte;
  double seconds = 0;
  int subflows = 0;                     // 0: not known
  std::vector<uint64_t> subflow_bytes;  // tcpi_bytes_acked of each subflow, sender side
  bool fell_back = false;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Every blocking call on `fd` returns at least once a second, so loops can watch the deadline.
void SetIoTimeouts(int fd) {
  struct timeval tv = {1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool Retry(int err) {
  return err == EINTR || err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS;
}

// Reads the sender's subflows from MPTCP_INFO and MPTCP_TCPINFO (Linux 5.16+), best effort.
void ReadMptcpInfo(int fd, Measurement* m) {
  struct mptcp_info info = {};
  socklen_t len = sizeof(info);
  if (::getsockopt(fd, kSolMptcp, MPTCP_INFO, &info, &len) == 0) {
    m->subflows = info.mptcpi_subflows + 1;  // mptcpi_subflows counts the additional ones
  } else if (errno == EOPNOTSUPP) {
    m->fell_back = true;  // the socket fell back to plain TCP
    m->subflows = 1;
    return;
  }
  constexpr size_t kMaxSubflows = 8;
  std::vector<uint8_t> buf(sizeof(mptcp_subflow_data) + kMaxSubflows * sizeof(tcp_info));
  auto* hdr = reinterpret_cast<mptcp_subflow_data*>(buf.data());
  hdr->size_subflow_data = sizeof(mptcp_subflow_data);
  hdr->size_user = sizeof(tcp_info);
  len = static_cast<socklen_t>(buf.size());
  if (::getsockopt(fd, kSolMptcp, MPTCP_TCPINFO, buf.data(), &len) != 0) return;
  m->subflows = static_cast<int>(hdr->num_subflows);
  const size_t stride = std::min<size_t>(hdr->size_user, sizeof(tcp_info));
  for (size_t i = 0; i < std::min<size_t>(hdr->num_subflows, kMaxSubflows); ++i) {
    struct tcp_info ti = {};
    std::memcpy(&ti, buf.data() + sizeof(mptcp_subflow_data) + i * hdr->size_user, stride);
    m->subflow_bytes.push_back(ti.tcpi_bytes_acked);
  }
}

// The transfer itself; runs in a thread that has joined the namespace (so do the threads it
// starts, and every socket it opens belongs there).
absl::StatusOr<Measurement> Transfer(uint64_t bytes, size_t write_size, bool tcp,
                                     Clock::time_point deadline) {
  const int proto = tcp ? 0 : kIpprotoMptcp;
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto));
  if (listener.get() < 0) {
    const int err = errno;
    if (!tcp && (err == EPROTONOSUPPORT || err == EINVAL || err == ENOPROTOOPT)) {
      return absl::FailedPreconditionError("socket(IPPROTO_MPTCP): " + ErrnoText(err));
    }
    return absl::InternalError("socket: " + ErrnoText(err));
  }
  SetIoTimeouts(listener.get());
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(addr);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 ||
      ::listen(listener.get(), 4) < 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &alen) < 0) {
    return absl::InternalError("bind/listen 127.0.0.1: " + ErrnoText(errno));
  }

  // Receiver: accept, read and discard `bytes`, note the time, answer one byte, await EOF.
  std::atomic<bool> failed{false};
  std::string receiver_error;
  Clock::time_point last_byte{};
  std::thread receiver([&] {
    int fd = -1;
    while (fd < 0 && Clock::now() < deadline && !failed) {
      fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0 && !Retry(errno)) break;
    }
    if (fd < 0) {
      receiver_error = "accept: " + (Clock::now() < deadline ? ErrnoText(errno) : "timed out");
      failed = true;
      return;
    }
    Fd conn(fd);
    SetIoTimeouts(fd);
    std::vector<uint8_t> sink(write_size);
    uint64_t got = 0;
    while (got < bytes && Clock::now() < deadline && !failed) {
      const ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
      if (n > 0) {
        got += static_cast<uint64_t>(n);
      } else if (n == 0 || !Retry(errno)) {
        break;
      }
    }
    last_byte = Clock::now();
    if (got < bytes) {
      receiver_error =
          absl::StrFormat("%s: received %d of %d bytes",
                          last_byte >= deadline ? "--timeout expired" : "short read", got, bytes);
      failed = true;
      return;
    }
    const uint8_t done = 1;
    (void)::send(fd, &done, 1, MSG_NOSIGNAL);
    while (Clock::now() < deadline &&
           (::recv(fd, sink.data(), sink.size(), 0) > 0 || Retry(errno))) {
    }
  });

  // Sender: connect, write `bytes`, await the receiver's byte, read the subflows, close.
  auto sender = [&]() -> absl::StatusOr<Measurement> {
    Measurement m;
    std::vector<uint8_t> data(write_size);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
    m.start = Clock::now();
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto));
    if (fd.get() < 0) return absl::InternalError("socket: " + ErrnoText(errno));
    SetIoTimeouts(fd.get());
    int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    while (rc < 0 && (errno == EINTR || errno == EINPROGRESS || errno == EALREADY) &&
           Clock::now() < deadline) {
      rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      if (rc < 0 && errno == EISCONN) rc = 0;
    }
    if (rc < 0) return absl::InternalError("connect 127.0.0.1: " + ErrnoText(errno));
    uint64_t sent = 0;
    while (sent < bytes && Clock::now() < deadline && !failed) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(data.size(), bytes - sent));
      const ssize_t n = ::send(fd.get(), data.data(), chunk, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<uint64_t>(n);
      } else if (n < 0 && !Retry(errno)) {
        return absl::InternalError(
            absl::StrFormat("send after %d bytes: %s", sent, ErrnoText(errno)));
      }
    }
    if (sent < bytes) {
      return absl::DeadlineExceededError(absl::StrFormat("sent %d of %d", sent, bytes));
    }
    uint8_t done = 0;
    ssize_t n = -1;
    while (Clock::now() < deadline && !failed && (n = ::recv(fd.get(), &done, 1, 0)) < 0 &&
           Retry(errno)) {
    }
    if (n != 1) return absl::DeadlineExceededError("no end-of-transfer byte from the receiver");
    if (!tcp) ReadMptcpInfo(fd.get(), &m);
    ::shutdown(fd.get(), SHUT_WR);
    m.bytes = bytes;
    return m;
  };
  absl::StatusOr<Measurement> result = sender();
  if (!result.ok()) failed = true;
  receiver.join();
  if (!receiver_error.empty()) return absl::InternalError(receiver_error);
  if (result.ok()) {
    result->last_byte = last_byte;
    result->seconds = std::chrono::duration<double>(last_byte - result->start).count();
  }
  return result;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Kernel MPTCP (or --tcp: TCP) goodput of one connection over loopback, two subflows, "
      "in a private network namespace.\n  kernel_mptcp_loopback [--bytes N] [--tcp]");
  absl::ParseCommandLine(argc, argv);
  const uint64_t bytes = absl::GetFlag(FLAGS_bytes);
  const uint64_t write_size = absl::GetFlag(FLAGS_write_size);
  const int timeout = absl::GetFlag(FLAGS_timeout);
  const bool tcp = absl::GetFlag(FLAGS_tcp);
  const std::string key = tcp ? "kernel_tcp_loopback" : "kernel_mptcp_loopback";
  if (bytes == 0 || write_size == 0 || write_size > (uint64_t{1} << 30) || timeout <= 0) {
    std::fprintf(stderr, "error: --bytes, --write_size (<= 1 GiB) and --timeout must be > 0\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<Measurement> result;
  {
    absl::StatusOr<std::unique_ptr<TempNetns>> ns = TempNetns::Create(
        kNsPrefix, Clock::now() + std::chrono::seconds(timeout + kWatchdogSlackSeconds));
    if (!ns.ok()) {
      result = ns.status();
    } else if (absl::Status st = Configure(**ns, tcp); !st.ok()) {
      result = st;
    } else {
      const std::string path = (*ns)->path();
      const auto deadline = Clock::now() + std::chrono::seconds(timeout);
      std::thread worker([&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWNET) < 0) {
          // Never measure (or open sockets) in the host's namespace.
          result = absl::InternalError(absl::StrCat("setns(", path, "): ", ErrnoText(errno)));
        } else {
          result = Transfer(bytes, static_cast<size_t>(write_size), tcp, deadline);
        }
        if (fd >= 0) ::close(fd);
      });
      worker.join();
    }
  }  // the namespace is deleted here

  if (!result.ok()) {
    const bool skip = absl::IsFailedPrecondition(result.status());
    std::fprintf(stderr, "%s: %s: %s\n", skip ? "SKIP" : "error", key.c_str(),
                 std::string(result.status().message()).c_str());
    return skip ? kExitSkip : 1;
  }
  const Measurement& m = *result;
  std::printf("%s_gbit_s %.3f\n", key.c_str(), static_cast<double>(m.bytes) * 8 / m.seconds / 1e9);
  std::printf("%s_bytes %llu\n", key.c_str(), static_cast<unsigned long long>(m.bytes));
  std::printf("%s_seconds %.6f\n", key.c_str(), m.seconds);
  if (!tcp) {
    std::printf("%s_subflows %d\n", key.c_str(), m.subflows);
    if (!m.subflow_bytes.empty()) {
      std::printf("%s_subflow_bytes_acked %s\n", key.c_str(),
                  absl::StrJoin(m.subflow_bytes, ",").c_str());
    }
    if (m.fell_back) std::fprintf(stderr, "warning: the connection fell back to plain TCP\n");
    if (m.subflows > 0 && m.subflows < 2) {
      std::fprintf(stderr, "warning: only %d subflow(s); the second one did not join\n",
                   m.subflows);
    }
  }
  return 0;
}

}  // namespace
}  // namespace mptcp::tools

int main(int argc, char** argv) { return mptcp::tools::Main(argc, argv); }

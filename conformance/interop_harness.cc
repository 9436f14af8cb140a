#include "conformance/interop_harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "conformance/stream_check.h"
#include "io/net_config.h"
#include "io/pcap_writer.h"
#include "io/raw_socket.h"
#include "io/stream_pattern.h"
#include "io/tun_device.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"

extern char** environ;

namespace mptcp::interop {
namespace {

constexpr int kIpprotoMptcp = 262;  // IPPROTO_MPTCP (linux/in.h, Linux 5.6+)
constexpr const char* kNsPrefix = "mpi";

using io::ErrnoText;
using io::ShellQuote;

Timestamp Now() { return io::EventLoop::MonotonicNow(); }

void SleepFor(Duration d) {
  struct timespec ts;
  ts.tv_sec = d.nanos() / 1'000'000'000;
  ts.tv_nsec = d.nanos() % 1'000'000'000;
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

}  // namespace

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// --- Shell and prerequisites ------------------------------------------------------------------

CommandResult Run(const std::string& command, Duration timeout) {
  return io::RunShell(command, static_cast<int>(std::max<int64_t>(1, timeout.millis() / 1000)));
}

absl::Status RunOk(const std::string& command) {
  CommandResult r = Run(command);
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrFormat("`%s` exited %d: %s", command, r.exit_code, r.output));
  }
  return absl::OkStatus();
}

bool HaveTool(const std::string& tool) {
  return Run("command -v " + tool + " >/dev/null").exit_code == 0;
}

std::string MissingPrerequisite() {
  if (::geteuid() != 0) return "needs root (network namespaces, TUN devices)";
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "cannot open /dev/net/tun: " + ErrnoText(errno);
  ::close(fd);
  std::string enabled;
  if (!ReadFile("/proc/sys/net/mptcp/enabled", &enabled)) {
    return "no kernel MPTCP (/proc/sys/net/mptcp/enabled missing)";
  }
  if (!HaveTool("ip")) return "no `ip` (iproute2)";
  if (Run("ip mptcp limits show").exit_code != 0) return "`ip mptcp` not supported";
  const std::string probe = absl::StrFormat("%s%d-probe", kNsPrefix, ::getpid());
  CommandResult r = Run("ip netns add " + probe);
  if (r.exit_code != 0) return "cannot create a network namespace: " + r.output;
  (void)Run("ip netns del " + probe);
  return "";
}

std::thread SpawnInNetns(const std::string& ns, std::function<void()> fn) {
  return std::thread([ns, fn = std::move(fn)]() {
    const std::string path = "/var/run/netns/" + ns;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) < 0) {
      std::fprintf(stderr, "setns(%s): %s\n", path.c_str(), std::strerror(errno));
      if (fd >= 0) ::close(fd);
      std::abort();  // running in the wrong namespace would touch the host: never
    }
    ::close(fd);
    fn();
  });
}

// --- Namespaces and topology ------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Netns>> Netns::Create(const std::string& role) {
  static std::atomic<int> counter{0};
  const std::string name =
      absl::StrFormat("%s%d-%d-%s", kNsPrefix, ::getpid(), counter.fetch_add(1), role);
  if (auto st = RunOk("ip netns add " + name); !st.ok()) return st;
  auto ns = std::unique_ptr<Netns>(new Netns(name));
  if (auto st = ns->ExecOk("ip link set lo up"); !st.ok()) return st;
  // No IPv6 duplicate address detection on the interfaces made here: while a link-local
  // address is tentative (1-2 s), neighbour discovery through it waits, and the first IPv6
  // packets of a test (a SYN-ACK) with it.
  if (auto st = ns->ExecOk("sysctl -qw net.ipv6.conf.default.accept_dad=0 "
                           "net.ipv6.conf.all.accept_dad=0");
      !st.ok()) {
    return st;
  }
  // INTEROP_KERNEL_CC: the kernel peers' congestion control (the namespaces otherwise take the
  // host's default, which may be BBR), to compare our controllers with the kernel's same one.
  // Outside the initial namespace Linux sets only those the host lists in
  // net.ipv4.tcp_allowed_congestion_control.
  if (const char* cc = std::getenv("INTEROP_KERNEL_CC"); cc != nullptr && *cc != '\0') {
    if (auto st = ns->ExecOk(absl::StrCat("sysctl -qw net.ipv4.tcp_congestion_control=", cc));
        !st.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "INTEROP_KERNEL_CC=", cc, ": the host must allow it first (sysctl -w ",
          "net.ipv4.tcp_allowed_congestion_control=\"... ", cc, "\"): ", st.message()));
    }
  }
  return ns;
}

Netns::~Netns() {
  // Deleting the namespace also deletes its veths, TUNs and sockets' routes.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (Run("ip netns del " + name_).exit_code == 0) return;
    SleepFor(Duration::Millis(100));
  }
  std::fprintf(stderr, "warning: could not delete network namespace %s\n", name_.c_str());
}

CommandResult Netns::Exec(const std::string& command) const {
  return Run("ip netns exec " + name_ + " sh -c " + ShellQuote(command));
}

absl::Status Netns::ExecOk(const std::string& command) const {
  CommandResult r = Exec(command);
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrFormat("[%s] `%s` exited %d: %s", name_, command, r.exit_code, r.output));
  }
  return absl::OkStatus();
}

void CleanStaleNamespaces() {
  CommandResult r = Run("ip netns list");
  for (absl::string_view line : absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    const std::string name(line.substr(0, line.find(' ')));
    if (!absl::StartsWith(name, kNsPrefix)) continue;
    absl::string_view rest = absl::string_view(name).substr(std::strlen(kNsPrefix));
    int pid = 0;
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid) || pid <= 0) continue;
    if (::kill(pid, 0) < 0 && errno == ESRCH) (void)Run("ip netns del " + name);
  }
}

PathAddresses Topology::Path(int i, bool v6) {
  if (v6) {
    // 2001:db8:1::/64 behind the TUNs, 2001:db8:2::/64 and 2001:db8:3::/64 on the two links.
    if (i == 0) {
      return {*IpAddress::Parse("2001:db8:1::1"), *IpAddress::Parse("2001:db8:2::1"), "tun0",
              "a0", "b0"};
    }
    return {*IpAddress::Parse("2001:db8:1::2"), *IpAddress::Parse("2001:db8:3::1"), "tun1", "a1",
            "b1"};
  }
  if (i == 0) {
    return {IpAddress::V4(192, 0, 2, 1), IpAddress::V4(198, 51, 100, 1), "tun0", "a0", "b0"};
  }
  return {IpAddress::V4(192, 0, 2, 2), IpAddress::V4(203, 0, 113, 1), "tun1", "a1", "b1"};
}

absl::StatusOr<std::unique_ptr<Topology>> Topology::Create() {
  std::unique_ptr<Topology> t(new Topology());
  auto kern = Netns::Create("kern");
  if (!kern.ok()) return kern.status();
  t->kern_ = std::move(*kern);
  auto ours = Netns::Create("ours");
  if (!ours.ok()) return ours.status();
  t->ours_ = std::move(*ours);
  auto kcli = Netns::Create("kcli");
  if (!kcli.ok()) return kcli.status();
  t->kcli_ = std::move(*kcli);
  const std::string K = t->kern_->name(), O = t->ours_->name(), C = t->kcli_->name();
  const std::vector<std::string> steps = {
      // Links, created inside "ours" with the peer end moved straight into its namespace.
      absl::StrFormat("ip -n %s link add a0 type veth peer name b0 netns %s", O, K),
      absl::StrFormat("ip -n %s link add a1 type veth peer name b1 netns %s", O, K),
      absl::StrFormat("ip -n %s link add ac type veth peer name c0 netns %s", O, C),
      // The router namespace.
      absl::StrFormat("ip -n %s addr add 198.51.100.254/24 dev a0", O),
      absl::StrFormat("ip -n %s addr add 203.0.113.254/24 dev a1", O),
      absl::StrFormat("ip -n %s addr add 192.0.2.99 peer 192.0.2.100 dev ac", O),
      absl::StrFormat("ip -n %s link set a0 up", O),
      absl::StrFormat("ip -n %s link set a1 up", O),
      absl::StrFormat("ip -n %s link set ac up", O),
      absl::StrFormat(
          "ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; "
          "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done; "
          "for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo 0 > $f; done'",
          O),
      // The kernel peer.
      absl::StrFormat("ip -n %s addr add 198.51.100.1/24 dev b0", K),
      absl::StrFormat("ip -n %s addr add 203.0.113.1/24 dev b1", K),
      absl::StrFormat("ip -n %s link set b0 up", K),
      absl::StrFormat("ip -n %s link set b1 up", K),
      absl::StrFormat("ip -n %s route add 192.0.2.0/24 via 198.51.100.254 dev b0", K),
      absl::StrFormat("ip -n %s rule add from 203.0.113.1 table 100 pref 100", K),
      absl::StrFormat("ip -n %s route add 192.0.2.0/24 via 203.0.113.254 dev b1 table 100", K),
      absl::StrFormat(
          "ip netns exec %s sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; "
          "done'",
          K),
      // The kernel client for kernel-to-kernel runs, behind the router like our stack.
      absl::StrFormat("ip -n %s addr add 192.0.2.100 peer 192.0.2.99 dev c0", C),
      absl::StrFormat("ip -n %s link set c0 up", C),
      absl::StrFormat("ip -n %s route add default via 192.0.2.99", C),
      // IPv6, the same shape (Path(i, true)); nodad: usable at once, without the 1-2 s of
      // duplicate address detection.
      absl::StrFormat(
          "ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'", O),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:2::fe/64 dev a0 nodad", O),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:3::fe/64 dev a1 nodad", O),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:4::fe/64 dev ac nodad", O),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:2::1/64 dev b0 nodad", K),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:3::1/64 dev b1 nodad", K),
      absl::StrFormat("ip -n %s -6 route add 2001:db8:1::/64 via 2001:db8:2::fe dev b0", K),
      absl::StrFormat("ip -n %s -6 route add 2001:db8:4::/64 via 2001:db8:2::fe dev b0", K),
      absl::StrFormat("ip -n %s -6 rule add from 2001:db8:3::1 table 100 pref 100", K),
      absl::StrFormat(
          "ip -n %s -6 route add 2001:db8:1::/64 via 2001:db8:3::fe dev b1 table 100", K),
      absl::StrFormat("ip -n %s -6 addr add 2001:db8:4::1/64 dev c0 nodad", C),
      absl::StrFormat("ip -n %s -6 route add default via 2001:db8:4::fe", C),
  };
  for (const std::string& s : steps) {
    if (auto st = RunOk(s); !st.ok()) return st;
  }
  return t;
}

// --- Capture ------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Capture>> Capture::Start(const Netns& ns,
                                                        const std::vector<std::string>& ifaces,
                                                        const std::string& path) {
  if (!HaveTool("dumpcap")) return absl::NotFoundError("dumpcap (tshark's capture tool) missing");
  auto cap = std::unique_ptr<Capture>(new Capture(path));
  std::vector<std::string> logs;
  for (const std::string& iface : ifaces) {
    const std::string part = path + "." + iface + ".pcapng";
    // Headers and options only: 200 bytes covers IP + TCP + 40 bytes of options. dumpcap
    // applies -s and -B to the interface that follows them, so they come first.
    std::vector<std::string> args = {"/usr/sbin/ip", "netns", "exec", ns.name(), "dumpcap", "-q",
                                     "-s", "200", "-B", "64", "-i", iface, "-w", part};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = part + ".log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string env_path = std::string("PATH=") + io::kShellPath;
    char* envp[] = {env_path.data(), nullptr};
    pid_t pid;
    const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return absl::InternalError("posix_spawn dumpcap: " + ErrnoText(rc));
    cap->pids_.push_back(pid);
    cap->parts_.push_back(part);
    logs.push_back(log);
  }
  // Wait (bounded) until every dumpcap says it captures.
  for (size_t i = 0; i < logs.size(); ++i) {
    for (int tries = 0;; ++tries) {
      std::string text;
      if (ReadFile(logs[i], &text) && absl::StrContains(text, "Capturing on")) break;
      int st;
      if (::waitpid(cap->pids_[i], &st, WNOHANG) == cap->pids_[i]) {
        cap->pids_[i] = -1;
        return absl::InternalError("dumpcap exited at start: " + text);
      }
      if (tries == 100) return absl::DeadlineExceededError("dumpcap did not start within 5 s");
      SleepFor(Duration::Millis(50));
    }
  }
  SleepFor(Duration::Millis(100));
  return cap;
}

absl::StatusOr<std::string> Capture::Stop() {
  if (stopped_) return path_;
  stopped_ = true;
  // Let dumpcap write what it saw of a burst that just ended before it is told to stop.
  SleepFor(Duration::Millis(300));
  absl::Status status;
  for (pid_t& pid : pids_) {
    if (pid <= 0) continue;
    ::kill(pid, SIGINT);
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
      int st;
      exited = ::waitpid(pid, &st, WNOHANG) == pid;
      if (!exited) SleepFor(Duration::Millis(50));
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      status = absl::DeadlineExceededError("dumpcap did not stop on SIGINT");
    }
    pid = -1;
  }
  if (!status.ok()) return status;
  const CommandResult m =
      Run("mergecap -w " + path_ + " " + absl::StrJoin(parts_, " ") + " 2>&1");
  if (m.exit_code != 0) return absl::InternalError("mergecap: " + m.output);
  if (std::getenv("INTEROP_KEEP_PCAP") == nullptr) {
    for (const std::string& part : parts_) {
      std::remove(part.c_str());
      std::remove((part + ".log").c_str());
    }
  }
  return path_;
}

Capture::~Capture() { (void)Stop(); }

absl::StatusOr<TsharkFindings> CheckCapture(const std::string& pcap) {
  TsharkFindings f;
  // Payload is decoded as plain data: heuristic dissectors (Thrift, ...) otherwise misread the
  // random test bytes and report their own "errors".
  // One pass: every frame's number, whether it carries MPTCP, malformed text, expert errors.
  CommandResult r = Run(
      absl::StrFormat("tshark -n -r %s -d tcp.port==1-65535,data -o mptcp.analyze_mappings:TRUE -T fields -E separator=/t "
                      "-e frame.number -e tcp.options.mptcp.subtype -e _ws.malformed "
                      "-e _ws.expert.severity -e _ws.expert.message",
                      ShellQuote(pcap)),
      Duration::Seconds(300));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrFormat("tshark exited %d: %s", r.exit_code,
                                               r.output.substr(0, 2000)));
  }
  constexpr uint64_t kPiError = 0x00800000;  // epan/proto.h PI_ERROR
  for (absl::string_view line : absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 5) continue;
    uint64_t frame = 0;
    if (!absl::SimpleAtoi(cols[0], &frame)) continue;  // a warning line from tshark
    ++f.frames;
    const bool mptcp = !cols[1].empty();
    f.mptcp_frames += mptcp;
    if (!cols[2].empty()) f.malformed.push_back(absl::StrCat("frame ", frame, ": ", cols[2]));
    std::vector<std::string> sev = absl::StrSplit(cols[3], ',', absl::SkipEmpty());
    std::vector<std::string> msg = absl::StrSplit(cols[4], ',');
    for (size_t i = 0; i < sev.size(); ++i) {
      uint64_t s = 0;
      if (!absl::SimpleAtoi(sev[i], &s) && !absl::SimpleHexAtoi(sev[i], &s)) continue;
      if (s < kPiError) continue;
      const std::string text =
          absl::StrCat("frame ", frame, ": ", i < msg.size() ? msg[i] : std::string("?"));
      (mptcp ? f.mptcp_errors : f.other_errors).push_back(text);
    }
  }
  return f;
}

// --- Kernel peer --------------------------------------------------------------------------------

namespace {

// Sends `total` pattern bytes and reads to EOF on a non-blocking socket.
class SocketTransfer {
 public:
  SocketTransfer(int fd, uint64_t total, uint64_t seed, std::atomic<uint64_t>* received,
                 Duration half_close_delay = Duration::Zero(),
                 std::optional<uint64_t> expect_seed = std::nullopt)
      : fd_(fd),
        total_(total),
        pattern_(seed),
        expect_(expect_seed),
        received_(received),
        half_close_delay_(half_close_delay),
        out_(1 << 18),
        in_(1 << 18) {}

  TransferResult Run(Timestamp deadline) {
    TransferResult r;
    r.started = Now();
    crypto::Sha256 hash;
    bool eof = false, shut = false;
    while (!(eof && shut)) {
      if (Now() > deadline) {
        r.status = absl::DeadlineExceededError(
            absl::StrFormat("kernel peer timed out: sent %u of %u, received %u%s", r.sent, total_,
                            r.received, eof ? " (EOF seen)" : ""));
        break;
      }
      struct pollfd p {fd_, static_cast<short>(POLLIN | (r.sent < total_ ? POLLOUT : 0)), 0};
      // While sending, wait at most 1 ms: on Linux 6.18 a full MPTCP send buffer sometimes
      // misses its wakeup, and a longer wait is that long a stall in every figure measured
      // here (docs/performance.md, "why kernel to kernel looked slow").
      if (::poll(&p, 1, r.sent < total_ ? 1 : 100) < 0 && errno != EINTR) {
        r.status = absl::InternalError("poll: " + ErrnoText(errno));
        break;
      }
      bool failed = false;
      for (int i = 0; i < 64 && !eof; ++i) {
        const ssize_t n = ::recv(fd_, in_.data(), in_.size(), 0);
        if (n > 0) {
          hash.Update(std::span<const uint8_t>(in_.data(), static_cast<size_t>(n)));
          if (expect_) {
            want_.resize(static_cast<size_t>(n));
            io::StreamPattern(*expect_).Fill(r.received, want_);
            for (size_t k = 0; k < want_.size(); ++k) {
              if (want_[k] == in_[k]) continue;
              if (!r.first_wrong_byte) r.first_wrong_byte = r.received + k;
              ++r.wrong_bytes;
            }
          }
          r.received += static_cast<uint64_t>(n);
          received_->store(r.received);
          r.NoteData(Now());
          continue;
        }
        if (n == 0) {
          eof = true;
          break;
        }
        if (errno == EAGAIN || errno == EINTR) break;
        r.status = absl::AbortedError(absl::StrFormat("kernel peer recv: %s (sent %u, received %u)",
                                                      ErrnoText(errno), r.sent, r.received));
        failed = true;
        break;
      }
      if (failed) break;
      for (int i = 0; i < 64 && r.sent < total_; ++i) {
        if (out_pos_ == out_len_) {
          out_off_ = r.sent;
          out_len_ = static_cast<size_t>(std::min<uint64_t>(out_.size(), total_ - r.sent));
          pattern_.Fill(out_off_, std::span<uint8_t>(out_.data(), out_len_));
          out_pos_ = 0;
        }
        const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_len_ - out_pos_, MSG_NOSIGNAL);
        if (n > 0) {
          out_pos_ += static_cast<size_t>(n);
          r.sent += static_cast<uint64_t>(n);
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        r.status = absl::AbortedError(absl::StrFormat("kernel peer send: %s (sent %u, received %u)",
                                                      ErrnoText(errno), r.sent, r.received));
        failed = true;
        break;
      }
      if (failed) break;
      if (r.sent == total_ && !shut) {
        if (all_sent_at_ == Timestamp()) all_sent_at_ = Now();
        if (Now() - all_sent_at_ >= half_close_delay_) {
          ::shutdown(fd_, SHUT_WR);  // our half-close: the kernel sends DATA_FIN
          shut = true;
        }
      }
    }
    r.finished = Now();
    r.received_digest = hash.Final();
    return r;
  }

 private:
  int fd_;
  uint64_t total_;
  io::StreamPattern pattern_;
  std::optional<uint64_t> expect_;
  std::vector<uint8_t> want_;
  std::atomic<uint64_t>* received_;
  Duration half_close_delay_;
  Timestamp all_sent_at_;
  std::vector<uint8_t> out_, in_;
  uint64_t out_off_ = 0;
  size_t out_pos_ = 0, out_len_ = 0;
};

struct Sockaddr {
  struct sockaddr_storage ss;
  socklen_t len;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

Sockaddr ToSockaddr(const SocketAddress& a) {
  Sockaddr s;
  std::memset(&s.ss, 0, sizeof(s.ss));
  if (a.ip.is_v4()) {
    auto* in = reinterpret_cast<struct sockaddr_in*>(&s.ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(a.port);
    in->sin_addr.s_addr = htonl(a.ip.v4_value());
    s.len = sizeof(*in);
  } else {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&s.ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a.port);
    std::memcpy(&in6->sin6_addr, a.ip.data(), 16);
    s.len = sizeof(*in6);
  }
  return s;
}

}  // namespace

KernelPeer::KernelPeer(const std::string& ns, const KernelPeerConfig& config)
    : config_(config), listening_future_(listening_.get_future()) {
  thread_ = SpawnInNetns(ns, [this] { Body(); });
}

KernelPeer::~KernelPeer() {
  if (thread_.joinable()) thread_.join();
}

absl::Status KernelPeer::WaitListening(Duration timeout) {
  if (listening_future_.wait_for(std::chrono::nanoseconds(timeout.nanos())) !=
      std::future_status::ready) {
    return absl::DeadlineExceededError("kernel peer did not start listening");
  }
  return listening_future_.get();
}

TransferResult KernelPeer::Join() {
  if (thread_.joinable()) thread_.join();
  return result_;
}

void KernelPeer::Body() {
  const Timestamp deadline = Now() + config_.timeout;
  const int proto = config_.mptcp ? kIpprotoMptcp : IPPROTO_TCP;
  auto fail = [&](absl::Status st) {
    result_.status = st;
    if (config_.server) listening_.set_value(st);
  };
  const int family =
      (config_.server ? config_.local.ip : config_.remote.ip).is_v4() ? AF_INET : AF_INET6;
  int s = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (s < 0 && config_.mptcp && config_.tcp_if_mptcp_disabled && errno == ENOPROTOOPT) {
    s = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  }
  if (s < 0) {
    return fail(absl::FailedPreconditionError(
        absl::StrFormat("kernel socket(IPPROTO_%s): %s", config_.mptcp ? "MPTCP" : "TCP",
                        ErrnoText(errno))));
  }
  int fd = -1;
  int listener = -1;
  if (config_.server) {
    const int one = 1;
    (void)::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const Sockaddr a = ToSockaddr(config_.local);
    if (::bind(s, a.get(), a.len) < 0 || ::listen(s, 4) < 0) {
      ::close(s);
      return fail(absl::InternalError("kernel bind/listen: " + ErrnoText(errno)));
    }
    listening_.set_value(absl::OkStatus());
    struct pollfd p {s, POLLIN, 0};
    while (Now() < deadline) {
      const int rc = ::poll(&p, 1, 100);
      if (rc > 0) break;
    }
    fd = ::accept4(s, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const int err = errno;
    // The listener stays open for the whole transfer: Linux hands incoming MP_JOIN SYNs to
    // the listening socket of the port, and answers them with a RST when there is none.
    listener = s;
    if (fd < 0) {
      ::close(listener);
      result_.status = absl::DeadlineExceededError("kernel server: no connection: " +
                                                   ErrnoText(err));
      return;
    }
  } else {
    fd = s;
    if (config_.local.port != 0 || config_.local.ip != IpAddress()) {
      const Sockaddr a = ToSockaddr(config_.local);
      if (::bind(fd, a.get(), a.len) < 0) {
        ::close(fd);
        result_.status = absl::InternalError("kernel client bind: " + ErrnoText(errno));
        return;
      }
    }
    (void)::fcntl(fd, F_SETFL, O_NONBLOCK);
    const Sockaddr r = ToSockaddr(config_.remote);
    if (::connect(fd, r.get(), r.len) < 0 &&
        errno != EINPROGRESS) {
      result_.status = absl::UnavailableError("kernel connect: " + ErrnoText(errno));
      ::close(fd);
      return;
    }
    struct pollfd p {fd, POLLOUT, 0};
    while (Now() < deadline && ::poll(&p, 1, 100) == 0) {
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (p.revents & POLLOUT) == 0) {
      result_.status = absl::UnavailableError(
          "kernel connect to " + config_.remote.ToString() + ": " +
          (err != 0 ? ErrnoText(err) : std::string("timed out")));
      ::close(fd);
      return;
    }
  }
  SocketTransfer t(fd, config_.send_bytes, config_.seed, &received_, config_.half_close_delay,
                   config_.expect_seed);
  result_ = t.Run(deadline);
  ::close(fd);
  if (listener >= 0) ::close(listener);
}

// --- Our peer -----------------------------------------------------------------------------------

OurPeer::OurPeer(const std::string& ns, const OurPeerConfig& config)
    : config_(config), ready_future_(ready_.get_future()) {
  thread_ = SpawnInNetns(ns, [this] { Body(); });
}

OurPeer::~OurPeer() {
  if (thread_.joinable()) thread_.join();
}

absl::Status OurPeer::WaitReady(Duration timeout) {
  if (ready_future_.wait_for(std::chrono::nanoseconds(timeout.nanos())) !=
      std::future_status::ready) {
    return absl::DeadlineExceededError("our stack did not get ready");
  }
  return ready_future_.get();
}

bool OurPeer::PostPathManagerCommand(const PmCommand& command) {
  std::lock_guard<std::mutex> lock(pm_mu_);
  if (connection_gone_) return false;
  pm_pending_.push_back(command);
  return true;
}

OurResult OurPeer::Join() {
  if (thread_.joinable()) thread_.join();
  return result_;
}

// CorruptSpec's middlebox around one of our TUN devices: rewrites one payload byte of the
// nth large TCP segment in one direction, keeping the TCP checksum valid.
class CorruptingDevice : public io::PacketDevice {
 public:
  CorruptingDevice(io::PacketDevice& inner, const CorruptSpec& spec) : inner_(inner), spec_(spec) {}
  int fd() const override { return inner_.fd(); }
  std::string_view name() const override { return inner_.name(); }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override {
    absl::StatusOr<size_t> n = inner_.Read(buf);
    if (n.ok() && *n > 0 && !spec_.outgoing) MaybeCorrupt(buf.first(*n));
    return n;
  }
  absl::Status Write(std::span<const uint8_t> packet) override {
    if (!spec_.outgoing || corrupted_ > 0) return inner_.Write(packet);
    copy_.assign(packet.begin(), packet.end());
    if (MaybeCorrupt(copy_) && spec_.drop) return absl::OkStatus();  // lost on the way
    return inner_.Write(copy_);
  }
  uint64_t corrupted() const { return corrupted_; }

 private:
  // True when `p` is the segment chosen (rewritten unless the spec drops it).
  bool MaybeCorrupt(std::span<uint8_t> p) {
    if (corrupted_ > 0) return false;
    auto ip = wire::ParseIpPacket(p);
    if (!ip.ok() || ip->ip.protocol != wire::kIpProtoTcp) return false;
    auto tcp = wire::TcpHeaderView::Check(ip->payload);
    if (!tcp.ok()) return false;
    const size_t ip_hdr = p.size() - ip->payload.size();
    const size_t payload = ip->payload.size() - tcp->header_length();
    if (payload < 500) return false;
    // A coalesced packet (TUN offload) counts as the full-sized segments it holds.
    seen_ += std::max<uint64_t>(1, payload / 1400);
    if (seen_ < spec_.nth) return false;
    ++corrupted_;
    if (spec_.drop) return true;
    p[ip_hdr + tcp->header_length() + payload / 2] ^= 0x40;
    wire::FillTcpChecksum(ip->ip.src, ip->ip.dst, p.subspan(ip_hdr));
    return true;
  }

  io::PacketDevice& inner_;
  CorruptSpec spec_;
  uint64_t seen_ = 0;
  uint64_t corrupted_ = 0;
  std::vector<uint8_t> copy_;
};

// CorruptSpec::drop_stream_offset: every outgoing copy of one stream offset is lost, on every
// path, for a while from the first. One shared state (the mappings) across the devices.
struct StreamDropper {
  explicit StreamDropper(const CorruptSpec& s) : spec(s), track(0) {}
  bool Drop(std::span<const uint8_t> packet) {
    const auto r = track.OnPacket(packet);
    if (!r || *spec.drop_stream_offset < r->first || *spec.drop_stream_offset >= r->end) {
      return false;
    }
    const Timestamp now = io::EventLoop::MonotonicNow();
    if (dropped == 0) first = now;
    if (now - first >= spec.drop_for) return false;
    ++dropped;
    return true;
  }
  CorruptSpec spec;
  StreamCheck track;  // only its mapping tracking: the seed does not matter
  Timestamp first;
  uint64_t dropped = 0;
};

class StreamDropDevice : public io::PacketDevice {
 public:
  StreamDropDevice(io::PacketDevice& inner, StreamDropper& dropper)
      : inner_(inner), dropper_(dropper) {}
  int fd() const override { return inner_.fd(); }
  std::string_view name() const override { return inner_.name(); }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override { return inner_.Read(buf); }
  absl::Status Write(std::span<const uint8_t> packet) override {
    if (dropper_.Drop(packet)) return absl::OkStatus();  // lost on the way
    return inner_.Write(packet);
  }

 private:
  io::PacketDevice& inner_;
  StreamDropper& dropper_;
};

// StreamCheck on both directions through one of our TUN devices.
class CheckingDevice : public io::PacketDevice {
 public:
  CheckingDevice(io::PacketDevice& inner, StreamCheck& out, StreamCheck* in)
      : inner_(inner), out_(out), in_(in), start_(io::EventLoop::MonotonicNow()) {}
  int fd() const override { return inner_.fd(); }
  std::string_view name() const override { return inner_.name(); }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override {
    absl::StatusOr<size_t> n = inner_.Read(buf);
    if (in_ != nullptr && n.ok() && *n > 0) in_->OnPacket(buf.first(*n), Since());
    return n;
  }
  absl::Status Write(std::span<const uint8_t> packet) override {
    out_.OnPacket(packet, Since());
    return inner_.Write(packet);
  }

 private:
  double Since() const { return (io::EventLoop::MonotonicNow() - start_).seconds(); }
  io::PacketDevice& inner_;
  StreamCheck& out_;
  StreamCheck* in_;
  Timestamp start_;
};

bool OffloadFromEnvironment() {
  const char* v = std::getenv("INTEROP_OFFLOAD");
  return v != nullptr && *v != 0 && std::string_view(v) != "0";
}

void OurPeer::Body() {
  absl::Cleanup gone = [this] {  // on every way out: path-manager commands go nowhere now
    std::lock_guard<std::mutex> lock(pm_mu_);
    connection_gone_ = true;
  };
  OurResult& r = result_;
  std::vector<std::unique_ptr<io::TunDevice>> tuns;
  for (int i = 0; i < config_.tun_count; ++i) {
    const PathAddresses p = Topology::Path(i);
    auto tun = io::TunDevice::Open(p.tun, io::TunOptions{.offload = config_.offload});
    absl::Status st = tun.status();
    if (st.ok()) st = io::SetLinkUp(p.tun, 1500);
    if (st.ok()) st = io::SetTxQueueLength(p.tun, io::kTunTxQueueLength);
    if (st.ok()) st = io::AddRoute(p.ours, 32, p.tun);
    if (st.ok()) st = io::AddRoute(Topology::Path(i, true).ours, 128, p.tun);
    if (!st.ok()) {
      r.status = st;
      ready_.set_value(st);
      return;
    }
    tuns.push_back(std::move(*tun));
  }
  std::unique_ptr<io::RawSocket> raw;
  if (config_.raw_socket) {
    io::RawSocketOptions ro;
    ro.local_addresses = {config_.local.ip};
    ro.local_ports = {config_.server ? config_.listen_port : config_.local.port};
    auto rs = io::RawSocket::Open(ro);
    if (!rs.ok()) {
      r.status = rs.status();
      ready_.set_value(r.status);
      return;
    }
    raw = std::move(*rs);
  }
  Endpoint ep(config_.endpoint, config_.seed * 7919 + 1);
  io::EventLoopOptions lo;
  lo.run_for = config_.timeout;
  lo.max_idle = Duration::Millis(100);
  auto loop_or = io::EventLoop::Create(&ep, lo);
  if (!loop_or.ok()) {
    r.status = loop_or.status();
    ready_.set_value(r.status);
    return;
  }
  io::EventLoop& loop = **loop_or;
  std::unique_ptr<CorruptingDevice> corrupter;
  std::unique_ptr<StreamDropper> dropper;
  std::vector<std::unique_ptr<StreamDropDevice>> drop_devices;
  if (config_.corrupt && config_.corrupt->drop_stream_offset) {
    dropper = std::make_unique<StreamDropper>(*config_.corrupt);
  }
  // One check per direction across every device (a connection's subflows use them all).
  StreamCheck check_out(config_.seed), check_in(config_.peer_seed.value_or(0));
  std::vector<std::unique_ptr<CheckingDevice>> checkers;
  for (int i = 0; i < config_.tun_count; ++i) {
    io::PacketDevice* dev = tuns[static_cast<size_t>(i)].get();
    if (dropper != nullptr) {
      drop_devices.push_back(std::make_unique<StreamDropDevice>(*dev, *dropper));
      dev = drop_devices.back().get();
    } else if (config_.corrupt && config_.corrupt->path == i) {
      corrupter = std::make_unique<CorruptingDevice>(*dev, *config_.corrupt);
      dev = corrupter.get();
    }
    if (config_.check_stream) {
      checkers.push_back(std::make_unique<CheckingDevice>(
          *dev, check_out, config_.peer_seed ? &check_in : nullptr));
      dev = checkers.back().get();
    }
    if (auto st = loop.AddDevice(dev,
                                 {Topology::Path(i).ours, Topology::Path(i, true).ours});
        !st.ok()) {
      r.status = st;
      ready_.set_value(st);
      return;
    }
  }
  if (raw != nullptr) {
    if (auto st = loop.AddDevice(raw.get(), {}); !st.ok()) {
      r.status = st;
      ready_.set_value(st);
      return;
    }
  }
  io::PcapWriter pcap;
  if (!config_.pcap.empty() && pcap.Open(config_.pcap).ok()) loop.SetCapture(&pcap);

  ConnectionId id = 0;
  if (config_.server) {
    ep.Listen(config_.listen_port);
  } else {
    r.started = Now();
    auto c = ep.Connect(r.started, config_.local, config_.remote);
    if (!c.ok()) {
      r.status = c.status();
      ready_.set_value(r.status);
      return;
    }
    id = *c;
  }
  ready_.set_value(absl::OkStatus());

  io::StreamPattern pattern(config_.seed);
  crypto::Sha256 hash;
  std::vector<uint8_t> buf(1 << 16);
  bool extra_opened = config_.extra_subflows.empty();
  int pm_commands_run = 0;
  bool close_called = false;
  uint16_t remote_port = config_.remote.port;
  int joins = 0;
  Timestamp all_done_at;
  struct rusage ru0;
  ::getrusage(RUSAGE_THREAD, &ru0);
  // What we saw of the connection last: the Endpoint lets it go once it is closed, finished
  // and read.
  bool seen = false;
  auto snapshot = [&r](const Connection& c) {
    r.fell_back = c.fallen_back();
    r.checksum = c.checksum_enabled();
    r.closed_cleanly = c.closed() && c.close_reason() == CloseReason::kNormal;
    r.close_reason = c.close_reason();
    r.mib = c.mib();
    r.tcp = c.SubflowMib();
  };
  loop.SetHook([&](Timestamp now) {
    while (auto e = ep.PollEvent()) {
      if (e->type == EndpointEvent::Type::kAccepted && id == 0) {
        id = e->id;
        r.started = now;
      }
    }
    Connection* c = ep.connection(id);
    if (c == nullptr) {
      if (seen) loop.Stop();  // released: closed, finished, read
      return;
    }
    seen = true;
    std::vector<PmCommand> commands;
    {
      std::lock_guard<std::mutex> lock(pm_mu_);
      commands.swap(pm_pending_);
    }
    for (const PmCommand& command : commands) {
      const absl::Status s = c->PathManagerCommand(now, command);
      r.subflow_log.push_back(absl::StrFormat("path-manager command %d at %.3fs: %s",
                                              pm_commands_run++, (now - r.started).seconds(),
                                              s.ToString()));
    }
    if (config_.server && remote_port == 0 && c->subflow_count() > 0) {
      remote_port = c->Subflows()[0].tuple.remote.port;
    }
    while (auto ev = c->PollEvent()) {
      if (ev->type != EventType::kReadable && ev->type != EventType::kWritable) {
        r.events.push_back(*ev);
      }
      if (ev->type == EventType::kAddressAnnounced && config_.join_announced) {
        const SocketAddress remote{ev->address.ip,
                                   ev->address.port != 0 ? ev->address.port : remote_port};
        // A fresh local port per join keeps every 4-tuple distinct.
        const SocketAddress local{config_.join_local,
                                  static_cast<uint16_t>(config_.local.port + 1 + joins++)};
        auto sid = ep.OpenSubflow(now, id, local, remote);
        r.subflow_log.push_back(absl::StrFormat(
            "join announced id %d %s: %s", ev->address_id, remote.ToString(),
            sid.ok() ? absl::StrCat("subflow ", *sid) : sid.status().ToString()));
      }
    }
    if (!extra_opened && c->fully_established() && !c->fallen_back()) {
      extra_opened = true;
      for (const FourTuple& t : config_.extra_subflows) {
        auto sid = ep.OpenSubflow(now, id, t.local, t.remote, config_.backup_extra);
        r.subflow_log.push_back(absl::StrFormat(
            "open %s: %s", t.ToString(),
            sid.ok() ? absl::StrCat("subflow ", *sid) : sid.status().ToString()));
      }
    }
    r.max_subflows = std::max(r.max_subflows, c->subflow_count());
    for (int i = 0; i < 1024; ++i) {
      const size_t n = c->Read(now, buf);
      if (n == 0) break;
      hash.Update(std::span<const uint8_t>(buf.data(), n));
      r.received += n;
      if (i == 0) r.NoteData(now);
    }
    received_.store(r.received);
    if (c->established()) {
      for (int i = 0; i < 1024 && r.sent < config_.send_bytes && c->write_space() > 0; ++i) {
        const size_t n = static_cast<size_t>(
            std::min<uint64_t>({buf.size(), config_.send_bytes - r.sent, c->write_space()}));
        pattern.Fill(r.sent, std::span<uint8_t>(buf.data(), n));
        const size_t w = c->Write(now, std::span<const uint8_t>(buf.data(), n));
        r.sent += w;
        if (w < n) break;
      }
      sent_.store(r.sent);
      if (r.sent == config_.send_bytes && !close_called) {
        c->Close(now);  // DATA_FIN after the last byte (RFC 8684 §3.3.3)
        close_called = true;
      }
    }
    for (const SubflowInfo& sf : c->Subflows()) {
      r.subflow_out_segs[sf.id] = sf.bytes_sent_segments;
      r.subflow_tuples[sf.id] = sf.tuple;
    }
    if (c->closed()) snapshot(*c);
    if (c->closed()) {
      // Stop once the subflows' FIN exchanges are done too (as a kernel socket finishes them),
      // within close_grace; the transfer's time is until Closed.
      if (r.finished == Timestamp()) r.finished = now;
      if (c->close_reason() != CloseReason::kNormal || c->finished() ||
          now - r.finished >= config_.close_grace) {
        loop.Stop();
      }
    } else if (!config_.require_clean_close && c->eof() && close_called &&
               c->send_buffered() == 0) {
      // Everything is delivered both ways; the close itself is held back.
      if (all_done_at == Timestamp()) all_done_at = now;
      if (now - all_done_at >= config_.close_grace) {
        r.finished = all_done_at;
        loop.Stop();
      }
    }
  });
  const absl::Status st = loop.Run();
  if (r.finished == Timestamp()) r.finished = Now();
  struct rusage ru1;
  ::getrusage(RUSAGE_THREAD, &ru1);
  auto secs = [](const struct timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  r.cpu_seconds = secs(ru1.ru_utime) + secs(ru1.ru_stime) - secs(ru0.ru_utime) - secs(ru0.ru_stime);
  r.received_digest = hash.Final();
  r.loop = loop.stats();
  r.endpoint_stats = ep.stats();
  for (const auto& t : tuns) r.gso_packets_in += t->gso_packets_read();
  if (corrupter != nullptr) r.corrupted = corrupter->corrupted();
  if (dropper != nullptr) r.corrupted = dropper->dropped;
  if (config_.check_stream) {
    r.stream_error_out = check_out.first_error();
    r.stream_error_in = check_in.first_error();
    r.stream_checked_out = check_out.checked_segments();
    r.stream_checked_in = check_in.checked_segments();
    r.stream_unmapped_out = check_out.unmapped_segments();
    r.stream_unmapped_in = check_in.unmapped_segments();
    r.stream_overlaps_out = check_out.overlapping_mappings();
    r.stream_first_overlap_out = check_out.first_overlap();
  }
  // What the kernel dropped at the TUN devices' queues (packets towards us it could not queue
  // while our loop was busy): losses the transfer had to recover from. (`ip` runs in this
  // thread's namespace; /sys/class/net would show the mount's.)
  for (int i = 0; i < config_.tun_count; ++i) {
    const CommandResult d = Run("ip -s -j link show dev " + Topology::Path(i).tun);
    const size_t tx = d.output.find("\"tx\"");
    const size_t at = tx == std::string::npos ? tx : d.output.find("\"dropped\":", tx);
    uint64_t v = 0;
    if (at != std::string::npos) {
      const size_t from = at + std::strlen("\"dropped\":");
      const size_t to = d.output.find_first_not_of("0123456789", from);
      if (absl::SimpleAtoi(d.output.substr(from, to - from), &v)) r.tun_tx_dropped += v;
    }
  }
  Connection* c = ep.connection(id);
  if (c != nullptr) {
    snapshot(*c);
    for (const SubflowInfo& s : c->Subflows()) {
      r.subflow_log.push_back(absl::StrFormat(
          "subflow %d %s state %d fully %d backup %d stale %d srtt %dus cwnd %u out_segs %u "
          "retrans %u",
          s.id, s.tuple.ToString(), static_cast<int>(s.state), s.fully_established, s.backup,
          s.stale, s.srtt.micros(), s.cwnd, s.bytes_sent_segments, s.retransmits));
    }
  }
  if (!seen) {
    r.status = st.ok() ? absl::InternalError("no connection") : st;
  } else if (!st.ok()) {
    r.status = st;
  } else if (c != nullptr && !c->closed() && config_.require_clean_close) {
    r.status = absl::InternalError("loop stopped before the connection closed");
  } else if (r.close_reason != CloseReason::kNormal && r.close_reason != CloseReason::kNone) {
    r.status = absl::AbortedError(
        absl::StrCat("connection closed: ", std::string(CloseReasonName(r.close_reason))));
  }
  if (!st.ok() && r.status.ok()) r.status = st;
  (void)pcap.Close();
}

std::string Describe(const OurResult& r) {
  std::string s = absl::StrFormat(
      "our stack: %s; sent %u, received %u, fell back %d, close %s, max subflows %u, "
      "%.3f s elapsed, %.3f s CPU\n",
      r.status.ToString(), r.sent, r.received, r.fell_back, CloseReasonName(r.close_reason),
      r.max_subflows, r.elapsed().seconds(), r.cpu_seconds);
  std::vector<std::string> ev;
  for (const Event& e : r.events) {
    std::ostringstream o;
    o << e;
    ev.push_back(o.str());
  }
  absl::StrAppend(&s, "  events: ", absl::StrJoin(ev, " "), "\n  mib:");
  r.mib.ForEach([&](std::string_view name, uint64_t v) {
    if (v != 0) absl::StrAppend(&s, " ", std::string(name), "=", v);
  });
  absl::StrAppend(&s, "\n  tcp:");
  r.tcp.ForEach([&](std::string_view name, uint64_t v) {
    if (v != 0) absl::StrAppend(&s, " ", std::string(name), "=", v);
  });
  absl::StrAppendFormat(&s,
                        "\n  endpoint: in %u out %u malformed %u bad_csum %u strays %u rsts %u"
                        "\n  loop: iterations %u waits %u timers %u in %u out %u drops %u"
                        " super-segments out %u, in %u"
                        "\n  TUN queue drops towards us: %u\n",
                        r.endpoint_stats.packets_in, r.endpoint_stats.packets_out,
                        r.endpoint_stats.malformed, r.endpoint_stats.bad_checksum,
                        r.endpoint_stats.strays, r.endpoint_stats.resets_sent, r.loop.iterations,
                        r.loop.waits, r.loop.timer_fires, r.loop.packets_in, r.loop.packets_out,
                        r.loop.write_drops, r.loop.super_segments_out, r.gso_packets_in,
                        r.tun_tx_dropped);
  for (const auto& [id, segs] : r.subflow_out_segs) {
    absl::StrAppendFormat(&s, "  subflow %u sent %u segments\n", id, segs);
  }
  for (const std::string& l : r.subflow_log) absl::StrAppend(&s, "  ", l, "\n");
  if (r.stream_checked_out + r.stream_checked_in > 0) {
    absl::StrAppendFormat(&s,
                          "  stream check: %u segments out, %u in (%u, %u without a mapping; "
                          "%u of ours overlapping an earlier mapping%s%s); out: %s; in: %s\n",
                          r.stream_checked_out, r.stream_checked_in, r.stream_unmapped_out,
                          r.stream_unmapped_in, r.stream_overlaps_out,
                          r.stream_overlaps_out > 0 ? ", first " : "",
                          r.stream_first_overlap_out,
                          r.stream_error_out.empty() ? "ok" : r.stream_error_out,
                          r.stream_error_in.empty() ? "ok" : r.stream_error_in);
  }
  return s;
}

}  // namespace mptcp::interop

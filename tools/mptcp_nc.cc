// mptcp_nc: netcat over this library's userspace MPTCP stack, reached through TUN devices.
//
//   mptcp_nc [flags] -l PORT          serve one connection on PORT
//   mptcp_nc [flags] ADDR PORT        connect to ADDR:PORT
//
// Copies stdin to the connection and the connection to stdout, byte for byte. On stdin EOF it
// half-closes (DATA_FIN, RFC 8684 §3.3.3) and keeps reading; it exits once the peer has closed
// too (exit 0), or on a reset, an abort or an error (exit 1), or on SIGINT/SIGTERM (MP_FASTCLOSE,
// exit 130).
//
// At the end it reports on stderr, as iperf3 does (unless -q/--quiet): the time from the
// connection being established to the last byte (received, or acknowledged by the peer), the
// bytes the application sent and received with their goodput (MiB/s and Mbit/s), and one line
// per subflow: its addresses, payload bytes acknowledged and received, retransmitted segments
// and smoothed RTT. Lines start "mptcp_nc: report:".
//
// Path management speaks Linux's words (docs/path_management.md): --endpoint
// ADDR[,port=P][,signal|subflow|backup|fullmesh][,id=N] (repeatable), --limits
// subflows=N,add_addr_accepted=M, --pm in-kernel|ndiffports|manual, and timed actions such as
// --at 2s,endpoint-change,id=2,backup. A listener's further --local addresses are announced.
//
// Our stack's addresses (--local) live behind TUN devices, one per address (mptcp0, mptcp1,
// ...): the tool creates them (or attaches to existing ones of that name), brings them up and
// routes each address to its device, unless --noconfigure. The host must then forward between
// those devices and the way to the peer (net.ipv4.ip_forward=1). The addresses must not be
// configured on any interface, or the host's own TCP would answer for them. See README.md,
// "Talking to Linux MPTCP".
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "io/event_loop.h"
#include "io/net_config.h"
#include "io/pcap_writer.h"
#include "io/tun_device.h"
#include "mptcp/cc/controller.h"
#include "mptcp/endpoint.h"
#include "mptcp/path_manager/endpoints.h"
#include "mptcp/path_manager/factory.h"
#include "mptcp/scheduler/factory.h"

ABSL_FLAG(int, l, 0, "listen on this port and serve one connection (instead of connecting)");
ABSL_FLAG(std::string, local, "192.0.2.1",
          "our stack's address(es), comma-separated; the first carries the initial subflow");
ABSL_FLAG(std::string, tun, "mptcp", "TUN device name prefix: one device per local address");
ABSL_FLAG(bool, offload, false,
          "TUN devices with virtio-net headers and TCP offload: send GSO super-segments (cut "
          "by the kernel) and take the kernel's coalesced segments whole, up to 64 KiB per "
          "system call (no effect on DSS-checksummed connections' sending)");
ABSL_FLAG(bool, configure, true,
          "bring the TUN devices up and route the local addresses to them (--noconfigure: "
          "they are set up already)");
ABSL_FLAG(int, local_port, 0, "client: the initial subflow's source port (0: pick one)");
ABSL_FLAG(bool, backup, false, "open the extra --subflow subflows as backups (MP_JOIN B bit)");
ABSL_FLAG(bool, join_announced, false,
          "client: open a subflow to every address the peer announces with ADD_ADDR");
ABSL_FLAG(bool, v, false, "log connection events to stderr");
ABSL_FLAG(bool, quiet, false, "no end-of-run report on stderr (also -q)");
ABSL_FLAG(bool, mib, false, "print our MIB counters (Linux nstat names) to stderr on exit");
ABSL_FLAG(bool, checksum, false, "ask for DSS checksums (RFC 8684 §3.3.1)");
ABSL_FLAG(std::string, cc, "lia",
          "congestion control of the subflows: lia (RFC 6356, coupled; the default), olia, "
          "balia (coupled), newreno or cubic (uncoupled)");
ABSL_FLAG(std::string, sched, "default",
          "the connection's scheduler: default (lowest RTT first), round-robin (rr), redundant, "
          "blest or ecf (docs/schedulers.md)");
ABSL_FLAG(int, timeout, 0, "give up after this many seconds (0: never)");
ABSL_FLAG(std::string, pcap, "", "write every packet our stack sends or receives to this pcap");
ABSL_FLAG(uint64_t, seed, 0, "seed for keys, nonces and ISNs (0: from the clock and pid)");
ABSL_FLAG(std::string, pm, "",
          "path manager: in-kernel (Linux's endpoints and limits), ndiffports or manual "
          "(default: in-kernel when --endpoint is given or a listener has several --local "
          "addresses, else manual)");
ABSL_FLAG(std::string, limits, "",
          "in-kernel limits, as `ip mptcp limits set`: subflows=N,add_addr_accepted=M "
          "(Linux's defaults: subflows=2, add_addr_accepted=0)");
ABSL_FLAG(int, ndiffports, 2, "--pm=ndiffports: subflows in all over the initial address pair");

namespace mptcp::tools {
namespace {

std::atomic<io::EventLoop*> g_loop{nullptr};
std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted.store(true);
  if (io::EventLoop* l = g_loop.load()) l->Stop();
}

// absl flags are C identifiers; accept the spelled-out forms (--join-announced) too, and pull
// out the repeatable --subflow LOCAL[,REMOTE], --endpoint SPEC and --at WHEN,ACTION,...
std::vector<char*> PreprocessArgs(int argc, char** argv, std::vector<std::string>& storage,
                                  std::vector<std::string>& subflows,
                                  std::vector<std::string>& endpoints,
                                  std::vector<std::string>& actions) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && a == "-q") a = "--quiet";
    if (i > 0 && a.rfind("--", 0) == 0 && a.size() > 2) {
      const size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      std::replace(name.begin(), name.end(), '-', '_');
      std::vector<std::string>* list = name == "subflow"    ? &subflows
                                       : name == "endpoint" ? &endpoints
                                       : name == "at"       ? &actions
                                                            : nullptr;
      if (list != nullptr) {
        if (eq != std::string::npos) {
          list->push_back(a.substr(eq + 1));
        } else if (i + 1 < argc) {
          list->push_back(argv[++i]);
        }
        continue;
      }
      a = "--" + name + (eq == std::string::npos ? "" : a.substr(eq));
    }
    out.push_back(a);
  }
  storage = std::move(out);
  std::vector<char*> ptrs;
  for (std::string& s : storage) ptrs.push_back(s.data());
  return ptrs;
}

std::optional<IpAddress> ParseIp(const std::string& s) { return IpAddress::Parse(s); }

// A timed path-manager action: `--at 2s,endpoint-change,id=2,backup`.
struct TimedAction {
  Duration at;
  PmCommand command;
  std::string text;
  bool done = false;
};

// Parses WHEN,ACTION[,ARGS]: WHEN is 2s, 1.5s or 500ms after start; ACTION is one of
// endpoint-add,SPEC  endpoint-del,id=N  endpoint-change,id=N,[no]backup[,[no]fullmesh]
// endpoint-flush  limits,subflows=N,add_addr_accepted=M (ip-mptcp(8)'s words).
absl::StatusOr<TimedAction> ParseTimedAction(const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ',');
  if (parts.size() < 2) return absl::InvalidArgumentError("--at needs WHEN,ACTION");
  TimedAction t;
  t.text = spec;
  double v = 0;
  const std::string& when = parts[0];
  if (when.size() > 2 && when.substr(when.size() - 2) == "ms" &&
      absl::SimpleAtod(when.substr(0, when.size() - 2), &v) && v >= 0) {
    t.at = Duration::Micros(static_cast<int64_t>(v * 1000));
  } else if (when.size() > 1 && when.back() == 's' &&
             absl::SimpleAtod(when.substr(0, when.size() - 1), &v) && v >= 0) {
    t.at = Duration::Micros(static_cast<int64_t>(v * 1e6));
  } else {
    return absl::InvalidArgumentError("bad --at time '" + when + "' (e.g. 2s, 500ms)");
  }
  const std::string& action = parts[1];
  std::string rest;
  for (size_t i = 2; i < parts.size(); ++i) rest += (i > 2 ? "," : "") + parts[i];
  auto id_of = [&](const std::string& p) -> std::optional<uint8_t> {
    int id = 0;
    if (p.rfind("id=", 0) == 0 && absl::SimpleAtoi(p.substr(3), &id) && id >= 0 && id <= 255) {
      return static_cast<uint8_t>(id);
    }
    return std::nullopt;
  };
  if (action == "endpoint-add") {
    auto e = ParsePmEndpoint(rest);
    if (!e.ok()) return e.status();
    t.command = PmCommand{.type = PmCommand::Type::kEndpointAdd, .endpoint = *e};
  } else if (action == "endpoint-del" || action == "endpoint-delete") {
    auto id = parts.size() == 3 ? id_of(parts[2]) : std::nullopt;
    if (!id) return absl::InvalidArgumentError("--at endpoint-del needs id=N");
    t.command = PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = *id};
  } else if (action == "endpoint-change") {
    auto id = parts.size() >= 3 ? id_of(parts[2]) : std::nullopt;
    if (!id) return absl::InvalidArgumentError("--at endpoint-change needs id=N");
    t.command = PmCommand{.type = PmCommand::Type::kEndpointChange};
    t.command.endpoint.id = *id;
    for (size_t i = 3; i < parts.size(); ++i) {
      if (parts[i] == "backup") {
        t.command.endpoint.backup = true;
      } else if (parts[i] == "nobackup") {
        t.command.endpoint.backup = false;
      } else if (parts[i] == "fullmesh") {
        t.command.endpoint.fullmesh = true;
      } else if (parts[i] == "nofullmesh") {
        t.command.endpoint.fullmesh = false;
      } else {
        return absl::InvalidArgumentError("bad endpoint-change word '" + parts[i] +
                                          "' (backup, nobackup, fullmesh, nofullmesh)");
      }
    }
  } else if (action == "endpoint-flush") {
    t.command = PmCommand{.type = PmCommand::Type::kFlush};
  } else if (action == "limits") {
    auto l = ParsePmLimits(rest);
    if (!l.ok()) return l.status();
    t.command = PmCommand{.type = PmCommand::Type::kSetLimits, .limits = *l};
  } else {
    return absl::InvalidArgumentError(
        "unknown --at action '" + action +
        "' (endpoint-add, endpoint-del, endpoint-change, endpoint-flush, limits)");
  }
  return t;
}

std::string Stamp(Timestamp now, Timestamp start) {
  return absl::StrFormat("[%9.3f]", (now - start).seconds());
}

// The end-of-run report (as iperf3 prints one), gathered while the loop runs.
struct RunReport {
  uint64_t sent = 0, received = 0;  // application bytes: stdin -> connection -> stdout
  Timestamp established;            // Timestamp(): not (yet)
  Timestamp send_done;              // stdin's last byte acknowledged by the peer
  Timestamp recv_done;              // the peer's last byte written to stdout (EOF)
  bool fell_back = false;
  // Data sent again on another subflow (reinjected after a failure, or opportunistically
  // retransmitted): the subflows' acknowledged bytes may count it twice.
  uint64_t resent = 0;
  // Each subflow as last seen, including those gone before the end.
  std::map<SubflowId, SubflowInfo> subflows;
  Timestamp subflows_at;

  void TakeSubflows(const Connection& c) {
    fell_back = c.fallen_back();
    resent = c.mib().reinjected_bytes;
    for (const SubflowInfo& s : c.Subflows()) subflows.insert_or_assign(s.id, s);
  }
};

// Refresh the per-subflow figures this often while the connection is open (and at its end):
// cheap, and a subflow that goes away mid-run keeps figures at most this old.
constexpr Duration kSubflowSnapshotEvery = Duration::Millis(50);

void PrintReport(const RunReport& r, Timestamp end) {
  if (r.established == Timestamp()) {
    std::fprintf(stderr, "mptcp_nc: report: the connection was never established\n");
    return;
  }
  auto until = [&](Timestamp done) { return (done == Timestamp() ? end : done) - r.established; };
  const Duration send_time = until(r.send_done), recv_time = until(r.recv_done);
  std::fprintf(stderr,
               "mptcp_nc: report: %.3f s from established to the last byte; %s\n",
               std::max(send_time, recv_time).seconds(),
               r.fell_back ? "fell back to TCP" : "MPTCP");
  auto direction = [](const char* what, uint64_t bytes, Duration d) {
    const double s = d.seconds();
    const double bps = s > 0 && bytes > 0 ? static_cast<double>(bytes) / s : 0;
    std::fprintf(stderr,
                 "mptcp_nc: report: %s %llu bytes in %.3f s: %.2f MiB/s, %.2f Mbit/s\n", what,
                 static_cast<unsigned long long>(bytes), bytes > 0 ? s : 0.0, bps / (1 << 20),
                 bps * 8 / 1e6);
  };
  direction("sent", r.sent, send_time);
  direction("received", r.received, recv_time);
  if (!r.fell_back) {
    std::fprintf(stderr, "mptcp_nc: report: resent on another subflow %llu B\n",
                 static_cast<unsigned long long>(r.resent));
  }
  for (const auto& [id, s] : r.subflows) {
    std::fprintf(stderr,
                 "mptcp_nc: report: subflow %u %s -> %s: acked %llu B, received %llu B, "
                 "retransmits %llu, srtt %.3f ms\n",
                 static_cast<unsigned>(id), s.tuple.local.ToString().c_str(),
                 s.tuple.remote.ToString().c_str(), static_cast<unsigned long long>(s.bytes_acked),
                 static_cast<unsigned long long>(s.bytes_received),
                 static_cast<unsigned long long>(s.retransmits), s.srtt.seconds() * 1e3);
  }
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "mptcp_nc: %s\n", msg.c_str());
  return 1;
}

// Makes a pipe or socket non-blocking (regular files and ttys are left alone) and restores it.
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
      flags_ = ::fcntl(fd, F_GETFL);
      if (flags_ >= 0) (void)::fcntl(fd, F_SETFL, flags_ | O_NONBLOCK);
    }
  }
  ~NonBlocking() {
    if (flags_ >= 0) (void)::fcntl(fd_, F_SETFL, flags_);
  }

 private:
  int fd_;
  int flags_ = -1;
};

int Main(int argc, char** argv) {
  std::vector<std::string> storage, subflow_specs, endpoint_specs, action_specs;
  std::vector<char*> args =
      PreprocessArgs(argc, argv, storage, subflow_specs, endpoint_specs, action_specs);
  absl::SetProgramUsageMessage(
      "netcat over userspace MPTCP behind TUN devices.\n"
      "  mptcp_nc [flags] -l PORT     serve one connection\n"
      "  mptcp_nc [flags] ADDR PORT   connect\n"
      "  --subflow LOCAL[,REMOTE]     (repeatable) client: an extra subflow from LOCAL to\n"
      "                               REMOTE (default ADDR) once the connection is up\n"
      "  --endpoint ADDR[,port=P][,signal|subflow|backup|fullmesh][,id=N]\n"
      "                               (repeatable) an `ip mptcp endpoint` of this host\n"
      "  --at WHEN,ACTION[,ARGS]      (repeatable) e.g. 2s,endpoint-change,id=2,backup;\n"
      "                               3s,endpoint-del,id=3; 1s,endpoint-add,SPEC;\n"
      "                               4s,endpoint-flush; 1s,limits,subflows=3");
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  const bool verbose = absl::GetFlag(FLAGS_v);
  const int listen_port = absl::GetFlag(FLAGS_l);
  const bool server = listen_port != 0;

  const std::string cc_name = absl::GetFlag(FLAGS_cc);
  const std::optional<cc::CcAlgorithm> cc_algorithm = cc::CcAlgorithmFromName(cc_name);
  if (!cc_algorithm) {
    return Fail(absl::StrFormat("unknown --cc '%s': one of %s", cc_name,
                                std::string(cc::kCcAlgorithmNames)));
  }
  const absl::StatusOr<SchedulerKind> sched = ParseSchedulerKind(absl::GetFlag(FLAGS_sched));
  if (!sched.ok()) return Fail(absl::StrCat("--sched: ", sched.status().message()));

  // Our addresses: --local, then any --subflow LOCAL not listed there.
  std::vector<IpAddress> locals;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_local), ',', absl::SkipEmpty())) {
    auto ip = ParseIp(std::string(s));
    if (!ip) return Fail(absl::StrFormat("bad --local address '%s'", std::string(s)));
    locals.push_back(*ip);
  }
  if (locals.empty()) return Fail("--local needs at least one address");
  SocketAddress remote;
  if (!server) {
    if (positional.size() != 3) {
      return Fail("usage: mptcp_nc [flags] ADDR PORT  |  mptcp_nc [flags] -l PORT (--help)");
    }
    auto ip = ParseIp(positional[1]);
    int port = 0;
    if (!ip || !absl::SimpleAtoi(positional[2], &port) || port <= 0 || port > 65535) {
      return Fail(absl::StrFormat("bad address or port: %s %s", positional[1], positional[2]));
    }
    remote = {*ip, static_cast<uint16_t>(port)};
  } else if (positional.size() != 1 || listen_port < 0 || listen_port > 65535) {
    return Fail("usage: mptcp_nc [flags] -l PORT");
  }
  // Path management: --endpoint and --limits in Linux's words, --pm, timed --at actions.
  PathManagerConfig pmc;
  for (const std::string& spec : endpoint_specs) {
    auto e = ParsePmEndpoint(spec);
    if (!e.ok()) return Fail(absl::StrFormat("bad --endpoint '%s': %s", spec,
                                             std::string(e.status().message())));
    pmc.endpoints.push_back(*e);
  }
  // Old flags mapped onto endpoints: a listener's further --local addresses are signal
  // endpoints (announced with ADD_ADDR), unless --endpoint says otherwise.
  if (server && endpoint_specs.empty()) {
    for (size_t i = 1; i < locals.size(); ++i) {
      PmEndpoint e;
      e.address = locals[i];
      e.signal = true;
      pmc.endpoints.push_back(e);
    }
  }
  if (absl::Status st = NormalizePmEndpoints(pmc.endpoints); !st.ok()) {
    return Fail(absl::StrFormat("--endpoint: %s", std::string(st.message())));
  }
  if (!absl::GetFlag(FLAGS_limits).empty()) {
    auto l = ParsePmLimits(absl::GetFlag(FLAGS_limits));
    if (!l.ok()) return Fail(absl::StrFormat("--limits: %s", std::string(l.status().message())));
    pmc.limits = *l;
  }
  if (!absl::GetFlag(FLAGS_pm).empty()) {
    auto k = ParsePathManagerKind(absl::GetFlag(FLAGS_pm));
    if (!k.ok()) return Fail(absl::StrFormat("--pm: %s", std::string(k.status().message())));
    pmc.kind = *k;
  } else {
    pmc.kind = pmc.endpoints.empty() && absl::GetFlag(FLAGS_limits).empty()
                   ? PathManagerKind::kManual
                   : PathManagerKind::kInKernel;
  }
  pmc.ndiffports = static_cast<uint32_t>(std::max(0, absl::GetFlag(FLAGS_ndiffports)));
  if (absl::Status st = ValidatePathManagerConfig(pmc); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  std::vector<TimedAction> timed;
  for (const std::string& spec : action_specs) {
    auto t = ParseTimedAction(spec);
    if (!t.ok()) return Fail(absl::StrFormat("bad --at '%s': %s", spec,
                                             std::string(t.status().message())));
    timed.push_back(*t);
  }
  // Endpoint addresses (configured now or added later) live behind TUN devices too.
  auto add_local = [&](const IpAddress& ip) {
    if (std::find(locals.begin(), locals.end(), ip) == locals.end()) locals.push_back(ip);
  };
  for (const PmEndpoint& e : pmc.endpoints) add_local(e.address);
  for (const TimedAction& t : timed) {
    if (t.command.type == PmCommand::Type::kEndpointAdd) add_local(t.command.endpoint.address);
  }

  std::vector<std::pair<IpAddress, IpAddress>> extra;
  for (const std::string& spec : subflow_specs) {
    std::vector<std::string> parts = absl::StrSplit(spec, ',');
    auto l = ParseIp(parts[0]);
    auto r = parts.size() > 1 ? ParseIp(parts[1]) : std::optional<IpAddress>(remote.ip);
    if (!l || !r || parts.size() > 2) return Fail("bad --subflow '" + spec + "'");
    if (std::find(locals.begin(), locals.end(), *l) == locals.end()) locals.push_back(*l);
    extra.emplace_back(*l, *r);
  }

  // One TUN device per local address.
  std::vector<std::unique_ptr<io::TunDevice>> tuns;
  for (size_t i = 0; i < locals.size(); ++i) {
    const std::string name = absl::StrFormat("%s%u", absl::GetFlag(FLAGS_tun), i);
    auto tun = io::TunDevice::Open(name, io::TunOptions{.offload = absl::GetFlag(FLAGS_offload)});
    if (!tun.ok()) return Fail(std::string(tun.status().message()));
    if (absl::GetFlag(FLAGS_configure)) {
      absl::Status st = io::SetLinkUp(std::string((*tun)->name()), 1500);
      if (st.ok()) st = io::SetTxQueueLength(std::string((*tun)->name()), io::kTunTxQueueLength);
      if (st.ok()) st = io::AddRoute(locals[i], locals[i].is_v4() ? 32 : 128,
                                     std::string((*tun)->name()));
      if (!st.ok()) return Fail(std::string(st.message()));
    }
    if (verbose) {
      std::fprintf(stderr, "mptcp_nc: %s on %s\n", locals[i].ToString().c_str(),
                   std::string((*tun)->name()).c_str());
    }
    tuns.push_back(std::move(*tun));
  }
  EndpointConfig cfg;
  cfg.connection.scheduler = *sched;
  cfg.connection.checksum = absl::GetFlag(FLAGS_checksum);
  cfg.connection.congestion_control = *cc_algorithm;
  cfg.connection.path_manager = pmc;
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (seed == 0) {
    seed = static_cast<uint64_t>(io::EventLoop::MonotonicNow().nanos()) ^
           (static_cast<uint64_t>(::getpid()) << 32);
  }
  Endpoint ep(cfg, seed);
  io::EventLoopOptions lo;
  if (absl::GetFlag(FLAGS_timeout) > 0) lo.run_for = Duration::Seconds(absl::GetFlag(FLAGS_timeout));
  lo.max_idle = Duration::Millis(200);
  auto loop_or = io::EventLoop::Create(&ep, lo);
  if (!loop_or.ok()) return Fail(std::string(loop_or.status().message()));
  io::EventLoop& loop = **loop_or;
  for (size_t i = 0; i < tuns.size(); ++i) {
    if (auto st = loop.AddDevice(tuns[i].get(), {locals[i]}); !st.ok()) {
      return Fail(std::string(st.message()));
    }
  }
  io::PcapWriter pcap;
  if (!absl::GetFlag(FLAGS_pcap).empty()) {
    if (auto st = pcap.Open(absl::GetFlag(FLAGS_pcap)); !st.ok()) {
      return Fail(std::string(st.message()));
    }
    loop.SetCapture(&pcap);
  }

  const Timestamp start = io::EventLoop::MonotonicNow();
  ConnectionId id = 0;
  uint16_t local_port = static_cast<uint16_t>(absl::GetFlag(FLAGS_local_port));
  if (server) {
    ep.Listen(static_cast<uint16_t>(listen_port));
    if (verbose) std::fprintf(stderr, "mptcp_nc: listening on port %d\n", listen_port);
  } else {
    if (local_port == 0) local_port = static_cast<uint16_t>(40000 + seed % 20000);
    auto c = ep.Connect(start, {locals[0], local_port}, remote);
    if (!c.ok()) return Fail(std::string(c.status().message()));
    id = *c;
    if (verbose) {
      std::fprintf(stderr, "mptcp_nc: connecting %s -> %s\n",
                   SocketAddress{locals[0], local_port}.ToString().c_str(),
                   remote.ToString().c_str());
    }
  }

  NonBlocking nb_in(0), nb_out(1);
  bool stdin_pollable = true, stdin_watched = false, stdin_ready = false, stdin_eof = false;
  bool stdout_pollable = true, stdout_watched = false, stdout_ready = true;
  if (auto st = loop.WatchFd(0, 0, [&](uint32_t) { stdin_ready = true; }); !st.ok()) {
    stdin_pollable = false;  // a regular file or /dev/null: always readable
  }
  if (auto st = loop.WatchFd(1, 0, [&](uint32_t) { stdout_ready = true; }); !st.ok()) {
    stdout_pollable = false;
  }
  std::vector<uint8_t> in_buf(1 << 16);
  std::vector<uint8_t> out_pending;
  size_t out_off = 0;
  bool extra_opened = extra.empty();
  bool close_sent = false;
  int joins = 0;
  int exit_code = 0;
  Timestamp both_closed_at;
  // After a clean close: how long to wait for the subflows' FIN exchanges (Connection::finished).
  constexpr Duration kLinger = Duration::Seconds(3);
  Timestamp linger_until;
  std::string error;
  // The connection's counters and close reason as last seen (the Endpoint lets it go once it
  // is closed, finished and read).
  MptcpMib last_mib;
  tcp::TcpMib last_tcp;
  CloseReason last_reason = CloseReason::kNone;
  RunReport report;
  // The Endpoint releases a connection once it is closed, finished and read, so keep what
  // the summary prints before any call that may release it.
  auto snapshot = [&](const Connection& c) {
    last_reason = c.close_reason();
    last_mib = c.mib();
    last_tcp = c.SubflowMib();
    report.TakeSubflows(c);
  };

  g_loop.store(&loop);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto log_event = [&](Timestamp now, const Event& e) {
    if (!verbose || e.type == EventType::kReadable || e.type == EventType::kWritable) return;
    std::ostringstream o;
    o << e;
    std::fprintf(stderr, "%s %s\n", Stamp(now, start).c_str(), o.str().c_str());
  };

  loop.SetHook([&](Timestamp now) {
    while (auto e = ep.PollEvent()) {
      if (e->type == EndpointEvent::Type::kAccepted && id == 0) {
        id = e->id;
        ep.StopListening(static_cast<uint16_t>(listen_port));  // one connection
        if (verbose) std::fprintf(stderr, "%s accepted\n", Stamp(now, start).c_str());
      }
    }
    Connection* c = ep.connection(id);
    if (c == nullptr) {
      // Seen before and now gone: the Endpoint let it go (closed, finished, read).
      if (id != 0) loop.Stop();
      return;
    }
    if (report.established == Timestamp() && c->established()) report.established = now;
    if (c->closed()) {
      snapshot(*c);
    } else {
      last_reason = c->close_reason();
      if (now - report.subflows_at >= kSubflowSnapshotEvery) {
        report.TakeSubflows(*c);
        report.subflows_at = now;
      }
    }
    for (TimedAction& t : timed) {
      if (t.done || now - start < t.at) continue;
      t.done = true;
      // For the whole Endpoint, as `ip mptcp` changes a namespace (later connections too).
      const absl::Status st = ep.PathManagerCommand(now, t.command);
      if (verbose || !st.ok()) {
        std::fprintf(stderr, "%s --at %s: %s\n", Stamp(now, start).c_str(), t.text.c_str(),
                     st.ok() ? "done" : std::string(st.message()).c_str());
      }
    }
    while (auto ev = c->PollEvent()) {
      log_event(now, *ev);
      if (ev->type == EventType::kAddressAnnounced && absl::GetFlag(FLAGS_join_announced) &&
          !server) {
        const IpAddress from = locals.size() > 1 ? locals[1 + joins % (locals.size() - 1)]
                                                 : locals[0];
        const SocketAddress to{ev->address.ip,
                               ev->address.port != 0 ? ev->address.port : remote.port};
        const SocketAddress me{from, static_cast<uint16_t>(local_port + 1 + joins)};
        ++joins;
        auto sid = ep.OpenSubflow(now, id, me, to);
        if (verbose) {
          std::fprintf(stderr, "%s join %s -> %s: %s\n", Stamp(now, start).c_str(),
                       me.ToString().c_str(), to.ToString().c_str(),
                       sid.ok() ? "ok" : std::string(sid.status().message()).c_str());
        }
      }
    }
    if (!extra_opened && c->fully_established() && !c->fallen_back()) {
      extra_opened = true;
      for (size_t i = 0; i < extra.size(); ++i) {
        const SocketAddress me{extra[i].first, static_cast<uint16_t>(local_port + 100 + i)};
        const SocketAddress to{extra[i].second, remote.port};
        auto sid = ep.OpenSubflow(now, id, me, to, absl::GetFlag(FLAGS_backup));
        if (verbose || !sid.ok()) {
          std::fprintf(stderr, "%s subflow %s -> %s: %s\n", Stamp(now, start).c_str(),
                       me.ToString().c_str(), to.ToString().c_str(),
                       sid.ok() ? "opening" : std::string(sid.status().message()).c_str());
        }
      }
    }
    // Connection -> stdout.
    for (int i = 0; i < 64; ++i) {
      if (out_off == out_pending.size()) {
        out_pending.resize(in_buf.size());
        const size_t n = c->Read(now, out_pending);
        out_pending.resize(n);
        report.received += n;
        out_off = 0;
        if (n == 0) break;
      }
      if (stdout_pollable && !stdout_ready) break;
      const ssize_t w = ::write(1, out_pending.data() + out_off, out_pending.size() - out_off);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          stdout_ready = false;
          break;
        }
        error = absl::StrFormat("stdout: %s", std::strerror(errno));
        c->Abort(now);
        loop.Stop();
        return;
      }
      out_off += static_cast<size_t>(w);
    }
    const bool want_out = stdout_pollable && out_off < out_pending.size();
    if (want_out != stdout_watched) {
      (void)loop.ModifyFd(1, want_out ? uint32_t{EPOLLOUT} : 0u);
      stdout_watched = want_out;
      if (want_out) stdout_ready = false;
    }
    // stdin -> connection.
    if (c->established() && !stdin_eof) {
      for (int i = 0; i < 64 && c->write_space() > 0 && (!stdin_pollable || stdin_ready); ++i) {
        const size_t want = std::min(in_buf.size(), c->write_space());
        const ssize_t n = ::read(0, in_buf.data(), want);
        if (n > 0) {
          report.sent +=
              c->Write(now, std::span<const uint8_t>(in_buf.data(), static_cast<size_t>(n)));
          if (stdin_pollable) stdin_ready = false;  // epoll says when there is more
          continue;
        }
        if (n == 0) {
          stdin_eof = true;
          break;
        }
        if (errno == EAGAIN || errno == EINTR) {
          stdin_ready = false;
          break;
        }
        error = absl::StrFormat("stdin: %s", std::strerror(errno));
        stdin_eof = true;
        break;
      }
      if (!stdin_pollable && !stdin_eof && c->write_space() > 0) loop.RunSoon();
    }
    const bool want_in = stdin_pollable && !stdin_eof && c->established() && c->write_space() > 0;
    if (want_in != stdin_watched) {
      (void)loop.ModifyFd(0, want_in ? uint32_t{EPOLLIN} : 0u);
      stdin_watched = want_in;
    }
    if (stdin_eof && !close_sent && c->established()) {
      c->Close(now);  // half-close: DATA_FIN after the last byte
      close_sent = true;
      if (verbose) std::fprintf(stderr, "%s stdin EOF: DATA_FIN queued\n", Stamp(now, start).c_str());
    }
    const bool stdout_done = out_off == out_pending.size() && c->readable() == 0;
    // Each direction's end for the report: our last byte acknowledged; the peer's last byte out.
    if (report.send_done == Timestamp() && stdin_eof && c->send_buffered() == 0 &&
        (!c->closed() || c->close_reason() == CloseReason::kNormal)) {
      report.send_done = now;
    }
    if (report.recv_done == Timestamp() && c->eof() && stdout_done) report.recv_done = now;
    if (c->closed()) {
      if (c->close_reason() != CloseReason::kNormal) {
        error = absl::StrFormat("connection closed: %s",
                                std::string(CloseReasonName(c->close_reason())));
        loop.Stop();
      } else if (stdout_done) {
        // Finish the subflows' FIN exchanges before exiting, as a kernel socket would (else
        // the peer resends its FINs to a device that is gone), but not for ever: a subflow on
        // a dead path may never finish.
        if (linger_until == Timestamp()) linger_until = now + kLinger;
        if (c->finished() || now >= linger_until) loop.Stop();
      }
    } else if (close_sent && c->eof() && stdout_done && c->send_buffered() == 0) {
      // Both directions are finished and our data is acknowledged; give the subflows a few
      // seconds to close, but do not wait for one stuck on a dead path.
      if (both_closed_at == Timestamp()) both_closed_at = now;
      if (now - both_closed_at > Duration::Seconds(5)) loop.Stop();
    }
  });

  absl::Status st = loop.Run();
  const Timestamp stopped = io::EventLoop::MonotonicNow();
  g_loop.store(nullptr);
  Connection* c = ep.connection(id);
  if (g_interrupted.load() && c != nullptr && !c->closed()) {
    // Tell the peer: MP_FASTCLOSE and RSTs (RFC 8684 §3.5), flushed once.
    const Timestamp now = io::EventLoop::MonotonicNow();
    c->Abort(now);
    std::vector<uint8_t> pkt(65600);
    for (int i = 0; i < 64; ++i) {
      if (c != nullptr) snapshot(*c);
      const TransmitResult t = ep.PollTransmit(now, pkt);
      c = ep.connection(id);  // the last RST may have released it
      if (!t) break;
      for (size_t k = 0; k < locals.size(); ++k) {
        if (locals[k] == t->path.local.ip) {
          (void)tuns[k]->Write(std::span<const uint8_t>(pkt.data(), t->len));
        }
      }
    }
    error = "interrupted";
    exit_code = 130;
  }
  if (!st.ok()) error = std::string(st.message());
  c = ep.connection(id);
  if (c != nullptr) snapshot(*c);
  if (!g_interrupted.load() && error.empty() && id != 0 && last_reason != CloseReason::kNormal &&
      last_reason != CloseReason::kNone) {
    error = absl::StrFormat("connection closed: %s", std::string(CloseReasonName(last_reason)));
  }
  if (absl::GetFlag(FLAGS_mib) && id != 0) {
    last_mib.ForEach([](std::string_view name, uint64_t v) {
      std::fprintf(stderr, "MPTcpExt%-28s %lu\n", std::string(name).c_str(),
                   static_cast<unsigned long>(v));
    });
    last_tcp.ForEach([](std::string_view name, uint64_t v) {
      std::fprintf(stderr, "Tcp%-33s %lu\n", std::string(name).c_str(),
                   static_cast<unsigned long>(v));
    });
    const auto& s = ep.stats();
    std::fprintf(stderr, "EndpointPacketsIn %lu\nEndpointPacketsOut %lu\nEndpointStrays %lu\n",
                 static_cast<unsigned long>(s.packets_in), static_cast<unsigned long>(s.packets_out),
                 static_cast<unsigned long>(s.strays));
  }
  (void)pcap.Close();
  if (!absl::GetFlag(FLAGS_quiet) && id != 0) PrintReport(report, stopped);
  if (!error.empty()) {
    std::fprintf(stderr, "mptcp_nc: %s\n", error.c_str());
    return exit_code != 0 ? exit_code : 1;
  }
  if (id == 0) return Fail("no connection");
  return 0;
}

}  // namespace
}  // namespace mptcp::tools

int main(int argc, char** argv) { return mptcp::tools::Main(argc, argv); }

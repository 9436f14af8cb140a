// Run helpers for tests and tools: a client and a server Host (each a real mptcp::Endpoint)
// joined by N paths, a bulk transfer each way with every byte checked, and a report.
//
// Path i, client end first (forward = client -> server):
//
//   client --> meter --> [tap] --> uplink i ----> [middlebox] --> server
//   client <-- meter <-- [tap] <-- downlink i <-- [middlebox] <-- router <-- server
//
// The meter counts what the client end sends and receives; the optional tap records it to a
// pcap (so the capture is what tcpdump on the client would show); the middlebox sits at the
// server end of the path; the router sends the server's packets down the path whose client
// address (as the server sees it: a NAT's public address, say) matches their destination.
// Client addresses must differ per path; server addresses may be shared.
//
// The client application connects over path 0 at time zero and, once the connection is fully
// established (and has not fallen back), joins every other path (MP_JOIN). Each side writes a
// seeded stream (io::StreamPattern, one per direction) of its configured size, checks every
// byte it reads against the peer's stream, and closes (half-closes: its DATA_FIN follows its
// data) once it has written and read everything (the client also waits until it has asked for
// its joins: connections refuse joins once closing), or when HarnessConfig::close_at says.
// A side with a live source (HarnessConfig::*_source) writes its stream only as fast as the
// source produces it, as a media server sends a stream it is encoding or pacing. The run ends
// when both have read everything, seen the peer's end of stream and closed; or fails on a
// wrong byte, an unexpected close, a host livelock, no application progress for
// `stall_timeout`, the simulated deadline, an empty event queue, or the step limit. Same
// config, same run.
//
// For scenario tests: Harness::At runs an action at a simulated time as an application would
// (the hosts wake right after, so what it did to a connection goes out at once),
// InjectResetToClient delivers an in-window RST, a PathConfig::middlebox (FunctionMiddlebox for
// a one-off) filters or rewrites a path's packets, PathReports() tells what each path carried
// so far, and HarnessResult keeps each connection's last snapshot, MIB and buffer peak, since
// the Endpoint releases a connection once it is closed, finished and read.
#ifndef MPTCP_IO_SIM_HARNESS_H_
#define MPTCP_IO_SIM_HARNESS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/pcap_writer.h"
#include "io/stream_pattern.h"
#include "io/sim/host.h"
#include "io/sim/link.h"
#include "io/sim/packet.h"
#include "io/sim/packet_edit.h"
#include "io/sim/packet_filter.h"
#include "io/sim/pcap_tap.h"
#include "io/sim/router.h"
#include "io/sim/simulator.h"
#include "mptcp/address.h"
#include "mptcp/connection.h"
#include "mptcp/endpoint.h"
#include "mptcp/event.h"
#include "mptcp/mib.h"
#include "mptcp/tcp/tcp_mib.h"
#include "mptcp/time.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::sim {

using MiddleboxFactory = std::function<std::unique_ptr<PacketFilter>(Simulator&)>;

// A middlebox from a function (see FunctionFilter): it may rewrite a packet in place and
// returns whether the packet goes on. For one-off middleboxes in tests.
inline MiddleboxFactory FunctionMiddlebox(std::string name, FunctionFilter::Fn fn) {
  return [name = std::move(name), fn = std::move(fn)](Simulator&) {
    return std::make_unique<FunctionFilter>(name, fn);
  };
}

struct PathConfig {
  IpAddress client_ip;
  IpAddress server_ip;
  LinkConfig up;    // client -> server
  LinkConfig down;  // server -> client
  bool backup = false;  // join this path as a backup subflow (RFC 8684 §3.2, flag B)
  // Builds the middlebox at the server end of the path; null for none. Called once, in path
  // order, after every link exists (so its random stream is forked at a fixed point).
  MiddleboxFactory middlebox;
  // The client's address as the server sees it on this path, if a middlebox changes it.
  std::optional<IpAddress> client_ip_at_server;
};

// `n` paths on the documentation ranges: client 192.0.2.(1+i), server 198.51.100.(1+i), each
// with `link` both ways.
inline std::vector<PathConfig> DocumentationPaths(size_t n, const LinkConfig& link) {
  std::vector<PathConfig> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i].client_ip = IpAddress::V4(192, 0, 2, static_cast<uint8_t>(1 + i));
    v[i].server_ip = IpAddress::V4(198, 51, 100, static_cast<uint8_t>(1 + i));
    v[i].up = link;
    v[i].down = link;
  }
  return v;
}

// A live source: how much of a side's stream exists at `now`, and when more will (Never()
// once the whole stream does). The side writes no further than `available` and wakes up at
// `next` to write more.
struct SourceStep {
  size_t available = 0;
  Timestamp next = Timestamp::Never();
};
using SourceFn = std::function<SourceStep(Timestamp now)>;

struct HarnessConfig {
  uint64_t seed = 1;
  EndpointConfig client;
  EndpointConfig server;
  std::vector<PathConfig> paths;
  uint16_t client_port = 40000;
  uint16_t server_port = 80;
  size_t client_bytes = 0;  // the client writes this much
  size_t server_bytes = 0;  // and the server this much
  // Paces a side's writes (see SourceStep); null: its whole stream exists from the start.
  SourceFn client_source;
  SourceFn server_source;
  bool join_all = true;
  bool close_when_done = true;
  // When each side closes, with close_when_done.
  enum class CloseAt : uint8_t {
    kDone,     // it has written its stream and read the peer's (the client, asked for its joins)
    // It has written its stream (the client, asked for its joins), reading or not: as
    // mptcp_connect's poll mode shuts down its write side once its input is sent.
    kWritten,
    // It has written its stream, not waiting for joins: a side that sends nothing closes at once.
    kWrittenNow,
  };
  CloseAt close_at = CloseAt::kDone;
  // With close_when_done: the run ends only once both connections are finished too (every
  // subflow's FIN exchange done, TIME-WAIT counting), not as soon as they report Closed.
  bool until_finished = false;
  // The server application reads nothing before this time (a receiver that stalls).
  Timestamp server_reads_from = Timestamp::Zero();
  // The run lasts at least this long, even once the transfer is done (to look at an idle
  // connection).
  Duration run_at_least = Duration::Zero();
  // A test that aborts or resets on purpose: a close other than kNormal is no failure then,
  // and the run ends once both connections are closed.
  bool allow_abnormal_close = false;
  // Capture every path at its client end: in memory (HarnessResult::pcap), or to pcap_path.
  bool capture = false;
  std::string pcap_path;
  Duration deadline = Duration::Seconds(600);
  // Fail when neither application reads nor writes a byte for this long.
  Duration stall_timeout = Duration::Seconds(60);
  uint64_t max_steps = 50'000'000;
};

// A bulk transfer both ways over `paths`: each side writes `bytes`, closes once it has written
// them, and the run lasts until both connections are finished (subflow FINs too). Connection
// buffers of 2 MiB, so that long fat paths are not held back by them.
inline HarnessConfig BothWaysBulkConfig(std::vector<PathConfig> paths, size_t bytes,
                                        uint64_t seed) {
  HarnessConfig c;
  c.paths = std::move(paths);
  c.client_bytes = bytes;
  c.server_bytes = bytes;
  c.seed = seed;
  c.close_at = HarnessConfig::CloseAt::kWrittenNow;
  c.until_finished = true;
  for (EndpointConfig* e : {&c.client, &c.server}) {
    e->connection.send_buffer = 2 << 20;
    e->connection.recv_buffer = 2 << 20;
    e->connection.subflow.send_buffer = 1 << 20;
    e->connection.subflow.recv_buffer = 2 << 20;
  }
  return c;
}

// A connection event as an application saw it (Readable and Writable are not logged).
struct SimEvent {
  Timestamp at;
  bool client = true;
  Event event;
};

struct PathReport {
  LinkStats up, down;
  // At the client end: [0] client -> server (sent), [1] server -> client (received).
  std::array<uint64_t, 2> packets{};
  std::array<uint64_t, 2> payload_bytes{};  // TCP payload octets
  // At the server end (past the middlebox): [0] client -> server (received), [1] server ->
  // client (sent).
  std::array<uint64_t, 2> server_packets{};
  std::array<uint64_t, 2> server_payload_bytes{};
  std::optional<FilterStats> middlebox;

  // TCP payload both ends sent into the path (what their schedulers put there), and what
  // crossed it: less what the path lost, dropped while cut, or still holds.
  uint64_t sent_payload_total() const { return payload_bytes[0] + server_payload_bytes[1]; }
  uint64_t delivered_payload_total() const { return server_payload_bytes[0] + payload_bytes[1]; }
};

// A connection as the harness last saw it. The Endpoint lets a connection go once it is
// closed, finished and read, so results are read from here rather than from the Connection.
struct ConnectionSnapshot {
  bool seen = false;
  bool closed = false;
  CloseReason close_reason = CloseReason::kNone;
  bool fallen_back = false;
  bool checksum_enabled = false;
};

struct HarnessResult {
  bool ok = false;
  std::string error;  // empty when ok; starts with "seed N at T s:"
  RunOutcome outcome = RunOutcome::kDone;
  Duration elapsed;   // simulated time of the run (the completion time when ok)
  uint64_t steps = 0;
  size_t client_written = 0, server_written = 0;
  size_t client_read = 0, server_read = 0;
  // The longest gap between two reads that returned data, per application.
  Duration longest_client_stall, longest_server_stall;
  Timestamp client_eof_at = Timestamp::Never(), server_eof_at = Timestamp::Never();
  bool client_fell_back = false, server_fell_back = false;
  ConnectionSnapshot client_final, server_final;
  std::vector<PathReport> paths;
  uint64_t drops = 0;  // links, middleboxes, router and hosts together
  std::vector<SimEvent> events;
  // Things the harness noticed that are not failures (e.g. a join the endpoint refused).
  std::vector<std::string> notes;
  MptcpMib client_mib, server_mib;
  tcp::TcpMib client_tcp, server_tcp;
  // The most each connection's buffers held (Connection::BufferBytes), sampled at every
  // wake-up of its application.
  size_t max_client_buffer_bytes = 0, max_server_buffer_bytes = 0;
  std::string pcap;  // the in-memory capture, when capture is on and pcap_path is empty

  // A few lines for test failure messages: error, per-path traffic, non-zero MIB counters,
  // events.
  std::string Describe() const;
};

// Counts packets and TCP payload per direction where it sits.
class PathMeter : public PacketFilter {
 public:
  explicit PathMeter(std::string name = "meter") : PacketFilter(std::move(name)) {}
  uint64_t payload_bytes(Direction d) const { return payload_[DirIndex(d)]; }

 protected:
  void Process(Direction dir, Packet packet) override {
    if (auto v = ParseTcpPacket(packet.bytes)) payload_[DirIndex(dir)] += v->payload().size();
    Emit(dir, std::move(packet));
  }

 private:
  std::array<uint64_t, 2> payload_{};
};

class Harness {
 public:
  using EventHook = std::function<void(Harness&, bool client, const Event&)>;
  using ReadHook = std::function<void(Harness&, bool client, Timestamp now, size_t total_read)>;

  explicit Harness(const HarnessConfig& config);
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Simulator& sim() { return sim_; }
  const HarnessConfig& config() const { return cfg_; }
  Host& client() { return *client_; }
  Host& server() { return *server_; }
  size_t path_count() const { return paths_.size(); }
  OneWayLink& uplink(size_t i) { return *paths_.at(i).up; }
  OneWayLink& downlink(size_t i) { return *paths_.at(i).down; }
  // Both directions of path i: SetPathUp(i, false) cuts it.
  void SetPathUp(size_t i, bool up) {
    uplink(i).SetUp(up);
    downlink(i).SetUp(up);
  }
  PacketFilter* middlebox(size_t i) { return paths_.at(i).middlebox.get(); }
  // Path i's traffic counter at its client end.
  const PathMeter& meter(size_t i) const { return *paths_.at(i).meter; }
  // What each path has carried so far (as HarnessResult::paths at the end).
  std::vector<PathReport> PathReports() const;
  Router& server_router() { return router_; }
  ConnectionId client_id() const { return sides_[0].id; }
  Connection* client_conn() { return Conn(sides_[0]); }
  Connection* server_conn() { return Conn(sides_[1]); }
  // Path i's 4-tuple from the client's point of view.
  FourTuple ClientTuple(size_t i) const {
    return FourTuple{{cfg_.paths[i].client_ip, cfg_.client_port},
                     {cfg_.paths[i].server_ip, cfg_.server_port}};
  }
  // Called with every connection event either application polls (Readable and Writable
  // included), before the application acts on it.
  void SetEventHook(EventHook hook) { hook_ = std::move(hook); }
  // Called after every read that returned checked data, with the side's total read so far.
  void SetReadHook(ReadHook hook) { read_hook_ = std::move(hook); }
  // Bytes an application has written into / read from its connection so far.
  size_t written(bool client) const { return sides_[client ? 0 : 1].written; }
  size_t read(bool client) const { return sides_[client ? 0 : 1].read; }

  // Runs `fn` once at `at`, as an application acting then: both hosts wake right after, so
  // what `fn` did to a connection (an abort, an announcement, a priority change) goes out at
  // once. (sim().At is enough for changes to links and middleboxes.)
  void At(Timestamp at, std::function<void(Harness&)> fn) {
    sim_.At(at, [this, fn = std::move(fn)] {
      fn(*this);
      client_->WakeAt(sim_.now());
      server_->WakeAt(sim_.now());
    });
  }
  // Delivers to the client a RST on path i's subflow with the sequence number it expects next
  // (its RCV.NXT), as the server's end would send one: the subflow must go down (RFC 9293
  // §3.10.7.4, RFC 5961 §3.2). False if the client has no such subflow.
  bool InjectResetToClient(size_t i) {
    return i < cfg_.paths.size() && InjectResetToClient(ClientTuple(i));
  }
  // The same for the client's subflow on `t` (client address first), e.g. one a path manager
  // opened from a port of its choosing.
  bool InjectResetToClient(const FourTuple& t);

  // Runs the transfer to its end; call once.
  HarnessResult Run();

 private:
  struct Path {
    std::unique_ptr<OneWayLink> up, down;
    std::unique_ptr<PacketFilter> middlebox;
    std::unique_ptr<PathMeter> meter;
    // Counts what reaches the server end (after the uplink and the middlebox).
    std::unique_ptr<PathMeter> server_meter;
    std::unique_ptr<PcapTap> tap;
  };
  struct Side {
    bool client = true;
    int dir = 0;  // the stream this side writes
    ConnectionId id = 0;
    size_t to_send = 0, to_receive = 0;
    size_t written = 0, read = 0;
    bool connected = false, joined = false, closed = false, eof = false;
    size_t max_buffer = 0;
    Timestamp last_read = Timestamp::Never();
    Duration longest_stall;
    Timestamp eof_at = Timestamp::Never();
    // What the application saw of its connection last (counters from Closed on).
    ConnectionSnapshot last;
    MptcpMib mib;
    tcp::TcpMib tcp;
  };

  Connection* Conn(const Side& s) {
    Host& h = s.client ? *client_ : *server_;
    return s.id == 0 ? nullptr : h.endpoint().connection(s.id);
  }
  void OnWake(Side& s, Timestamp now, Host& host);
  void Pump(Side& s, Timestamp now, Connection& c);
  void Fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
  }
  bool Done();
  void Collect(HarnessResult& r);

  HarnessConfig cfg_;
  // Declared first: destroyed last, after every actor that refers to it.
  Simulator sim_;
  std::unique_ptr<Host> client_, server_;
  Router router_{"server-router"};
  std::vector<Path> paths_;
  io::PcapWriter pcap_;
  std::array<Side, 2> sides_;
  std::vector<SimEvent> events_;
  std::vector<std::string> notes_;
  EventHook hook_;
  ReadHook read_hook_;
  std::string failure_;
  Timestamp last_progress_ = Timestamp::Zero();
  bool ran_ = false;
};

// --- implementation ---------------------------------------------------------------------------

inline Harness::Harness(const HarnessConfig& config) : cfg_(config), sim_(config.seed) {
  // The order of construction fixes every random stream: hosts, then links, then middleboxes.
  const uint64_t client_seed = sim_.random().Next();
  const uint64_t server_seed = sim_.random().Next();
  // join_all is a join policy: the client's path manager carries it out (the manual manager's
  // planned joins, opened as soon as the connection is fully established), so that the
  // simulator, mptcp_nc and embedders run the same code. A test that configures a path
  // manager of its own gets that instead.
  PathManagerConfig& pm = cfg_.client.connection.path_manager;
  if (cfg_.join_all && pm.kind == PathManagerKind::kManual && pm.joins.empty()) {
    for (size_t p = 1; p < cfg_.paths.size(); ++p) {
      const FourTuple t = ClientTuple(p);
      pm.joins.push_back(PlannedJoin{t.local, t.remote, cfg_.paths[p].backup});
    }
  }
  client_ = std::make_unique<Host>(sim_, "client", cfg_.client, client_seed);
  server_ = std::make_unique<Host>(sim_, "server", cfg_.server, server_seed);
  server_->endpoint().Listen(cfg_.server_port);
  if (cfg_.capture && !cfg_.pcap_path.empty()) {
    const absl::Status s = pcap_.Open(cfg_.pcap_path);
    if (!s.ok()) Fail(absl::StrCat("pcap: ", s.message()));
  }
  paths_.resize(cfg_.paths.size());
  for (size_t i = 0; i < paths_.size(); ++i) {
    paths_[i].up = std::make_unique<OneWayLink>(sim_, absl::StrCat("up", i), cfg_.paths[i].up);
    paths_[i].down =
        std::make_unique<OneWayLink>(sim_, absl::StrCat("down", i), cfg_.paths[i].down);
  }
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (cfg_.paths[i].middlebox) paths_[i].middlebox = cfg_.paths[i].middlebox(sim_);
  }
  for (size_t i = 0; i < paths_.size(); ++i) {
    const PathConfig& pc = cfg_.paths[i];
    Path& p = paths_[i];
    p.meter = std::make_unique<PathMeter>(absl::StrCat("meter", i));
    p.server_meter = std::make_unique<PathMeter>(absl::StrCat("server-meter", i));
    if (cfg_.capture) p.tap = std::make_unique<PcapTap>(sim_, &pcap_, absl::StrCat("tap", i));
    PacketFilter* mb = p.middlebox.get();
    PathMeter* sm = p.server_meter.get();
    // Forward: client -> meter -> [tap] -> uplink -> [middlebox] -> server meter -> server.
    client_->AddInterface(pc.client_ip, p.meter->forward_in());
    p.meter->set_forward_output(p.tap ? p.tap->forward_in() : p.up.get());
    if (p.tap) p.tap->set_forward_output(p.up.get());
    p.up->set_sink(mb ? mb->forward_in() : sm->forward_in());
    if (mb) mb->set_forward_output(sm->forward_in());
    sm->set_forward_output(server_.get());
    // Reverse: server -> router -> server meter -> [middlebox] -> downlink -> [tap] -> meter
    // -> client.
    const size_t port = router_.AddPort(sm->reverse_in());
    sm->set_reverse_output(mb ? mb->reverse_in() : p.down.get());
    router_.AddHostRoute(pc.client_ip_at_server.value_or(pc.client_ip), port);
    if (mb) mb->set_reverse_output(p.down.get());
    p.down->set_sink(p.tap ? p.tap->reverse_in() : p.meter->reverse_in());
    if (p.tap) p.tap->set_reverse_output(p.meter->reverse_in());
    p.meter->set_reverse_output(client_.get());
    server_->AddInterface(pc.server_ip, &router_);
  }
  sides_[0].client = true;
  sides_[0].dir = 0;
  sides_[0].to_send = cfg_.client_bytes;
  sides_[0].to_receive = cfg_.server_bytes;
  sides_[1].client = false;
  sides_[1].dir = 1;
  sides_[1].to_send = cfg_.server_bytes;
  sides_[1].to_receive = cfg_.client_bytes;
  client_->set_on_wake([this](Timestamp now, Host& h) { OnWake(sides_[0], now, h); });
  server_->set_on_wake([this](Timestamp now, Host& h) { OnWake(sides_[1], now, h); });
  client_->WakeAt(Timestamp::Zero());
  if (cfg_.server_reads_from > Timestamp::Zero()) {
    sim_.At(cfg_.server_reads_from, [this] { server_->WakeAt(sim_.now()); });
  }
  // Something to wake for at the end of the minimum run, however idle the connection is.
  if (cfg_.run_at_least > Duration::Zero()) sim_.At(Timestamp::Zero() + cfg_.run_at_least, [] {});
}

inline void Harness::OnWake(Side& s, Timestamp now, Host& host) {
  if (!failure_.empty()) return;
  if (s.client && !s.connected) {
    s.connected = true;
    if (cfg_.paths.empty()) {
      Fail("no paths");
      return;
    }
    const FourTuple t = ClientTuple(0);
    auto id = host.endpoint().Connect(now, t.local, t.remote);
    if (!id.ok()) {
      Fail(absl::StrCat("connect: ", id.status().message()));
      return;
    }
    s.id = *id;
  }
  if (!s.client) {
    while (auto e = host.endpoint().PollEvent()) {
      if (e->type == EndpointEvent::Type::kAccepted && s.id == 0) s.id = e->id;
    }
  }
  if (Connection* c = Conn(s)) Pump(s, now, *c);
}

inline void Harness::Pump(Side& s, Timestamp now, Connection& c) {
  const char* who = s.client ? "client" : "server";
  s.last = ConnectionSnapshot{true, c.closed(), c.close_reason(), c.fallen_back(),
                              c.checksum_enabled()};
  if (c.closed()) {
    s.mib = c.mib();
    s.tcp = c.SubflowMib();
  }
  s.max_buffer = std::max(s.max_buffer, c.BufferBytes());
  while (auto e = c.PollEvent()) {
    if (e->type != EventType::kReadable && e->type != EventType::kWritable) {
      events_.push_back(SimEvent{now, s.client, *e});
    }
    if (hook_) hook_(*this, s.client, *e);
  }
  if (c.closed() && c.close_reason() != CloseReason::kNormal && !cfg_.allow_abnormal_close) {
    Fail(absl::StrFormat("%s connection closed: %s", who,
                         std::string(CloseReasonName(c.close_reason()))));
    return;
  }
  if (!c.established()) return;
  if (s.client && cfg_.join_all && !s.joined && c.fully_established() && !c.fallen_back()) {
    // The path manager opened the joins the moment the connection became fully established.
    s.joined = true;
    if (c.path_manager().kind() == PathManagerKind::kManual) {
      const auto& pm = static_cast<const ManualPathManager&>(c.path_manager());
      for (const auto& [p, status] : pm.refused()) {
        notes_.push_back(absl::StrFormat("%.6f join over path %u refused: %s",
                                         (now - Timestamp::Zero()).seconds(), p + 1,
                                         std::string(status.message())));
      }
    }
  }
  // Read and check.
  uint8_t buf[32768];
  uint8_t want[32768];
  const io::StreamPattern expected(cfg_.seed, 1 - s.dir);
  const bool may_read = s.client || now >= cfg_.server_reads_from;
  while (size_t n = may_read ? c.Read(now, buf) : 0) {
    expected.Fill(s.read, std::span<uint8_t>(want, n));
    if (std::memcmp(buf, want, n) != 0) {
      size_t i = 0;
      while (buf[i] == want[i]) ++i;
      Fail(absl::StrFormat("%s read byte %u wrong: got 0x%02x, want 0x%02x", who, s.read + i,
                           buf[i], want[i]));
      return;
    }
    if (!s.last_read.IsNever()) s.longest_stall = std::max(s.longest_stall, now - s.last_read);
    s.last_read = now;
    last_progress_ = now;
    s.read += n;
    if (s.read > s.to_receive) {
      Fail(absl::StrFormat("%s read %u bytes, more than the %u sent", who, s.read,
                           s.to_receive));
      return;
    }
    if (read_hook_) read_hook_(*this, s.client, now, s.read);
  }
  if (c.eof() && !s.eof) {
    s.eof = true;
    s.eof_at = now;
  }
  // Write what exists of the stream.
  size_t limit = s.to_send;
  if (const SourceFn& source = s.client ? cfg_.client_source : cfg_.server_source) {
    const SourceStep step = source(now);
    limit = std::min(limit, step.available);
    // A wake-up at `next` may be displaced by an earlier one (a host keeps one); every
    // wake-up comes through here and asks again.
    (s.client ? client_ : server_)->WakeAt(step.next);
  }
  const io::StreamPattern stream(cfg_.seed, s.dir);
  while (s.written < limit && c.write_space() > 0) {
    const size_t n = std::min({sizeof(buf), limit - s.written, c.write_space()});
    stream.Fill(s.written, std::span<uint8_t>(buf, n));
    const size_t w = c.Write(now, std::span<const uint8_t>(buf, n));
    if (w == 0) break;
    s.written += w;
    last_progress_ = now;
  }
  // Close once everything is written and everything expected is read, and not before the
  // client has tried its joins: a closing connection refuses new subflows (as Linux does), so
  // closing as soon as the writes are queued would keep a transfer off its other paths.
  const bool joins_settled = !s.client || s.joined || !cfg_.join_all ||
                             cfg_.paths.size() < 2 || c.fallen_back();
  bool ready = s.written == s.to_send;
  switch (cfg_.close_at) {
    case HarnessConfig::CloseAt::kDone:
      ready = ready && s.read == s.to_receive && joins_settled;
      break;
    case HarnessConfig::CloseAt::kWritten:
      ready = ready && joins_settled;
      break;
    case HarnessConfig::CloseAt::kWrittenNow:
      break;
  }
  if (ready && !s.closed && cfg_.close_when_done) {
    c.Close(now);
    s.closed = true;
  }
  s.max_buffer = std::max(s.max_buffer, c.BufferBytes());
}

inline bool Harness::Done() {
  if (sim_.now() < Timestamp::Zero() + cfg_.run_at_least) return false;
  // A connection seen and now gone was released: closed, finished and read to the end.
  for (const Side& side : sides_) {
    if (!side.last.seen) return false;
  }
  const auto closed = [this](const Side& side) {
    const Connection* c = Conn(side);
    return c == nullptr || c->closed();
  };
  const auto abnormal = [](const Side& side) {
    return side.last.closed && side.last.close_reason != CloseReason::kNormal;
  };
  if (cfg_.allow_abnormal_close && closed(sides_[0]) && closed(sides_[1]) &&
      (abnormal(sides_[0]) || abnormal(sides_[1]))) {
    return true;
  }
  if (sides_[0].read != sides_[0].to_receive || sides_[1].read != sides_[1].to_receive) {
    return false;
  }
  if (!cfg_.close_when_done) return true;
  if (!(sides_[0].eof && sides_[1].eof && closed(sides_[0]) && closed(sides_[1]))) return false;
  if (!cfg_.until_finished) return true;
  for (const Side& side : sides_) {
    const Connection* c = Conn(side);
    if (c != nullptr && !c->finished()) return false;
  }
  return true;
}

inline std::vector<PathReport> Harness::PathReports() const {
  std::vector<PathReport> v;
  for (const Path& p : paths_) {
    PathReport pr;
    pr.up = p.up->stats();
    pr.down = p.down->stats();
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      pr.packets[DirIndex(d)] = p.meter->stats().packets_in[DirIndex(d)];
      pr.payload_bytes[DirIndex(d)] = p.meter->payload_bytes(d);
      pr.server_packets[DirIndex(d)] = p.server_meter->stats().packets_in[DirIndex(d)];
      pr.server_payload_bytes[DirIndex(d)] = p.server_meter->payload_bytes(d);
    }
    if (p.middlebox) pr.middlebox = p.middlebox->stats();
    v.push_back(pr);
  }
  return v;
}

inline bool Harness::InjectResetToClient(const FourTuple& t) {
  Connection* c = client_conn();
  if (c == nullptr) return false;
  const std::optional<SubflowInfo> s = c->subflow(t);
  if (!s) return false;
  wire::TcpRepr rst;
  rst.src_port = t.remote.port;
  rst.dst_port = t.local.port;
  rst.seq = s->rcv_nxt;
  rst.flags = wire::TcpFlag::kRst;
  std::vector<uint8_t> bytes = BuildTcpPacket(t.remote.ip, t.local.ip, rst);
  if (bytes.empty()) return false;
  client_->Deliver(sim_.NewPacket(std::move(bytes)));
  return true;
}

inline HarnessResult Harness::Run() {
  HarnessResult r;
  if (ran_) {
    r.error = "Harness::Run() called twice";
    return r;
  }
  ran_ = true;
  const Timestamp deadline = Timestamp::Zero() + cfg_.deadline;
  auto stop = [this] {
    if (!failure_.empty()) return true;
    for (Host* h : {client_.get(), server_.get()}) {
      if (h->stuck()) {
        Fail(h->stuck_reason());
        return true;
      }
    }
    if (Done()) return true;
    if (sim_.now() - last_progress_ > cfg_.stall_timeout) {
      const auto side = [this](const Side& s) {
        const Connection* c = Conn(s);
        return absl::StrFormat("%s eof %d closed %s", s.client ? "client" : "server", s.eof,
                               c == nullptr ? "released" : (c->closed() ? "yes" : "no"));
      };
      Fail(absl::StrFormat("stall: no application progress since %.3fs (%s, %s)",
                           (last_progress_ - Timestamp::Zero()).seconds(), side(sides_[0]),
                           side(sides_[1])));
      return true;
    }
    return false;
  };
  const RunResult run = sim_.RunUntil(stop, deadline, cfg_.max_steps);
  r.outcome = run.outcome;
  r.steps = run.steps;
  if (run.outcome != RunOutcome::kDone) Fail(std::string(RunOutcomeFailure(run.outcome)));
  r.ok = failure_.empty();
  if (!r.ok) {
    r.error = absl::StrFormat("seed %u at %.3fs: %s", cfg_.seed,
                              (sim_.now() - Timestamp::Zero()).seconds(), failure_);
  }
  r.elapsed = sim_.now() - Timestamp::Zero();
  Collect(r);
  return r;
}

inline void Harness::Collect(HarnessResult& r) {
  r.client_written = sides_[0].written;
  r.server_written = sides_[1].written;
  r.client_read = sides_[0].read;
  r.server_read = sides_[1].read;
  r.longest_client_stall = sides_[0].longest_stall;
  r.longest_server_stall = sides_[1].longest_stall;
  r.client_eof_at = sides_[0].eof_at;
  r.server_eof_at = sides_[1].eof_at;
  r.events = events_;
  r.notes = notes_;
  r.drops = router_.stats().no_route + router_.stats().malformed;
  for (Host* h : {client_.get(), server_.get()}) {
    r.drops += h->stats().not_for_us + h->stats().no_interface;
  }
  r.paths = PathReports();
  for (const PathReport& pr : r.paths) {
    if (pr.middlebox) r.drops += pr.middlebox->total_dropped();
    r.drops += pr.up.dropped_total() + pr.down.dropped_total();
  }
  r.client_final = sides_[0].last;
  r.server_final = sides_[1].last;
  r.client_mib = sides_[0].mib;
  r.client_tcp = sides_[0].tcp;
  r.client_fell_back = sides_[0].last.fallen_back;
  r.server_mib = sides_[1].mib;
  r.server_tcp = sides_[1].tcp;
  r.server_fell_back = sides_[1].last.fallen_back;
  r.max_client_buffer_bytes = sides_[0].max_buffer;
  r.max_server_buffer_bytes = sides_[1].max_buffer;
  if (Connection* c = client_conn()) {
    r.client_mib = c->mib();
    r.client_tcp = c->SubflowMib();
    r.client_fell_back = c->fallen_back();
  }
  if (Connection* s = server_conn()) {
    r.server_mib = s->mib();
    r.server_tcp = s->SubflowMib();
    r.server_fell_back = s->fallen_back();
  }
  if (cfg_.capture) {
    if (pcap_.is_file()) {
      const absl::Status s = pcap_.Flush();
      if (!s.ok() && r.ok) {
        r.ok = false;
        r.error = absl::StrCat("pcap: ", s.message());
      }
    } else {
      r.pcap = pcap_.contents();
    }
  }
}

inline std::string HarnessResult::Describe() const {
  std::string s = ok ? "ok" : error;
  absl::StrAppendFormat(&s, "\nelapsed %.3fs, read client %u / server %u, written client %u / "
                            "server %u, drops %u",
                        elapsed.seconds(), client_read, server_read, client_written,
                        server_written, drops);
  for (size_t i = 0; i < paths.size(); ++i) {
    const PathReport& p = paths[i];
    absl::StrAppendFormat(&s, "\npath %u: up %u pkts (%u payload B), down %u pkts (%u payload B)",
                          i, p.packets[0], p.payload_bytes[0], p.packets[1], p.payload_bytes[1]);
    for (size_t c = 0; c < kNumDropCauses; ++c) {
      const uint64_t u = p.up.dropped_packets[c], d = p.down.dropped_packets[c];
      if (u + d > 0) {
        absl::StrAppendFormat(&s, ", %s up %u down %u",
                              std::string(DropCauseName(static_cast<DropCause>(c))), u, d);
      }
    }
  }
  auto mib = [&s](const char* who, const MptcpMib& m) {
    absl::StrAppend(&s, "\n", who, " MIB:");
    m.ForEach([&s](std::string_view name, uint64_t v) {
      if (v != 0) absl::StrAppend(&s, " ", std::string(name), "=", v);
    });
  };
  mib("client", client_mib);
  mib("server", server_mib);
  for (const std::string& n : notes) absl::StrAppend(&s, "\nnote: ", n);
  absl::StrAppend(&s, "\nevents:");
  for (const SimEvent& e : events) {
    std::ostringstream os;
    os << e.event;
    absl::StrAppendFormat(&s, "\n  %.6f %s %s", (e.at - Timestamp::Zero()).seconds(),
                          e.client ? "client" : "server", os.str());
  }
  return s;
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_HARNESS_H_

// Several MPTCP connections at once over shared links, for congestion-control experiments: each
// connection (a "flow") has its own client and server Host, each of its subflows crosses one
// of the network's links, and links may be shared by subflows of any flows. Each client sends
// a bulk stream (io::StreamPattern) from its start time until `stop`, then closes; each
// server reads and checks every byte. The run records, every `sample_every`, each flow's bytes
// read and each subflow's payload delivered and cwnd, so that a caller can measure rates over
// a steady-state window. Same config, same run.
//
// The harness (harness.h) runs one connection over its own paths; fairness needs flows that
// compete for one queue, hence this second topology. Flow f's subflow k:
//
//   client f (192.0.2.(1+8f+k)) -> [access] -> links[l].forward -> server router
//        -> meter f.k -> server f (198.51.100.(1+8f+k))
//   server f -> meter f.k -> links[l].reverse -> client router -> [access] -> client f
//
// where l = flows[f].subflows[k].link. The meter sits at the server end and counts the TCP
// payload that reached it (what the link delivered, retransmissions included). [access] is a
// link of infinite bandwidth adding the subflow's own extra delay (absent when it is zero), so
// flows sharing a link may have different RTTs. Addresses are distinct per subflow, so the
// hosts pick the link by source address and the routers route by destination alone.
//
// A flow's congestion control is its hosts' ConnectionConfig::congestion_control: a flow of
// one subflow with an uncoupled controller is single-path TCP for congestion purposes (see
// conformance/cc_scenarios.h). Data goes client -> server; only ACKs come back.
#ifndef MPTCP_IO_SIM_FLOW_NETWORK_H_
#define MPTCP_IO_SIM_FLOW_NETWORK_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/stream_pattern.h"
#include "io/sim/harness.h"
#include "io/sim/host.h"
#include "io/sim/link.h"
#include "io/sim/packet.h"
#include "io/sim/router.h"
#include "io/sim/simulator.h"
#include "mptcp/address.h"
#include "mptcp/cc/controller.h"
#include "mptcp/connection.h"
#include "mptcp/endpoint.h"
#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp::sim {

// A link of the network, both directions: forward carries data (client -> server), reverse
// the ACKs.
struct NetLinkSpec {
  std::string name;
  LinkConfig forward;
  LinkConfig reverse;
};

struct FlowSubflowSpec {
  size_t link = 0;  // index into FlowNetworkConfig::links
  // One way, each direction, on top of the link's own delay (an access link of its own).
  Duration extra_delay = Duration::Zero();
};

struct FlowSpec {
  std::string name;
  cc::CcAlgorithm congestion_control = cc::CcAlgorithm::kNewReno;
  // The first is the initial subflow; the others are joined (MP_JOIN) once the connection is
  // fully established. At least one, at most kMaxFlowSubflows.
  std::vector<FlowSubflowSpec> subflows;
  Duration start = Duration::Zero();  // when the client connects
};

inline constexpr size_t kMaxFlowSubflows = 8;
inline constexpr size_t kMaxFlows = 31;  // addresses 1 + 8f + k stay within one octet

struct FlowNetworkConfig {
  uint64_t seed = 1;
  std::vector<NetLinkSpec> links;
  std::vector<FlowSpec> flows;
  // Every host's configuration; congestion_control is replaced by each flow's own.
  EndpointConfig endpoint;
  // Clients write until then, then close.
  Duration stop = Duration::Seconds(30);
  Duration sample_every = Duration::Seconds(1);
  // The run fails if the flows have not all finished by then (stop + draining the buffers).
  Duration deadline = Duration::Seconds(120);
  uint64_t max_steps = 400'000'000;
};

// The state of every flow at one instant.
struct FlowSample {
  Timestamp at;
  std::vector<uint64_t> read;  // per flow: bytes the server read (checked)
  // Per flow, per subflow: TCP payload delivered to the server over that subflow, and the
  // sender's cwnd (0 while the subflow does not exist).
  std::vector<std::vector<uint64_t>> delivered;
  std::vector<std::vector<uint32_t>> cwnd;
};

struct FlowNetworkResult {
  bool ok = false;
  std::string error;  // empty when ok; "seed N at T s: ..."
  Duration elapsed;
  std::vector<uint64_t> written, read;     // per flow
  std::vector<size_t> subflows_up;         // per flow: SubflowUp events the client saw
  std::vector<bool> fell_back;             // per flow
  std::vector<FlowSample> samples;         // at 0, sample_every, ... up to stop
  std::vector<LinkStats> forward, reverse;  // per link

  // The sample taken at `at` (a multiple of sample_every, at most stop), or null.
  const FlowSample* SampleAt(Timestamp at) const {
    for (const FlowSample& s : samples) {
      if (s.at == at) return &s;
    }
    return nullptr;
  }
  // Flow f's goodput (bytes read by its server, every one checked) over [from, to], Mbit/s;
  // both must be sample times.
  double GoodputMbps(size_t f, Timestamp from, Timestamp to) const {
    const FlowSample* a = SampleAt(from);
    const FlowSample* b = SampleAt(to);
    if (a == nullptr || b == nullptr || to <= from) return 0;
    return static_cast<double>(b->read[f] - a->read[f]) * 8 / (to - from).seconds() / 1e6;
  }
  // Payload flow f's subflow k delivered over [from, to], bytes.
  uint64_t SubflowBytes(size_t f, size_t k, Timestamp from, Timestamp to) const {
    const FlowSample* a = SampleAt(from);
    const FlowSample* b = SampleAt(to);
    if (a == nullptr || b == nullptr) return 0;
    return b->delivered[f][k] - a->delivered[f][k];
  }
  // A few lines for failure messages.
  std::string Describe() const;
};

class FlowNetwork {
 public:
  explicit FlowNetwork(const FlowNetworkConfig& config);
  FlowNetwork(const FlowNetwork&) = delete;
  FlowNetwork& operator=(const FlowNetwork&) = delete;

  Simulator& sim() { return sim_; }
  OneWayLink& forward_link(size_t l) { return *links_.at(l).forward; }
  OneWayLink& reverse_link(size_t l) { return *links_.at(l).reverse; }
  static IpAddress ClientAddress(size_t f, size_t k) {
    return IpAddress::V4(192, 0, 2, static_cast<uint8_t>(1 + 8 * f + k));
  }
  static IpAddress ServerAddress(size_t f, size_t k) {
    return IpAddress::V4(198, 51, 100, static_cast<uint8_t>(1 + 8 * f + k));
  }

  // Runs every flow to its end; call once.
  FlowNetworkResult Run();

 private:
  static constexpr uint16_t kClientPort = 40000;
  static constexpr uint16_t kServerPort = 80;

  struct Link {
    std::unique_ptr<OneWayLink> forward, reverse;
  };
  struct Flow {
    std::unique_ptr<Host> client, server;
    std::vector<std::unique_ptr<PathMeter>> meters;  // per subflow, at the server end
    std::vector<std::unique_ptr<OneWayLink>> access;  // extra-delay links, any order
    ConnectionId client_id = 0, server_id = 0;
    bool connected = false, joined = false, client_closed = false, server_closed = false;
    bool eof = false;
    size_t subflows_up = 0;
    uint64_t written = 0, read = 0;
    // Last seen (the Endpoint releases a finished connection).
    std::vector<uint32_t> cwnd;
    bool fell_back = false;
  };

  Connection* Conn(Host& h, ConnectionId id) {
    return id == 0 ? nullptr : h.endpoint().connection(id);
  }
  void Fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
  }
  void OnClientWake(size_t f, Timestamp now);
  void OnServerWake(size_t f, Timestamp now);
  void CheckClose(size_t f, Connection& c, const char* who);
  void TakeSample(Timestamp now);
  bool Done();

  FlowNetworkConfig cfg_;
  Simulator sim_;  // declared before every actor: destroyed after them
  Router client_router_{"client-router"}, server_router_{"server-router"};
  std::vector<Link> links_;
  std::vector<Flow> flows_;
  std::vector<FlowSample> samples_;
  std::string failure_;
  bool ran_ = false;
};

// --- implementation ---------------------------------------------------------------------------

inline FlowNetwork::FlowNetwork(const FlowNetworkConfig& config)
    : cfg_(config), sim_(config.seed) {
  if (cfg_.flows.size() > kMaxFlows) Fail(absl::StrCat("more than ", kMaxFlows, " flows"));
  // The order of construction fixes every random stream: hosts, then links.
  flows_.resize(cfg_.flows.size());
  for (size_t f = 0; f < flows_.size() && failure_.empty(); ++f) {
    const FlowSpec& fs = cfg_.flows[f];
    if (fs.subflows.empty() || fs.subflows.size() > kMaxFlowSubflows) {
      Fail(absl::StrCat("flow ", fs.name, ": 1 to ", kMaxFlowSubflows, " subflows"));
      break;
    }
    EndpointConfig ec = cfg_.endpoint;
    ec.connection.congestion_control = fs.congestion_control;
    const uint64_t client_seed = sim_.random().Next();
    const uint64_t server_seed = sim_.random().Next();
    flows_[f].client = std::make_unique<Host>(sim_, absl::StrCat(fs.name, "-client"), ec,
                                              client_seed);
    flows_[f].server = std::make_unique<Host>(sim_, absl::StrCat(fs.name, "-server"), ec,
                                              server_seed);
    flows_[f].server->endpoint().Listen(kServerPort);
    flows_[f].cwnd.assign(fs.subflows.size(), 0);
  }
  links_.resize(cfg_.links.size());
  for (size_t l = 0; l < links_.size(); ++l) {
    links_[l].forward = std::make_unique<OneWayLink>(
        sim_, absl::StrCat(cfg_.links[l].name, "-fwd"), cfg_.links[l].forward, &server_router_);
    links_[l].reverse = std::make_unique<OneWayLink>(
        sim_, absl::StrCat(cfg_.links[l].name, "-rev"), cfg_.links[l].reverse, &client_router_);
  }
  if (!failure_.empty()) return;
  for (size_t f = 0; f < flows_.size(); ++f) {
    Flow& fl = flows_[f];
    const FlowSpec& fs = cfg_.flows[f];
    for (size_t k = 0; k < fs.subflows.size(); ++k) {
      const FlowSubflowSpec& ss = fs.subflows[k];
      if (ss.link >= links_.size()) {
        Fail(absl::StrCat("flow ", fs.name, " subflow ", k, ": no link ", ss.link));
        return;
      }
      const IpAddress cip = ClientAddress(f, k), sip = ServerAddress(f, k);
      auto meter = std::make_unique<PathMeter>(absl::StrCat(fs.name, "-meter", k));
      // Forward: client -> [access] -> link -> server router -> meter -> server.
      PacketSink* first_hop = links_[ss.link].forward.get();
      PacketSink* last_hop = fl.client.get();
      if (ss.extra_delay > Duration::Zero()) {
        LinkConfig access;
        access.delay = ss.extra_delay;
        auto up = std::make_unique<OneWayLink>(sim_, absl::StrCat(fs.name, "-access-up", k),
                                               access, first_hop);
        auto down = std::make_unique<OneWayLink>(
            sim_, absl::StrCat(fs.name, "-access-down", k), access, fl.client.get());
        first_hop = up.get();
        last_hop = down.get();
        fl.access.push_back(std::move(up));
        fl.access.push_back(std::move(down));
      }
      fl.client->AddInterface(cip, first_hop);
      server_router_.AddHostRoute(sip, server_router_.AddPort(meter->forward_in()));
      meter->set_forward_output(fl.server.get());
      // Reverse: server -> meter -> link -> client router -> [access] -> client.
      fl.server->AddInterface(sip, meter->reverse_in());
      meter->set_reverse_output(links_[ss.link].reverse.get());
      client_router_.AddHostRoute(cip, client_router_.AddPort(last_hop));
      fl.meters.push_back(std::move(meter));
    }
    fl.client->set_on_wake([this, f](Timestamp now, Host&) { OnClientWake(f, now); });
    fl.server->set_on_wake([this, f](Timestamp now, Host&) { OnServerWake(f, now); });
    fl.client->WakeAt(Timestamp::Zero() + fs.start);
    // The writer stops at `stop` even if nothing else wakes the client then.
    sim_.At(Timestamp::Zero() + cfg_.stop, [this, f] { flows_[f].client->WakeAt(sim_.now()); });
  }
}

inline void FlowNetwork::CheckClose(size_t f, Connection& c, const char* who) {
  if (c.closed() && c.close_reason() != CloseReason::kNormal) {
    Fail(absl::StrFormat("flow %s: %s connection closed: %s", cfg_.flows[f].name, who,
                         std::string(CloseReasonName(c.close_reason()))));
  }
}

inline void FlowNetwork::OnClientWake(size_t f, Timestamp now) {
  if (!failure_.empty()) return;
  Flow& fl = flows_[f];
  const FlowSpec& fs = cfg_.flows[f];
  Endpoint& ep = fl.client->endpoint();
  if (!fl.connected) {
    fl.connected = true;
    auto id = ep.Connect(now, {ClientAddress(f, 0), kClientPort},
                         {ServerAddress(f, 0), kServerPort});
    if (!id.ok()) return Fail(absl::StrCat("flow ", fs.name, ": connect: ", id.status().message()));
    fl.client_id = *id;
  }
  Connection* c = Conn(*fl.client, fl.client_id);
  if (c == nullptr) return;
  while (auto e = c->PollEvent()) {
    if (e->type == EventType::kSubflowUp) ++fl.subflows_up;
  }
  fl.fell_back = fl.fell_back || c->fallen_back();
  CheckClose(f, *c, "client");
  if (!c->established() || c->closed()) return;
  if (!fl.joined && c->fully_established() && !c->fallen_back()) {
    fl.joined = true;
    for (size_t k = 1; k < fs.subflows.size(); ++k) {
      auto sid = ep.OpenSubflow(now, fl.client_id, {ClientAddress(f, k), kClientPort},
                                {ServerAddress(f, k), kServerPort});
      if (!sid.ok()) {
        return Fail(absl::StrCat("flow ", fs.name, ": join ", k, ": ", sid.status().message()));
      }
    }
  }
  if (now < Timestamp::Zero() + cfg_.stop) {
    uint8_t buf[32768];
    const io::StreamPattern stream(cfg_.seed * 64 + f, 0);
    // Bounded: each round writes at least one byte of a finite write space, or stops.
    while (c->write_space() > 0) {
      const size_t n = std::min(sizeof(buf), c->write_space());
      stream.Fill(fl.written, std::span<uint8_t>(buf, n));
      const size_t w = c->Write(now, std::span<const uint8_t>(buf, n));
      if (w == 0) break;
      fl.written += w;
    }
  } else if (!fl.client_closed) {
    c->Close(now);
    fl.client_closed = true;
  }
}

inline void FlowNetwork::OnServerWake(size_t f, Timestamp now) {
  if (!failure_.empty()) return;
  Flow& fl = flows_[f];
  Endpoint& ep = fl.server->endpoint();
  while (auto e = ep.PollEvent()) {
    if (e->type == EndpointEvent::Type::kAccepted && fl.server_id == 0) fl.server_id = e->id;
  }
  Connection* c = Conn(*fl.server, fl.server_id);
  if (c == nullptr) return;
  while (c->PollEvent()) {
  }
  CheckClose(f, *c, "server");
  uint8_t buf[32768], want[32768];
  const io::StreamPattern expected(cfg_.seed * 64 + f, 0);
  while (const size_t n = c->Read(now, buf)) {
    expected.Fill(fl.read, std::span<uint8_t>(want, n));
    if (std::memcmp(buf, want, n) != 0) {
      size_t i = 0;
      while (buf[i] == want[i]) ++i;
      return Fail(absl::StrFormat("flow %s: server read byte %u wrong: got 0x%02x, want 0x%02x",
                                  cfg_.flows[f].name, fl.read + i, buf[i], want[i]));
    }
    fl.read += n;
    if (fl.read > fl.written) {
      return Fail(absl::StrFormat("flow %s: server read %u bytes, more than the %u written",
                                  cfg_.flows[f].name, fl.read, fl.written));
    }
  }
  if (c->eof() && !fl.eof) fl.eof = true;
  if (fl.eof && !fl.server_closed) {
    c->Close(now);
    fl.server_closed = true;
  }
}

inline void FlowNetwork::TakeSample(Timestamp now) {
  FlowSample s;
  s.at = now;
  for (size_t f = 0; f < flows_.size(); ++f) {
    Flow& fl = flows_[f];
    s.read.push_back(fl.read);
    std::vector<uint64_t> delivered;
    for (const auto& m : fl.meters) delivered.push_back(m->payload_bytes(Direction::kForward));
    s.delivered.push_back(std::move(delivered));
    if (Connection* c = Conn(*fl.client, fl.client_id)) {
      for (const SubflowInfo& si : c->Subflows()) {
        for (size_t k = 0; k < fl.cwnd.size(); ++k) {
          if (si.tuple.local.ip == ClientAddress(f, k)) fl.cwnd[k] = si.cwnd;
        }
      }
    }
    s.cwnd.push_back(fl.cwnd);
  }
  samples_.push_back(std::move(s));
}

inline bool FlowNetwork::Done() {
  for (Flow& fl : flows_) {
    if (!fl.client_closed || !fl.eof || fl.read != fl.written) return false;
    for (const auto& [host, id] : {std::pair{fl.client.get(), fl.client_id},
                                   std::pair{fl.server.get(), fl.server_id}}) {
      const Connection* c = Conn(*host, id);
      if (c != nullptr && !c->closed()) return false;
    }
  }
  return true;
}

inline FlowNetworkResult FlowNetwork::Run() {
  FlowNetworkResult r;
  if (ran_) {
    r.error = "FlowNetwork::Run() called twice";
    return r;
  }
  ran_ = true;
  if (failure_.empty() && cfg_.sample_every > Duration::Zero()) {
    // Samples at 0, every sample_every, up to stop: a bounded number, scheduled up front.
    for (Timestamp t = Timestamp::Zero(); t <= Timestamp::Zero() + cfg_.stop;
         t = t + cfg_.sample_every) {
      sim_.At(t, [this] { TakeSample(sim_.now()); });
    }
  }
  auto stop = [this] {
    if (!failure_.empty()) return true;
    for (Flow& fl : flows_) {
      for (Host* h : {fl.client.get(), fl.server.get()}) {
        if (h->stuck()) {
          Fail(h->stuck_reason());
          return true;
        }
      }
    }
    return Done();
  };
  const RunResult run =
      failure_.empty() ? sim_.RunUntil(stop, Timestamp::Zero() + cfg_.deadline, cfg_.max_steps)
                       : RunResult{};
  if (run.outcome != RunOutcome::kDone) Fail(std::string(RunOutcomeFailure(run.outcome)));
  r.ok = failure_.empty();
  if (!r.ok) {
    r.error = absl::StrFormat("seed %u at %.3fs: %s", cfg_.seed,
                              (sim_.now() - Timestamp::Zero()).seconds(), failure_);
  }
  r.elapsed = sim_.now() - Timestamp::Zero();
  for (const Flow& fl : flows_) {
    r.written.push_back(fl.written);
    r.read.push_back(fl.read);
    r.subflows_up.push_back(fl.subflows_up);
    r.fell_back.push_back(fl.fell_back);
  }
  for (const Link& l : links_) {
    r.forward.push_back(l.forward->stats());
    r.reverse.push_back(l.reverse->stats());
  }
  r.samples = std::move(samples_);
  return r;
}

inline std::string FlowNetworkResult::Describe() const {
  std::string s = ok ? "ok" : error;
  absl::StrAppendFormat(&s, "\nelapsed %.3fs", elapsed.seconds());
  for (size_t f = 0; f < written.size(); ++f) {
    absl::StrAppendFormat(&s, "\nflow %u: written %u, read %u, subflows up %u%s", f, written[f],
                          read[f], subflows_up[f], fell_back[f] ? ", FELL BACK" : "");
  }
  for (size_t l = 0; l < forward.size(); ++l) {
    absl::StrAppendFormat(&s, "\nlink %u: forward %u pkts delivered, %u queue drops, max queue "
                              "%u B; reverse %u pkts, %u drops",
                          l, forward[l].packets_delivered,
                          forward[l].dropped(DropCause::kQueueFull), forward[l].max_queue_bytes,
                          reverse[l].packets_delivered, reverse[l].dropped_total());
  }
  return s;
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_FLOW_NETWORK_H_

// Runs an mptcp_sim scenario on the in-memory simulator (io/sim/harness.h: a client and a
// server Endpoint joined by the scenario's paths) and records, once per simulated second,
// each path's throughput and its sender-side subflow's cwnd and smoothed RTT, plus the media
// player's buffer and stalls. The same scenario (seed included) gives the same report.
//
// The data direction is server -> client for media and downloads, client -> server for
// uploads; "throughput" is the TCP payload a path carried that way during the interval
// (retransmissions included), counted at the client end of the path, and cwnd / srtt are the
// sending side's. Each path carries at most one subflow here (the harness joins each once).
//
// A scenario with a baseline_path runs twice: as given, then with that path alone (one subflow,
// as single-path TCP would use it), so that the report can say what multipath bought.
#ifndef MPTCP_TOOLS_SIM_RUNNER_H_
#define MPTCP_TOOLS_SIM_RUNNER_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "io/sim/harness.h"
#include "io/sim/packet_filter.h"
#include "mptcp/connection.h"
#include "mptcp/time.h"
#include "tools/sim/player.h"
#include "tools/sim/scenario.h"

namespace mptcp::tools {

enum class SubflowState : uint8_t { kNone, kActive, kStale, kClosed };

constexpr absl::string_view SubflowStateName(SubflowState s) {
  switch (s) {
    case SubflowState::kNone: return "none";
    case SubflowState::kActive: return "active";
    case SubflowState::kStale: return "stale";
    case SubflowState::kClosed: return "closed";
  }
  return "?";
}

// One path over one interval.
struct PathSample {
  SubflowState state = SubflowState::kNone;
  SubflowId subflow = 0;        // the sender's subflow id on this path (0: none yet)
  double throughput_mbps = 0;   // payload in the data direction over the interval
  uint64_t bytes = 0;           // payload in the data direction since the start
  uint32_t cwnd = 0;            // bytes, at the end of the interval
  double srtt_ms = 0;           // at the end of the interval
};

// One interval [start, end): a whole simulated second, or the last part of one.
struct Row {
  Timestamp start, end;
  std::vector<PathSample> paths;
  uint64_t delivered = 0;   // stream bytes the receiving application had read by `end`
  double goodput_mbps = 0;  // of those, read during the interval
  // Media only.
  double buffer_s = 0;      // media buffered at `end`
  double stalled_s = 0;     // time spent stalled during the interval
  Player::State player = Player::State::kBuffering;
};

struct Interval {
  double start_s = 0, end_s = 0;
};

struct PlayerSummary {
  std::optional<double> startup_s;   // when playback started
  std::optional<double> finished_s;  // when the last of the stream was played
  std::vector<Interval> stalls;      // end_s = the run's end for a stall still going
  bool stalled_at_end = false;
  double total_stall_s = 0;
};

struct RunReport {
  Scenario scenario;
  sim::HarnessResult result;
  bool ok = false;            // no failure (running into duration_s is none)
  std::string error;          // else why
  uint64_t stream_bytes = 0;  // the application's stream
  uint64_t delivered = 0;     // read by the receiver, every byte checked
  bool complete = false;      // all of it, and both ends closed cleanly
  double end_s = 0;           // when the run ended (finished, failed or reached duration_s)
  double table_end_s = 0;     // the last row's end: end_s rounded up to a whole second
  std::vector<Row> rows;
  std::vector<std::vector<Interval>> down;  // per path, when it was down (from events)
  PlayerSummary player;                     // media only
  // The same application over scenario.baseline_path alone, when the scenario names one.
  std::shared_ptr<const RunReport> baseline;
};

// `s` cut down to path `path` alone: its events only, no backup flag, no pcap, no baseline.
Scenario SinglePathScenario(const Scenario& s, size_t path);

// Progress for a live display: called every 100 ms of simulated time.
struct Progress {
  double now_s = 0, duration_s = 0;
  uint64_t delivered = 0, total = 0;
  double goodput_mbps = 0;  // over the last second
};
using ProgressFn = std::function<void(const Progress&)>;

RunReport RunScenario(const Scenario& scenario, const ProgressFn& progress = nullptr);

// --- implementation ---------------------------------------------------------------------------

inline Scenario SinglePathScenario(const Scenario& s, size_t path) {
  Scenario one = s;
  one.name = absl::StrCat(s.name, "-", s.paths.at(path).name, "-only");
  one.paths = {s.paths[path]};
  one.paths[0].backup = false;  // a lone backup subflow would carry the data all the same
  one.events.clear();
  for (const EventSpec& e : s.events) {
    if (e.path != path) continue;
    one.events.push_back(e);
    one.events.back().path = 0;
  }
  one.output = OutputSpec{};
  one.baseline_path.reset();
  return one;
}

namespace runner_internal {

inline double Secs(Timestamp t) { return (t - Timestamp::Zero()).seconds(); }
inline Timestamp At(double s) { return Timestamp::Zero() + SecondsToDuration(s); }

inline sim::HarnessConfig MakeHarnessConfig(const Scenario& s) {
  sim::HarnessConfig c;
  c.seed = s.seed;
  for (EndpointConfig* e : {&c.client, &c.server}) {
    e->connection.scheduler = s.scheduler;
    e->connection.congestion_control = s.congestion_control;
  }
  c.paths = sim::DocumentationPaths(s.paths.size(), sim::LinkConfig{});
  for (size_t i = 0; i < s.paths.size(); ++i) {
    ApplyLinkChange(s.paths[i].uplink, c.paths[i].up);
    ApplyLinkChange(s.paths[i].downlink, c.paths[i].down);
    c.paths[i].backup = s.paths[i].backup;
  }
  const uint64_t bytes = s.app.StreamBytes();
  if (s.app.kind == AppKind::kBulk && s.app.upload) {
    c.client_bytes = bytes;
  } else {
    c.server_bytes = bytes;
  }
  if (s.app.kind == AppKind::kMedia) {
    // Chunk k (media [k, k+1) chunk lengths) is released at k * chunk_s, as a server pacing a
    // stream (or a player fetching one segment per segment duration) does.
    const AppSpec app = s.app;
    c.server_source = [app, bytes](Timestamp now) {
      const double chunk_bytes = app.bitrate_mbps * 1e6 / 8 * app.chunk_s;
      const int64_t chunks_total =
          static_cast<int64_t>(std::ceil(app.length_s / app.chunk_s - 1e-9));
      const Duration step = SecondsToDuration(app.chunk_s);
      // Chunks released by now: those with k * step <= now.
      const int64_t released =
          std::min(chunks_total, (now - Timestamp::Zero()).nanos() / step.nanos() + 1);
      sim::SourceStep st;
      st.available = std::min<uint64_t>(
          bytes, static_cast<uint64_t>(std::llround(chunk_bytes * static_cast<double>(released))));
      if (released < chunks_total) st.next = Timestamp::Zero() + step * released;
      return st;
    };
  }
  c.capture = !s.output.pcap.empty();
  c.pcap_path = s.output.pcap;
  c.deadline = SecondsToDuration(s.duration_s);
  c.stall_timeout = Duration::Infinite();  // only the deadline ends a run that cannot finish
  return c;
}

// The down intervals of each path, from the scenario's events, cut at `end_s`.
inline std::vector<std::vector<Interval>> DownIntervals(const Scenario& s, double end_s) {
  std::vector<const EventSpec*> ev;
  for (const EventSpec& e : s.events) ev.push_back(&e);
  std::stable_sort(ev.begin(), ev.end(),
                   [](const EventSpec* a, const EventSpec* b) { return a->at_s < b->at_s; });
  std::vector<std::vector<Interval>> down(s.paths.size());
  std::vector<std::optional<double>> since(s.paths.size());
  for (const EventSpec* e : ev) {
    if (e->at_s >= end_s) break;
    if (e->action == EventAction::kDown && !since[e->path]) since[e->path] = e->at_s;
    if (e->action == EventAction::kUp && since[e->path]) {
      down[e->path].push_back(Interval{*since[e->path], e->at_s});
      since[e->path].reset();
    }
  }
  for (size_t i = 0; i < since.size(); ++i) {
    if (since[i]) down[i].push_back(Interval{*since[i], end_s});
  }
  return down;
}

}  // namespace runner_internal

inline RunReport RunScenario(const Scenario& scenario, const ProgressFn& progress) {
  using runner_internal::At;
  using runner_internal::Secs;
  RunReport rep;
  rep.scenario = scenario;
  rep.stream_bytes = scenario.app.StreamBytes();
  const bool upload = scenario.app.kind == AppKind::kBulk && scenario.app.upload;
  const bool media = scenario.app.kind == AppKind::kMedia;
  // The data direction at the client end of a path.
  const sim::Direction data_dir = upload ? sim::Direction::kForward : sim::Direction::kReverse;

  sim::Harness h(runner_internal::MakeHarnessConfig(scenario));
  const size_t n = scenario.paths.size();

  // Timed events.
  for (const EventSpec& e : scenario.events) {
    h.sim().At(At(e.at_s), [&h, e] {
      switch (e.action) {
        case EventAction::kDown: h.SetPathUp(e.path, false); break;
        case EventAction::kUp: h.SetPathUp(e.path, true); break;
        case EventAction::kSet:
          for (bool down : {true, false}) {
            sim::OneWayLink& l = down ? h.downlink(e.path) : h.uplink(e.path);
            sim::LinkConfig c = l.config();
            ApplyLinkChange(down ? e.downlink : e.uplink, c);
            l.set_bandwidth(c.bandwidth_bps);
            l.set_delay(c.delay);
            l.set_jitter(c.jitter);
            l.set_loss(c.loss);
            l.set_queue_bytes(c.queue_bytes);
            l.set_burst_loss(c.burst_loss);
            l.set_reorder(c.reorder, c.reorder_delay);
          }
          break;
      }
    });
  }

  // The player follows every read of the stream.
  std::optional<Player> player;
  if (media) {
    player.emplace(MbpsToBps(scenario.app.bitrate_mbps), rep.stream_bytes,
                   SecondsToDuration(scenario.app.startup_s));
    h.SetReadHook([&player](sim::Harness&, bool client, Timestamp now, size_t total) {
      if (client) player->OnData(now, total);
    });
  }

  // Samples: one row per simulated second, each sampler scheduling the next.
  std::vector<uint64_t> last_bytes(n, 0);
  uint64_t last_delivered = 0;
  Timestamp last_sample = Timestamp::Zero();
  std::vector<SubflowInfo> last_subflows;
  auto sample = [&](Timestamp now) {
    if (now <= last_sample) return;
    Row row;
    row.start = last_sample;
    row.end = now;
    const double secs = (now - last_sample).seconds();
    // Once the transfer is over the Endpoint lets the connection go: the last row shows its
    // subflows as last seen.
    Connection* sender = upload ? h.client_conn() : h.server_conn();
    if (sender != nullptr) last_subflows = sender->Subflows();
    const std::vector<SubflowInfo>& subflows = last_subflows;
    for (size_t i = 0; i < n; ++i) {
      PathSample ps;
      ps.bytes = h.meter(i).payload_bytes(data_dir);
      ps.throughput_mbps = static_cast<double>(ps.bytes - last_bytes[i]) * 8 / secs / 1e6;
      last_bytes[i] = ps.bytes;
      const IpAddress client_ip = h.ClientTuple(i).local.ip;
      for (const SubflowInfo& si : subflows) {
        const IpAddress ip = upload ? si.tuple.local.ip : si.tuple.remote.ip;
        if (ip != client_ip) continue;
        ps.subflow = si.id;
        ps.state = si.state == tcp::TcpState::kClosed ? SubflowState::kClosed
                   : si.stale                         ? SubflowState::kStale
                                                      : SubflowState::kActive;
        ps.cwnd = si.cwnd;
        ps.srtt_ms = si.srtt.seconds() * 1e3;
      }
      row.paths.push_back(ps);
    }
    row.delivered = h.read(/*client=*/!upload);
    row.goodput_mbps = static_cast<double>(row.delivered - last_delivered) * 8 / secs / 1e6;
    last_delivered = row.delivered;
    if (player) {
      player->AdvanceTo(now);
      row.buffer_s = player->buffered().seconds();
      row.stalled_s = player->StalledIn(last_sample, now).seconds();
      row.player = player->state();
    }
    last_sample = now;
    rep.rows.push_back(std::move(row));
  };
  std::function<void()> tick = [&] {
    sample(h.sim().now());
    h.sim().After(Duration::Seconds(1), tick);
  };
  h.sim().At(Timestamp::Zero() + Duration::Seconds(1), tick);

  // Progress every 100 ms of simulated time (scheduled whether or not anyone listens, so the
  // run is the same either way).
  std::vector<uint64_t> recent(11, 0);  // delivered at the last 11 progress ticks
  size_t ticks = 0;
  std::function<void()> progress_tick = [&] {
    const uint64_t d = h.read(/*client=*/!upload);
    recent[ticks % recent.size()] = d;
    const uint64_t second_ago = ticks >= 10 ? recent[(ticks - 10) % recent.size()] : 0;
    const double window = ticks >= 10 ? 1.0 : 0.1 * static_cast<double>(ticks + 1);
    ++ticks;
    if (progress) {
      progress(Progress{Secs(h.sim().now()), scenario.duration_s, d, rep.stream_bytes,
                        static_cast<double>(d - second_ago) * 8 / window / 1e6});
    }
    h.sim().After(Duration::Millis(100), progress_tick);
  };
  h.sim().At(Timestamp::Zero() + Duration::Millis(100), progress_tick);

  rep.result = h.Run();
  rep.end_s = Secs(h.sim().now());
  // Finish the second the run ended in (idle, or the connection closing), so that every row
  // is a whole second; a run cut short by a failure keeps its last part of a second.
  if (rep.result.ok) {
    const int64_t second = Duration::Seconds(1).nanos();
    const int64_t now_ns = (h.sim().now() - Timestamp::Zero()).nanos();
    const Timestamp until = Timestamp::Zero() + Duration::Nanos((now_ns + second - 1) / second *
                                                                second);
    h.sim().RunUntil(until);
  }
  const Timestamp end = h.sim().now();
  sample(end);
  rep.table_end_s = Secs(end);

  rep.delivered = upload ? rep.result.server_read : rep.result.client_read;
  rep.ok = rep.result.ok || rep.result.outcome == sim::RunOutcome::kDeadline;
  if (!rep.ok) rep.error = rep.result.error;
  rep.complete = rep.result.ok && rep.delivered == rep.stream_bytes;
  rep.down = runner_internal::DownIntervals(scenario, rep.table_end_s);
  if (player) {
    PlayerSummary& ps = rep.player;
    if (!player->started_at().IsNever()) ps.startup_s = Secs(player->started_at());
    for (const Player::Stall& s : player->stalls()) {
      const double e = s.end.IsNever() ? rep.end_s : Secs(s.end);
      ps.stalls.push_back(Interval{Secs(s.start), e});
      ps.total_stall_s += e - Secs(s.start);
    }
    ps.stalled_at_end = player->state() == Player::State::kStalled;
    // Once everything has arrived the rest plays out without a stall.
    if (rep.delivered == rep.stream_bytes && player->state() == Player::State::kPlaying) {
      player->AdvanceTo(end + player->buffered() + Duration::Seconds(1));
    }
    if (!player->finished_at().IsNever()) ps.finished_s = Secs(player->finished_at());
  }
  if (scenario.baseline_path) {
    rep.baseline = std::make_shared<const RunReport>(
        RunScenario(SinglePathScenario(scenario, *scenario.baseline_path)));
  }
  return rep;
}

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_SIM_RUNNER_H_

// A one-way link: a drop-tail queue sized in bytes in front of a serializer of fixed bandwidth,
// then a propagation delay with optional jitter, random and bursty (Gilbert-Elliott) loss,
// reordering and duplication, and an up/down switch. Every knob can change mid-run.
//
// The life of a packet offered to Deliver():
//   1. Link down: dropped (kLinkDown).
//   2. Infinite bandwidth (0): it is on the wire at once (step 4); there is no queue.
//   3. Otherwise, if the serializer is idle it starts at once; if not it joins the queue when
//      queued bytes + its size <= queue_bytes, else it is dropped (kQueueFull). The packet
//      being serialized has left the queue and does not count against it. Serializing takes
//      ceil(size * 8 / bandwidth) (so a 1500-byte packet at 12 Mbit/s takes exactly 1 ms);
//      the next queued packet starts the instant the previous one ends.
//   4. On the wire (when its serialization ends): random loss (kRandomLoss), then the
//      Gilbert-Elliott channel (kBurstLoss). A lost packet has used its share of bandwidth,
//      as a packet corrupted on the wire does.
//   5. Arrival = end of serialization + delay + uniform jitter in [0, jitter]. Jitter never
//      reorders: an arrival earlier than the previous packet's is moved up to it (FIFO), as
//      is any arrival after the delay was lowered mid-run. With probability `reorder` a
//      packet is instead held `reorder_delay` longer and exempt from FIFO, so later packets
//      overtake it. With probability `duplicate` a copy (same id) arrives right after it.
//   6. At its arrival time the packet goes to the sink.
//
// Taking the link down (SetUp(false)) drops everything it holds: the queue, the packet being
// serialized and the packets propagating (all kLinkDown), as a cut cable loses what is on it.
// Packets offered while it is down are dropped too. Bringing it up again starts empty.
//
// Knob changes apply from the moment they are made: a new bandwidth to the next packet that
// starts serializing (the current one finishes at the old rate), a new delay, jitter or
// loss to packets that reach the wire afterwards, a new queue size to later arrivals (a
// shrunk queue keeps what it holds).
//
// Randomness: each random decision (loss, burst, jitter, reorder, duplicate) draws from its
// own stream forked from the simulator at construction, and draws only when its knob is on,
// so enabling duplication does not change which packets are lost.
#ifndef MPTCP_IO_SIM_LINK_H_
#define MPTCP_IO_SIM_LINK_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/btree_map.h"
#include "io/sim/packet.h"
#include "io/sim/simulator.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim {

// The Gilbert-Elliott two-state loss channel, advanced once per packet reaching the wire: the
// packet is lost with the current state's loss probability, then the state moves
// (good -> bad with p_good_to_bad, bad -> good with p_bad_to_good). Off while p_good_to_bad
// and loss_good are both 0 (the channel then never leaves the good state, where nothing is
// lost). As in netem's "loss gemodel", the chain steps per packet, not per unit of time: a
// bad state lasts a number of packets, so on a link that falls idle (a sender backing off
// after losses) it can last a long time. Keep loss_bad below 1 or p_bad_to_good high when
// that matters.
struct GilbertElliott {
  double p_good_to_bad = 0.0;
  double p_bad_to_good = 1.0;
  double loss_good = 0.0;
  double loss_bad = 1.0;

  bool enabled() const { return p_good_to_bad > 0.0 || loss_good > 0.0; }
  // Long-run share of packets that find the channel bad: p / (p + r).
  double BadFraction() const {
    const double s = p_good_to_bad + p_bad_to_good;
    return s > 0.0 ? p_good_to_bad / s : 0.0;
  }
  // Long-run loss rate.
  double MeanLoss() const {
    const double bad = BadFraction();
    return bad * loss_bad + (1.0 - bad) * loss_good;
  }
  // Mean number of consecutive packets in the bad state (1 / r).
  double MeanBadRun() const { return p_bad_to_good > 0.0 ? 1.0 / p_bad_to_good : 0.0; }
};

struct LinkConfig {
  uint64_t bandwidth_bps = 0;  // bits per second; 0 = infinite (no serialization, no queue)
  Duration delay = Duration::Zero();
  Duration jitter = Duration::Zero();  // extra delay, uniform in [0, jitter], FIFO kept
  double loss = 0.0;                   // independent loss probability per packet
  GilbertElliott burst_loss;
  double reorder = 0.0;  // probability that a packet is held back and overtaken
  Duration reorder_delay = Duration::Zero();
  double duplicate = 0.0;  // probability that a packet arrives twice
  size_t queue_bytes = std::numeric_limits<size_t>::max();  // drop-tail limit
  bool up = true;
};

enum class DropCause : uint8_t {
  kQueueFull,
  kRandomLoss,
  kBurstLoss,
  kLinkDown,
};
inline constexpr size_t kNumDropCauses = 4;

constexpr std::string_view DropCauseName(DropCause c) {
  switch (c) {
    case DropCause::kQueueFull: return "queue-full";
    case DropCause::kRandomLoss: return "random-loss";
    case DropCause::kBurstLoss: return "burst-loss";
    case DropCause::kLinkDown: return "link-down";
  }
  return "?";
}

struct LinkStats {
  uint64_t packets_offered = 0, bytes_offered = 0;
  // Handed to the sink (duplicates included).
  uint64_t packets_delivered = 0, bytes_delivered = 0;
  uint64_t duplicated = 0;  // copies made
  uint64_t reordered = 0;   // packets held back
  std::array<uint64_t, kNumDropCauses> dropped_packets{};
  std::array<uint64_t, kNumDropCauses> dropped_bytes{};
  size_t max_queue_bytes = 0;  // high-water mark of the queue

  uint64_t dropped(DropCause c) const { return dropped_packets[static_cast<size_t>(c)]; }
  uint64_t dropped_total() const {
    uint64_t n = 0;
    for (uint64_t d : dropped_packets) n += d;
    return n;
  }
};

class OneWayLink : public Actor, public PacketSink {
 public:
  OneWayLink(Simulator& sim, std::string name, const LinkConfig& config,
             PacketSink* sink = nullptr)
      : Actor(sim, std::move(name)),
        config_(config),
        sink_(sink),
        loss_rng_(sim.Fork()),
        burst_rng_(sim.Fork()),
        jitter_rng_(sim.Fork()),
        reorder_rng_(sim.Fork()),
        duplicate_rng_(sim.Fork()) {}

  void set_sink(PacketSink* sink) { sink_ = sink; }

  // --- knobs (see the header comment for when each change takes effect) ---------------------
  const LinkConfig& config() const { return config_; }
  void set_bandwidth(uint64_t bps) { config_.bandwidth_bps = bps; }
  void set_delay(Duration d) { config_.delay = d; }
  void set_jitter(Duration d) { config_.jitter = d; }
  void set_loss(double p) { config_.loss = p; }
  void set_burst_loss(const GilbertElliott& ge) { config_.burst_loss = ge; }
  void set_reorder(double p, Duration extra) {
    config_.reorder = p;
    config_.reorder_delay = extra;
  }
  void set_duplicate(double p) { config_.duplicate = p; }
  void set_queue_bytes(size_t bytes) { config_.queue_bytes = bytes; }
  // Down drops everything the link holds (see the header comment).
  void SetUp(bool up);
  bool up() const { return config_.up; }
  // Whether the Gilbert-Elliott channel is in its bad state.
  bool in_bad_state() const { return bad_state_; }

  // --- state ---------------------------------------------------------------------------------
  const LinkStats& stats() const { return stats_; }
  size_t queued_bytes() const { return queued_bytes_; }
  size_t queued_packets() const { return queue_.size(); }
  bool serializing() const { return serializing_; }
  size_t in_flight() const { return flight_.size(); }

  // ceil(bytes * 8 / bandwidth), or zero for an infinite link.
  static Duration SerializationTime(size_t bytes, uint64_t bandwidth_bps) {
    if (bandwidth_bps == 0) return Duration::Zero();
    const unsigned __int128 bits_ns = static_cast<unsigned __int128>(bytes) * 8 * 1'000'000'000u;
    return Duration::Nanos(static_cast<int64_t>((bits_ns + bandwidth_bps - 1) / bandwidth_bps));
  }

  void Deliver(Packet packet) override;
  void Act(Timestamp now) override;

 private:
  struct FlightKey {
    Timestamp at;
    uint64_t seq;
    friend bool operator<(const FlightKey& a, const FlightKey& b) {
      return a.at != b.at ? a.at < b.at : a.seq < b.seq;
    }
  };

  void Drop(const Packet& p, DropCause cause) {
    ++stats_.dropped_packets[static_cast<size_t>(cause)];
    stats_.dropped_bytes[static_cast<size_t>(cause)] += p.size();
  }
  void StartSerializing(Timestamp start, Packet p) {
    tx_end_ = start + SerializationTime(p.size(), config_.bandwidth_bps);
    tx_packet_ = std::move(p);
    serializing_ = true;
  }
  // Step 4 and 5 of the header comment: the packet finished serializing at `t`.
  void OnWire(Timestamp t, Packet p);
  void ScheduleNext() {
    Timestamp next = Timestamp::Never();
    if (serializing_) next = tx_end_;
    if (!flight_.empty()) next = std::min(next, flight_.begin()->first.at);
    Schedule(next);
  }

  LinkConfig config_;
  PacketSink* sink_;
  Random loss_rng_, burst_rng_, jitter_rng_, reorder_rng_, duplicate_rng_;
  bool bad_state_ = false;

  std::deque<Packet> queue_;
  size_t queued_bytes_ = 0;
  bool serializing_ = false;
  Packet tx_packet_;
  Timestamp tx_end_;
  // Packets propagating, by arrival time then order of entry.
  absl::btree_map<FlightKey, Packet> flight_;
  uint64_t flight_seq_ = 0;
  Timestamp last_fifo_arrival_ = Timestamp::Zero();
  LinkStats stats_;
};

// --- implementation ---------------------------------------------------------------------------

inline void OneWayLink::Deliver(Packet packet) {
  ++stats_.packets_offered;
  stats_.bytes_offered += packet.size();
  const Timestamp now = simulator().now();
  if (!config_.up) {
    Drop(packet, DropCause::kLinkDown);
    return;
  }
  if (config_.bandwidth_bps == 0) {
    OnWire(now, std::move(packet));
  } else if (!serializing_) {
    StartSerializing(now, std::move(packet));
  } else if (packet.size() > config_.queue_bytes ||
             queued_bytes_ > config_.queue_bytes - packet.size()) {
    Drop(packet, DropCause::kQueueFull);
    return;
  } else {
    queued_bytes_ += packet.size();
    stats_.max_queue_bytes = std::max(stats_.max_queue_bytes, queued_bytes_);
    queue_.push_back(std::move(packet));
  }
  ScheduleNext();
}

inline void OneWayLink::OnWire(Timestamp t, Packet p) {
  if (config_.loss > 0.0 && loss_rng_.Bernoulli(config_.loss)) {
    Drop(p, DropCause::kRandomLoss);
    return;
  }
  const GilbertElliott& ge = config_.burst_loss;
  if (ge.enabled()) {
    // Always two draws per packet, so the stream stays aligned whatever the outcomes.
    const bool lost = burst_rng_.Bernoulli(bad_state_ ? ge.loss_bad : ge.loss_good);
    const double u = burst_rng_.UniformDouble();
    bad_state_ = bad_state_ ? !(u < ge.p_bad_to_good) : (u < ge.p_good_to_bad);
    if (lost) {
      Drop(p, DropCause::kBurstLoss);
      return;
    }
  }
  Timestamp at = t + config_.delay;
  if (config_.jitter > Duration::Zero()) {
    at = at + Duration::Nanos(static_cast<int64_t>(
                  jitter_rng_.Uniform(static_cast<uint64_t>(config_.jitter.nanos()) + 1)));
  }
  if (config_.reorder > 0.0 && reorder_rng_.Bernoulli(config_.reorder)) {
    at = at + config_.reorder_delay;
    ++stats_.reordered;
  } else {
    at = std::max(at, last_fifo_arrival_);
    last_fifo_arrival_ = at;
  }
  const bool dup = config_.duplicate > 0.0 && duplicate_rng_.Bernoulli(config_.duplicate);
  if (dup) {
    ++stats_.duplicated;
    flight_.emplace(FlightKey{at, flight_seq_++}, p);
  }
  flight_.emplace(FlightKey{at, flight_seq_++}, std::move(p));
}

inline void OneWayLink::Act(Timestamp now) {
  while (serializing_ && tx_end_ <= now) {
    serializing_ = false;
    const Timestamp done = tx_end_;
    OnWire(done, std::move(tx_packet_));
    tx_packet_ = Packet{};
    if (!queue_.empty()) {
      Packet next = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= next.size();
      StartSerializing(done, std::move(next));
    }
  }
  // The sink may hand packets straight back to this link (a loop through a router): Deliver()
  // only queues, so take each packet out before handing it on.
  while (!flight_.empty() && flight_.begin()->first.at <= now) {
    Packet p = std::move(flight_.begin()->second);
    flight_.erase(flight_.begin());
    ++stats_.packets_delivered;
    stats_.bytes_delivered += p.size();
    if (sink_ != nullptr) sink_->Deliver(std::move(p));
  }
  ScheduleNext();
}

inline void OneWayLink::SetUp(bool up) {
  if (config_.up == up) return;
  config_.up = up;
  if (up) return;
  for (const Packet& p : queue_) Drop(p, DropCause::kLinkDown);
  queue_.clear();
  queued_bytes_ = 0;
  if (serializing_) {
    Drop(tx_packet_, DropCause::kLinkDown);
    serializing_ = false;
    tx_packet_ = Packet{};
  }
  for (const auto& [key, p] : flight_) Drop(p, DropCause::kLinkDown);
  flight_.clear();
  last_fifo_arrival_ = simulator().now();
  Unschedule();
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_LINK_H_

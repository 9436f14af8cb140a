// PacketFilter: a two-sided element placed inside a path, between side A (the client end) and
// side B (the server end). Packets entering forward_in() travel A -> B and leave through the
// forward output; packets entering reverse_in() travel B -> A. A filter sees both directions,
// which middleboxes that keep per-flow state (NAT, ISN rewriting) need, and may drop, rewrite,
// split or merge packets. Unlike quiche's PacketFilter it may emit more or fewer packets than
// it receives, and later (an Actor subclass can hold packets).
#ifndef MPTCP_IO_SIM_PACKET_FILTER_H_
#define MPTCP_IO_SIM_PACKET_FILTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/sim/packet.h"

namespace mptcp::sim {

enum class Direction : uint8_t {
  kForward = 0,  // A -> B (client -> server in the harness)
  kReverse = 1,  // B -> A
};

constexpr size_t DirIndex(Direction d) { return static_cast<size_t>(d); }
constexpr Direction Opposite(Direction d) {
  return d == Direction::kForward ? Direction::kReverse : Direction::kForward;
}
constexpr std::string_view DirectionName(Direction d) {
  return d == Direction::kForward ? "forward" : "reverse";
}

// Which directions a middlebox acts on (it passes the others through untouched).
enum class Directions : uint8_t { kForward = 1, kReverse = 2, kBoth = 3 };
constexpr bool Covers(Directions set, Direction d) {
  return (static_cast<uint8_t>(set) & (d == Direction::kForward ? 1 : 2)) != 0;
}

struct FilterStats {
  // Indexed by DirIndex().
  std::array<uint64_t, 2> packets_in{};
  std::array<uint64_t, 2> packets_out{};
  std::array<uint64_t, 2> dropped{};
  std::array<uint64_t, 2> modified{};  // packets the filter changed (its own definition)

  uint64_t total_dropped() const { return dropped[0] + dropped[1]; }
  uint64_t total_modified() const { return modified[0] + modified[1]; }
};

class PacketFilter {
 public:
  explicit PacketFilter(std::string name) : name_(std::move(name)) {}
  virtual ~PacketFilter() = default;
  PacketFilter(const PacketFilter&) = delete;
  PacketFilter& operator=(const PacketFilter&) = delete;

  const std::string& name() const { return name_; }

  // The input port for packets travelling in direction `d`.
  PacketSink* in(Direction d) { return &ports_[DirIndex(d)]; }
  PacketSink* forward_in() { return in(Direction::kForward); }
  PacketSink* reverse_in() { return in(Direction::kReverse); }
  // Where packets travelling in direction `d` go next (nullptr: discarded).
  void set_output(Direction d, PacketSink* out) { outputs_[DirIndex(d)] = out; }
  void set_forward_output(PacketSink* out) { set_output(Direction::kForward, out); }
  void set_reverse_output(PacketSink* out) { set_output(Direction::kReverse, out); }

  const FilterStats& stats() const { return stats_; }

 protected:
  // One packet arrived travelling in `dir`. Call Emit() for what goes on (any number of
  // times, now or later) and Discard() for what does not.
  virtual void Process(Direction dir, Packet packet) = 0;

  void Emit(Direction dir, Packet packet) {
    ++stats_.packets_out[DirIndex(dir)];
    if (PacketSink* out = outputs_[DirIndex(dir)]) out->Deliver(std::move(packet));
  }
  void Discard(Direction dir) { ++stats_.dropped[DirIndex(dir)]; }
  void CountModified(Direction dir) { ++stats_.modified[DirIndex(dir)]; }

 private:
  class Port : public PacketSink {
   public:
    Port(PacketFilter* f, Direction d) : filter_(f), dir_(d) {}
    void Deliver(Packet packet) override {
      ++filter_->stats_.packets_in[DirIndex(dir_)];
      filter_->Process(dir_, std::move(packet));
    }

   private:
    PacketFilter* filter_;
    Direction dir_;
  };

  std::string name_;
  std::array<Port, 2> ports_{Port(this, Direction::kForward), Port(this, Direction::kReverse)};
  std::array<PacketSink*, 2> outputs_{nullptr, nullptr};
  FilterStats stats_;
};

// A one-for-one filter from a function: `fn` may rewrite the packet and returns whether it
// goes on (true) or is dropped. For ad-hoc middleboxes in tests.
class FunctionFilter : public PacketFilter {
 public:
  using Fn = std::function<bool(Direction, Packet&)>;
  FunctionFilter(std::string name, Fn fn) : PacketFilter(std::move(name)), fn_(std::move(fn)) {}

 protected:
  void Process(Direction dir, Packet packet) override {
    if (fn_ && !fn_(dir, packet)) {
      Discard(dir);
      return;
    }
    Emit(dir, std::move(packet));
  }

 private:
  Fn fn_;
};

// Passes everything: a placeholder, or a counter of what crosses a point (see stats()).
class PassThrough : public PacketFilter {
 public:
  explicit PassThrough(std::string name = "pass") : PacketFilter(std::move(name)) {}

 protected:
  void Process(Direction dir, Packet packet) override { Emit(dir, std::move(packet)); }
};

// Several filters in series in one slot of a path: forward packets cross them first to last,
// reverse packets last to first (e.g. {NAT, ISN rewriter}: the NAT sits nearest side A).
class FilterChain : public PacketFilter {
 public:
  FilterChain(std::string name, std::vector<std::unique_ptr<PacketFilter>> filters)
      : PacketFilter(std::move(name)), filters_(std::move(filters)) {
    const size_t n = filters_.size();
    for (size_t i = 0; i < n; ++i) {
      filters_[i]->set_output(Direction::kForward, i + 1 < n
                                                       ? filters_[i + 1]->in(Direction::kForward)
                                                       : &exits_[0]);
      filters_[i]->set_output(Direction::kReverse,
                              i > 0 ? filters_[i - 1]->in(Direction::kReverse) : &exits_[1]);
    }
  }

  size_t size() const { return filters_.size(); }
  PacketFilter* at(size_t i) const { return filters_.at(i).get(); }

 protected:
  void Process(Direction dir, Packet packet) override {
    if (filters_.empty()) {
      Emit(dir, std::move(packet));
      return;
    }
    PacketFilter* first = dir == Direction::kForward ? filters_.front().get()
                                                     : filters_.back().get();
    first->in(dir)->Deliver(std::move(packet));
  }

 private:
  class Exit : public PacketSink {
   public:
    Exit(FilterChain* chain, Direction dir) : chain_(chain), dir_(dir) {}
    void Deliver(Packet packet) override { chain_->Emit(dir_, std::move(packet)); }

   private:
    FilterChain* chain_;
    Direction dir_;
  };

  std::vector<std::unique_ptr<PacketFilter>> filters_;
  std::array<Exit, 2> exits_{Exit(this, Direction::kForward), Exit(this, Direction::kReverse)};
};

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_PACKET_FILTER_H_

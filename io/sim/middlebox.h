// Middleboxes that MPTCP must survive (RFC 8684 §3.7, and the survey of Honda et al., "Is it
// still possible to extend TCP?", IMC 2011): each is a PacketFilter with its own counters.
//
//   MptcpOptionStripper  NOPs out MPTCP options on chosen segment classes (fallback, §3.7)
//   IsnRewriter          shifts sequence numbers per flow, as some firewalls do
//   Nat                  rewrites addresses and ports through a mapping table
//   Segmenter            splits large segments, copying the options to each piece (TSO)
//   Coalescer            merges in-order segments of a flow, keeping the first's options (LRO)
//   PayloadCorrupter     changes one payload byte and fixes the TCP checksum (§3.3.1)
//
// All of them leave packets they cannot parse as IPv4/IPv6 + TCP untouched (the NAT drops
// them), act only in the Directions they are given, and keep every packet's checksums valid.
#ifndef MPTCP_IO_SIM_MIDDLEBOX_H_
#define MPTCP_IO_SIM_MIDDLEBOX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "io/sim/packet.h"
#include "io/sim/packet_edit.h"
#include "io/sim/packet_filter.h"
#include "io/sim/simulator.h"
#include "mptcp/address.h"
#include "mptcp/random.h"
#include "mptcp/seq.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::sim {

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// Segment classes a middlebox can be told to act on (a bit set).
namespace SegmentClass {
constexpr uint8_t kSyn = 1;     // SYN without ACK
constexpr uint8_t kSynAck = 2;  // SYN with ACK
constexpr uint8_t kData = 4;    // no SYN, some payload
constexpr uint8_t kOther = 8;   // no SYN, no payload: pure ACKs, FINs, RSTs
constexpr uint8_t kAll = 15;
}  // namespace SegmentClass

inline uint8_t ClassOf(const TcpPacketView& v) {
  if (v.has_flag(wire::TcpFlag::kSyn)) {
    return v.has_flag(wire::TcpFlag::kAck) ? SegmentClass::kSynAck : SegmentClass::kSyn;
  }
  return v.payload().empty() ? SegmentClass::kOther : SegmentClass::kData;
}

// A flow's 4-tuple in forward orientation (side A's socket first), whichever way `v` travels.
inline FourTuple ForwardTuple(const TcpPacketView& v, Direction dir) {
  return dir == Direction::kForward ? v.tuple() : v.tuple().Reversed();
}

// Whether the segment carries an MPTCP option of `subtype`.
inline bool HasMptcpSubtype(const TcpPacketView& v, wire::MptcpSubtype subtype) {
  bool found = false;
  ForEachTcpOption(v.options(), [&](uint8_t kind, std::span<uint8_t> opt) {
    if (kind != wire::kMptcpOptionKind) return;
    const auto st = wire::PeekMptcpSubtype(opt);
    if (st && *st == static_cast<uint8_t>(subtype)) found = true;
  });
  return found;
}

// Overwrites every MPTCP option with NOPs, as a middlebox that removes unknown options does
// without changing the header length, and fixes the checksums. Returns whether any was there.
inline bool StripMptcpOptions(const TcpPacketView& v) {
  bool stripped = false;
  ForEachTcpOption(v.options(), [&](uint8_t kind, std::span<uint8_t> opt) {
    if (kind != wire::kMptcpOptionKind) return;
    std::fill(opt.begin(), opt.end(), wire::TcpOptionKind::kNop);
    stripped = true;
  });
  if (stripped) v.FixChecksums();
  return stripped;
}

// Parses a packet whose IP length field was just rewritten (SetIpLength): the IPv4 header
// checksum is stale then, so the checked parse would refuse it; it is refreshed first.
inline std::optional<TcpPacketView> ParseAfterLengthChange(std::vector<uint8_t>& bytes) {
  if (!bytes.empty() && (bytes[0] >> 4) == 4 && bytes.size() >= wire::kIpv4MinHeaderLength) {
    const size_t ihl = std::min(size_t{bytes[0] & 0x0fu} * 4, bytes.size());
    wire::StoreBe16(bytes.data() + 10, 0);
    wire::StoreBe16(bytes.data() + 10, wire::InternetChecksum::Compute(
                                           std::span<const uint8_t>(bytes).first(ihl)));
  }
  return ParseTcpPacket(bytes);
}

// ---------------------------------------------------------------------------------------------
// MptcpOptionStripper
// ---------------------------------------------------------------------------------------------

struct StripConfig {
  // Which segments lose their MPTCP options (SegmentClass bits).
  uint8_t classes = SegmentClass::kAll;
  // Only segments of subflows opened by an MP_JOIN SYN (RFC 8684 §3.2), both directions, the
  // SYN included; the initial subflow is left alone.
  bool join_subflows_only = false;
  Directions directions = Directions::kBoth;
};

class MptcpOptionStripper : public PacketFilter {
 public:
  explicit MptcpOptionStripper(const StripConfig& config, std::string name = "strip-mptcp")
      : PacketFilter(std::move(name)), config_(config) {}

  uint64_t stripped() const { return stripped_; }
  void set_config(const StripConfig& c) { config_ = c; }

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (v) {
      const uint8_t cls = ClassOf(*v);
      const FourTuple key = ForwardTuple(*v, dir);
      if (cls == SegmentClass::kSyn && HasMptcpSubtype(*v, wire::MptcpSubtype::kMpJoin)) {
        join_flows_.insert(key);
      }
      const bool selected = Covers(config_.directions, dir) && (cls & config_.classes) != 0 &&
                            (!config_.join_subflows_only || join_flows_.contains(key));
      if (selected && StripMptcpOptions(*v)) {
        ++stripped_;
        CountModified(dir);
      }
    }
    Emit(dir, std::move(packet));
  }

 private:
  StripConfig config_;
  absl::flat_hash_set<FourTuple> join_flows_;
  uint64_t stripped_ = 0;
};

// ---------------------------------------------------------------------------------------------
// IsnRewriter
// ---------------------------------------------------------------------------------------------

struct IsnRewriteConfig {
  bool rewrite_forward = true;   // shift the sequence numbers of A -> B segments
  bool rewrite_reverse = false;  // and/or of B -> A segments
  // The shift; unset draws a non-zero one per flow (from the rewriter's stream).
  std::optional<uint32_t> fixed_offset;
  // Also shift SACK blocks (RFC 2018) in the other direction's ACKs. Middleboxes that forget
  // to are a known cause of broken SACK; set false to be one.
  bool fix_sack = true;
};

// Per flow (4-tuple), adds an offset to the sequence number of one direction and subtracts it
// from the acknowledgment number (and SACK blocks) of the other, so the endpoints see
// different ISNs but a consistent stream. The offsets are fixed at the flow's first packet.
// MPTCP maps data with subflow sequence numbers relative to the ISN (RFC 8684 §3.3.1), so a
// correct rewrite is invisible to it.
class IsnRewriter : public PacketFilter {
 public:
  struct Offsets {
    uint32_t forward = 0;  // added to A -> B sequence numbers
    uint32_t reverse = 0;  // added to B -> A sequence numbers
  };

  IsnRewriter(Random rng, const IsnRewriteConfig& config, std::string name = "isn-rewrite")
      : PacketFilter(std::move(name)), rng_(rng), config_(config) {}

  // The offsets of a flow (forward orientation), once it has been seen.
  std::optional<Offsets> offsets(const FourTuple& forward_tuple) const {
    auto it = flows_.find(forward_tuple);
    if (it == flows_.end()) return std::nullopt;
    return it->second;
  }
  uint64_t rewritten() const { return rewritten_; }

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (!v) {
      Emit(dir, std::move(packet));
      return;
    }
    const Offsets& off = FlowOffsets(ForwardTuple(*v, dir));
    const uint32_t own = dir == Direction::kForward ? off.forward : off.reverse;
    const uint32_t other = dir == Direction::kForward ? off.reverse : off.forward;
    bool changed = false;
    if (own != 0) {
      v->set_seq(v->seq() + own);
      changed = true;
    }
    if (other != 0 && v->has_flag(wire::TcpFlag::kAck)) {
      v->set_ack(v->ack() - other);
      changed = true;
      if (config_.fix_sack) ShiftSack(*v, other);
    }
    if (changed) {
      v->FixChecksums();
      ++rewritten_;
      CountModified(dir);
    }
    Emit(dir, std::move(packet));
  }

 private:
  const Offsets& FlowOffsets(const FourTuple& key) {
    auto it = flows_.find(key);
    if (it != flows_.end()) return it->second;
    Offsets o;
    // Two draws per new flow whatever the configuration, so streams stay aligned.
    const uint32_t f = Draw(), r = Draw();
    if (config_.rewrite_forward) o.forward = config_.fixed_offset.value_or(f);
    if (config_.rewrite_reverse) o.reverse = config_.fixed_offset.value_or(r);
    return flows_.emplace(key, o).first->second;
  }
  uint32_t Draw() { return 1 + static_cast<uint32_t>(rng_.Uniform(0xffffffffu)); }
  static void ShiftSack(const TcpPacketView& v, uint32_t delta) {
    ForEachTcpOption(v.options(), [delta](uint8_t kind, std::span<uint8_t> opt) {
      if (kind != wire::TcpOptionKind::kSack) return;
      for (size_t i = 2; i + 4 <= opt.size(); i += 4) {
        wire::StoreBe32(opt.data() + i, wire::LoadBe32(opt.data() + i) - delta);
      }
    });
  }

  Random rng_;
  IsnRewriteConfig config_;
  absl::flat_hash_map<FourTuple, Offsets> flows_;
  uint64_t rewritten_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Nat
// ---------------------------------------------------------------------------------------------

struct NatConfig {
  IpAddress public_ip;        // the outside address (same family as the inside hosts)
  uint16_t first_port = 20000;
  uint16_t port_count = 10000;  // outside ports first_port .. first_port + port_count - 1
  bool random_ports = false;    // allocate at random in the range instead of in sequence
};

// A NAPT (RFC 3022) with side A inside: A -> B packets get their source rewritten to the
// public address and a mapped port, B -> A packets to a mapped outside socket get their
// destination rewritten back; both checksums are fixed. Mappings are endpoint-independent
// (RFC 4787 §4.1: one outside port per inside socket, whatever the destination) and never
// expire; ClearMappings() forgets them all, as a NAT reboot does. Dropped: inside packets of
// the wrong family or when the port range is exhausted, outside packets with no mapping, and
// anything not TCP.
class Nat : public PacketFilter {
 public:
  Nat(Random rng, const NatConfig& config, std::string name = "nat")
      : PacketFilter(std::move(name)), rng_(rng), config_(config) {}

  // Maps `inside` to `outside` both ways (replacing an existing mapping of either).
  void AddStaticMapping(const SocketAddress& inside, const SocketAddress& outside) {
    RemoveMapping(inside);
    if (auto it = in_by_out_.find(outside); it != in_by_out_.end()) RemoveMapping(it->second);
    out_by_in_[inside] = outside;
    in_by_out_[outside] = inside;
  }
  void ClearMappings() {
    out_by_in_.clear();
    in_by_out_.clear();
  }
  std::optional<SocketAddress> OutsideOf(const SocketAddress& inside) const {
    auto it = out_by_in_.find(inside);
    if (it == out_by_in_.end()) return std::nullopt;
    return it->second;
  }
  size_t mapping_count() const { return out_by_in_.size(); }
  uint64_t unmatched() const { return unmatched_; }

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (!v) {
      Discard(dir);
      return;
    }
    if (dir == Direction::kForward) {
      const std::optional<SocketAddress> out = MapOutbound(v->src_socket());
      if (!out) {
        Discard(dir);
        return;
      }
      v->set_src(out->ip);
      v->set_src_port(out->port);
    } else {
      auto it = in_by_out_.find(v->dst_socket());
      if (it == in_by_out_.end()) {
        ++unmatched_;
        Discard(dir);
        return;
      }
      v->set_dst(it->second.ip);
      v->set_dst_port(it->second.port);
    }
    v->FixChecksums();
    CountModified(dir);
    Emit(dir, std::move(packet));
  }

 private:
  std::optional<SocketAddress> MapOutbound(const SocketAddress& inside) {
    if (inside.ip.family() != config_.public_ip.family()) return std::nullopt;
    if (auto it = out_by_in_.find(inside); it != out_by_in_.end()) return it->second;
    for (uint32_t tries = 0; tries < config_.port_count; ++tries) {
      uint32_t k;
      if (config_.random_ports) {
        k = static_cast<uint32_t>(rng_.Uniform(config_.port_count));
      } else {
        k = next_port_index_;
        next_port_index_ = (next_port_index_ + 1) % config_.port_count;
      }
      const SocketAddress outside{config_.public_ip,
                                  static_cast<uint16_t>(config_.first_port + k)};
      if (in_by_out_.contains(outside)) continue;
      AddStaticMapping(inside, outside);
      return outside;
    }
    return std::nullopt;
  }
  void RemoveMapping(const SocketAddress& inside) {
    auto it = out_by_in_.find(inside);
    if (it == out_by_in_.end()) return;
    in_by_out_.erase(it->second);
    out_by_in_.erase(it);
  }

  Random rng_;
  NatConfig config_;
  absl::flat_hash_map<SocketAddress, SocketAddress> out_by_in_, in_by_out_;
  uint32_t next_port_index_ = 0;
  uint64_t unmatched_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Segmenter (TSO)
// ---------------------------------------------------------------------------------------------

struct SegmenterConfig {
  uint16_t mss = 536;  // largest payload of a piece
  Directions directions = Directions::kBoth;
};

// Splits every segment whose payload exceeds `mss` into pieces of `mss` bytes (the last one
// shorter), as TCP segmentation offload does: each piece carries a copy of the original's TCP
// header with all its options (so an MPTCP DSS mapping is repeated on every piece, as Linux
// does with TSO), the sequence number advanced, CWR on the first piece only and FIN/PSH on the
// last only; IPv4 pieces take consecutive IP IDs. Pieces are new packets (fresh ids).
class Segmenter : public PacketFilter {
 public:
  Segmenter(Simulator& sim, const SegmenterConfig& config, std::string name = "tso")
      : PacketFilter(std::move(name)), sim_(sim), config_(config) {}

  uint64_t split() const { return split_; }      // segments split
  uint64_t pieces() const { return pieces_; }    // pieces made from them

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (!v || !Covers(config_.directions, dir) || config_.mss == 0 ||
        v->payload().size() <= config_.mss ||
        v->has_flag(wire::TcpFlag::kSyn | wire::TcpFlag::kRst)) {
      Emit(dir, std::move(packet));
      return;
    }
    ++split_;
    CountModified(dir);
    const size_t head = v->ip_header_length() + v->tcp_header_length();
    const std::span<const uint8_t> all = v->packet();
    const std::span<const uint8_t> payload = v->payload();
    const uint8_t flags = v->flags();
    const uint16_t ident = v->is_v6() ? 0 : wire::LoadBe16(all.data() + 4);
    for (size_t off = 0, i = 0; off < payload.size(); off += config_.mss, ++i) {
      const size_t n = std::min<size_t>(config_.mss, payload.size() - off);
      std::vector<uint8_t> bytes(head + n);
      std::copy_n(all.begin(), head, bytes.begin());
      std::copy_n(payload.begin() + static_cast<ptrdiff_t>(off), n,
                  bytes.begin() + static_cast<ptrdiff_t>(head));
      auto piece = ParseHead(bytes, head + n);
      if (!piece) continue;  // cannot happen: the headers are those of a packet that parsed
      const bool first = off == 0, last = off + n == payload.size();
      uint8_t f = flags;
      if (!first) f &= static_cast<uint8_t>(~wire::TcpFlag::kCwr);
      if (!last) f &= static_cast<uint8_t>(~(wire::TcpFlag::kFin | wire::TcpFlag::kPsh));
      piece->set_flags(f);
      piece->set_seq(v->seq() + static_cast<uint32_t>(off));
      if (!piece->is_v6()) wire::StoreBe16(bytes.data() + 4, static_cast<uint16_t>(ident + i));
      piece->FixChecksums();
      ++pieces_;
      Packet out = sim_.NewPacket(std::move(bytes));
      out.created = packet.created;
      Emit(dir, std::move(out));
    }
  }

 private:
  // A view of a freshly assembled piece: its IP length is set first, so the parse succeeds.
  static std::optional<TcpPacketView> ParseHead(std::vector<uint8_t>& bytes, size_t total) {
    SetIpLength(bytes, total);
    return ParseAfterLengthChange(bytes);
  }

  Simulator& sim_;
  SegmenterConfig config_;
  uint64_t split_ = 0;
  uint64_t pieces_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Coalescer (LRO / GRO)
// ---------------------------------------------------------------------------------------------

struct CoalescerConfig {
  // How long the first segment of a batch may wait for followers. Zero merges only segments
  // that arrive at the same simulated instant (one NAPI poll); behind a rate-limited link
  // packets arrive one serialization time apart, so give at least that.
  Duration flush_after = Duration::Zero();
  // Largest merged payload (the IP total length must also fit 16 bits).
  size_t max_payload = 65535 - 60 - 60;
  // Linux GRO (tcp_gro_receive) merges only segments whose TCP options are byte-identical.
  // False merges regardless, and the later segments' options are lost: a harsher LRO.
  bool require_identical_options = true;
  Directions directions = Directions::kBoth;
};

// Merges consecutive in-order data segments of a flow into one, as receive offload does. A
// segment joins the one held for its flow when: its sequence number continues it, its ACK
// number and flags equal the held one's (PSH and FIN aside), neither has SYN, RST, URG or
// CWR, its header has the same length (and, by default, the same option bytes), and the
// merged payload stays within max_payload. The merged segment keeps the FIRST segment's
// header: its options (MPTCP DSS mapping and DATA_ACK, timestamps, SACK), window and ID, as
// Linux GRO does; PSH and FIN of later segments are OR-ed in, and a PSH or FIN ends the batch.
// It keeps the first segment's packet id. A segment that cannot join flushes its flow's held
// segment first, so a flow's order is kept; other flows are not disturbed.
class Coalescer : public Actor, public PacketFilter {
 public:
  Coalescer(Simulator& sim, const CoalescerConfig& config, std::string name = "lro")
      : Actor(sim, name), PacketFilter(name), config_(config) {}
  using PacketFilter::name;

  uint64_t merged() const { return merged_; }    // segments absorbed into another
  uint64_t batches() const { return batches_; }  // merged segments emitted (2+ originals)
  size_t held() const { return held_.size(); }

  void Act(Timestamp now) override {
    for (size_t i = 0; i < held_.size();) {
      if (held_[i].deadline <= now) {
        Flush(i);
      } else {
        ++i;
      }
    }
    ScheduleNext();
  }

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (!v || !Covers(config_.directions, dir)) {
      Emit(dir, std::move(packet));
      return;
    }
    const FourTuple tuple = v->tuple();
    const bool candidate = Mergeable(*v);
    const size_t h = Find(dir, tuple);
    if (h < held_.size() && candidate && CanJoin(held_[h], *v)) {
      Join(held_[h], *v);
      if (v->has_flag(wire::TcpFlag::kPsh | wire::TcpFlag::kFin) ||
          held_[h].payload >= config_.max_payload) {
        Flush(h);
      }
      return;
    }
    if (h < held_.size()) Flush(h);
    if (candidate && !v->has_flag(wire::TcpFlag::kPsh | wire::TcpFlag::kFin)) {
      const size_t len = v->packet().size();
      const size_t payload = v->payload().size();
      const SeqNum32 next = v->seq() + static_cast<uint32_t>(payload);
      Hold(dir, tuple, len, payload, next, std::move(packet));
      ScheduleNext();
      return;
    }
    Emit(dir, std::move(packet));
  }

 private:
  struct Held {
    Direction dir;
    FourTuple tuple;
    Packet packet;  // trimmed to the IP length
    SeqNum32 next_seq;
    size_t payload = 0;
    int segments = 1;
    Timestamp deadline;
  };

  static bool Mergeable(const TcpPacketView& v) {
    return v.has_flag(wire::TcpFlag::kAck) && !v.payload().empty() &&
           !v.has_flag(wire::TcpFlag::kSyn | wire::TcpFlag::kRst | wire::TcpFlag::kUrg |
                       wire::TcpFlag::kCwr);
  }
  size_t Find(Direction dir, const FourTuple& t) const {
    for (size_t i = 0; i < held_.size(); ++i) {
      if (held_[i].dir == dir && held_[i].tuple == t) return i;
    }
    return held_.size();
  }
  bool CanJoin(Held& h, const TcpPacketView& v) {
    auto first = ParseTcpPacket(h.packet.bytes);
    if (!first) return false;
    constexpr uint8_t kIgnored = wire::TcpFlag::kPsh | wire::TcpFlag::kFin;
    if (v.seq() != h.next_seq || v.ack() != first->ack()) return false;
    if ((v.flags() & ~kIgnored) != (first->flags() & ~kIgnored)) return false;
    if (v.tcp_header_length() != first->tcp_header_length()) return false;
    if (config_.require_identical_options &&
        !std::ranges::equal(v.options(), first->options())) {
      return false;
    }
    return h.payload + v.payload().size() <= config_.max_payload &&
           h.packet.size() + v.payload().size() <= 65535;
  }
  void Join(Held& h, const TcpPacketView& v) {
    h.packet.bytes.insert(h.packet.bytes.end(), v.payload().begin(), v.payload().end());
    h.payload += v.payload().size();
    h.next_seq = h.next_seq + static_cast<uint32_t>(v.payload().size());
    ++h.segments;
    ++merged_;
    // The header is fixed (length, flags, checksums) once, at flush time.
    const uint8_t later = v.flags() & (wire::TcpFlag::kPsh | wire::TcpFlag::kFin);
    const size_t ip_len = (h.packet.bytes[0] >> 4) == 6 ? wire::kIpv6HeaderLength
                                                         : size_t{h.packet.bytes[0] & 0x0fu} * 4;
    h.packet.bytes[ip_len + 13] |= later;
  }
  // `len` is the packet's IP length: link-layer padding past it is cut off.
  void Hold(Direction dir, const FourTuple& t, size_t len, size_t payload, SeqNum32 next,
            Packet packet) {
    packet.bytes.resize(len);
    held_.push_back(Held{dir, t, std::move(packet), next, payload, 1,
                         simulator().now() + config_.flush_after});
  }
  void Flush(size_t i) {
    Held h = std::move(held_[i]);
    held_.erase(held_.begin() + static_cast<ptrdiff_t>(i));
    if (h.segments > 1) {
      SetIpLength(h.packet.bytes, h.packet.bytes.size());
      if (auto v = ParseAfterLengthChange(h.packet.bytes)) v->FixChecksums();
      ++batches_;
      CountModified(h.dir);
    }
    Emit(h.dir, std::move(h.packet));
  }
  void ScheduleNext() {
    Timestamp next = Timestamp::Never();
    for (const Held& h : held_) next = std::min(next, h.deadline);
    Schedule(next);
  }

  CoalescerConfig config_;
  std::vector<Held> held_;  // in arrival order, so flushes are deterministic
  uint64_t merged_ = 0;
  uint64_t batches_ = 0;
};

// ---------------------------------------------------------------------------------------------
// PayloadCorrupter
// ---------------------------------------------------------------------------------------------

struct CorruptConfig {
  double probability = 1.0;  // per eligible segment, once past `skip`
  uint64_t skip = 0;         // eligible segments let through untouched first
  uint64_t limit = 1;        // corruptions at most; 0 = no limit
  size_t min_payload = 1;    // eligible: a non-SYN segment with at least this much payload
  Directions directions = Directions::kBoth;
};

// Changes one payload byte (XOR with a random non-zero value, at a random offset) and fixes
// the TCP checksum, as a middlebox that rewrites content does: TCP cannot notice, only the
// MPTCP DSS checksum can (RFC 8684 §3.3.1, §3.7).
class PayloadCorrupter : public PacketFilter {
 public:
  struct Record {
    uint64_t packet_id;
    Direction dir;
    SeqNum32 seq;   // of the byte changed
    size_t offset;  // in the payload
  };

  PayloadCorrupter(Random rng, const CorruptConfig& config, std::string name = "corrupt")
      : PacketFilter(std::move(name)), rng_(rng), config_(config) {}

  uint64_t corrupted() const { return records_.size(); }
  const std::vector<Record>& records() const { return records_; }

 protected:
  void Process(Direction dir, Packet packet) override {
    auto v = ParseTcpPacket(packet.bytes);
    if (v && Covers(config_.directions, dir) && !v->has_flag(wire::TcpFlag::kSyn) &&
        !v->payload().empty() && v->payload().size() >= config_.min_payload) {
      ++eligible_;
      const bool under_limit = config_.limit == 0 || records_.size() < config_.limit;
      if (eligible_ > config_.skip && under_limit && rng_.Bernoulli(config_.probability)) {
        const std::span<uint8_t> payload = v->payload();
        const size_t at = static_cast<size_t>(rng_.Uniform(payload.size()));
        payload[at] ^= static_cast<uint8_t>(1 + rng_.Uniform(255));
        v->FixChecksums();
        records_.push_back(Record{packet.id, dir, v->seq() + static_cast<uint32_t>(at), at});
        CountModified(dir);
      }
    }
    Emit(dir, std::move(packet));
  }

 private:
  Random rng_;
  CorruptConfig config_;
  uint64_t eligible_ = 0;
  std::vector<Record> records_;
};

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_MIDDLEBOX_H_

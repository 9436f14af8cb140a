// Blind attacks (RFC 5961 on every subflow, RFC 7430 §2): an off-path attacker who knows a
// subflow's four-tuple but not its sequence numbers injects RSTs, SYNs and data, some with
// forged MPTCP options (MP_FASTCLOSE with a guessed key, REMOVE_ADDR, MP_PRIO, a DSS mapping
// and DATA_ACK of its own). On the simulator, two paths, 4 MiB each way: the transfer must end
// byte-exact with a normal close, no subflow reset and no fallback, whatever was injected.
//
// A forgery succeeds only with an exact sequence number (RST: RCV.NXT, RFC 5961 §3.2) or one
// inside the window and an acceptable ACK (data, §5.2): about 2^-32 and 2^-47 per guess here,
// so 10^5 guesses (10^4 under a sanitizer) should never hit. A quarter of the RSTs and SYNs
// are aimed inside the window (not on RCV.NXT), which a stack that resets on any in-window RST
// or SYN fails at once; the challenge ACKs they draw are rate-limited (RFC 5961 §7), counted.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "io/sim/harness.h"
#include "io/sim/packet_filter.h"
#include "mptcp/random.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/seeds.h"

namespace mptcp::sim {
namespace {

constexpr ::mptcp::testing::SeedSpec kSeeds{"CONFORMANCE", 3, 1};

// After each packet it forwards, injects `per_packet` forged segments with the same four-tuple
// and direction, until `budget` are out.
class BlindInjector : public PacketFilter {
 public:
  BlindInjector(Random rng, uint64_t budget, int per_packet)
      : PacketFilter("blind"), rng_(rng), budget_(budget), per_packet_(per_packet) {}
  uint64_t injected() const { return injected_; }
  uint64_t rsts() const { return rsts_; }
  uint64_t syns() const { return syns_; }
  uint64_t data() const { return data_; }
  uint64_t near() const { return near_; }

 protected:
  void Process(Direction dir, Packet packet) override {
    std::vector<Packet> forged;
    auto ip = wire::ParseIpPacket(packet.bytes);
    if (ip.ok()) {
      auto tcp = wire::TcpRepr::Parse(ip->payload);
      if (tcp.ok()) {
        for (int i = 0; i < per_packet_ && injected_ < budget_; ++i) {
          forged.push_back(Forge(ip->ip, *tcp, packet));
        }
      }
    }
    Emit(dir, std::move(packet));
    for (Packet& p : forged) Emit(dir, std::move(p));
  }

 private:
  Packet Forge(const wire::IpRepr& ip_in, const wire::TcpRepr& real, const Packet& like) {
    wire::TcpRepr t;
    t.src_port = real.src_port;
    t.dst_port = real.dst_port;
    t.seq = SeqNum32(static_cast<uint32_t>(rng_.Next()));
    t.ack = SeqNum32(static_cast<uint32_t>(rng_.Next()));
    t.window = static_cast<uint16_t>(rng_.Next());
    std::vector<uint8_t> payload;
    const uint64_t kind = rng_.Uniform(4);
    // A quarter of the RSTs and SYNs are near guesses: inside the receiver's window, just past
    // the sequence number the real segment ends at (its RCV.NXT once it arrives), never on it.
    // RFC 5961 §3.2 and §4: those draw a challenge ACK, never a reset.
    if (kind <= 1 && rng_.Bernoulli(0.25)) {
      t.seq = real.seq + static_cast<uint32_t>(real.SeqLength() + 1 + rng_.Uniform(30000));
      t.ack = real.ack;
      ++near_;
    }
    if (kind == 0) {
      t.flags = rng_.Bernoulli(0.5) ? wire::TcpFlag::kRst
                                     : static_cast<uint8_t>(wire::TcpFlag::kRst | wire::TcpFlag::kAck);
      ++rsts_;
    } else if (kind == 1) {
      t.flags = wire::TcpFlag::kSyn;
      ++syns_;
    } else {
      t.flags = wire::TcpFlag::kAck;
      payload.resize(1 + rng_.Uniform(1000));
      for (uint8_t& b : payload) b = static_cast<uint8_t>(rng_.Next());
      ++data_;
    }
    // Forged MPTCP options on half of them.
    if (rng_.Bernoulli(0.5)) {
      std::array<uint8_t, 40> buf{};
      wire::WireResult<size_t> n = wire::WireError{};
      switch (rng_.Uniform(4)) {
        case 0:
          n = wire::EmitMptcpOption(wire::MpFastclose{rng_.Next()}, buf);
          break;
        case 1: {
          wire::RemoveAddr r;
          r.Add(static_cast<uint8_t>(rng_.Uniform(4)));
          n = wire::EmitMptcpOption(r, buf);
          break;
        }
        case 2:
          n = wire::EmitMptcpOption(wire::MpPrio{rng_.Bernoulli(0.5)}, buf);
          break;
        default:
          n = wire::EmitMptcpOption(
              wire::Dss{.data_ack = wire::DataAck{rng_.Next(), true},
                        .mapping = wire::DssMapping{.dsn = rng_.Next(), .dsn_is_64bit = true,
                                                    .subflow_seq = static_cast<uint32_t>(rng_.Next()),
                                                    .data_len = static_cast<uint16_t>(
                                                        payload.empty() ? 1 : payload.size())}},
              buf);
          break;
      }
      if (n.ok()) t.options.AddMptcpOption(std::span<const uint8_t>(buf.data(), *n));
    }
    t.payload = payload;
    wire::IpRepr ip = ip_in;
    ip.payload_len = static_cast<uint16_t>(t.EncodedLength());
    Packet p;
    p.bytes.resize(ip.PacketLength());
    (void)ip.Emit(p.bytes);
    (void)t.Emit(std::span<uint8_t>(p.bytes).subspan(ip.HeaderLength()), ip.src, ip.dst);
    p.id = like.id;  // (a fresh id is not needed: nothing here tracks forged packets)
    p.created = like.created;
    ++injected_;
    return p;
  }

  Random rng_;
  uint64_t budget_;
  int per_packet_;
  uint64_t injected_ = 0, rsts_ = 0, syns_ = 0, data_ = 0, near_ = 0;
};

TEST(BlindInjectionTest, GuessedSegmentsNeverResetOrCorrupt) {
  const uint64_t budget = ::mptcp::testing::kSanitizerBuild ? 10'000 : 100'000;
  for (uint64_t seed : ::mptcp::testing::Seeds(kSeeds)) {
    SCOPED_TRACE(::mptcp::testing::Replay(kSeeds, seed));
    std::vector<PathConfig> paths = DocumentationPaths(2, LinkConfig{});
    for (PathConfig& p : paths) {
      p.up.bandwidth_bps = p.down.bandwidth_bps = 100'000'000;
      p.up.delay = p.down.delay = Duration::Millis(10);
    }
    HarnessConfig cfg = BothWaysBulkConfig(std::move(paths), 4 << 20, seed);
    std::vector<BlindInjector*> injectors(2, nullptr);
    for (size_t i = 0; i < 2; ++i) {
      // Half the budget on each path, spread over both directions.
      cfg.paths[i].middlebox = [&injectors, i, budget, seed](Simulator& sim) {
        auto inj = std::make_unique<BlindInjector>(Random(seed * 31 + i), budget / 2, 8);
        injectors[i] = inj.get();
        (void)sim;
        return inj;
      };
    }
    Harness h(cfg);
    const HarnessResult r = h.Run();
    uint64_t injected = 0, rsts = 0, syns = 0, data = 0, near = 0;
    for (BlindInjector* inj : injectors) {
      ASSERT_NE(inj, nullptr);
      injected += inj->injected();
      rsts += inj->rsts();
      syns += inj->syns();
      data += inj->data();
      near += inj->near();
    }
    EXPECT_EQ(injected, budget) << "the transfer ended before every guess was out";
    ASSERT_TRUE(r.ok) << r.Describe();  // every byte right, both ways
    EXPECT_FALSE(r.client_fell_back || r.server_fell_back);
    EXPECT_EQ(r.client_final.close_reason, CloseReason::kNormal);
    EXPECT_EQ(r.server_final.close_reason, CloseReason::kNormal);
    int resets = 0;
    for (const SimEvent& e : r.events) {
      resets += e.event.type == EventType::kSubflowDown && e.event.reason != CloseReason::kNormal;
    }
    EXPECT_EQ(resets, 0) << r.Describe();
    for (const MptcpMib* m : {&r.client_mib, &r.server_mib}) {
      EXPECT_EQ(m->mp_fastclose_rx, 0u);
      EXPECT_EQ(m->rm_addr, 0u);
      EXPECT_EQ(m->mp_prio_rx, 0u);
    }
    const tcp::TcpMib& c = r.client_tcp;
    const tcp::TcpMib& s = r.server_tcp;
    std::printf("seed %llu: %llu injected (%llu RST, %llu SYN, %llu of them in window; %llu data) "
                "in %.2f s: challenge "
                "ACKs %llu sent, %llu rate-limited; SYN challenges %llu; RSTs out of window "
                "%llu\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(injected),
                static_cast<unsigned long long>(rsts), static_cast<unsigned long long>(syns),
                static_cast<unsigned long long>(near), static_cast<unsigned long long>(data),
                r.elapsed.seconds(),
                static_cast<unsigned long long>(c.challenge_acks + s.challenge_acks),
                static_cast<unsigned long long>(c.challenge_acks_skipped +
                                                s.challenge_acks_skipped),
                static_cast<unsigned long long>(c.syn_challenge + s.syn_challenge),
                static_cast<unsigned long long>(c.rst_out_of_window + s.rst_out_of_window));
  }
}

}  // namespace
}  // namespace mptcp::sim

// The fallback and middlebox matrix (RFC 8684 §3.7, Honda et al., "Is it still possible to
// extend TCP?", IMC 2011): MPTCP options stripped at each stage of the initial subflow and of a
// join subflow, and the middleboxes that rewrite sequence numbers, re-cut segments or translate
// addresses, each over 20 seeds (CONFORMANCE_SEEDS; 3 under ASan). Every run moves 1 MiB each
// way over two paths and the harness checks every byte. The outcome of each run is classified
// (plain-TCP fallback, MPTCP on both paths, MPTCP with the join refused or reset, and the
// MP_TCPRST reason seen), and each case has the outcomes RFC 8684 allows; a stall, a wrong byte
// or an outcome outside the allowed set fails. The table the test prints is in
// docs/conformance.md.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "io/sim/harness.h"
#include "io/sim/middlebox.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {
namespace {

using ::mptcp::testing::Replay;
using ::mptcp::testing::SeedSpec;

constexpr SeedSpec kSeeds{"CONFORMANCE", 20, 3};
constexpr size_t kBytes = 1 << 20;

// What a run ended as.
enum class Outcome {
  kFallback,      // both ends fell back to plain TCP (RFC 8684 §3.7)
  kMptcpTwo,      // MPTCP, both subflows carried data
  kJoinRefused,   // MPTCP on the initial subflow; the join never came up
  kJoinReset,     // MPTCP; the join came up and was then reset, its data carried elsewhere
  kMptcpOne,      // MPTCP on one subflow, no join attempted
};

const char* Name(Outcome o) {
  switch (o) {
    case Outcome::kFallback: return "fallback to TCP";
    case Outcome::kMptcpTwo: return "MPTCP, 2 subflows";
    case Outcome::kJoinRefused: return "MPTCP, join refused";
    case Outcome::kJoinReset: return "MPTCP, join reset";
    case Outcome::kMptcpOne: return "MPTCP, 1 subflow";
  }
  return "?";
}

// Which segments lose their MPTCP options.
enum class Strip {
  kNone,
  kSyn,               // the client's SYN
  kSynAck,            // the server's SYN-ACK
  kThirdAck,          // the client's third ACK
  kFirstData,         // the first data segment each way on the initial subflow
  kAfterHandshake,    // every segment after the third ACK, initial subflow, both ways
  kJoinSyn,           // the MP_JOIN SYN
  kJoinSynAck,        // the MP_JOIN SYN-ACK
  kJoinThirdAck,      // the MP_JOIN third ACK
  kJoinAfterHandshake,  // every segment of the join after its handshake, both ways
};

// Other middleboxes (on both paths, or on the join's path for the NAT).
enum class Box { kNone, kIsnRewrite, kSegmenter, kCoalescer, kNat };

struct MatrixCase {
  const char* name;
  Strip strip = Strip::kNone;
  Box box = Box::kNone;
  std::set<Outcome> allowed;
  const char* rule;  // where RFC 8684 says so
};
void PrintTo(const MatrixCase& c, std::ostream* os) { *os << c.name; }

// What the stripping middlebox saw, shared with the test.
struct Tap {
  int stripped = 0;
  std::map<int, int> tcprst;  // MP_TCPRST reason -> count, both ways
};

// Strips per `strip` on the path it sits on (path 0 for the initial subflow's cases, path 1 for
// the join's), and records every MP_TCPRST reason that crosses it.
FunctionFilter::Fn Stripper(Strip strip, std::shared_ptr<Tap> tap) {
  struct State {
    bool third_ack_seen = false;
    bool data_stripped[2] = {false, false};
  };
  auto st = std::make_shared<State>();
  return [strip, tap, st](Direction dir, Packet& packet) {
    const auto seg = ParseTcpPacket(packet.bytes);
    if (!seg) return true;
    if (auto repr = wire::TcpRepr::Parse(seg->segment()); repr.ok()) {
      for (std::span<const uint8_t> o : repr->options.mptcp_options()) {
        auto opt = wire::ParseMptcpOption(o);
        if (!opt.ok()) continue;
        if (const auto* r = std::get_if<wire::MpTcpRst>(&*opt)) ++tap->tcprst[r->reason];
      }
    }
    const bool up = dir == Direction::kForward;
    const bool syn = seg->has_flag(wire::TcpFlag::kSyn);
    const bool ack = seg->has_flag(wire::TcpFlag::kAck);
    const bool data = !seg->payload().empty();
    bool third_ack = false;
    if (up && !syn && !st->third_ack_seen) {
      third_ack = true;  // the first client segment after its SYN
      st->third_ack_seen = true;
    }
    bool strip_this = false;
    switch (strip) {
      case Strip::kNone: break;
      case Strip::kSyn:
      case Strip::kJoinSyn: strip_this = up && syn && !ack; break;
      case Strip::kSynAck:
      case Strip::kJoinSynAck: strip_this = !up && syn && ack; break;
      case Strip::kThirdAck:
      case Strip::kJoinThirdAck: strip_this = third_ack; break;
      case Strip::kFirstData: {
        bool& done = st->data_stripped[up ? 0 : 1];
        if (data && !syn && !done) strip_this = done = true;
        break;
      }
      case Strip::kAfterHandshake:
      case Strip::kJoinAfterHandshake:
        strip_this = !syn && !third_ack && st->third_ack_seen;
        break;
    }
    if (strip_this && StripMptcpOptions(*seg)) ++tap->stripped;
    return true;
  };
}

bool OnJoinPath(Strip s) {
  return s == Strip::kJoinSyn || s == Strip::kJoinSynAck || s == Strip::kJoinThirdAck ||
         s == Strip::kJoinAfterHandshake;
}

MiddleboxFactory BoxFactory(Box box) {
  switch (box) {
    case Box::kIsnRewrite:
      return [](Simulator& sim) {
        IsnRewriteConfig c;
        c.rewrite_forward = c.rewrite_reverse = true;
        return std::make_unique<IsnRewriter>(sim.Fork(), c);
      };
    case Box::kSegmenter:
      return [](Simulator& sim) {
        return std::make_unique<Segmenter>(sim, SegmenterConfig{536, Directions::kBoth});
      };
    case Box::kCoalescer:
      return [](Simulator& sim) {
        CoalescerConfig c;
        c.flush_after = Duration::Millis(1);
        c.require_identical_options = false;  // a receive offload that ignores options
        return std::make_unique<Coalescer>(sim, c);
      };
    case Box::kNat:
    case Box::kNone: break;
  }
  return nullptr;
}

HarnessConfig Config(uint64_t seed) {
  LinkConfig l;
  l.bandwidth_bps = 20'000'000;
  l.delay = Duration::Millis(10);
  std::vector<PathConfig> v = DocumentationPaths(2, l);
  for (size_t i = 0; i < v.size(); ++i) {  // per-seed timing differences
    const Duration extra = Duration::Millis(static_cast<int64_t>((seed + 3 * i) % 5));
    v[i].up.delay += extra;
    v[i].down.delay += extra;
  }
  HarnessConfig cfg = BothWaysBulkConfig(std::move(v), kBytes, seed);
  cfg.deadline = Duration::Seconds(120);
  return cfg;
}

int CountEvents(const HarnessResult& r, bool client, EventType type) {
  int n = 0;
  for (const SimEvent& e : r.events) n += e.client == client && e.event.type == type;
  return n;
}

Outcome Classify(const HarnessResult& r) {
  if (r.client_fell_back && r.server_fell_back) return Outcome::kFallback;
  // A join counts as up when either end reported it (the initiator waits for the ACK of its
  // third ACK, RFC 8684 §3.2, so a join reset at once may have come up at the server only).
  const int up = std::max(CountEvents(r, true, EventType::kSubflowUp),
                          CountEvents(r, false, EventType::kSubflowUp));
  int down = 0;  // subflows that ended other than by a normal close
  for (const SimEvent& e : r.events) {
    down += e.event.type == EventType::kSubflowDown && e.event.reason != CloseReason::kNormal;
  }
  const bool join_data = r.paths[1].payload_bytes[0] + r.paths[1].payload_bytes[1] > 0;
  if (up >= 2 && down == 0 && join_data) return Outcome::kMptcpTwo;
  if (up >= 2) return Outcome::kJoinReset;
  if (r.client_mib.mp_join_syn_tx > 0) return Outcome::kJoinRefused;
  return Outcome::kMptcpOne;
}

class MiddleboxMatrixTest : public ::testing::TestWithParam<MatrixCase> {};

TEST_P(MiddleboxMatrixTest, NeverStallsNeverCorruptsAndEndsAsRfc8684Allows) {
  const MatrixCase mc = GetParam();
  std::map<Outcome, int> seen;
  std::map<int, int> reasons;
  double slowest = 0;
  int runs = 0;
  for (uint64_t seed : Seeds(kSeeds)) {
    SCOPED_TRACE(Replay(kSeeds, seed));
    HarnessConfig cfg = Config(seed);
    auto tap = std::make_shared<Tap>();
    if (mc.strip != Strip::kNone) {
      cfg.paths[OnJoinPath(mc.strip) ? 1 : 0].middlebox =
          FunctionMiddlebox("strip", Stripper(mc.strip, tap));
    }
    const IpAddress kPublic = IpAddress::V4(203, 0, 113, 9);
    if (mc.box == Box::kNat) {
      cfg.paths[1].middlebox = [kPublic](Simulator& sim) {
        return std::make_unique<Nat>(sim.Fork(), NatConfig{kPublic, 50000, 100, true});
      };
      cfg.paths[1].client_ip_at_server = kPublic;
    } else if (mc.box != Box::kNone) {
      for (PathConfig& p : cfg.paths) p.middlebox = BoxFactory(mc.box);
    }
    Harness h(cfg);
    const HarnessResult r = h.Run();
    ++runs;
    // The harness checks every byte read and fails a run that stalls or does not finish.
    ASSERT_TRUE(r.ok) << r.Describe();
    EXPECT_EQ(r.server_read, kBytes);
    EXPECT_EQ(r.client_read, kBytes);
    if (mc.strip != Strip::kNone) {
      EXPECT_GT(tap->stripped, 0) << "the middlebox never acted";
    }
    // One side in MPTCP while the other fell back would be a one-sided fallback (§3.7).
    EXPECT_EQ(r.client_fell_back, r.server_fell_back) << r.Describe();
    const Outcome o = Classify(r);
    ++seen[o];
    for (const auto& [reason, n] : tap->tcprst) reasons[reason] += n;
    EXPECT_TRUE(mc.allowed.count(o) > 0)
        << mc.name << ": " << Name(o) << " is not what " << mc.rule << " allows\n"
        << r.Describe();
    slowest = std::max(slowest, r.elapsed.seconds());
  }
  std::vector<std::string> parts;
  for (const auto& [o, n] : seen) parts.push_back(absl::StrCat(Name(o), " ×", n));
  std::vector<std::string> rst;
  for (const auto& [reason, n] : reasons) rst.push_back(absl::StrCat("0x0", reason, " ×", n));
  std::printf("| %s | %s | %s | %d | %.2f s |\n", mc.name, absl::StrJoin(parts, ", ").c_str(),
              rst.empty() ? "—" : absl::StrJoin(rst, ", ").c_str(), runs, slowest);
}

using O = Outcome;
INSTANTIATE_TEST_SUITE_P(
    Rfc8684, MiddleboxMatrixTest,
    ::testing::Values(
        MatrixCase{"SynStripped", Strip::kSyn, Box::kNone, {O::kFallback}, "§3.1 (no MP_CAPABLE)"},
        MatrixCase{"SynAckStripped", Strip::kSynAck, Box::kNone, {O::kFallback},
                   "§3.1 (SYN-ACK without MP_CAPABLE)"},
        MatrixCase{"ThirdAckStripped", Strip::kThirdAck, Box::kNone, {O::kFallback},
                   "§3.7 (third ACK without MP_CAPABLE)"},
        MatrixCase{"FirstDataStripped", Strip::kFirstData, Box::kNone,
                   {O::kFallback, O::kMptcpTwo}, "§3.7 (first data without a mapping)"},
        MatrixCase{"AllOptionsStrippedAfterHandshake", Strip::kAfterHandshake, Box::kNone,
                   {O::kFallback}, "§3.7 (DSS lost before the connection is verified)"},
        MatrixCase{"JoinSynStripped", Strip::kJoinSyn, Box::kNone, {O::kJoinRefused},
                   "§3.2 (a SYN without MP_JOIN is not a join)"},
        MatrixCase{"JoinSynAckStripped", Strip::kJoinSynAck, Box::kNone, {O::kJoinRefused},
                   "§3.2 (SYN-ACK without MP_JOIN: the initiator resets)"},
        MatrixCase{"JoinThirdAckStripped", Strip::kJoinThirdAck, Box::kNone,
                   {O::kJoinRefused, O::kMptcpTwo}, "§3.2 (third ACK resent until acknowledged)"},
        MatrixCase{"JoinOptionsStrippedAfterHandshake", Strip::kJoinAfterHandshake, Box::kNone,
                   {O::kJoinReset},
                   "§3.7 (data without a mapping on a join is a fatal error for the subflow: reset, "
                   "MP_TCPRST 0x01 as Linux sends)"},
        MatrixCase{"IsnRewriting", Strip::kNone, Box::kIsnRewrite, {O::kMptcpTwo},
                   "§3.3.1 (relative subflow sequence numbers)"},
        MatrixCase{"Resegmentation", Strip::kNone, Box::kSegmenter, {O::kMptcpTwo},
                   "§3.3.1 (a mapping covers several segments)"},
        MatrixCase{"CoalescingIgnoringOptions", Strip::kNone, Box::kCoalescer,
                   {O::kMptcpTwo, O::kJoinReset, O::kFallback},
                   "§3.7 (data outside any mapping)"},
        MatrixCase{"NatOnTheJoinPath", Strip::kNone, Box::kNat, {O::kMptcpTwo},
                   "§3.2 (joins by token, not address)"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mptcp::sim::conformance

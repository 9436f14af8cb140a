// OLIA, the Opportunistic Linked-Increases Algorithm (Khalili, Gast, Popovic, Le Boudec, "MPTCP
// is not Pareto-Optimal: Performance Issues and a Possible Solution", IEEE/ACM ToN 21(5), 2013;
// draft-khalili-mptcp-congestion-control-05).
#ifndef MPTCP_CC_OLIA_H_
#define MPTCP_CC_OLIA_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "absl/numeric/int128.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/coupled.h"

namespace mptcp::cc {

// OLIA with windows in bytes. Slow start, the loss response (halve) and the timeout response
// are NewReno's; alone, or uncoupled, OLIA is NewReno step for step (its alpha is 0 on one path
// and the first term is 1/w_r).
//
// Per ACK in congestion avoidance on path r (ToN 2013, the OLIA algorithm;
// draft-khalili-mptcp-congestion-control-05, its restatement), the paper's
// per-packet increase in packets, (w_r/rtt_r^2) / (sum_p w_p/rtt_p)^2 + alpha_r / w_r, becomes
// in bytes, with w in bytes and bytes_acked / MSS_r packets acknowledged:
//   w_r += ((w_r/rtt_r^2) / (sum_p w_p/rtt_p)^2 + alpha_r / w_r) * MSS_r * bytes_acked
// (the packet form's w/MSS substitutions leave one factor MSS_r per acked packet of MSS_r
// bytes). With R the paths counted, M the paths with the largest window, and B the
// "presumably best" paths, those a single-path TCP would do best on: TCP's rate on a path is
// about sqrt(2/p)/rtt (Mathis et al. 1997) and l_p is about 1/p (bytes between losses), so
// the best paths have the largest l_p / rtt_p^2, the square of that rate up to a constant (as
// the Linux mptcp_olia.c ranks them):
//   alpha_r =  1 / (|R| * |B\M|)  if r in B\M,
//   alpha_r = -1 / (|R| * |M|)    if r in M and B\M is not empty,
//   alpha_r =  0                  otherwise.
// l_p = max(l_1p, l_2p): bytes acknowledged between the last two losses and since the last
// loss. A negative alpha can make the change negative: cwnd then shrinks (see
// CoupledController::ApplyCredit for its floor).
//
// Loss-interval bookkeeping (draft-khalili-05 defines l_1r, l_2r in bytes transmitted
// successfully; counted here as bytes newly acknowledged, in any state): a congestion event,
// or the first expiry of the retransmission timer, moves l_2r into l_1r and restarts l_2r, but
// only when bytes were acknowledged since the previous loss: a second loss with nothing
// delivered in between is the same congestion episode and keeps the older interval (as the
// Linux mptcp_olia.c does with its loss sequence numbers). A spurious-RTO undo does not
// restore the intervals.
class Olia final : public CoupledController {
 public:
  explicit Olia(uint32_t mss, uint32_t initial_cwnd_segments = 10)
      : CoupledController(mss, initial_cwnd_segments) {}

  std::string_view name() const override { return "olia"; }
  size_t state_bytes() const override { return sizeof(*this); }

  uint64_t bytes_since_loss() const { return bytes_since_loss_; }
  uint64_t bytes_between_losses() const { return bytes_between_losses_; }

  // This path's alpha_r for the current group, or nullopt when uncoupled. For tests.
  std::optional<double> Alpha() const {
    const Terms t = Compute();
    if (!t.pass.coupled()) return std::nullopt;
    return t.alpha;
  }

 protected:
  std::optional<double> CoupledChange(uint32_t bytes_acked) const override {
    const Terms t = Compute();
    if (!t.pass.coupled()) return std::nullopt;
    const double w = cwnd();
    const double rtt = static_cast<double>(t.own_rtt_ns);
    // OLIA's increase (ToN 2013; draft-khalili-05) in bytes (see the class comment).
    const double per_byte =
        (w / (rtt * rtt)) / (t.sum_w_over_rtt * t.sum_w_over_rtt) + t.alpha / w;
    return per_byte * mss() * static_cast<double>(bytes_acked);
  }

  void OnBytesAcked(uint32_t bytes) override {
    bytes_since_loss_ = SaturatingAdd(bytes_since_loss_, bytes);
  }
  void OnLoss() override {
    if (bytes_since_loss_ == 0) return;
    bytes_between_losses_ = bytes_since_loss_;
    bytes_since_loss_ = 0;
  }
  void FillView(PathView& v) const override {
    v.bytes_since_loss = bytes_since_loss_;
    v.bytes_between_losses = bytes_between_losses_;
  }
  void FillLossIntervals(CoupledPath& p) const override {
    p.bytes_since_loss = bytes_since_loss_;
    p.bytes_between_losses = bytes_between_losses_;
  }

 private:
  // l_p / rtt_p^2 is compared exactly as l_a * rtt_b^2 against l_b * rtt_a^2 in 128 bits:
  // l is capped at 2^40 bytes (1 TiB, beyond which the ranking no longer matters) and rtt at
  // 2^42 ns (73 minutes), so each product stays below 2^124.
  static constexpr uint64_t kMaxInterval = uint64_t{1} << 40;
  static constexpr int64_t kMaxRttNs = int64_t{1} << 42;

  struct Rank {
    uint64_t l = 0;
    uint64_t rtt = 1;
  };
  static Rank RankOf(const CoupledPath& p) {
    return Rank{std::min(std::max(p.bytes_since_loss, p.bytes_between_losses), kMaxInterval),
                static_cast<uint64_t>(std::clamp<int64_t>(p.rtt_ns, 1, kMaxRttNs))};
  }
  // Sign of l_a/rtt_a^2 - l_b/rtt_b^2.
  static int Compare(const Rank& a, const Rank& b) {
    const absl::uint128 lhs = absl::uint128(a.l) * b.rtt * b.rtt;
    const absl::uint128 rhs = absl::uint128(b.l) * a.rtt * a.rtt;
    return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
  }
  static uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                        : a + b;
  }

  struct Terms {
    CoupledPassResult pass;
    double sum_w_over_rtt = 0;  // sum_p w_p / rtt_p
    double alpha = 0;           // alpha_r of this path
    int64_t own_rtt_ns = 0;
  };

  // Two O(n) passes: the maxima (largest window, best l/rtt^2) and the rate sum, then the
  // sizes of M and B\M and where this path falls.
  Terms Compute() const {
    Terms t;
    uint32_t max_w = 0;
    Rank best;
    bool have_best = false;
    t.pass = ForEachPath([&](const CoupledPath& p) {
      t.sum_w_over_rtt += static_cast<double>(p.cwnd) / static_cast<double>(p.rtt_ns);
      if (p.self) t.own_rtt_ns = p.rtt_ns;
      max_w = std::max(max_w, p.cwnd);
      const Rank r = RankOf(p);
      if (!have_best || Compare(r, best) > 0) best = r;
      have_best = true;
    });
    if (!t.pass.coupled()) return t;
    size_t m = 0;
    size_t b_not_m = 0;
    bool self_in_m = false;
    bool self_in_b_not_m = false;
    ForEachPath([&](const CoupledPath& p) {
      const bool in_m = p.cwnd == max_w;
      const bool in_b_not_m = !in_m && Compare(RankOf(p), best) == 0;
      m += in_m;
      b_not_m += in_b_not_m;
      if (p.self) {
        self_in_m = in_m;
        self_in_b_not_m = in_b_not_m;
      }
    });
    const double paths = static_cast<double>(t.pass.paths);
    if (b_not_m > 0 && self_in_b_not_m) {
      t.alpha = 1.0 / (paths * static_cast<double>(b_not_m));
    } else if (b_not_m > 0 && self_in_m) {
      t.alpha = -1.0 / (paths * static_cast<double>(m));
    }
    return t;
  }

  uint64_t bytes_since_loss_ = 0;      // l_2r
  uint64_t bytes_between_losses_ = 0;  // l_1r
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_OLIA_H_

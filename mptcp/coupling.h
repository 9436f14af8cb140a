// The coupling group of one MPTCP connection: which of its subflows a coupled congestion
// controller (LIA, OLIA, BALIA; mptcp/cc/) counts as its siblings, kept up to date as subflows
// come and go, turn backup or stale.
#ifndef MPTCP_COUPLING_H_
#define MPTCP_COUPLING_H_

#include <cstddef>
#include <memory>
#include <span>

#include "absl/container/inlined_vector.h"
#include "mptcp/cc/controller.h"
#include "mptcp/subflow.h"

namespace mptcp {

class SubflowCoupling final : public cc::CouplingGroup {
 public:
  SubflowCoupling() = default;
  // Controllers point at the group: it stays where it is.
  SubflowCoupling(const SubflowCoupling&) = delete;
  SubflowCoupling& operator=(const SubflowCoupling&) = delete;

  // Whether `s` takes part in the coupling: it may carry data now (RFC 6356 §3 couples "the
  // set of available subflows"): fully established, not stale, in a data-carrying state, and
  // not a backup while a regular subflow lives (RFC 8684 §3.3.8: then it carries nothing).
  static bool Member(const Subflow& s, bool regular_alive) {
    return s.can_carry_data() && !(s.backup() && regular_alive);
  }

  // Recomputes the members and points each subflow's controller at the group (members) or
  // at nothing (the others run uncoupled, which for LIA, OLIA and BALIA is NewReno). With
  // MPTCP not in use (fallback, plain TCP) no subflow is coupled. O(subflows).
  void Update(std::span<const std::unique_ptr<Subflow>> subflows, bool mptcp) {
    bool regular_alive = false;
    for (const auto& s : subflows) regular_alive |= s->can_carry_data() && !s->backup();
    members_.clear();
    for (const auto& s : subflows) {
      const bool member = mptcp && Member(*s, regular_alive);
      if (member) members_.push_back(s.get());
      s->engine.mutable_congestion_controller().set_coupling(member ? this : nullptr);
    }
  }
  // Before a subflow is destroyed: the group must not point at it.
  void Clear(std::span<const std::unique_ptr<Subflow>> subflows) {
    members_.clear();
    for (const auto& s : subflows) s->engine.mutable_congestion_controller().set_coupling(nullptr);
  }

  size_t size() const override { return members_.size(); }
  cc::PathView path(size_t i) const override {
    if (i >= members_.size()) return cc::PathView{};
    const tcp::TcpEngine& e = members_[i]->engine;
    return e.congestion_controller().View(e.rtt().srtt());
  }
  bool Contains(const Subflow& s) const {
    for (const Subflow* m : members_) {
      if (m == &s) return true;
    }
    return false;
  }
  // Heap bytes held (none while at most kInline subflows are members).
  size_t allocated_bytes() const {
    return members_.capacity() > kInline ? members_.capacity() * sizeof(Subflow*) : 0;
  }

 private:
  static constexpr size_t kInline = 4;
  absl::InlinedVector<const Subflow*, kInline> members_;
};

}  // namespace mptcp

#endif  // MPTCP_COUPLING_H_

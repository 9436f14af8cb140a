// Connection's side of path management: the PathManagerHost it offers its manager (the
// subflows it has, opening and withdrawing them), the events it tells the manager of, and
// running the manager at the end of every call into the connection. Included by
// connection.h; not a standalone header.
#ifndef MPTCP_CONNECTION_PM_H_
#define MPTCP_CONNECTION_PM_H_

#ifndef MPTCP_CONNECTION_H_
#error "include mptcp/connection.h instead"
#endif

namespace mptcp {

// Events the manager has not yet run on: at most this many (each call drains them, so only a
// single call that changes this many subflows and addresses could reach it).
inline constexpr size_t kMaxPmInbox = 64;

inline std::vector<PmSubflow> Connection::subflows() const {
  std::vector<PmSubflow> v;
  v.reserve(subflows_.size());
  for (const auto& s : subflows_) {
    if (!s->alive()) continue;
    v.push_back(PmSubflow{.id = s->id,
                          .tuple = s->engine.tuple(),
                          .local_id = s->local_id,
                          .remote_id = s->remote_id,
                          .backup = s->backup_local,
                          .initiator = s->initiator,
                          .initial = s->kind == SubflowKind::kInitial,
                          .up = s->fully_established});
  }
  return v;
}

inline void Connection::NotifyPathManager(const PmEvent& e) {
  // The manager hears that the connection is fully established before anything it learns
  // then: a client becomes fully established on the very segment that may carry the server's
  // first ADD_ADDR (RFC 8684 §3.1), and the announcement must not reach a manager that has
  // not started.
  if (e.type != PmEvent::Type::kFullyEstablished && !pm_established_told_ &&
      fully_established_ && established_ && mptcp() && !closed()) {
    pm_established_told_ = true;
    NotifyPathManager(PmEvent{.type = PmEvent::Type::kFullyEstablished});
  }
  if (pm_inbox_.size() >= kMaxPmInbox) {
    ++mib_.events_dropped;
    return;
  }
  pm_inbox_.push_back(e);
}

inline PmEvent Connection::SubflowPmEvent(PmEvent::Type type, const Subflow& s) {
  return PmEvent{.type = type,
                 .subflow = s.id,
                 .tuple = s.engine.tuple(),
                 .local_id = s.local_id,
                 .remote_id = s.remote_id,
                 .backup = s.backup_local,
                 .initiator = s.initiator,
                 .was_up = s.up_reported,
                 .withdrawn = s.withdrawn};
}

inline void Connection::NotifySubflowDown(const Subflow& s) {
  if (s.kind == SubflowKind::kInitial && !s.up_reported) return;  // the connection never was
  NotifyPathManager(SubflowPmEvent(PmEvent::Type::kSubflowDown, s));
}

inline void Connection::RunPathManager(Timestamp now) {
  // Not re-entered: what the manager does (open a subflow, announce) comes back here through
  // AfterApiCall, and the events that causes are run by the loop below.
  if (pm_busy_) return;
  pm_busy_ = true;
  for (int round = 0; round < 8; ++round) {
    bool ran = false;
    if (!pm_inbox_.empty()) {
      std::vector<PmEvent> batch;
      batch.swap(pm_inbox_);
      for (const PmEvent& e : batch) pm_->OnEvent(now, *this, e);
      ran = true;
    }
    if (!winding_down() && pm_->NextDeadline() <= now) {
      pm_->OnTimeout(now, *this);
      ran = true;
    }
    if (!ran) break;
    SweepSubflows(now);  // report what the manager did (subflows it opened or closed)
    if (pm_inbox_.empty()) break;
  }
  pm_busy_ = false;
}

}  // namespace mptcp

#endif  // MPTCP_CONNECTION_PM_H_

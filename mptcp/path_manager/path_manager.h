// The path-manager interface: the policy that decides which subflows a connection has and
// which addresses it announces (RFC 8684 §3.4). Sans-IO like the rest of the core: a manager
// is told of the connection's events and of the time, acts through PathManagerHost (open a
// subflow, announce or withdraw an address, set a subflow's priority), and names its next
// deadline. The Connection owns one (chosen by ConnectionConfig::path_manager, or set by the
// application), feeds it, and runs its timer beside its own.
#ifndef MPTCP_PATH_MANAGER_PATH_MANAGER_H_
#define MPTCP_PATH_MANAGER_PATH_MANAGER_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mptcp/address.h"
#include "mptcp/event.h"
#include "mptcp/path_manager/endpoints.h"
#include "mptcp/time.h"

namespace mptcp {

// What a path manager learns of its connection.
struct PmEvent {
  enum class Type : uint8_t {
    kFullyEstablished,  // both sides know both keys: joins and signals may go (RFC 8684 §3.1)
    kSubflowUp,         // a subflow may carry data
    kSubflowDown,       // a subflow closed (or a join we opened never completed)
    kAddressAnnounced,  // the peer's authenticated ADD_ADDR (each address ID once)
    kAddressRemoved,    // the peer's REMOVE_ADDR for an ID we knew
  };
  Type type = Type::kFullyEstablished;
  // kSubflowUp / kSubflowDown: the subflow as it was.
  SubflowId subflow = 0;
  FourTuple tuple{};  // local address first
  uint8_t local_id = 0, remote_id = 0;
  bool backup = false;     // we asked for backup use (B flag or MP_PRIO)
  bool initiator = false;  // we sent its SYN
  bool was_up = false;     // kSubflowDown: it had carried data
  bool withdrawn = false;  // kSubflowDown: closed because an address went (REMOVE_ADDR)
  // kAddressAnnounced / kAddressRemoved.
  uint8_t address_id = 0;
  SocketAddress address{};  // port 0: the connection's port
};

// A subflow as a path manager sees it.
struct PmSubflow {
  SubflowId id = 0;
  FourTuple tuple{};  // local address first
  uint8_t local_id = 0, remote_id = 0;
  bool backup = false;  // our side's request (backup_local)
  bool initiator = false;
  bool initial = false;  // the MP_CAPABLE subflow
  bool up = false;
};

// What a path manager may look at and do. The Connection implements it; tests use a fake.
class PathManagerHost {
 public:
  virtual bool is_client() const = 0;
  // No new subflows or signals make sense any more (closing, closed, fallen back).
  virtual bool winding_down() const = 0;
  // The initial subflow's tuple, local address first (address ID 0 at both ends, §3.2).
  virtual FourTuple initial_tuple() const = 0;
  // The peer's MP_CAPABLE flag C: it accepts no joins to its initial address (§3.1).
  virtual bool peer_denies_initial_join() const = 0;
  // Live subflows (handshaking ones included).
  virtual std::vector<PmSubflow> subflows() const = 0;
  // Opens a join from tuple.local (port 0: the host picks one) with the given local address
  // ID (sent in MP_JOIN, §3.2; nullopt: the connection's own numbering of its addresses).
  virtual absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, const FourTuple& tuple,
                                                bool backup,
                                                std::optional<uint8_t> local_id) = 0;
  // ADD_ADDR for `address` under `id` (§3.4.1), resent until echoed.
  virtual void Announce(Timestamp now, uint8_t id, const SocketAddress& address) = 0;
  // Our subflows using local address `id` close (counted RmSubflow) and, with
  // `send_remove_addr`, the peer is told with REMOVE_ADDR (§3.4.2).
  virtual void Withdraw(Timestamp now, uint8_t id, bool send_remove_addr) = 0;
  // MP_PRIO (§3.3.8) on one subflow.
  virtual bool SetBackup(Timestamp now, SubflowId id, bool backup) = 0;

 protected:
  ~PathManagerHost() = default;
};

// A change to the configuration at run time, in `ip mptcp` terms.
struct PmCommand {
  enum class Type : uint8_t {
    kEndpointAdd,     // ip mptcp endpoint add
    kEndpointDelete,  // ip mptcp endpoint delete id N
    kEndpointChange,  // ip mptcp endpoint change id N [no]backup [no]fullmesh
    kFlush,           // ip mptcp endpoint flush
    kSetLimits,       // ip mptcp limits set
  };
  Type type = Type::kEndpointAdd;
  PmEndpoint endpoint{};  // kEndpointAdd; kEndpointChange reads id, backup and fullmesh
  uint8_t id = 0;       // kEndpointDelete
  PmLimits limits{};      // kSetLimits
};

// What a command does to a list of endpoints and limits, as `ip mptcp` does to a namespace's:
// the in-kernel manager applies it to its own, an Endpoint to the configuration of its later
// connections. Returns the endpoints the command removed (delete, flush); changes nothing on
// an error. A new endpoint without an ID gets the first free one, written back into `c`, so
// that the same command then means the same endpoint everywhere.
inline absl::StatusOr<std::vector<PmEndpoint>> ApplyPmCommand(PmCommand& c,
                                                              std::vector<PmEndpoint>& endpoints,
                                                              PmLimits& limits) {
  auto by_id = [&](uint8_t id) {
    return std::find_if(endpoints.begin(), endpoints.end(),
                        [&](const PmEndpoint& e) { return e.id == id; });
  };
  switch (c.type) {
    case PmCommand::Type::kEndpointAdd: {
      std::vector<PmEndpoint> next = endpoints;
      next.push_back(c.endpoint);
      if (absl::Status s = NormalizePmEndpoints(next); !s.ok()) return s;
      endpoints = std::move(next);
      c.endpoint.id = endpoints.back().id;
      return std::vector<PmEndpoint>{};
    }
    case PmCommand::Type::kEndpointDelete: {
      auto it = by_id(c.id);
      if (it == endpoints.end()) {
        return absl::NotFoundError(absl::StrCat("no endpoint with id ", int{c.id}));
      }
      std::vector<PmEndpoint> gone{*it};
      endpoints.erase(it);
      return gone;
    }
    case PmCommand::Type::kEndpointChange: {
      auto it = by_id(c.endpoint.id);
      if (it == endpoints.end()) {
        return absl::NotFoundError(absl::StrCat("no endpoint with id ", int{c.endpoint.id}));
      }
      if (it->signal && c.endpoint.fullmesh) {
        return absl::InvalidArgumentError("a signal endpoint cannot be fullmesh");
      }
      it->backup = c.endpoint.backup;
      it->fullmesh = c.endpoint.fullmesh;
      return std::vector<PmEndpoint>{};
    }
    case PmCommand::Type::kFlush:
      return std::exchange(endpoints, {});
    case PmCommand::Type::kSetLimits:
      if (c.limits.subflows > kMaxPmLimit || c.limits.add_addr_accepted > kMaxPmLimit) {
        return absl::InvalidArgumentError("limits are at most 8");
      }
      limits = c.limits;
      return std::vector<PmEndpoint>{};
  }
  return absl::InvalidArgumentError("unknown command");
}

class PathManager {
 public:
  virtual ~PathManager() = default;
  virtual PathManagerKind kind() const = 0;
  virtual void OnEvent(Timestamp now, PathManagerHost& host, const PmEvent& e) = 0;
  // Runs what is due at `now` (NextDeadline() <= now); must move the deadline on.
  virtual void OnTimeout(Timestamp now, PathManagerHost& host) {
    (void)now;
    (void)host;
  }
  virtual Timestamp NextDeadline() const { return Timestamp::Never(); }
  // Whether a join from the peer may be accepted, given the joins the connection has now.
  virtual bool AllowIncomingJoin(size_t extra_subflows) const {
    (void)extra_subflows;
    return true;
  }
  // An `ip mptcp`-style change; managers without endpoints refuse it.
  virtual absl::Status Command(Timestamp now, PathManagerHost& host, const PmCommand& c) {
    (void)now;
    (void)host;
    (void)c;
    return absl::FailedPreconditionError("this path manager has no endpoints to change");
  }
};

// Re-creates subflows that failed, with exponential backoff (shared by the managers). Bounded:
// one entry per (local, remote, local ID) key, at most kMaxEntries.
class SubflowRetry {
 public:
  static constexpr size_t kMaxEntries = 16;
  struct Entry {
    FourTuple tuple;  // local port 0: pick
    bool backup = false;
    uint8_t local_id = 0;
    uint8_t remote_id = 0;
    int attempts = 0;
    Timestamp due = Timestamp::Never();
  };

  SubflowRetry(Duration initial, Duration max) : initial_(initial), max_(max) {}
  bool enabled() const { return initial_ > Duration::Zero(); }

  // The subflow described by `e` went down unexpectedly: try it again later.
  void Schedule(Timestamp now, const PmEvent& e) {
    if (!enabled()) return;
    FourTuple t = e.tuple;
    t.local.port = 0;
    for (Entry& x : entries_) {
      if (x.tuple == t && x.local_id == e.local_id) {
        x.due = now + Backoff(++x.attempts);
        return;
      }
    }
    if (entries_.size() >= kMaxEntries) return;
    entries_.push_back(Entry{t, e.backup, e.local_id, e.remote_id, 0, now + Backoff(0)});
  }
  // The subflow came up: its backoff starts over next time.
  void Succeeded(const FourTuple& tuple, uint8_t local_id) {
    FourTuple t = tuple;
    t.local.port = 0;
    std::erase_if(entries_, [&](const Entry& x) { return x.tuple == t && x.local_id == local_id; });
  }
  // Addresses that stopped being valid: their retries go.
  template <typename Pred>
  void Cancel(Pred&& pred) {
    std::erase_if(entries_, pred);
  }
  void Clear() { entries_.clear(); }
  Timestamp NextDeadline() const {
    Timestamp t = Timestamp::Never();
    for (const Entry& x : entries_) t = Earliest(t, x.due);
    return t;
  }
  // Opens the due ones again; those that fail to open back off further.
  void Run(Timestamp now, PathManagerHost& host) {
    for (Entry& x : entries_) {
      if (x.due > now) continue;
      x.due = Timestamp::Never();  // pending until the subflow comes up or fails again
      ++retried_;
      auto id = host.OpenSubflow(now, x.tuple, x.backup, x.local_id);
      if (!id.ok()) x.due = now + Backoff(++x.attempts);
    }
  }
  size_t size() const { return entries_.size(); }
  uint64_t retried() const { return retried_; }
  Duration Backoff(int attempts) const {
    Duration d = initial_;
    for (int i = 0; i < attempts && d < max_; ++i) d = d * 2;
    return std::min(d, max_);
  }

 private:
  Duration initial_, max_;
  std::vector<Entry> entries_;
  uint64_t retried_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_PATH_MANAGER_H_

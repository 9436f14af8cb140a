// The in-kernel path manager, as Linux's (net/mptcp/pm_kernel.c, ip-mptcp(8)): endpoints with
// the flags signal, subflow, backup and fullmesh, and the limits `subflows` and
// `add_addr_accepted`. Its rules, on either side of a connection:
// - Once the connection is fully established (and again as each subflow comes up), every
//   `signal` endpoint not yet used is announced with ADD_ADDR (RFC 8684 §3.4.1), and every
//   `subflow` endpoint not yet used opens subflows while fewer than `subflows` extra subflows
//   exist: a plain one to the peer's initial address (unless the peer's flag C forbids it,
//   §3.1), a `fullmesh` one to every peer address some subflow already reaches.
// - The endpoint whose address is the initial subflow's is that subflow's (address ID 0,
//   §3.2): it is not used again, and its `backup` flag sends MP_PRIO on the initial subflow.
// - An ADD_ADDR from the peer leads to subflows only while fewer than `add_addr_accepted`
//   announced addresses were used and fewer than `subflows` extra subflows exist: one from
//   each `fullmesh` endpoint, or else one from the initial local address. The default limit
//   0 uses none (a client then joins no address a server announces).
// - Joins from the peer are accepted while fewer than `subflows` extra subflows exist.
// - Deleting an endpoint withdraws it (REMOVE_ADDR, §3.4.2) and closes its subflows; a flush
//   withdraws the announced ones and closes the rest without REMOVE_ADDR (as Linux since
//   5.18); `change id N backup|nobackup` sends MP_PRIO (§3.3.8) on the endpoint's subflows.
// Unlike Linux, a subflow this manager opened that fails while both of its addresses remain
// valid is opened again, with exponential backoff (SubflowRetry).
#ifndef MPTCP_PATH_MANAGER_IN_KERNEL_H_
#define MPTCP_PATH_MANAGER_IN_KERNEL_H_

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "mptcp/path_manager/endpoints.h"
#include "mptcp/path_manager/path_manager.h"

namespace mptcp {

class InKernelPathManager final : public PathManager {
 public:
  // `endpoints` must have passed NormalizePmEndpoints.
  InKernelPathManager(std::vector<PmEndpoint> endpoints, PmLimits limits,
                      Duration recreate_backoff = Duration::Zero(),
                      Duration recreate_backoff_max = Duration::Zero())
      : endpoints_(std::move(endpoints)),
        limits_(limits),
        retry_(recreate_backoff, recreate_backoff_max) {}

  PathManagerKind kind() const override { return PathManagerKind::kInKernel; }
  const std::vector<PmEndpoint>& endpoints() const { return endpoints_; }
  const PmLimits& limits() const { return limits_; }
  uint32_t add_addr_accepted() const { return add_addr_accepted_; }
  const SubflowRetry& retry() const { return retry_; }

  void OnEvent(Timestamp now, PathManagerHost& host, const PmEvent& e) override {
    switch (e.type) {
      case PmEvent::Type::kFullyEstablished:
        established_ = true;
        AccountInitialEndpoint(now, host);
        CreateSubflowOrSignal(now, host);
        break;
      case PmEvent::Type::kSubflowUp:
        retry_.Succeeded(e.tuple, e.local_id);
        CreateSubflowOrSignal(now, host);
        break;
      case PmEvent::Type::kSubflowDown:
        if (e.initiator && !e.withdrawn && !host.winding_down() && StillValid(e)) {
          retry_.Schedule(now, e);
        }
        break;
      case PmEvent::Type::kAddressAnnounced:
        remote_known_.set(e.address_id);
        AddAddrReceived(now, host, e.address_id, e.address);
        break;
      case PmEvent::Type::kAddressRemoved:
        remote_known_.reset(e.address_id);
        // Linux gives the accepted slot back (mptcp_pm_nl_rm_addr); ID 0 never took one.
        if (e.address_id != 0 && accepted_ids_.test(e.address_id)) {
          accepted_ids_.reset(e.address_id);
          if (add_addr_accepted_ > 0) --add_addr_accepted_;
        }
        retry_.Cancel([&](const SubflowRetry::Entry& x) { return x.remote_id == e.address_id; });
        break;
    }
  }

  void OnTimeout(Timestamp now, PathManagerHost& host) override {
    if (host.winding_down()) {
      retry_.Clear();
      return;
    }
    retry_.Run(now, host);
  }
  Timestamp NextDeadline() const override { return retry_.NextDeadline(); }

  bool AllowIncomingJoin(size_t extra_subflows) const override {
    return extra_subflows < limits_.subflows;
  }

  absl::Status Command(Timestamp now, PathManagerHost& host, const PmCommand& c) override {
    PmCommand cmd = c;
    std::optional<bool> backup_before;
    if (cmd.type == PmCommand::Type::kEndpointChange) {
      for (const PmEndpoint& e : endpoints_) {
        if (e.id == cmd.endpoint.id) backup_before = e.backup;
      }
    }
    absl::StatusOr<std::vector<PmEndpoint>> gone = ApplyPmCommand(cmd, endpoints_, limits_);
    if (!gone.ok()) return gone.status();
    switch (cmd.type) {
      case PmCommand::Type::kEndpointAdd:
      case PmCommand::Type::kSetLimits:
        CreateSubflowOrSignal(now, host);
        break;
      case PmCommand::Type::kEndpointDelete:
      case PmCommand::Type::kFlush:
        for (const PmEndpoint& e : *gone) {
          Delete(now, host, e, /*flush=*/cmd.type == PmCommand::Type::kFlush);
        }
        break;
      case PmCommand::Type::kEndpointChange:
        if (backup_before != cmd.endpoint.backup && established_) {
          // RFC 8684 §3.3.8: MP_PRIO on every subflow from this endpoint.
          const uint8_t lid = LocalIdOf(cmd.endpoint.id);
          for (const PmSubflow& s : host.subflows()) {
            if (s.local_id == lid) host.SetBackup(now, s.id, cmd.endpoint.backup);
          }
        }
        break;
    }
    return absl::OkStatus();
  }

 private:
  // Subflows besides the initial one that are alive now: the `subflows` limit counts them.
  static size_t ExtraSubflows(const PathManagerHost& host) {
    size_t n = 0;
    for (const PmSubflow& s : host.subflows()) n += s.initial ? 0 : 1;
    return n;
  }

  // The address ID subflows from endpoint `e` carry: 0 for the initial subflow's address.
  uint8_t LocalIdOf(uint8_t endpoint_id) const { return endpoint_id == mpc_id_ ? 0 : endpoint_id; }
  uint8_t LocalIdOf(const PmEndpoint& e) const { return LocalIdOf(e.id); }

  bool StillValid(const PmEvent& e) const {
    const bool local_ok =
        e.local_id == 0 || std::any_of(endpoints_.begin(), endpoints_.end(), [&](const PmEndpoint& x) {
          return LocalIdOf(x) == e.local_id;
        });
    const bool remote_ok = e.remote_id == 0 || remote_known_.test(e.remote_id);
    return local_ok && remote_ok;
  }

  void AccountInitialEndpoint(Timestamp now, PathManagerHost& host) {
    if (mpc_accounted_) return;
    mpc_accounted_ = true;
    const FourTuple t = host.initial_tuple();
    for (const PmEndpoint& e : endpoints_) {
      if (e.address != t.local.ip) continue;
      used_.set(e.id);
      mpc_id_ = e.id;
      if (e.backup) {
        for (const PmSubflow& s : host.subflows()) {
          if (s.initial) host.SetBackup(now, s.id, true);
        }
      }
      break;
    }
  }

  void CreateSubflowOrSignal(Timestamp now, PathManagerHost& host) {
    if (!established_ || host.winding_down()) return;
    std::vector<const PmEndpoint*> signal_and_subflow;
    for (const PmEndpoint& e : endpoints_) {
      if (!e.signal || used_.test(e.id)) continue;
      used_.set(e.id);
      announced_.set(e.id);
      host.Announce(now, LocalIdOf(e), SocketAddress{e.address, e.port});
      if (e.subflow) signal_and_subflow.push_back(&e);
    }
    size_t local_addr_max = 0;
    for (const PmEndpoint& e : endpoints_) local_addr_max += e.subflow ? 1 : 0;
    const FourTuple initial = host.initial_tuple();
    while (local_addr_used_ < local_addr_max && ExtraSubflows(host) < limits_.subflows) {
      const PmEndpoint* ep = nullptr;
      if (!signal_and_subflow.empty()) {
        ep = signal_and_subflow.front();
        signal_and_subflow.erase(signal_and_subflow.begin());
      } else {
        for (const PmEndpoint& e : endpoints_) {
          if (e.subflow && !used_.test(e.id)) {
            ep = &e;
            break;
          }
        }
      }
      if (ep == nullptr) break;
      used_.set(ep->id);
      const uint8_t lid = LocalIdOf(*ep);
      if (lid != 0) ++local_addr_used_;  // as Linux: not counted for ID 0
      subflow_ids_.set(ep->id);
      for (const SocketAddress& remote : RemotesFor(host, *ep, lid, initial)) {
        if (ExtraSubflows(host) >= limits_.subflows) break;
        (void)host.OpenSubflow(now, FourTuple{{ep->address, 0}, remote}, ep->backup, lid);
      }
    }
  }

  // Where subflows from endpoint `ep` go: the peer's initial address, or (fullmesh) every peer
  // address some subflow reaches that none from this endpoint does yet.
  std::vector<SocketAddress> RemotesFor(const PathManagerHost& host, const PmEndpoint& ep,
                                        uint8_t lid, const FourTuple& initial) const {
    std::vector<SocketAddress> out;
    const bool deny_id0 = host.peer_denies_initial_join();
    if (!ep.fullmesh) {
      if (!deny_id0 && ep.address.family() == initial.remote.ip.family()) {
        out.push_back(initial.remote);
      }
      return out;
    }
    std::bitset<256> unavailable;
    const std::vector<PmSubflow> subs = host.subflows();
    for (const PmSubflow& s : subs) {
      if (s.local_id == lid) unavailable.set(s.remote_id);
    }
    for (const PmSubflow& s : subs) {
      if (deny_id0 && s.remote_id == 0) continue;
      if (unavailable.test(s.remote_id)) continue;
      if (s.tuple.remote.ip.family() != ep.address.family()) continue;
      unavailable.set(s.remote_id);
      out.push_back(s.tuple.remote);
    }
    return out;
  }

  void AddAddrReceived(Timestamp now, PathManagerHost& host, uint8_t id, SocketAddress addr) {
    if (!established_ || host.winding_down()) return;
    if (add_addr_accepted_ >= limits_.add_addr_accepted ||
        ExtraSubflows(host) >= limits_.subflows) {
      return;
    }
    const FourTuple initial = host.initial_tuple();
    if (addr.port == 0) addr.port = initial.remote.port;
    for (const PmSubflow& s : host.subflows()) {
      if (s.tuple.remote == addr) return;  // already reached
    }
    struct Local {
      IpAddress ip;
      uint8_t id;
      bool backup;
    };
    std::vector<Local> locals;
    for (const PmEndpoint& e : endpoints_) {
      if (!e.fullmesh || e.address.family() != addr.ip.family()) continue;
      locals.push_back(Local{e.address, e.address == initial.local.ip ? uint8_t{0} : e.id, e.backup});
    }
    // No fullmesh endpoint: the address routing would pick; here the initial one (ID 0).
    if (locals.empty() && initial.local.ip.family() == addr.ip.family()) {
      locals.push_back(Local{initial.local.ip, 0, false});
    }
    bool created = false;
    for (const Local& l : locals) {
      if (ExtraSubflows(host) >= limits_.subflows) break;
      created |= host.OpenSubflow(now, FourTuple{{l.ip, 0}, addr}, l.backup, l.id).ok();
    }
    if (created && id != 0) {
      ++add_addr_accepted_;
      accepted_ids_.set(id);
    }
  }

  void Delete(Timestamp now, PathManagerHost& host, const PmEndpoint& e, bool flush) {
    const uint8_t lid = LocalIdOf(e);
    retry_.Cancel([&](const SubflowRetry::Entry& x) { return x.local_id == lid; });
    if (!used_.test(e.id)) return;
    used_.reset(e.id);
    if (subflow_ids_.test(e.id)) {
      subflow_ids_.reset(e.id);
      if (lid != 0 && local_addr_used_ > 0) --local_addr_used_;
    }
    const bool announced = announced_.test(e.id);
    announced_.reset(e.id);
    if (!established_) return;
    // Linux's flush sends REMOVE_ADDR only for announced addresses; a deleted endpoint is
    // withdrawn from the peer either way (RFC 8684 §3.4.2).
    host.Withdraw(now, lid, /*send_remove_addr=*/announced || !flush);
  }

  std::vector<PmEndpoint> endpoints_;
  PmLimits limits_;
  SubflowRetry retry_;
  bool established_ = false;
  bool mpc_accounted_ = false;
  uint8_t mpc_id_ = 0;  // the endpoint matching the initial local address (0: none)
  std::bitset<256> used_;         // endpoint IDs this connection used (Linux's id_avail_bitmap)
  std::bitset<256> announced_;    // endpoint IDs announced
  std::bitset<256> subflow_ids_;  // endpoint IDs used as subflow sources
  std::bitset<256> remote_known_;  // peer address IDs announced and not removed
  std::bitset<256> accepted_ids_;  // peer address IDs that took an add_addr_accepted slot
  size_t local_addr_used_ = 0;
  uint32_t add_addr_accepted_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_IN_KERNEL_H_

// The ndiffports path manager (from the multipath-tcp.org kernel): N subflows in all over the
// initial address pair, each from a different source port, for networks that balance flows
// by 5-tuple (ECMP) rather than by address. Only the client opens them; joins use address
// ID 0 at both ends (RFC 8684 §3.2: the initial subflow's addresses). A subflow that fails
// is opened again with exponential backoff while the connection lives.
#ifndef MPTCP_PATH_MANAGER_NDIFFPORTS_H_
#define MPTCP_PATH_MANAGER_NDIFFPORTS_H_

#include <cstdint>

#include "mptcp/path_manager/path_manager.h"

namespace mptcp {

class NdiffportsPathManager final : public PathManager {
 public:
  NdiffportsPathManager(uint32_t subflows, Duration recreate_backoff = Duration::Zero(),
                        Duration recreate_backoff_max = Duration::Zero())
      : subflows_(subflows), retry_(recreate_backoff, recreate_backoff_max) {}

  PathManagerKind kind() const override { return PathManagerKind::kNdiffports; }
  const SubflowRetry& retry() const { return retry_; }

  void OnEvent(Timestamp now, PathManagerHost& host, const PmEvent& e) override {
    switch (e.type) {
      case PmEvent::Type::kFullyEstablished: {
        if (!host.is_client() || host.winding_down()) return;
        const FourTuple t = host.initial_tuple();
        for (uint32_t i = 1; i < subflows_; ++i) {
          (void)host.OpenSubflow(now, FourTuple{{t.local.ip, 0}, t.remote}, false, 0);
        }
        break;
      }
      case PmEvent::Type::kSubflowUp:
        retry_.Succeeded(e.tuple, e.local_id);
        break;
      case PmEvent::Type::kSubflowDown:
        if (e.initiator && !e.withdrawn && !host.winding_down()) retry_.Schedule(now, e);
        break;
      default:
        break;  // announcements change nothing: all subflows use the initial pair
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

 private:
  uint32_t subflows_;
  SubflowRetry retry_;
};

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_NDIFFPORTS_H_

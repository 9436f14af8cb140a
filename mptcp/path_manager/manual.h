// The manual path manager: no policy of its own. Subflows, announcements and priorities come
// from the application's calls (Connection::OpenSubflow, AnnounceAddress, WithdrawAddress,
// SetBackup), for embedders with their own policy; the peer's announcements reach the
// application as events. The joins the application planned in its configuration
// (PathManagerConfig::joins) are opened as soon as the connection is fully established, which
// is the simulator harness's join_all; it re-creates nothing.
#ifndef MPTCP_PATH_MANAGER_MANUAL_H_
#define MPTCP_PATH_MANAGER_MANUAL_H_

#include <optional>
#include <utility>
#include <vector>

#include "mptcp/path_manager/path_manager.h"

namespace mptcp {

class ManualPathManager final : public PathManager {
 public:
  explicit ManualPathManager(std::vector<PlannedJoin> joins = {}) : joins_(std::move(joins)) {}

  PathManagerKind kind() const override { return PathManagerKind::kManual; }
  // The planned joins that could not be opened, with why (for tools and tests).
  const std::vector<std::pair<size_t, absl::Status>>& refused() const { return refused_; }

  void OnEvent(Timestamp now, PathManagerHost& host, const PmEvent& e) override {
    if (e.type != PmEvent::Type::kFullyEstablished || started_ || host.winding_down()) return;
    started_ = true;
    const FourTuple initial = host.initial_tuple();
    for (size_t i = 0; i < joins_.size(); ++i) {
      FourTuple t{joins_[i].local, joins_[i].remote};
      if (t.remote.port == 0) t.remote.port = initial.remote.port;
      auto id = host.OpenSubflow(now, t, joins_[i].backup, /*local_id=*/std::nullopt);
      if (!id.ok()) refused_.emplace_back(i, id.status());
    }
  }

 private:
  std::vector<PlannedJoin> joins_;
  std::vector<std::pair<size_t, absl::Status>> refused_;
  bool started_ = false;
};

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_MANUAL_H_

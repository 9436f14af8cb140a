// A PathManagerHost for unit tests: a connection reduced to its subflow list, which records
// every action a path manager takes.
#ifndef MPTCP_PATH_MANAGER_FAKE_HOST_H_
#define MPTCP_PATH_MANAGER_FAKE_HOST_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mptcp/path_manager/path_manager.h"

namespace mptcp::testing {

class FakePmHost final : public PathManagerHost {
 public:
  FakePmHost(bool client, FourTuple initial) : client_(client), initial_(initial) {
    subs_.push_back(PmSubflow{.id = 1, .tuple = initial, .initial = true, .up = true});
  }

  bool is_client() const override { return client_; }
  bool winding_down() const override { return winding_down_; }
  FourTuple initial_tuple() const override { return initial_; }
  bool peer_denies_initial_join() const override { return deny_id0_; }
  std::vector<PmSubflow> subflows() const override { return subs_; }
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp, const FourTuple& tuple, bool backup,
                                        std::optional<uint8_t> local_id) override {
    if (refuse_opens_) return absl::UnavailableError("refused");
    FourTuple t = tuple;
    if (t.local.port == 0) t.local.port = static_cast<uint16_t>(initial_.local.port + next_id_);
    const SubflowId id = next_id_++;
    subs_.push_back(PmSubflow{.id = id,
                              .tuple = t,
                              .local_id = local_id.value_or(0),
                              .remote_id = RemoteIdOf(t.remote),
                              .backup = backup,
                              .initiator = true});
    log_.push_back(absl::StrCat("open ", t.local.ip.ToString(), "->", t.remote.ToString(),
                                " lid=", int{local_id.value_or(0)}, backup ? " backup" : ""));
    return id;
  }
  void Announce(Timestamp, uint8_t id, const SocketAddress& a) override {
    log_.push_back(absl::StrCat("announce id=", int{id}, " ", a.ToString()));
  }
  void Withdraw(Timestamp, uint8_t id, bool send) override {
    log_.push_back(absl::StrCat(send ? "remove_addr" : "close", " id=", int{id}));
    std::erase_if(subs_, [id](const PmSubflow& s) { return !s.initial && s.local_id == id; });
  }
  bool SetBackup(Timestamp, SubflowId id, bool backup) override {
    log_.push_back(absl::StrCat("prio ", id, backup ? " backup" : " regular"));
    return true;
  }

  // Test controls.
  // The peer's address IDs by address (what its ADD_ADDR said).
  void SetRemoteId(const SocketAddress& a, uint8_t id) { remote_ids_.emplace_back(a, id); }
  uint8_t RemoteIdOf(const SocketAddress& a) const {
    for (const auto& [addr, id] : remote_ids_) {
      if (addr == a) return id;
    }
    return 0;
  }
  // A subflow ends: returns the event a connection would send.
  PmEvent Down(SubflowId id) {
    PmEvent e{.type = PmEvent::Type::kSubflowDown};
    for (auto it = subs_.begin(); it != subs_.end(); ++it) {
      if (it->id != id) continue;
      e.subflow = id;
      e.tuple = it->tuple;
      e.local_id = it->local_id;
      e.remote_id = it->remote_id;
      e.backup = it->backup;
      e.initiator = it->initiator;
      e.was_up = it->up;
      subs_.erase(it);
      break;
    }
    return e;
  }
  PmEvent Up(SubflowId id) {
    for (PmSubflow& s : subs_) {
      if (s.id != id) continue;
      s.up = true;
      return PmEvent{.type = PmEvent::Type::kSubflowUp,
                     .subflow = id,
                     .tuple = s.tuple,
                     .local_id = s.local_id,
                     .remote_id = s.remote_id,
                     .initiator = s.initiator,
                     .was_up = true};
    }
    return PmEvent{};
  }

  std::vector<std::string> TakeLog() {
    std::vector<std::string> l;
    l.swap(log_);
    return l;
  }
  size_t extra() const { return subs_.size() - 1; }

  bool winding_down_ = false;
  bool deny_id0_ = false;
  bool refuse_opens_ = false;

 private:
  bool client_;
  FourTuple initial_;
  std::vector<PmSubflow> subs_;
  std::vector<std::pair<SocketAddress, uint8_t>> remote_ids_;
  std::vector<std::string> log_;
  SubflowId next_id_ = 2;
};

}  // namespace mptcp::testing

#endif  // MPTCP_PATH_MANAGER_FAKE_HOST_H_

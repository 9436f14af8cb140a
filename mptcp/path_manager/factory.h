// Builds the path manager a PathManagerConfig names (ConnectionConfig::path_manager).
#ifndef MPTCP_PATH_MANAGER_FACTORY_H_
#define MPTCP_PATH_MANAGER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "mptcp/path_manager/endpoints.h"
#include "mptcp/path_manager/in_kernel.h"
#include "mptcp/path_manager/manual.h"
#include "mptcp/path_manager/ndiffports.h"
#include "mptcp/path_manager/path_manager.h"

namespace mptcp {

// Checks the configuration (endpoints as `ip mptcp endpoint add` would, limits, ndiffports).
inline absl::Status ValidatePathManagerConfig(const PathManagerConfig& c) {
  std::vector<PmEndpoint> eps = c.endpoints;
  if (absl::Status s = NormalizePmEndpoints(eps); !s.ok()) return s;
  if (c.limits.subflows > kMaxPmLimit || c.limits.add_addr_accepted > kMaxPmLimit) {
    return absl::InvalidArgumentError("limits are at most 8");
  }
  if (c.kind == PathManagerKind::kNdiffports && (c.ndiffports < 1 || c.ndiffports > 32)) {
    return absl::InvalidArgumentError("ndiffports takes 1 to 32 subflows");
  }
  return absl::OkStatus();
}

// A configuration that fails ValidatePathManagerConfig gets the manual manager (the
// Connection cannot fail its construction; tools validate first and report the error).
inline std::unique_ptr<PathManager> MakePathManager(const PathManagerConfig& c) {
  if (!ValidatePathManagerConfig(c).ok()) return std::make_unique<ManualPathManager>();
  switch (c.kind) {
    case PathManagerKind::kInKernel: {
      std::vector<PmEndpoint> eps = c.endpoints;
      (void)NormalizePmEndpoints(eps);
      return std::make_unique<InKernelPathManager>(std::move(eps), c.limits, c.recreate_backoff,
                                                   c.recreate_backoff_max);
    }
    case PathManagerKind::kNdiffports:
      return std::make_unique<NdiffportsPathManager>(c.ndiffports, c.recreate_backoff,
                                                     c.recreate_backoff_max);
    case PathManagerKind::kManual:
      break;
  }
  return std::make_unique<ManualPathManager>(c.joins);
}

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_FACTORY_H_

// Builds a congestion controller by algorithm, so that controller.h need not know them all.
#ifndef MPTCP_CC_FACTORY_H_
#define MPTCP_CC_FACTORY_H_

#include <array>
#include <cstdint>
#include <memory>

#include "mptcp/cc/balia.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/cubic.h"
#include "mptcp/cc/lia.h"
#include "mptcp/cc/new_reno.h"
#include "mptcp/cc/olia.h"

namespace mptcp::cc {

// Every algorithm MakeController() accepts; tests iterate over it.
inline constexpr std::array kAllCcAlgorithms = {CcAlgorithm::kNewReno, CcAlgorithm::kCubic,
                                                CcAlgorithm::kLia, CcAlgorithm::kOlia,
                                                CcAlgorithm::kBalia};
// Those a plain TCP engine may use (the coupled ones need an MPTCP connection).
inline constexpr std::array kUncoupledCcAlgorithms = {CcAlgorithm::kNewReno, CcAlgorithm::kCubic};

inline std::unique_ptr<CongestionController> MakeController(
    CcAlgorithm algorithm, uint32_t mss, uint32_t initial_cwnd_segments = 10) {
  switch (algorithm) {
    case CcAlgorithm::kNewReno:
      return std::make_unique<NewReno>(mss, initial_cwnd_segments);
    case CcAlgorithm::kCubic:
      return std::make_unique<Cubic>(mss, initial_cwnd_segments);
    case CcAlgorithm::kLia:
      return std::make_unique<Lia>(mss, initial_cwnd_segments);
    case CcAlgorithm::kOlia:
      return std::make_unique<Olia>(mss, initial_cwnd_segments);
    case CcAlgorithm::kBalia:
      return std::make_unique<Balia>(mss, initial_cwnd_segments);
  }
  // An out-of-range enum value (a caller bug): fall back to the conservative controller.
  return std::make_unique<NewReno>(mss, initial_cwnd_segments);
}

}  // namespace mptcp::cc

#endif  // MPTCP_CC_FACTORY_H_

// Linux-style path-manager configuration: endpoints with the flags of `ip mptcp endpoint`
// (signal, subflow, backup, fullmesh, an optional port and an ID), the limits of
// `ip mptcp limits` with the kernel's defaults, the choice of path manager, and parsers for
// the words mptcp_nc takes (`ADDR[,port=P][,signal|subflow|backup|fullmesh][,id=N]`,
// `subflows=N,add_addr_accepted=M`, `in-kernel|ndiffports|manual`). Plain data; the managers
// themselves are in in_kernel.h, ndiffports.h and manual.h.
#ifndef MPTCP_PATH_MANAGER_ENDPOINTS_H_
#define MPTCP_PATH_MANAGER_ENDPOINTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mptcp/address.h"
#include "mptcp/time.h"

namespace mptcp {

enum class PathManagerKind : uint8_t {
  kManual,      // only what the application asks (and the joins it planned); the default
  kInKernel,    // Linux's in-kernel path manager: endpoints and limits
  kNdiffports,  // N subflows over the initial address pair, on different source ports
};

constexpr std::string_view PathManagerKindName(PathManagerKind k) {
  switch (k) {
    case PathManagerKind::kManual: return "manual";
    case PathManagerKind::kInKernel: return "in-kernel";
    case PathManagerKind::kNdiffports: return "ndiffports";
  }
  return "?";
}

inline absl::StatusOr<PathManagerKind> ParsePathManagerKind(std::string_view name) {
  for (PathManagerKind k :
       {PathManagerKind::kInKernel, PathManagerKind::kNdiffports, PathManagerKind::kManual}) {
    if (name == PathManagerKindName(k)) return k;
  }
  if (name == "kernel" || name == "netlink") return PathManagerKind::kInKernel;  // Linux's aliases
  return absl::InvalidArgumentError(absl::StrCat("unknown path manager '", std::string(name),
                                                 "' (valid: in-kernel, ndiffports, manual)"));
}

// Linux keeps at most 8 endpoints per namespace (MPTCP_PM_ADDR_MAX) and IDs 1..255.
inline constexpr size_t kMaxPmEndpoints = 8;
// Linux's limits are capped at MPTCP_PM_ADDR_MAX too.
inline constexpr uint32_t kMaxPmLimit = 8;

// One `ip mptcp endpoint`: an address of this host and what the in-kernel manager does with it.
struct PmEndpoint {
  IpAddress address;
  // With `signal` only: the port announced in ADD_ADDR (joins to it are accepted). 0: none.
  uint16_t port = 0;
  // Unique per host, 1..255; 0 in a configuration means "assign the next free one".
  uint8_t id = 0;
  bool signal = false;    // announce it to the peer with ADD_ADDR (RFC 8684 §3.4.1)
  bool subflow = false;   // open a subflow from it once the connection is established
  bool backup = false;    // subflows from it ask the peer for backup use (MP_JOIN B, MP_PRIO)
  bool fullmesh = false;  // from it, one subflow to every known peer address

  std::string ToString() const {
    std::string s = absl::StrCat(address.ToString());
    if (port != 0) absl::StrAppend(&s, ",port=", port);
    if (signal) absl::StrAppend(&s, ",signal");
    if (subflow) absl::StrAppend(&s, ",subflow");
    if (backup) absl::StrAppend(&s, ",backup");
    if (fullmesh) absl::StrAppend(&s, ",fullmesh");
    if (id != 0) absl::StrAppend(&s, ",id=", int{id});
    return s;
  }
  friend bool operator==(const PmEndpoint&, const PmEndpoint&) = default;
};

// `ip mptcp limits`, with the defaults of recent kernels (net/mptcp/pm_kernel.c): at most
// `subflows` subflows besides the initial one (created or accepted), and at most
// `add_addr_accepted` announced addresses used to create subflows. With the default 0 a
// client joins no address the server announces.
struct PmLimits {
  uint32_t subflows = 2;
  uint32_t add_addr_accepted = 0;
  friend bool operator==(const PmLimits&, const PmLimits&) = default;
};

// A join the application planned (the manual manager opens it once the connection can take
// joins, as the simulator harness's join_all did).
struct PlannedJoin {
  SocketAddress local;   // port 0: pick one
  SocketAddress remote;  // port 0: the connection's
  bool backup = false;
};

struct PathManagerConfig {
  PathManagerKind kind = PathManagerKind::kManual;
  // kInKernel: this host's endpoints (IDs assigned by Normalize) and limits.
  std::vector<PmEndpoint> endpoints;
  PmLimits limits;
  // kNdiffports: subflows in all over the initial address pair (the initial one included).
  uint32_t ndiffports = 2;
  // kManual: joins to open as soon as the connection is fully established.
  std::vector<PlannedJoin> joins;
  // Subflows this host opened that fail while their addresses stay valid are opened again
  // after recreate_backoff, doubling up to recreate_backoff_max (Linux does not re-create
  // them: a difference, see docs/path_management.md). Zero disables it.
  Duration recreate_backoff = Duration::Seconds(1);
  Duration recreate_backoff_max = Duration::Seconds(30);
};

// Parses `ADDR[,port=P][,signal|subflow|backup|fullmesh][,id=N]`, with flags in any order
// (ip-mptcp(8)'s words; a `port` needs `signal`, and `fullmesh` excludes `signal`, as the
// kernel enforces).
inline absl::StatusOr<PmEndpoint> ParsePmEndpoint(std::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(std::string(text), ',', absl::SkipEmpty());
  if (parts.empty()) return absl::InvalidArgumentError("empty endpoint");
  PmEndpoint e;
  auto ip = IpAddress::Parse(parts[0]);
  if (!ip) return absl::InvalidArgumentError(absl::StrCat("bad endpoint address '", parts[0], "'"));
  e.address = *ip;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    int v = 0;
    if (p == "signal") {
      e.signal = true;
    } else if (p == "subflow") {
      e.subflow = true;
    } else if (p == "backup") {
      e.backup = true;
    } else if (p == "fullmesh") {
      e.fullmesh = true;
    } else if (p.rfind("port=", 0) == 0) {
      if (!absl::SimpleAtoi(p.substr(5), &v) || v <= 0 || v > 65535) {
        return absl::InvalidArgumentError(absl::StrCat("bad endpoint port '", p, "'"));
      }
      e.port = static_cast<uint16_t>(v);
    } else if (p.rfind("id=", 0) == 0) {
      if (!absl::SimpleAtoi(p.substr(3), &v) || v <= 0 || v > 255) {
        return absl::InvalidArgumentError(absl::StrCat("bad endpoint id '", p, "' (1..255)"));
      }
      e.id = static_cast<uint8_t>(v);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown endpoint word '", p, "' (valid: port=P, signal, subflow, backup, fullmesh, id=N)"));
    }
  }
  if (e.signal && e.fullmesh) {
    return absl::InvalidArgumentError("an endpoint cannot be both signal and fullmesh");
  }
  if (e.port != 0 && !e.signal) {
    return absl::InvalidArgumentError("an endpoint port needs the signal flag");
  }
  return e;
}

// Parses `subflows=N,add_addr_accepted=M` (either or both) over `base`.
inline absl::StatusOr<PmLimits> ParsePmLimits(std::string_view text, PmLimits base = {}) {
  std::vector<std::string> parts = absl::StrSplit(std::string(text), ',', absl::SkipEmpty());
  for (const std::string& ps : parts) {
    const std::string_view p = ps;
    const size_t eq = p.find('=');
    uint32_t v = 0;
    if (eq == std::string_view::npos ||
        !absl::SimpleAtoi(std::string(p.substr(eq + 1)), &v) || v > kMaxPmLimit) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad limit '", std::string(p), "' (name=N, N at most 8)"));
    }
    const std::string_view name = p.substr(0, eq);
    if (name == "subflows" || name == "subflow") {
      base.subflows = v;
    } else if (name == "add_addr_accepted") {
      base.add_addr_accepted = v;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown limit '", std::string(name), "' (valid: subflows, add_addr_accepted)"));
    }
  }
  return base;
}

// Checks a host's endpoints as the kernel does when they are added (at most 8, unique IDs,
// unique addresses) and gives those without an ID the lowest free one.
inline absl::Status NormalizePmEndpoints(std::vector<PmEndpoint>& eps) {
  if (eps.size() > kMaxPmEndpoints) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxPmEndpoints, " endpoints"));
  }
  bool used[256] = {};
  for (size_t i = 0; i < eps.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (eps[j].address == eps[i].address && eps[j].port == eps[i].port) {
        return absl::InvalidArgumentError(
            absl::StrCat("endpoint ", eps[i].address.ToString(), " given twice"));
      }
    }
    if (eps[i].id == 0) continue;
    if (used[eps[i].id]) {
      return absl::InvalidArgumentError(absl::StrCat("endpoint id ", int{eps[i].id}, " given twice"));
    }
    used[eps[i].id] = true;
  }
  int next = 1;
  for (PmEndpoint& e : eps) {
    if (e.id != 0) continue;
    while (used[next]) ++next;
    e.id = static_cast<uint8_t>(next);
    used[next] = true;
  }
  return absl::OkStatus();
}

}  // namespace mptcp

#endif  // MPTCP_PATH_MANAGER_ENDPOINTS_H_

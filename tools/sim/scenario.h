// An mptcp_sim scenario (paths, timed events, the application, run length, seed, outputs)
// and its JSON form, checked field by field: every bad or unknown field is reported by its
// path ("paths[1].rate_mbps: expected a positive number"), never crashing.
//
// The format (README.md, "mptcp_sim", has an example; tools/scenarios/demo.json is one):
//
//   name, description        strings (description is free text: JSON has no comments)
//   seed                     non-negative integer (default 1)
//   duration_s               the run ends by then at the latest (default 60)
//   scheduler                "min-rtt" (the default; also "default", "minrtt"), "round-robin"
//                            (also "rr", "roundrobin"), "redundant", "blest" or "ecf"
//                            (mptcp/scheduler/, docs/schedulers.md)
//   congestion_control       the subflows' controller: "cubic" (default), "newreno", or the
//                            coupled "lia", "olia", "balia" (cc::kCcAlgorithmNames)
//   paths[]                  1 to 8; path i is client 192.0.2.(1+i) <-> server 198.51.100.(1+i)
//     name                   unique, non-empty (default "path<i>")
//     backup                 join as a backup subflow (RFC 8684 §3.2, flag B)
//     <link fields>          both directions; rate_mbps is required (here or per direction)
//     downlink, uplink       objects of link fields for one direction (server -> client, and
//                            client -> server), overriding the ones above
//   link fields: rate_mbps (> 0), delay_ms, jitter_ms (>= 0), loss (0..1), queue_bytes (> 0,
//     default 65536), gilbert_elliott {p_good_to_bad, p_bad_to_good, loss_good, loss_bad},
//     reorder (0..1: the share of packets held reorder_delay_ms longer and overtaken),
//     reorder_delay_ms (>= 0)
//   events[]                 at_s, path (a path's name), action "down" | "up" | "set"; a set
//                            takes link fields (and downlink / uplink objects) and changes them
//   app                      {type "bulk", bytes, direction "download" (default) | "upload"} or
//                            {type "media", bitrate_mbps, length_s, chunk_s (default 1),
//                             startup_s (default 2)}: the server sends a constant-bitrate
//                            stream, one chunk every chunk_s, to a player on the client
//   output                   {csv, svg, pcap}: file names (csv and svg default to
//                            out/<name>.csv and out/<name>.svg; no pcap unless named)
//   baseline_path            a path's name: also run the application over that path alone
//                            (one subflow: what single-path TCP there would get) and report
//                            it beside the multipath run
#ifndef MPTCP_TOOLS_SIM_SCENARIO_H_
#define MPTCP_TOOLS_SIM_SCENARIO_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "io/sim/link.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "mptcp/config.h"
#include "mptcp/scheduler/factory.h"
#include "mptcp/time.h"
#include "nlohmann/json.hpp"

namespace mptcp::tools {

inline constexpr size_t kMaxPaths = 8;  // ConnectionConfig::max_subflows
inline constexpr size_t kDefaultQueueBytes = 64 * 1024;

// Changes to one direction of a link; unset fields stay as they are.
struct LinkChange {
  std::optional<double> rate_mbps;
  std::optional<double> delay_ms;
  std::optional<double> jitter_ms;
  std::optional<double> loss;
  std::optional<uint64_t> queue_bytes;
  std::optional<sim::GilbertElliott> gilbert_elliott;
  std::optional<double> reorder;
  std::optional<double> reorder_delay_ms;

  bool empty() const {
    return !rate_mbps && !delay_ms && !jitter_ms && !loss && !queue_bytes && !gilbert_elliott &&
           !reorder && !reorder_delay_ms;
  }
  // Fields set here replace those of `base`.
  LinkChange Over(const LinkChange& base) const {
    LinkChange r = base;
    if (rate_mbps) r.rate_mbps = rate_mbps;
    if (delay_ms) r.delay_ms = delay_ms;
    if (jitter_ms) r.jitter_ms = jitter_ms;
    if (loss) r.loss = loss;
    if (queue_bytes) r.queue_bytes = queue_bytes;
    if (gilbert_elliott) r.gilbert_elliott = gilbert_elliott;
    if (reorder) r.reorder = reorder;
    if (reorder_delay_ms) r.reorder_delay_ms = reorder_delay_ms;
    return r;
  }
};

inline Duration MillisToDuration(double ms) { return Duration::Nanos(std::llround(ms * 1e6)); }
inline Duration SecondsToDuration(double s) { return Duration::Nanos(std::llround(s * 1e9)); }
inline uint64_t MbpsToBps(double mbps) { return static_cast<uint64_t>(std::llround(mbps * 1e6)); }

// Applies a change to a link configuration.
inline void ApplyLinkChange(const LinkChange& c, sim::LinkConfig& l) {
  if (c.rate_mbps) l.bandwidth_bps = MbpsToBps(*c.rate_mbps);
  if (c.delay_ms) l.delay = MillisToDuration(*c.delay_ms);
  if (c.jitter_ms) l.jitter = MillisToDuration(*c.jitter_ms);
  if (c.loss) l.loss = *c.loss;
  if (c.queue_bytes) l.queue_bytes = *c.queue_bytes;
  if (c.gilbert_elliott) l.burst_loss = *c.gilbert_elliott;
  if (c.reorder) l.reorder = *c.reorder;
  if (c.reorder_delay_ms) l.reorder_delay = MillisToDuration(*c.reorder_delay_ms);
}

struct PathSpec {
  std::string name;
  bool backup = false;
  LinkChange downlink;  // server -> client; every field but gilbert_elliott is set
  LinkChange uplink;    // client -> server
};

enum class EventAction : uint8_t { kDown, kUp, kSet };

struct EventSpec {
  double at_s = 0;
  size_t path = 0;  // index into Scenario::paths
  EventAction action = EventAction::kDown;
  LinkChange downlink, uplink;  // kSet only
};

enum class AppKind : uint8_t { kBulk, kMedia };

struct AppSpec {
  AppKind kind = AppKind::kBulk;
  // Bulk: `bytes` from the server to the client (download) or the other way (upload).
  uint64_t bytes = 0;
  bool upload = false;
  // Media: a constant-bitrate stream of length_s seconds, released one chunk every chunk_s,
  // played from a buffer that starts (and restarts after a stall) with startup_s of media.
  double bitrate_mbps = 0;
  double length_s = 0;
  double chunk_s = 1;
  double startup_s = 2;

  // The stream's size in bytes.
  uint64_t StreamBytes() const {
    if (kind == AppKind::kBulk) return bytes;
    return static_cast<uint64_t>(std::llround(bitrate_mbps * 1e6 * length_s / 8));
  }
};

struct OutputSpec {
  std::string csv, svg, pcap;
};

struct Scenario {
  std::string name = "scenario";
  std::string description;
  uint64_t seed = 1;
  double duration_s = 60;
  SchedulerKind scheduler = SchedulerKind::kMinRtt;
  cc::CcAlgorithm congestion_control = cc::CcAlgorithm::kCubic;
  std::vector<PathSpec> paths;
  std::vector<EventSpec> events;  // in the order given; the simulator orders them by time
  AppSpec app;
  OutputSpec output;
  std::optional<size_t> baseline_path;  // index into paths
};

// Parses a scenario from JSON text. `origin` names the text in syntax errors (a file name);
// `default_name` is the name when the scenario gives none. Errors are InvalidArgument with
// the message the tool prints.
absl::StatusOr<Scenario> ParseScenario(absl::string_view json_text, absl::string_view origin,
                                       absl::string_view default_name = "scenario");
// The same from an already parsed JSON value.
absl::StatusOr<Scenario> ScenarioFromJson(const nlohmann::json& j,
                                          absl::string_view default_name = "scenario");

// "key=value,key=value" (as the tool's --path, --event and --app flags take) as a JSON object:
// dotted keys make nested objects ("downlink.rate_mbps=3"), a bare key is true, values that
// read as numbers or true/false are those, anything else a string.
absl::StatusOr<nlohmann::json> KeyValuesToJson(absl::string_view spec);

// Command-line changes to a scenario's JSON (mptcp_sim's flags), applied before it is
// checked, so that a bad value is reported like one in a file ("paths[0].rate_mbps: ...").
struct ScenarioOverrides {
  std::optional<std::string> seed, duration_s;   // numbers, as text
  std::optional<std::string> csv, svg, pcap;     // file names
  // key=value specs; any replace all the paths (and the events, unless given too)
  std::vector<std::string> paths;
  std::vector<std::string> events;  // likewise the events; a lone "none" removes them all
  std::optional<std::string> app;   // a key=value spec replacing the app
  std::optional<std::string> baseline;  // a path's name, or "none"
  std::optional<std::string> congestion_control;  // one of cc::kCcAlgorithmNames
  std::optional<std::string> scheduler;  // a name ParseSchedulerKind takes
};
absl::Status ApplyOverrides(const ScenarioOverrides& o, nlohmann::json& doc);

// --- implementation ---------------------------------------------------------------------------

namespace scenario_internal {

using nlohmann::json;

inline size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

inline std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// Reads fields with first-error-wins: once an error is recorded, every getter returns its
// default and nothing else is reported, so parsing goes on safely to the end.
class Reader {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(absl::string_view path, absl::string_view what) {
    if (error_.empty()) error_ = absl::StrCat(path, ": ", what);
  }

  // True when `j` is an object whose keys are all in `allowed`; else records the first
  // offending key (with a suggestion for a near miss).
  bool Object(const json& j, const std::string& path,
              const std::vector<absl::string_view>& allowed) {
    if (!ok()) return false;
    if (!j.is_object()) {
      Fail(path, "expected an object");
      return false;
    }
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      absl::string_view best;
      size_t best_d = 3;  // suggest only near misses
      for (absl::string_view a : allowed) {
        const size_t d = EditDistance(key, a);
        if (d < best_d) {
          best_d = d;
          best = a;
        }
      }
      Fail(Join(path, key), best.empty() ? std::string("unknown field")
                                         : absl::StrCat("unknown field (did you mean ",
                                                        Quote(best), "?)"));
      return false;
    }
    return true;
  }

  static std::string Join(absl::string_view path, absl::string_view key) {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  }

  // A number in [lo, hi] (or (lo, hi] when `lo_open`), or nullopt when absent; `expected`
  // says what is wanted ("a positive number").
  std::optional<double> Number(const json& obj, absl::string_view key, const std::string& path,
                               double lo, bool lo_open, double hi, absl::string_view expected) {
    const json* v = Find(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string p = Join(path, key);
    const double d = v->is_number() ? v->get<double>() : std::nan("");
    if (!(d >= lo) || (lo_open && d == lo)) {  // NaN (not a number) fails here too
      Fail(p, absl::StrCat("expected ", expected));
      return std::nullopt;
    }
    if (d > hi) {
      // "between 0 and 1" says its bound already.
      Fail(p, expected.find("between") != absl::string_view::npos
                  ? absl::StrCat("expected ", expected)
                  : absl::StrFormat("expected %s, at most %g", expected, hi));
      return std::nullopt;
    }
    return d;
  }
  std::optional<double> Positive(const json& obj, absl::string_view key, const std::string& path,
                                 double hi) {
    return Number(obj, key, path, 0, true, hi, "a positive number");
  }
  std::optional<double> NonNegative(const json& obj, absl::string_view key,
                                    const std::string& path, double hi) {
    return Number(obj, key, path, 0, false, hi, "a number >= 0");
  }
  std::optional<double> Probability(const json& obj, absl::string_view key,
                                    const std::string& path) {
    return Number(obj, key, path, 0, false, 1, "a number between 0 and 1");
  }

  // A whole number in [lo, hi] (an integral float such as 1e6 counts).
  std::optional<uint64_t> Integer(const json& obj, absl::string_view key, const std::string& path,
                                  uint64_t lo, uint64_t hi) {
    const json* v = Find(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string p = Join(path, key);
    const absl::string_view expected = lo > 0 ? "a positive integer" : "a non-negative integer";
    uint64_t n = 0;
    if (v->is_number_unsigned()) {
      n = v->get<uint64_t>();
    } else if (v->is_number_float()) {
      const double d = v->get<double>();
      // 2^64 is exactly representable; anything at or above it does not fit.
      if (!(d >= 0 && d < 18446744073709551616.0) || std::floor(d) != d) {
        Fail(p, absl::StrCat("expected ", expected));
        return std::nullopt;
      }
      n = static_cast<uint64_t>(d);
    } else {
      Fail(p, absl::StrCat("expected ", expected));  // strings, negatives, booleans, ...
      return std::nullopt;
    }
    if (n < lo) {
      Fail(p, absl::StrCat("expected ", expected));
      return std::nullopt;
    }
    if (n > hi) {
      Fail(p, absl::StrCat("expected ", expected, ", at most ", hi));
      return std::nullopt;
    }
    return n;
  }

  std::optional<bool> Bool(const json& obj, absl::string_view key, const std::string& path) {
    const json* v = Find(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Fail(Join(path, key), "expected true or false");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<std::string> String(const json& obj, absl::string_view key,
                                    const std::string& path, bool non_empty = false) {
    const json* v = Find(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string() || (non_empty && v->get<std::string>().empty())) {
      Fail(Join(path, key), non_empty ? "expected a non-empty string" : "expected a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  // One of `choices`; returns its index.
  std::optional<size_t> Choice(const json& obj, absl::string_view key, const std::string& path,
                               const std::vector<absl::string_view>& choices) {
    const json* v = Find(obj, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) {
      const std::string s = v->get<std::string>();
      for (size_t i = 0; i < choices.size(); ++i) {
        if (s == choices[i]) return i;
      }
    }
    std::vector<std::string> quoted;
    for (absl::string_view c : choices) quoted.push_back(Quote(c));
    Fail(Join(path, key), absl::StrCat("expected one of ", absl::StrJoin(quoted, ", ")));
    return std::nullopt;
  }

  void Require(bool present, const std::string& path, absl::string_view key,
               absl::string_view what) {
    if (!present) Fail(Join(path, key), absl::StrCat("required (", what, ")"));
  }

  const json* Find(const json& obj, absl::string_view key) const {
    if (!ok() || !obj.is_object()) return nullptr;
    auto it = obj.find(std::string(key));
    return it == obj.end() ? nullptr : &*it;
  }

 private:
  std::string error_;
};

inline const std::vector<absl::string_view>& LinkFields() {
  static const std::vector<absl::string_view> kFields = {
      "rate_mbps",       "delay_ms", "jitter_ms",       "loss", "queue_bytes",
      "gilbert_elliott", "reorder",  "reorder_delay_ms"};
  return kFields;
}

// `base` followed by the link fields.
inline std::vector<absl::string_view> WithLinkFields(std::vector<absl::string_view> base) {
  base.insert(base.end(), LinkFields().begin(), LinkFields().end());
  return base;
}

// Link fields of `obj` (whose other keys the caller has checked).
inline LinkChange ReadLinkFields(Reader& r, const json& obj, const std::string& path) {
  LinkChange c;
  c.rate_mbps = r.Positive(obj, "rate_mbps", path, 1e6);  // up to 1 Tbit/s
  c.delay_ms = r.NonNegative(obj, "delay_ms", path, 3.6e6);  // up to an hour
  c.jitter_ms = r.NonNegative(obj, "jitter_ms", path, 3.6e6);
  c.loss = r.Probability(obj, "loss", path);
  c.queue_bytes = r.Integer(obj, "queue_bytes", path, 1, uint64_t{1} << 40);
  c.reorder = r.Probability(obj, "reorder", path);
  c.reorder_delay_ms = r.NonNegative(obj, "reorder_delay_ms", path, 3.6e6);
  if (const json* ge = r.Find(obj, "gilbert_elliott")) {
    const std::string p = Reader::Join(path, "gilbert_elliott");
    if (r.Object(*ge, p, {"p_good_to_bad", "p_bad_to_good", "loss_good", "loss_bad"})) {
      sim::GilbertElliott g;
      g.p_good_to_bad = r.Probability(*ge, "p_good_to_bad", p).value_or(g.p_good_to_bad);
      g.p_bad_to_good = r.Probability(*ge, "p_bad_to_good", p).value_or(g.p_bad_to_good);
      g.loss_good = r.Probability(*ge, "loss_good", p).value_or(g.loss_good);
      g.loss_bad = r.Probability(*ge, "loss_bad", p).value_or(g.loss_bad);
      c.gilbert_elliott = g;
    }
  }
  return c;
}

// A path's or a set event's per-direction objects over its shared link fields.
inline void ReadDirections(Reader& r, const json& obj, const std::string& path,
                           const LinkChange& both, LinkChange& down, LinkChange& up) {
  down = up = both;
  for (const char* dir : {"downlink", "uplink"}) {
    const json* d = r.Find(obj, dir);
    if (d == nullptr) continue;
    const std::string p = Reader::Join(path, dir);
    if (!r.Object(*d, p, LinkFields())) return;
    LinkChange& target = absl::string_view(dir) == "downlink" ? down : up;
    target = ReadLinkFields(r, *d, p).Over(both);
  }
}

inline std::string Index(absl::string_view array, size_t i) {
  return absl::StrCat(array, "[", i, "]");
}

inline void ReadPaths(Reader& r, const json& j, Scenario& s) {
  const json* paths = r.Find(j, "paths");
  if (paths == nullptr) {
    r.Require(false, "", "paths", "an array of 1 to 8 paths");
    return;
  }
  if (!paths->is_array()) return r.Fail("paths", "expected an array");
  if (paths->empty()) return r.Fail("paths", "expected at least one path");
  if (paths->size() > kMaxPaths) {
    return r.Fail("paths", absl::StrCat("at most ", kMaxPaths,
                                        " paths (the connection's subflow limit)"));
  }
  for (size_t i = 0; i < paths->size() && r.ok(); ++i) {
    const json& pj = (*paths)[i];
    const std::string p = Index("paths", i);
    if (!r.Object(pj, p, WithLinkFields({"name", "backup", "downlink", "uplink"}))) return;
    PathSpec ps;
    ps.name = r.String(pj, "name", p, /*non_empty=*/true).value_or(absl::StrCat("path", i));
    for (size_t k = 0; k < s.paths.size(); ++k) {
      if (s.paths[k].name == ps.name) {
        return r.Fail(Reader::Join(p, "name"),
                      absl::StrCat(Quote(ps.name), " is already the name of ", Index("paths", k)));
      }
    }
    ps.backup = r.Bool(pj, "backup", p).value_or(false);
    LinkChange defaults;
    defaults.delay_ms = 0;
    defaults.jitter_ms = 0;
    defaults.loss = 0;
    defaults.queue_bytes = kDefaultQueueBytes;
    const LinkChange both = ReadLinkFields(r, pj, p).Over(defaults);
    ReadDirections(r, pj, p, both, ps.downlink, ps.uplink);
    if (!r.ok()) return;
    // rate_mbps: required for each direction, shared or its own.
    for (const char* dir : {"downlink", "uplink"}) {
      const LinkChange& l = absl::string_view(dir) == "downlink" ? ps.downlink : ps.uplink;
      if (l.rate_mbps) continue;
      const bool own = r.Find(pj, dir) != nullptr;
      return r.Require(false, own ? Reader::Join(p, dir) : p, "rate_mbps",
                       "a positive number");
    }
    s.paths.push_back(std::move(ps));
  }
}

inline void ReadEvents(Reader& r, const json& j, Scenario& s) {
  const json* events = r.Find(j, "events");
  if (events == nullptr) return;
  if (!events->is_array()) return r.Fail("events", "expected an array");
  for (size_t i = 0; i < events->size() && r.ok(); ++i) {
    const json& ej = (*events)[i];
    const std::string p = Index("events", i);
    if (!r.Object(ej, p, WithLinkFields({"at_s", "path", "action", "downlink", "uplink"}))) {
      return;
    }
    EventSpec e;
    const std::optional<double> at = r.NonNegative(ej, "at_s", p, 1e6);
    r.Require(at.has_value() || !r.ok(), p, "at_s", "a time in seconds, >= 0");
    const std::optional<std::string> path = r.String(ej, "path", p);
    r.Require(path.has_value() || !r.ok(), p, "path", "the name of a path");
    const std::optional<size_t> action = r.Choice(ej, "action", p, {"down", "up", "set"});
    r.Require(action.has_value() || !r.ok(), p, "action", "\"down\", \"up\" or \"set\"");
    if (!r.ok()) return;
    e.at_s = *at;
    e.action = static_cast<EventAction>(*action);
    bool found = false;
    for (size_t k = 0; k < s.paths.size(); ++k) {
      if (s.paths[k].name == *path) {
        e.path = k;
        found = true;
      }
    }
    if (!found) {
      std::vector<std::string> names;
      for (const PathSpec& ps : s.paths) names.push_back(Quote(ps.name));
      return r.Fail(Reader::Join(p, "path"),
                    absl::StrCat("no path named ", Quote(*path), " (the paths are ",
                                 absl::StrJoin(names, ", "), ")"));
    }
    if (e.action != EventAction::kSet) {
      for (absl::string_view k : WithLinkFields({"downlink", "uplink"})) {
        if (r.Find(ej, k) != nullptr) {
          return r.Fail(Reader::Join(p, k), "only a \"set\" event changes link fields");
        }
      }
    } else {
      const LinkChange both = ReadLinkFields(r, ej, p);
      ReadDirections(r, ej, p, both, e.downlink, e.uplink);
      if (r.ok() && e.downlink.empty() && e.uplink.empty()) {
        return r.Fail(p, "a \"set\" event needs a link field to change (rate_mbps, delay_ms, "
                         "jitter_ms, loss, queue_bytes, gilbert_elliott, reorder, "
                         "reorder_delay_ms)");
      }
    }
    s.events.push_back(e);
  }
}

inline void ReadApp(Reader& r, const json& j, Scenario& s) {
  const json* a = r.Find(j, "app");
  if (a == nullptr) return r.Require(false, "", "app", "an object with \"type\"");
  if (!a->is_object()) return r.Fail("app", "expected an object");
  const std::optional<size_t> type = r.Choice(*a, "type", "app", {"bulk", "media"});
  if (!r.ok()) return;
  if (!type) return r.Require(false, "app", "type", "\"bulk\" or \"media\"");
  AppSpec& app = s.app;
  app.kind = static_cast<AppKind>(*type);
  if (app.kind == AppKind::kBulk) {
    if (!r.Object(*a, "app", {"type", "bytes", "direction"})) return;
    const std::optional<uint64_t> bytes = r.Integer(*a, "bytes", "app", 1, uint64_t{1} << 40);
    r.Require(bytes.has_value() || !r.ok(), "app", "bytes", "a positive integer");
    app.bytes = bytes.value_or(0);
    app.upload = r.Choice(*a, "direction", "app", {"download", "upload"}).value_or(0) == 1;
    return;
  }
  if (!r.Object(*a, "app", {"type", "bitrate_mbps", "length_s", "chunk_s", "startup_s"})) return;
  const std::optional<double> rate = r.Positive(*a, "bitrate_mbps", "app", 1e5);
  r.Require(rate.has_value() || !r.ok(), "app", "bitrate_mbps", "a positive number");
  const std::optional<double> length = r.Positive(*a, "length_s", "app", 1e5);
  r.Require(length.has_value() || !r.ok(), "app", "length_s", "a positive number");
  app.chunk_s = r.Positive(*a, "chunk_s", "app", 3600).value_or(app.chunk_s);
  app.startup_s = r.NonNegative(*a, "startup_s", "app", 3600).value_or(app.startup_s);
  if (!r.ok()) return;
  app.bitrate_mbps = *rate;
  app.length_s = *length;
  if (app.StreamBytes() == 0) return r.Fail("app", "the stream is empty (bitrate x length)");
  if (app.StreamBytes() > (uint64_t{1} << 40)) {
    return r.Fail("app", "the stream is over 1 TiB (bitrate x length)");
  }
}

inline void ReadBaseline(Reader& r, const json& j, Scenario& s) {
  const std::optional<std::string> name = r.String(j, "baseline_path", "", /*non_empty=*/true);
  if (!name || !r.ok()) return;
  for (size_t k = 0; k < s.paths.size(); ++k) {
    if (s.paths[k].name == *name) {
      s.baseline_path = k;
      return;
    }
  }
  std::vector<std::string> names;
  for (const PathSpec& ps : s.paths) names.push_back(Quote(ps.name));
  r.Fail("baseline_path", absl::StrCat("no path named ", Quote(*name), " (the paths are ",
                                       absl::StrJoin(names, ", "), ")"));
}

inline void ReadOutput(Reader& r, const json& j, Scenario& s) {
  const json* o = r.Find(j, "output");
  if (o == nullptr || !r.Object(*o, "output", {"csv", "svg", "pcap"})) return;
  s.output.csv = r.String(*o, "csv", "output").value_or("");
  s.output.svg = r.String(*o, "svg", "output").value_or("");
  s.output.pcap = r.String(*o, "pcap", "output").value_or("");
}

}  // namespace scenario_internal

inline absl::StatusOr<Scenario> ScenarioFromJson(const nlohmann::json& j,
                                                 absl::string_view default_name) {
  using scenario_internal::Reader;
  Reader r;
  Scenario s;
  r.Object(j, "", {"name", "description", "seed", "duration_s", "scheduler",
                   "congestion_control", "paths", "events", "app", "output",
                   "baseline_path"});
  if (!r.ok()) {
    // The top level's path is empty: say "scenario" rather than ": expected an object".
    std::string e = r.error();
    if (e.rfind(": ", 0) == 0) e = "scenario" + e;
    return absl::InvalidArgumentError(e);
  }
  s.name = r.String(j, "name", "", /*non_empty=*/true).value_or(std::string(default_name));
  s.description = r.String(j, "description", "").value_or("");
  s.seed = r.Integer(j, "seed", "", 0, UINT64_MAX).value_or(s.seed);
  s.duration_s = r.Positive(j, "duration_s", "", 1e6).value_or(s.duration_s);
  // ParseSchedulerKind's names (mptcp/scheduler/factory.h); "minrtt" and "roundrobin" were
  // this format's first spellings.
  static constexpr std::pair<absl::string_view, SchedulerKind> kSchedulers[] = {
      {"min-rtt", SchedulerKind::kMinRtt},         {"default", SchedulerKind::kMinRtt},
      {"round-robin", SchedulerKind::kRoundRobin}, {"rr", SchedulerKind::kRoundRobin},
      {"redundant", SchedulerKind::kRedundant},    {"blest", SchedulerKind::kBlest},
      {"ecf", SchedulerKind::kEcf},                {"minrtt", SchedulerKind::kMinRtt},
      {"roundrobin", SchedulerKind::kRoundRobin}};
  std::vector<absl::string_view> scheduler_names;
  for (const auto& [name, kind] : kSchedulers) scheduler_names.push_back(name);
  if (const std::optional<size_t> k = r.Choice(j, "scheduler", "", scheduler_names)) {
    s.scheduler = kSchedulers[*k].second;
  }
  std::vector<absl::string_view> cc_names;
  for (cc::CcAlgorithm a : cc::kAllCcAlgorithms) {
    const std::string_view name = cc::CcAlgorithmName(a);
    cc_names.push_back(absl::string_view(name.data(), name.size()));
  }
  if (const std::optional<size_t> cc = r.Choice(j, "congestion_control", "", cc_names)) {
    s.congestion_control = cc::kAllCcAlgorithms[*cc];
  }
  scenario_internal::ReadPaths(r, j, s);
  scenario_internal::ReadEvents(r, j, s);
  scenario_internal::ReadApp(r, j, s);
  scenario_internal::ReadOutput(r, j, s);
  scenario_internal::ReadBaseline(r, j, s);
  if (s.output.csv.empty()) s.output.csv = absl::StrCat("out/", s.name, ".csv");
  if (s.output.svg.empty()) s.output.svg = absl::StrCat("out/", s.name, ".svg");
  if (!r.ok()) return absl::InvalidArgumentError(r.error());
  return s;
}

inline absl::StatusOr<Scenario> ParseScenario(absl::string_view json_text,
                                              absl::string_view origin,
                                              absl::string_view default_name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 3, column 5: ...".
    std::string msg = e.what();
    if (const size_t close = msg.find("] "); msg.rfind("[json.exception", 0) == 0 &&
                                             close != std::string::npos) {
      msg = msg.substr(close + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", msg));
  }
  return ScenarioFromJson(j, default_name);
}

namespace scenario_internal {

// A flag's value as JSON: an unsigned integer, another number, true / false, or a string.
inline nlohmann::json ScalarFromText(absl::string_view text) {
  uint64_t u;
  double d;
  if (absl::SimpleAtoi(text, &u)) return u;
  if (text.find_first_not_of("+-.0123456789eE") == absl::string_view::npos &&
      absl::SimpleAtod(text, &d) && std::isfinite(d)) {
    return d;
  }
  if (text == "true" || text == "false") return text == "true";
  return std::string(text);
}

}  // namespace scenario_internal

inline absl::StatusOr<nlohmann::json> KeyValuesToJson(absl::string_view spec) {
  nlohmann::json out = nlohmann::json::object();
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t eq = item.find('=');
    const absl::string_view key = absl::StripAsciiWhitespace(item.substr(0, eq));
    if (key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", item, "\": expected key=value"));
    }
    nlohmann::json value = true;
    if (eq != absl::string_view::npos) {
      value = scenario_internal::ScalarFromText(
          absl::StripAsciiWhitespace(item.substr(eq + 1)));
    }
    nlohmann::json* target = &out;
    std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      nlohmann::json& next = (*target)[std::string(parts[i])];
      if (next.is_null()) next = nlohmann::json::object();
      if (!next.is_object()) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", key, "\": \"", parts[i], "\" is already a value"));
      }
      target = &next;
    }
    (*target)[std::string(parts.back())] = std::move(value);
  }
  return out;
}

inline absl::Status ApplyOverrides(const ScenarioOverrides& o, nlohmann::json& doc) {
  if (!doc.is_object()) return absl::OkStatus();  // ScenarioFromJson reports it
  // Numbers are checked here so that the error names the flag.
  if (o.seed) {
    const nlohmann::json v = scenario_internal::ScalarFromText(*o.seed);
    if (!v.is_number_unsigned()) {
      return absl::InvalidArgumentError("--seed: expected a non-negative integer");
    }
    doc["seed"] = v;
  }
  if (o.duration_s) {
    const nlohmann::json v = scenario_internal::ScalarFromText(*o.duration_s);
    if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > 1e6) {
      return absl::InvalidArgumentError(
          "--duration: expected a positive number of seconds, at most 1e+06");
    }
    doc["duration_s"] = v;
  }
  if (o.congestion_control) {
    if (!cc::CcAlgorithmFromName(*o.congestion_control)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cc: unknown congestion control \"", *o.congestion_control, "\" (expected one of ",
          std::string(cc::kCcAlgorithmNames), ")"));
    }
    doc["congestion_control"] = *o.congestion_control;
  }
  if (o.scheduler) {
    const absl::StatusOr<SchedulerKind> k = ParseSchedulerKind(*o.scheduler);
    if (!k.ok()) return absl::InvalidArgumentError(absl::StrCat("--sched: ", k.status().message()));
    doc["scheduler"] = std::string(SchedulerKindName(*k));
  }
  auto spec = [](absl::string_view flag, const std::string& text)
      -> absl::StatusOr<nlohmann::json> {
    absl::StatusOr<nlohmann::json> j = KeyValuesToJson(text);
    if (!j.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", j.status().message()));
    }
    return j;
  };
  if (!o.paths.empty()) {
    nlohmann::json paths = nlohmann::json::array();
    for (const std::string& p : o.paths) {
      absl::StatusOr<nlohmann::json> j = spec("path", p);
      if (!j.ok()) return j.status();
      paths.push_back(*std::move(j));
    }
    doc["paths"] = std::move(paths);
    // The old events and baseline name the old paths.
    if (o.events.empty()) doc.erase("events");
    if (!o.baseline) doc.erase("baseline_path");
  }
  // A description of the scenario no longer describes one whose paths, events or application
  // the flags replaced.
  if (!o.paths.empty() || !o.events.empty() || o.app) doc.erase("description");
  if (o.baseline) {
    if (*o.baseline == "none") {
      doc.erase("baseline_path");
    } else {
      doc["baseline_path"] = *o.baseline;
    }
  }
  if (!o.events.empty()) {
    nlohmann::json events = nlohmann::json::array();
    if (!(o.events.size() == 1 && o.events[0] == "none")) {
      for (const std::string& e : o.events) {
        absl::StatusOr<nlohmann::json> j = spec("event", e);
        if (!j.ok()) return j.status();
        events.push_back(*std::move(j));
      }
    }
    doc["events"] = std::move(events);
  }
  if (o.app) {
    absl::StatusOr<nlohmann::json> j = spec("app", *o.app);
    if (!j.ok()) return j.status();
    doc["app"] = *std::move(j);
  }
  for (const auto& [key, value] : {std::pair{"csv", &o.csv}, std::pair{"svg", &o.svg},
                                   std::pair{"pcap", &o.pcap}}) {
    if (!*value) continue;
    if (!doc.contains("output") || !doc["output"].is_object()) {
      doc["output"] = nlohmann::json::object();
    }
    doc["output"][key] = **value;
  }
  return absl::OkStatus();
}

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_SIM_SCENARIO_H_

// mptcp_sim's seed sweeps: the conformance scenarios (conformance/simult_flows_cases.h,
// conformance/link_failure_cases.h, the very cases and judgements the gtest files use) run over
// a range of seeds, split into shards that separate processes or machines run, one JSON line
// per run. tools/sweep/ runs the shards (GNU parallel or a Slurm job array) and merges them.
//
//   mptcp_sim --suite=simult_flows [--case=NAME,...] --seeds=A-B [--shard=I/N] [--jsonl=FILE]
//
// A case is "<case>/<Download|Upload|BothWays>" for simult_flows and a case name for
// link_failure; "*/Download" names every simult_flows case's Download. The work is every (seed,
// case) pair, seed-major in the suite's case order; pair k (from 0) belongs to shard I of N
// (I from 1 to N) when k mod N = I - 1, so the shards are disjoint and together the whole sweep.
//
// Each line: suite, case, seed, ok (every invariant held), error, measure ("run_time" for
// simult_flows, against the selftest's limit; "stall" for link_failure, the worse end's longest
// receive stall against its RTO + 200 ms), value_s, limit_s, within_limit, limit_fraction
// (value_s / limit_s), time_s (the run time: the selftest's measure, or the simulated
// completion time), longest_stall_s (either end), wall_ms (host time of the run), and replay:
// the one command that reruns it. A run over its limit is reported, not an invariant failure.
#ifndef MPTCP_TOOLS_SIM_SWEEP_H_
#define MPTCP_TOOLS_SIM_SWEEP_H_

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "conformance/link_failure_cases.h"
#include "conformance/simult_flows_cases.h"
#include "io/sim/harness.h"
#include "nlohmann/json.hpp"

namespace mptcp::tools {

// Bounds a sweep so that a typo cannot start a week of work in one process.
inline constexpr uint64_t kMaxSweepSeeds = 1'000'000;
inline constexpr int kMaxShards = 1'000'000;

// An inclusive range of seeds: "A-B", or "N" for one.
struct SeedRange {
  uint64_t first = 1, last = 1;
  uint64_t size() const { return last - first + 1; }
};

inline absl::StatusOr<SeedRange> ParseSeedRange(absl::string_view text) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--seeds: \"", text, "\": ", why, " (expected A-B, e.g. 1-1000, or N)"));
  };
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  if (parts.size() > 2) return bad("more than one '-'");
  SeedRange r;
  if (!absl::SimpleAtoi(parts[0], &r.first) || parts[0].empty() || parts[0][0] == '+') {
    return bad("not a non-negative integer");
  }
  r.last = r.first;
  if (parts.size() == 2 &&
      (!absl::SimpleAtoi(parts[1], &r.last) || parts[1].empty() || parts[1][0] == '+')) {
    return bad("not a non-negative integer");
  }
  if (r.first > r.last) return bad("the first seed is after the last");
  if (r.last - r.first >= kMaxSweepSeeds) {
    return bad(absl::StrCat("more than ", kMaxSweepSeeds, " seeds"));
  }
  return r;
}

// Shard I of N, I from 1 to N (GNU parallel's {#}, Slurm's --array=1-N).
struct Shard {
  int index = 1, count = 1;
};

inline absl::StatusOr<Shard> ParseShard(absl::string_view text) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard: \"", text, "\": ", why, " (expected I/N with 1 <= I <= N)"));
  };
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  Shard s;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &s.index) ||
      !absl::SimpleAtoi(parts[1], &s.count) || parts[0][0] == '+' || parts[1][0] == '+') {
    return bad("not two integers I/N");
  }
  if (s.count < 1 || s.count > kMaxShards) return bad(absl::StrCat("N outside 1..", kMaxShards));
  if (s.index < 1 || s.index > s.count) return bad("I outside 1..N (shards count from 1)");
  return s;
}

enum class Suite { kSimultFlows, kLinkFailure };

inline const char* SuiteName(Suite s) {
  return s == Suite::kSimultFlows ? "simult_flows" : "link_failure";
}

inline absl::StatusOr<Suite> ParseSuite(absl::string_view text) {
  if (text == "simult_flows") return Suite::kSimultFlows;
  if (text == "link_failure") return Suite::kLinkFailure;
  return absl::InvalidArgumentError(absl::StrCat(
      "--suite: unknown suite \"", text, "\" (expected simult_flows or link_failure)"));
}

// Every case of a suite, in the order of its test.
inline std::vector<std::string> SuiteCases(Suite s) {
  namespace cf = sim::conformance;
  std::vector<std::string> v;
  if (s == Suite::kSimultFlows) {
    for (const cf::SelftestCase& c : cf::kCases) {
      for (cf::Transfer t : cf::kTransfers) v.push_back(cf::SelftestId(c, t));
    }
  } else {
    for (const cf::FailureCase& c : cf::FailureCases()) v.push_back(c.name);
  }
  return v;
}

// The cases `spec` names (comma-separated names, or "*/<suffix>" for every case whose name ends
// in "/<suffix>"), in the suite's order; all of them for an empty spec.
inline absl::StatusOr<std::vector<std::string>> SelectCases(Suite s, absl::string_view spec) {
  const std::vector<std::string> all = SuiteCases(s);
  if (spec.empty()) return all;
  std::vector<bool> chosen(all.size(), false);
  for (absl::string_view want : absl::StrSplit(spec, ',')) {
    bool found = false;
    for (size_t i = 0; i < all.size(); ++i) {
      const bool match = absl::StartsWith(want, "*/")
                             ? absl::EndsWith(all[i], want.substr(1))
                             : all[i] == want;
      if (match) chosen[i] = found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--case: no ", SuiteName(s), " case \"", want, "\" (expected one of ",
          absl::StrJoin(all, ", "), s == Suite::kSimultFlows ? ", or */Download etc." : "", ")"));
    }
  }
  std::vector<std::string> v;
  for (size_t i = 0; i < all.size(); ++i) {
    if (chosen[i]) v.push_back(all[i]);
  }
  return v;
}

struct SweepItem {
  std::string case_id;
  uint64_t seed = 0;
};

// The (seed, case) pairs of shard `shard`: pair k of the seed-major order goes to shard
// k mod N + 1.
inline std::vector<SweepItem> ShardItems(const std::vector<std::string>& cases, SeedRange seeds,
                                         Shard shard) {
  std::vector<SweepItem> v;
  const uint64_t n = static_cast<uint64_t>(shard.count);
  uint64_t k = 0;
  for (uint64_t seed = seeds.first;; ++seed) {
    for (const std::string& c : cases) {
      if (k++ % n == static_cast<uint64_t>(shard.index - 1)) v.push_back(SweepItem{c, seed});
    }
    if (seed == seeds.last) break;  // not seed <= last: last may be the largest uint64_t
  }
  return v;
}

// How many of `total` pairs shard `shard` runs, without listing them.
inline uint64_t ShardSize(uint64_t total, Shard shard) {
  const uint64_t skip = static_cast<uint64_t>(shard.index - 1);
  const uint64_t n = static_cast<uint64_t>(shard.count);
  return total > skip ? (total - skip + n - 1) / n : 0;
}

// The command that reruns one run, from the repository's root after a build of mptcp_sim.
inline std::string ReplayCommand(Suite s, absl::string_view case_id, uint64_t seed) {
  return absl::StrCat("bazel-bin/tools/mptcp_sim --suite=", SuiteName(s), " --case=", case_id,
                      " --seed=", seed);
}

// One run of a sweep: a JSON line (the file comment lists the fields).
struct SweepRecord {
  Suite suite = Suite::kSimultFlows;
  std::string case_id;
  uint64_t seed = 0;
  bool ok = false;
  std::string error;  // the violations, when not ok
  const char* measure = "run_time";
  double value_s = 0, limit_s = 0;
  bool within_limit = false;
  double time_s = 0, longest_stall_s = 0;
  int64_t wall_ms = 0;
};

// Rounded to the microsecond (the simulator's figures mean nothing finer) so that lines are
// short and the same run gives the same text; null where there is no number (a run that never
// finished has no run time).
inline nlohmann::ordered_json JsonSeconds(double s) {
  if (!std::isfinite(s)) return nullptr;
  return std::round(s * 1e6) / 1e6;
}

inline std::string ToJsonLine(const SweepRecord& r) {
  nlohmann::ordered_json j;
  j["suite"] = SuiteName(r.suite);
  j["case"] = r.case_id;
  j["seed"] = r.seed;
  j["ok"] = r.ok;
  if (!r.ok) j["error"] = r.error;
  j["measure"] = r.measure;
  j["value_s"] = JsonSeconds(r.value_s);
  j["limit_s"] = JsonSeconds(r.limit_s);
  j["within_limit"] = r.within_limit;
  j["limit_fraction"] = JsonSeconds(r.limit_s > 0 ? r.value_s / r.limit_s : 0);
  j["time_s"] = JsonSeconds(r.time_s);
  j["longest_stall_s"] = JsonSeconds(r.longest_stall_s);
  j["wall_ms"] = r.wall_ms;
  j["replay"] = ReplayCommand(r.suite, r.case_id, r.seed);
  // Replacement, not an exception, for bytes that are not UTF-8 in an error text.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

inline std::string JoinViolations(const std::vector<sim::conformance::Violation>& v) {
  std::vector<std::string> parts;
  for (const auto& x : v) parts.push_back(x.what);
  return absl::StrJoin(parts, "; ");
}

// Runs one (case, seed) of a suite; `case_id` must be one of SuiteCases(suite). With a
// `pcap_path`, every path is captured at its client end to that file (to look at one run).
inline absl::StatusOr<SweepRecord> RunSweepItem(Suite suite, const SweepItem& item,
                                                const std::string& pcap_path = "") {
  const auto capture = [&pcap_path](sim::HarnessConfig cfg) {
    if (!pcap_path.empty()) {
      cfg.capture = true;
      cfg.pcap_path = pcap_path;
    }
    return cfg;
  };
  namespace cf = sim::conformance;
  SweepRecord rec;
  rec.suite = suite;
  rec.case_id = item.case_id;
  rec.seed = item.seed;
  const auto start = std::chrono::steady_clock::now();
  if (suite == Suite::kSimultFlows) {
    const std::optional<cf::SelftestRun> run = cf::FindSelftestRun(item.case_id);
    if (!run) return absl::NotFoundError(absl::StrCat("no simult_flows case ", item.case_id));
    sim::Harness h(capture(cf::SelftestConfig(run->c, run->t, item.seed)));
    const sim::HarnessResult r = h.Run();
    const cf::SelftestJudgement j = cf::JudgeSelftestRun(run->c, run->t, r);
    rec.ok = j.ok();
    rec.error = JoinViolations(j.violations);
    rec.measure = "run_time";
    // A run that never got both ends to the end has no run time (null in the JSON line).
    rec.value_s = rec.time_s = j.run_time.IsInfinite() ? std::numeric_limits<double>::infinity()
                                                       : j.run_time.seconds();
    rec.limit_s = j.limit.seconds();
    rec.within_limit = j.within_limit;
    rec.longest_stall_s = std::max(r.longest_client_stall, r.longest_server_stall).seconds();
  } else {
    const cf::FailureCase* c = cf::FindFailureCase(item.case_id);
    if (c == nullptr) {
      return absl::NotFoundError(absl::StrCat("no link_failure case ", item.case_id));
    }
    const cf::FailureRun run = cf::RunFailureCase(*c, capture(cf::FailureConfig(*c, item.seed)), item.seed);
    const cf::FailureJudgement j = cf::JudgeFailureRun(*c, run);
    rec.ok = j.ok();
    rec.error = JoinViolations(j.violations);
    rec.measure = "stall";
    rec.value_s = j.judged_stall.seconds();
    rec.limit_s = j.judged_budget.seconds();
    rec.within_limit = rec.ok && j.within_budget();
    rec.time_s = run.result.elapsed.seconds();
    rec.longest_stall_s = j.worst_stall_s;
  }
  if (!rec.ok) rec.within_limit = false;
  rec.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  return rec;
}

// The progress of a sweep on stderr: in place on a terminal (at most 20 redraws a second),
// else a line at every tenth of the runs, so that a log stays short.
class SweepProgress {
 public:
  SweepProgress(bool enabled, std::string label, size_t total, std::FILE* err = stderr)
      : enabled_(enabled), tty_(isatty(fileno(err)) == 1), label_(std::move(label)),
        total_(total), err_(err), start_(std::chrono::steady_clock::now()) {}

  void Update(size_t done, size_t failed, size_t over) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
      if (done < total_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
      last_draw_ = now;
      std::fprintf(err_, "\r%s\033[K", Text(done, failed, over, now).c_str());
      drawn_ = true;
    } else if (done * 10 >= next_tenth_ * total_ || done == total_) {
      while (done * 10 >= next_tenth_ * total_ && next_tenth_ <= 10) ++next_tenth_;
      std::fprintf(err_, "%s\n", Text(done, failed, over, now).c_str());
    }
    std::fflush(err_);
  }
  // Before another message: clears the line drawn in place.
  void Clear() {
    if (enabled_ && tty_ && drawn_) std::fprintf(err_, "\r\033[K");
    drawn_ = false;
  }
  void Done() {
    if (enabled_ && tty_ && drawn_) std::fprintf(err_, "\n");
  }

 private:
  std::string Text(size_t done, size_t failed, size_t over,
                   std::chrono::steady_clock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) /
                                      static_cast<double>(done)
                                : 0.0;
    return absl::StrFormat("[%s] %zu/%zu runs (%3.0f%%), %zu failed, %zu over the limit, "
                           "%.0f s elapsed, ~%.0f s left",
                           label_, done, total_,
                           total_ > 0 ? 100.0 * static_cast<double>(done) /
                                            static_cast<double>(total_)
                                      : 100.0,
                           failed, over, elapsed, eta);
  }

  bool enabled_, tty_;
  std::string label_;
  size_t total_;
  std::FILE* err_;
  std::chrono::steady_clock::time_point start_, last_draw_{};
  size_t next_tenth_ = 1;
  bool drawn_ = false;
};

struct SweepOptions {
  Suite suite = Suite::kSimultFlows;
  std::vector<std::string> cases;
  SeedRange seeds;
  Shard shard;
  bool quiet = false;
  std::string pcap;  // one run only: capture it here (RunSweepItem)
};

struct SweepTotals {
  size_t runs = 0, failed = 0, over_limit = 0;
  double wall_s = 0;
};

// Runs the shard's items, one JSON line each to `out` (flushed per line, so that a killed
// shard keeps what it finished); each failing run, and each over its limit, also to `err`
// with its replay command. An error only for an output that cannot be written.
inline absl::StatusOr<SweepTotals> RunSweep(const SweepOptions& o, std::FILE* out,
                                            std::FILE* err = stderr) {
  const std::vector<SweepItem> items = ShardItems(o.cases, o.seeds, o.shard);
  SweepTotals t;
  const auto start = std::chrono::steady_clock::now();
  SweepProgress progress(!o.quiet,
                         absl::StrFormat("%s seeds %d-%d shard %d/%d", SuiteName(o.suite),
                                         o.seeds.first, o.seeds.last, o.shard.index,
                                         o.shard.count),
                         items.size(), err);
  progress.Update(0, 0, 0);
  for (const SweepItem& item : items) {
    absl::StatusOr<SweepRecord> rec = RunSweepItem(o.suite, item, o.pcap);
    if (!rec.ok()) return rec.status();
    ++t.runs;
    const std::string line = ToJsonLine(*rec);
    if (std::fprintf(out, "%s\n", line.c_str()) < 0 || std::fflush(out) != 0) {
      return absl::UnavailableError("cannot write the JSON lines");
    }
    if (!rec->ok || !rec->within_limit) {
      progress.Clear();
      if (!rec->ok) {
        ++t.failed;
        std::fprintf(err, "mptcp_sim: %s %s seed %llu FAILED: %s\n", SuiteName(o.suite),
                     item.case_id.c_str(), static_cast<unsigned long long>(item.seed),
                     rec->error.c_str());
      } else {
        ++t.over_limit;
        std::fprintf(err, "mptcp_sim: %s %s seed %llu over the limit: %s %.3f s > %.3f s\n",
                     SuiteName(o.suite), item.case_id.c_str(),
                     static_cast<unsigned long long>(item.seed), rec->measure, rec->value_s,
                     rec->limit_s);
      }
      std::fprintf(err, "  replay: %s\n",
                   ReplayCommand(o.suite, item.case_id, item.seed).c_str());
    }
    progress.Update(t.runs, t.failed, t.over_limit);
  }
  progress.Done();
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_SIM_SWEEP_H_

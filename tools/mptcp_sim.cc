// mptcp_sim: runs a scenario (paths, timed failures, an application) on the in-memory network
// simulator with this library's MPTCP on both ends, and reports what happened per second:
// each subflow's throughput, cwnd and RTT, and a media player's stalls.
//
//   mptcp_sim                              the built-in demo (tools/scenarios/demo.json)
//   mptcp_sim --scenario FILE [flags]      a scenario file; flags override it
//   mptcp_sim --path ... --app ... [flags] a scenario from flags (over the demo's settings,
//                                          named "sim": out/sim.csv, out/sim.svg)
//   mptcp_sim --check [--scenario FILE]    check a scenario and print what it describes
//   mptcp_sim --fairness [--cc=NAME]       the five-flow Jain table (conformance/cc_scenarios.h)
//                                          for every controller, or for NAME
//   mptcp_sim --suite=S --seeds=A-B [--case=NAME,...] [--shard=I/N] [--jsonl=FILE]
//                                          a seed sweep of the conformance scenarios S
//                                          (simult_flows, link_failure): one JSON line per run
//                                          (tools/sim/sweep.h; tools/sweep/ runs and merges shards)
//
// Writes a live progress line to stderr (in place on a terminal), the per-second table and a
// summary to stdout, a CSV and an SVG plot (and a pcap with --pcap). The same scenario and
// seed give byte-identical CSV, SVG and pcap files.
//
// Exit status: 0 when the run went as simulated (finished, or reached its duration), 1 when
// it failed (a wrong byte, a protocol failure, an output file that cannot be written), 2 for
// a bad scenario or flag. See README.md, "mptcp_sim".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "conformance/cc_scenarios.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "nlohmann/json.hpp"
#include "tools/demo_scenario.h"
#include "tools/sim/report.h"
#include "tools/sim/runner.h"
#include "tools/sim/scenario.h"
#include "tools/sim/sweep.h"

ABSL_FLAG(std::string, scenario, "",
          "scenario file (JSON; see README.md). Without one: the built-in demo");
ABSL_FLAG(std::optional<std::string>, seed, std::nullopt, "override the scenario's seed");
ABSL_FLAG(std::optional<std::string>, duration, std::nullopt,
          "override the scenario's duration_s: the run ends by then at the latest (seconds)");
ABSL_FLAG(std::optional<std::string>, csv, std::nullopt, "write the per-second CSV here");
ABSL_FLAG(std::optional<std::string>, svg, std::nullopt, "write the SVG plot here");
ABSL_FLAG(std::optional<std::string>, pcap, std::nullopt,
          "record every packet at the client end of each path to this pcap (with --suite: of "
          "the one run --case and --seed name)");
ABSL_FLAG(std::optional<std::string>, app, std::nullopt,
          "replace the application: key=value,... e.g. type=bulk,bytes=16777216 or "
          "type=media,bitrate_mbps=4,length_s=20");
ABSL_FLAG(std::optional<std::string>, baseline, std::nullopt,
          "also run the application over this path alone (one subflow, as single-path TCP) "
          "and report it alongside; \"none\" for no such run");
ABSL_FLAG(std::optional<std::string>, cc, std::nullopt,
          "override the scenario's congestion control: newreno, cubic, lia, olia or balia");
ABSL_FLAG(std::optional<std::string>, sched, std::nullopt,
          "override the scenario's scheduler: default (min-rtt), round-robin (rr), redundant, "
          "blest or ecf");
ABSL_FLAG(bool, fairness, false,
          "instead of a scenario, run the five-flow fairness scenario (two MPTCP connections and "
          "three TCP flows on one bottleneck) for every controller, or the one --cc names, and "
          "print its Jain table (seeds 1-3, or the one --seed names)");
ABSL_FLAG(std::optional<std::string>, suite, std::nullopt,
          "instead of a scenario, sweep seeds over a conformance suite: simult_flows or "
          "link_failure (one JSON line per run; with --seeds, --case, --shard, --jsonl)");
ABSL_FLAG(std::optional<std::string>, case, std::nullopt,
          "with --suite: the cases to run, comma-separated (simult_flows: <case>/<Download|"
          "Upload|BothWays>, or */Download for every case's Download); default all");
ABSL_FLAG(std::optional<std::string>, seeds, std::nullopt,
          "with --suite: the seeds, an inclusive range A-B (or --seed=N for one)");
ABSL_FLAG(std::optional<std::string>, shard, std::nullopt,
          "with --suite: run only shard I of N (I/N, I from 1 to N): the (seed, case) pairs "
          "whose index k in seed-major order has k mod N = I - 1");
ABSL_FLAG(std::optional<std::string>, jsonl, std::nullopt,
          "with --suite: write the JSON lines to this file instead of stdout");
ABSL_FLAG(bool, check, false,
          "check the scenario, print what it describes, and exit (with --suite: check the "
          "sweep's flags and print its number of runs)");
ABSL_FLAG(bool, quiet, false, "no progress on stderr");
ABSL_FLAG(bool, print_demo, false, "print the built-in demo scenario (JSON) and exit");

namespace mptcp::tools {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// absl flags are C identifiers; accept the spelled-out forms (--print-demo) too, pull out the
// repeatable --path and --event, and reject unknown flags here (exit 2, not absl's exit 1).
bool PreprocessArgs(int argc, char** argv, std::vector<std::string>& storage,
                    ScenarioOverrides& o, std::string& error) {
  static const char* const kKnown[] = {
      "scenario", "seed", "duration", "csv", "svg", "pcap", "app", "baseline", "cc", "sched",
      "fairness", "nofairness", "suite", "case", "seeds", "shard", "jsonl", "check", "nocheck",
      "quiet", "noquiet", "print_demo", "noprint_demo", "help", "helpfull", "helpshort",
      "helppackage", "version", "only_check_args", "flagfile", "fromenv", "tryfromenv",
      "undefok"};
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && a == "--") {
      for (; i < argc; ++i) out.push_back(argv[i]);
      break;
    }
    if (i > 0 && a.size() > 1 && a[0] == '-') {
      const size_t dashes = a.rfind("--", 0) == 0 ? 2 : 1;
      const size_t eq = a.find('=');
      std::string name =
          a.substr(dashes, eq == std::string::npos ? std::string::npos : eq - dashes);
      std::replace(name.begin(), name.end(), '-', '_');
      if (name == "path" || name == "event") {
        std::string value;
        if (eq != std::string::npos) {
          value = a.substr(eq + 1);
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          error = absl::StrCat("--", name, ": missing its value");
          return false;
        }
        (name == "path" ? o.paths : o.events).push_back(value);
        continue;
      }
      if (std::find_if(std::begin(kKnown), std::end(kKnown),
                       [&](const char* k) { return name == k; }) == std::end(kKnown)) {
        error = absl::StrCat("unknown flag ", a.substr(0, eq), " (see --help)");
        return false;
      }
      a = "--" + name + (eq == std::string::npos ? "" : a.substr(eq));
    }
    out.push_back(a);
  }
  storage = std::move(out);
  return true;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return std::nullopt;
  return ss.str();
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return absl::UnavailableError(absl::StrCat(path, ": cannot open for writing"));
  f << contents;
  f.close();
  if (!f) return absl::UnavailableError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

int Usage(const std::string& msg) {
  std::fprintf(stderr, "mptcp_sim: %s\n", msg.c_str());
  return kExitUsage;
}

// The progress display: in place on a terminal (at most ~20 redraws a second of wall time),
// else one line per tenth of the duration.
class ProgressLine {
 public:
  ProgressLine(bool enabled, double duration_s)
      : enabled_(enabled),
        tty_(isatty(STDERR_FILENO) == 1),
        every_s_(std::max(0.1, std::round(duration_s) / 10)) {}

  void Update(const Progress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
      if (now - last_draw_ < std::chrono::milliseconds(50)) return;
      last_draw_ = now;
      std::fprintf(stderr, "\r%s\033[K", Text(p).c_str());
      drawn_ = true;
    } else if (p.now_s + 1e-9 >= next_line_s_) {
      next_line_s_ += every_s_;
      std::fprintf(stderr, "%s\n", Text(p).c_str());
    }
  }
  void Done() {
    if (enabled_ && tty_ && drawn_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  static std::string Text(const Progress& p) {
    return absl::StrFormat("[sim %6.1f / %.0f s] delivered %.2f of %.2f MB (%3.0f%%), %6.2f "
                           "Mbit/s",
                           p.now_s, p.duration_s, static_cast<double>(p.delivered) / 1e6,
                           static_cast<double>(p.total) / 1e6,
                           p.total > 0 ? 100.0 * static_cast<double>(p.delivered) /
                                             static_cast<double>(p.total)
                                       : 0.0,
                           p.goodput_mbps);
  }

  bool enabled_, tty_;
  double every_s_;
  double next_line_s_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// --fairness: the five-flow Jain table of conformance/cc_scenarios.h, as the golden file
// conformance/testdata/cc_jain.txt holds it (with the default seeds the output is that file).
int RunFairness(bool quiet) {
  namespace cf = sim::conformance;
  std::vector<cc::CcAlgorithm> algorithms(cc::kAllCcAlgorithms.begin(),
                                          cc::kAllCcAlgorithms.end());
  if (const std::optional<std::string> name = absl::GetFlag(FLAGS_cc)) {
    const std::optional<cc::CcAlgorithm> a = cc::CcAlgorithmFromName(*name);
    if (!a) {
      return Usage(absl::StrCat("--cc: unknown congestion control \"", *name,
                                "\" (expected one of ",
                                std::string(cc::kCcAlgorithmNames), ")"));
    }
    algorithms = {*a};
  }
  std::vector<uint64_t> seeds(std::begin(cf::FiveFlows::kSeeds), std::end(cf::FiveFlows::kSeeds));
  if (const std::optional<std::string> seed = absl::GetFlag(FLAGS_seed)) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(*seed, &n)) return Usage("--seed: expected a non-negative integer");
    seeds = {n};
  }
  std::vector<cf::JainRow> rows;
  int status = 0;
  for (cc::CcAlgorithm a : algorithms) {
    if (!quiet) {
      std::fprintf(stderr, "five flows, %s: %zu run%s\n",
                   std::string(cc::CcAlgorithmName(a)).c_str(), seeds.size(),
                   seeds.size() == 1 ? "" : "s");
    }
    rows.push_back(cf::RunJainRow(a, seeds));
    if (!rows.back().error.empty()) {
      std::fprintf(stderr, "mptcp_sim: five flows, %s: %s\n",
                   std::string(cc::CcAlgorithmName(a)).c_str(), rows.back().error.c_str());
      status = kExitFailed;
    }
  }
  std::fputs(cf::FormatJainTable(rows, seeds).c_str(), stdout);
  return status;
}

// --suite: a seed sweep (tools/sim/sweep.h). Exit 1 if a run broke an invariant (a run over
// its time or stall limit is reported and counted, not a failure), 2 for a bad flag.
int RunSuiteSweep(const std::string& suite_name, bool quiet) {
  const absl::StatusOr<Suite> suite = ParseSuite(suite_name);
  if (!suite.ok()) return Usage(std::string(suite.status().message()));
  SweepOptions o;
  o.suite = *suite;
  o.quiet = quiet;
  const absl::StatusOr<std::vector<std::string>> cases =
      SelectCases(*suite, absl::GetFlag(FLAGS_case).value_or(""));
  if (!cases.ok()) return Usage(std::string(cases.status().message()));
  o.cases = *cases;
  const std::optional<std::string> seed = absl::GetFlag(FLAGS_seed);
  const std::optional<std::string> seeds = absl::GetFlag(FLAGS_seeds);
  if (seed && seeds) return Usage("--seed and --seeds: give one of them");
  if (!seed && !seeds) return Usage("--suite needs --seeds=A-B (or --seed=N to replay one)");
  if (seed && seed->find('-') != std::string::npos) {
    return Usage(absl::StrCat("--seed: \"", *seed, "\": expected one seed (--seeds for a range)"));
  }
  absl::StatusOr<SeedRange> range = ParseSeedRange(seed ? *seed : *seeds);
  if (!range.ok()) {
    std::string msg(range.status().message());
    if (seed) msg.replace(0, 7, "--seed");  // the message names --seeds
    return Usage(msg);
  }
  o.seeds = *range;
  if (const std::optional<std::string> shard = absl::GetFlag(FLAGS_shard)) {
    const absl::StatusOr<Shard> s = ParseShard(*shard);
    if (!s.ok()) return Usage(std::string(s.status().message()));
    o.shard = *s;
  }
  if (const std::optional<std::string> pcap = absl::GetFlag(FLAGS_pcap)) {
    if (o.cases.size() * o.seeds.size() != 1 || o.shard.count != 1) {
      return Usage("--pcap with --suite captures one run: give one --case and --seed");
    }
    o.pcap = *pcap;
  }
  if (absl::GetFlag(FLAGS_check)) {
    const uint64_t total = o.cases.size() * o.seeds.size();
    std::printf("%s: %zu cases, seeds %llu-%llu: %llu runs; shard %d/%d: %llu runs\n",
                SuiteName(o.suite), o.cases.size(),
                static_cast<unsigned long long>(o.seeds.first),
                static_cast<unsigned long long>(o.seeds.last),
                static_cast<unsigned long long>(total), o.shard.index, o.shard.count,
                static_cast<unsigned long long>(ShardSize(total, o.shard)));
    std::printf("cases: %s\n", absl::StrJoin(o.cases, ",").c_str());
    return 0;
  }
  std::FILE* out = stdout;
  const std::optional<std::string> jsonl = absl::GetFlag(FLAGS_jsonl);
  if (jsonl) {
    out = std::fopen(jsonl->c_str(), "w");
    if (out == nullptr) {
      std::fprintf(stderr, "mptcp_sim: %s: cannot open for writing\n", jsonl->c_str());
      return kExitFailed;
    }
  }
  const absl::StatusOr<SweepTotals> t = RunSweep(o, out);
  if (jsonl && std::fclose(out) != 0 && t.ok()) {
    std::fprintf(stderr, "mptcp_sim: %s: write failed\n", jsonl->c_str());
    return kExitFailed;
  }
  if (!t.ok()) {
    std::fprintf(stderr, "mptcp_sim: %s\n", std::string(t.status().message()).c_str());
    return kExitFailed;
  }
  if (!quiet) {
    std::fprintf(stderr, "%s: %zu runs, %zu broke an invariant, %zu over the limit; %.1f s\n",
                 SuiteName(o.suite), t->runs, t->failed, t->over_limit, t->wall_s);
  }
  return t->failed > 0 ? kExitFailed : 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> storage;
  ScenarioOverrides o;
  std::string error;
  if (!PreprocessArgs(argc, argv, storage, o, error)) return Usage(error);
  absl::SetProgramUsageMessage(
      "simulates an MPTCP connection over paths that fail and recover.\n"
      "  mptcp_sim                         run the built-in demo\n"
      "  mptcp_sim --scenario FILE         run a scenario file (README.md, \"mptcp_sim\")\n"
      "  --path key=value,...              (repeatable) replace the paths, e.g.\n"
      "                                    --path name=wifi,rate_mbps=20,delay_ms=10\n"
      "  --event key=value,...             (repeatable) replace the events, e.g.\n"
      "                                    --event at_s=10,path=wifi,action=down; --event none\n"
      "  --cc NAME                         congestion control: newreno, cubic, lia, olia, balia\n"
      "  --sched NAME                      scheduler: default, round-robin, redundant, blest, ecf\n"
      "  --fairness [--cc NAME]            print the five-flow Jain fairness table\n"
      "  --suite S --seeds A-B [--case C] [--shard I/N] [--jsonl FILE]\n"
      "                                    sweep seeds over a conformance suite (simult_flows,\n"
      "                                    link_failure): one JSON line per run");
  std::vector<char*> ptrs;
  for (std::string& s : storage) ptrs.push_back(s.data());
  const std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(ptrs.size()),
                                                         ptrs.data());
  if (rest.size() > 1) return Usage(absl::StrCat("unexpected argument \"", rest[1], "\""));

  // bazel run starts us in the runfiles tree; relative paths mean the caller's directory.
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd != nullptr && *wd != '\0') {
    if (::chdir(wd) != 0) return Usage(absl::StrCat("cannot change to ", wd));
  }

  if (absl::GetFlag(FLAGS_print_demo)) {
    std::fputs(kDemoScenarioJson, stdout);
    return 0;
  }
  const std::optional<std::string> suite = absl::GetFlag(FLAGS_suite);
  if (suite) {
    if (absl::GetFlag(FLAGS_fairness)) return Usage("--suite and --fairness: give one of them");
    return RunSuiteSweep(*suite, absl::GetFlag(FLAGS_quiet));
  }
  const std::pair<const char*, bool> sweep_only[] = {
      {"case", absl::GetFlag(FLAGS_case).has_value()},
      {"seeds", absl::GetFlag(FLAGS_seeds).has_value()},
      {"shard", absl::GetFlag(FLAGS_shard).has_value()},
      {"jsonl", absl::GetFlag(FLAGS_jsonl).has_value()}};
  for (const auto& [name, set] : sweep_only) {
    if (set) return Usage(absl::StrCat("--", name, " needs --suite"));
  }
  if (absl::GetFlag(FLAGS_fairness)) return RunFairness(absl::GetFlag(FLAGS_quiet));

  // The scenario's JSON: the file or the demo, then the flags.
  const std::string file = absl::GetFlag(FLAGS_scenario);
  std::string text(kDemoScenarioJson);
  std::string origin = "built-in demo";
  std::string default_name = "demo";
  if (!file.empty()) {
    std::optional<std::string> t = ReadFile(file);
    if (!t) return Usage(absl::StrCat(file, ": cannot read"));
    text = *std::move(t);
    origin = file;
    default_name = std::filesystem::path(file).stem().string();
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    // ParseScenario phrases the syntax error.
    return Usage(std::string(ParseScenario(text, origin, default_name).status().message()));
  }
  o.seed = absl::GetFlag(FLAGS_seed);
  o.duration_s = absl::GetFlag(FLAGS_duration);
  o.csv = absl::GetFlag(FLAGS_csv);
  o.svg = absl::GetFlag(FLAGS_svg);
  o.pcap = absl::GetFlag(FLAGS_pcap);
  o.app = absl::GetFlag(FLAGS_app);
  o.baseline = absl::GetFlag(FLAGS_baseline);
  o.congestion_control = absl::GetFlag(FLAGS_cc);
  o.scheduler = absl::GetFlag(FLAGS_sched);
  // Flags that replace the demo's paths, events or application make another scenario: give it
  // its own name, so that it does not overwrite the demo's outputs under the demo's name.
  if (file.empty() && (!o.paths.empty() || !o.events.empty() || o.app)) {
    default_name = "sim";
    doc.erase("name");
    doc.erase("output");
  }
  if (absl::Status s = ApplyOverrides(o, doc); !s.ok()) return Usage(std::string(s.message()));
  absl::StatusOr<Scenario> scenario = ScenarioFromJson(doc, default_name);
  if (!scenario.ok()) {
    return Usage(absl::StrCat(file.empty() ? "" : file + ": ", scenario.status().message()));
  }

  if (!scenario->output.pcap.empty()) {
    const auto parent = std::filesystem::path(scenario->output.pcap).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }

  std::fputs(DescribeScenario(*scenario).c_str(), stdout);
  if (absl::GetFlag(FLAGS_check)) return 0;
  std::fputs("\n", stdout);
  std::fflush(stdout);

  ProgressLine line(!absl::GetFlag(FLAGS_quiet), scenario->duration_s);
  const auto wall_start = std::chrono::steady_clock::now();
  const RunReport report = RunScenario(*scenario, [&line](const Progress& p) { line.Update(p); });
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  line.Done();

  std::fputs(FormatTable(report).c_str(), stdout);
  std::fputs("\n", stdout);
  std::fputs(FormatSummary(report).c_str(), stdout);

  int status = report.ok ? 0 : kExitFailed;
  for (const auto& [path, contents] : {std::pair{scenario->output.csv, FormatCsv(report)},
                                       std::pair{scenario->output.svg, RenderSvg(report)}}) {
    if (absl::Status s = WriteFile(path, contents); !s.ok()) {
      std::fprintf(stderr, "mptcp_sim: %s\n", std::string(s.message()).c_str());
      status = kExitFailed;
    }
  }
  std::printf("wrote %s, %s%s\n", scenario->output.csv.c_str(), scenario->output.svg.c_str(),
              scenario->output.pcap.empty() ? "" : (", " + scenario->output.pcap).c_str());
  if (!absl::GetFlag(FLAGS_quiet)) {
    // Both runs when there is a baseline: the wall time covers both.
    const double simulated = report.end_s + (report.baseline ? report.baseline->end_s : 0.0);
    std::fprintf(stderr, "simulated %.1f s%s in %.3f s of wall time (%.0fx real time)\n",
                 simulated, report.baseline ? " (the run and its baseline)" : "", wall_s,
                 wall_s > 0 ? simulated / wall_s : 0.0);
  }
  return status;
}

}  // namespace
}  // namespace mptcp::tools

int main(int argc, char** argv) { return mptcp::tools::Main(argc, argv); }

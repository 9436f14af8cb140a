// The seed sweep's parts: seed ranges and shards parsed with clear errors, the shard partition
// disjoint with the whole sweep as its union, case selection, the JSON line, and real runs of
// each suite (one within its limit, one over it with its replay command on stderr), and one
// run captured to a pcap.
#include "tools/sim/sweep.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"

namespace mptcp::tools {
namespace {

TEST(SweepTest, ParsesSeedRanges) {
  absl::StatusOr<SeedRange> r = ParseSeedRange("1-1000");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->last, 1000u);
  EXPECT_EQ(r->size(), 1000u);
  r = ParseSeedRange("7");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first, 7u);
  EXPECT_EQ(r->last, 7u);
  r = ParseSeedRange("5-5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 1u);
}

TEST(SweepTest, RejectsBadSeedRanges) {
  for (const char* bad : {"", "3-1", "a-b", "1-", "-5", "1-2-3", "+1-2", "1-+2", "1.5-2",
                          "0-1000000", "99999999999999999999999-1"}) {
    const absl::StatusOr<SeedRange> r = ParseSeedRange(bad);
    EXPECT_FALSE(r.ok()) << "\"" << bad << "\"";
    EXPECT_TRUE(absl::StartsWith(r.status().message(), "--seeds: ")) << r.status();
  }
  EXPECT_TRUE(absl::StrContains(ParseSeedRange("3-1").status().message(),
                                "the first seed is after the last"));
}

TEST(SweepTest, ParsesShards) {
  absl::StatusOr<Shard> s = ParseShard("1/1");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 1);
  s = ParseShard("3/8");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 3);
  EXPECT_EQ(s->count, 8);
}

TEST(SweepTest, RejectsBadShards) {
  for (const char* bad : {"", "0/2", "3/2", "1/0", "-1/2", "x/2", "1/y", "1", "1/2/3", "+1/2",
                          "1/99999999999"}) {
    const absl::StatusOr<Shard> s = ParseShard(bad);
    EXPECT_FALSE(s.ok()) << "\"" << bad << "\"";
    EXPECT_TRUE(absl::StartsWith(s.status().message(), "--shard: ")) << s.status();
  }
  EXPECT_TRUE(absl::StrContains(ParseShard("0/2").status().message(), "count from 1"));
}

// Every (case, seed) pair of the sweep is in exactly one shard, for any shard count, including
// more shards than pairs.
TEST(SweepTest, ShardsPartitionTheSweep) {
  const std::vector<std::string> cases = {"a", "b", "c", "d", "e"};
  for (const SeedRange seeds : {SeedRange{1, 13}, SeedRange{100, 100}, SeedRange{0, 6}}) {
    for (int n = 1; n <= 9; ++n) {
      std::map<std::pair<std::string, uint64_t>, int> owner;
      size_t total = 0;
      for (int i = 1; i <= n; ++i) {
        for (const SweepItem& item : ShardItems(cases, seeds, Shard{i, n})) {
          ++total;
          const auto [it, fresh] = owner.emplace(std::pair{item.case_id, item.seed}, i);
          EXPECT_TRUE(fresh) << item.case_id << " seed " << item.seed << " in shards "
                             << it->second << " and " << i << " of " << n;
        }
      }
      EXPECT_EQ(total, cases.size() * seeds.size()) << n << " shards";
      for (int i = 1; i <= n; ++i) {
        EXPECT_EQ(ShardSize(cases.size() * seeds.size(), Shard{i, n}),
                  ShardItems(cases, seeds, Shard{i, n}).size())
            << "shard " << i << " of " << n;
      }
      for (uint64_t seed = seeds.first; seed <= seeds.last; ++seed) {
        for (const std::string& c : cases) {
          EXPECT_TRUE(owner.contains({c, seed})) << c << " seed " << seed << ", " << n
                                                 << " shards";
        }
      }
    }
  }
}

TEST(SweepTest, ShardsAreBalanced) {
  const std::vector<std::string> cases = {"a", "b", "c"};
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(ShardItems(cases, SeedRange{1, 100}, Shard{i, 4}).size(), 75u);
  }
}

TEST(SweepTest, TheLastSeedCanBeTheLargest) {
  const uint64_t max = ~uint64_t{0};
  const std::vector<SweepItem> items = ShardItems({"a"}, SeedRange{max - 1, max}, Shard{1, 1});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].seed, max);
}

TEST(SweepTest, SelectsCases) {
  EXPECT_EQ(SuiteCases(Suite::kSimultFlows).size(), 15u);
  EXPECT_EQ(SuiteCases(Suite::kLinkFailure).size(), 4u);
  absl::StatusOr<std::vector<std::string>> c = SelectCases(Suite::kSimultFlows, "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 15u);
  c = SelectCases(Suite::kSimultFlows, "*/Download,*/Upload");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->size(), 10u);
  EXPECT_EQ(c->front(), "balanced_bwidth/Download");
  EXPECT_EQ((*c)[1], "balanced_bwidth/Upload");  // the suite's order, not the spec's
  c = SelectCases(Suite::kLinkFailure, "four_paths_two_fail,two_paths_join_fails");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, (std::vector<std::string>{"two_paths_join_fails", "four_paths_two_fail"}));
  for (const char* bad : {"balanced_bwidth", "*/Sideways", "two_paths_join_fails"}) {
    c = SelectCases(Suite::kSimultFlows, bad);
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(c.status().message(), "--case: no simult_flows case"))
        << c.status();
  }
  EXPECT_FALSE(ParseSuite("simult").ok());
  EXPECT_EQ(*ParseSuite("link_failure"), Suite::kLinkFailure);
}

TEST(SweepTest, JsonLineCarriesTheReplayCommand) {
  SweepRecord r;
  r.suite = Suite::kLinkFailure;
  r.case_id = "two_paths_join_fails";
  r.seed = 491;
  r.ok = false;
  r.error = "the client read 5 bytes, not 8388608";
  r.measure = "stall";
  r.value_s = 0.4241234567;
  r.limit_s = 0.4;
  r.time_s = 1.0 / 0.0;  // never finished: null, not an invalid number
  r.wall_ms = 12;
  const std::string line = ToJsonLine(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["suite"], "link_failure");
  EXPECT_EQ(j["case"], "two_paths_join_fails");
  EXPECT_EQ(j["seed"], 491);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], r.error);
  EXPECT_EQ(j["value_s"], 0.424123);
  EXPECT_TRUE(j["time_s"].is_null());
  EXPECT_EQ(j["replay"],
            "bazel-bin/tools/mptcp_sim --suite=link_failure --case=two_paths_join_fails "
            "--seed=491");
  // An ok run has no error field.
  r.ok = true;
  EXPECT_FALSE(nlohmann::json::parse(ToJsonLine(r)).contains("error"));
}

std::string Slurp(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

// A real shard: a run within its limit and one over it (our BothWays variant of the
// opposed-delay case on one of the few seeds it misses), each a JSON line; the one over the
// limit also on stderr with its replay command, and neither is an invariant failure.
TEST(SweepTest, RunsAShard) {
  SweepOptions o;
  o.suite = Suite::kSimultFlows;
  o.cases = {"balanced_bwidth/Download",
             "unbalanced_bwidth_with_opposed_unbalanced_delay/BothWays"};
  o.seeds = SeedRange{176, 176};  // the opposed-delay BothWays case misses it (4.14 s)
  o.quiet = true;
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  ASSERT_NE(out, nullptr);
  ASSERT_NE(err, nullptr);
  const absl::StatusOr<SweepTotals> t = RunSweep(o, out, err);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->runs, 2u);
  EXPECT_EQ(t->failed, 0u);
  EXPECT_EQ(t->over_limit, 1u);
  const std::string lines = Slurp(out), errors = Slurp(err);
  std::fclose(out);
  std::fclose(err);
  std::vector<nlohmann::json> runs;
  for (absl::string_view l : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    runs.push_back(nlohmann::json::parse(l));
  }
  ASSERT_EQ(runs.size(), 2u) << lines;
  EXPECT_EQ(runs[0]["ok"], true);
  EXPECT_EQ(runs[0]["within_limit"], true);
  EXPECT_GT(runs[0]["value_s"].get<double>(), 7.0);
  EXPECT_NEAR(runs[0]["limit_s"].get<double>(), 7.857, 0.001);
  EXPECT_EQ(runs[1]["ok"], true);
  EXPECT_EQ(runs[1]["within_limit"], false);
  EXPECT_TRUE(absl::StrContains(
      errors, "replay: bazel-bin/tools/mptcp_sim --suite=simult_flows "
              "--case=unbalanced_bwidth_with_opposed_unbalanced_delay/BothWays --seed=176"))
      << errors;
  EXPECT_FALSE(absl::StrContains(errors, "balanced_bwidth/Download")) << errors;
}

TEST(SweepTest, RunsALinkFailure) {
  const absl::StatusOr<SweepRecord> r =
      RunSweepItem(Suite::kLinkFailure, SweepItem{"two_paths_join_fails", 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok) << r->error;
  EXPECT_STREQ(r->measure, "stall");
  EXPECT_TRUE(r->within_limit);
  EXPECT_GT(r->value_s, 0.0);
  EXPECT_GT(r->limit_s, 0.2);  // an RTO + 200 ms
  EXPECT_GT(r->time_s, 1.0);   // finished after the cut
  EXPECT_FALSE(RunSweepItem(Suite::kLinkFailure, SweepItem{"nope", 1}).ok());
}

// --pcap with one (case, seed): the run, captured. The same run with and without a capture
// gives the same record.
TEST(SweepTest, CapturesOneRun) {
  const std::string pcap = ::testing::TempDir() + "/sweep_capture.pcap";
  const SweepItem item{"two_paths_join_fails", 1};
  const absl::StatusOr<SweepRecord> plain = RunSweepItem(Suite::kLinkFailure, item);
  const absl::StatusOr<SweepRecord> captured = RunSweepItem(Suite::kLinkFailure, item, pcap);
  ASSERT_TRUE(plain.ok() && captured.ok());
  EXPECT_EQ(captured->value_s, plain->value_s);
  EXPECT_EQ(captured->time_s, plain->time_s);
  std::ifstream in(pcap, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24u + 100 * 40) << "a pcap header and the run's packets";
  uint32_t magic = 0;
  std::memcpy(&magic, bytes.data(), sizeof magic);
  EXPECT_TRUE(magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) << std::hex << magic;
}

}  // namespace
}  // namespace mptcp::tools

// The scenario format: the demo file parses to what it says; every kind of bad field gives
// its exact message; flags (key=value specs and overrides) go through the same checks.
#include "tools/sim/scenario.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tools/demo_scenario.h"

namespace mptcp::tools {
namespace {

using nlohmann::json;

TEST(ScenarioTest, TheDemoParses) {
  absl::StatusOr<Scenario> s = ParseScenario(kDemoScenarioJson, "demo.json", "x");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "demo");
  EXPECT_FALSE(s->description.empty());
  EXPECT_EQ(s->seed, 1u);
  EXPECT_EQ(s->duration_s, 30);
  ASSERT_EQ(s->paths.size(), 2u);
  const PathSpec& wifi = s->paths[0];
  EXPECT_EQ(wifi.name, "wifi");
  EXPECT_FALSE(wifi.backup);
  EXPECT_EQ(wifi.downlink.rate_mbps, 20);
  EXPECT_EQ(wifi.uplink.rate_mbps, 20);
  EXPECT_EQ(wifi.downlink.delay_ms, 10);
  EXPECT_EQ(wifi.downlink.queue_bytes, 65536u);
  const PathSpec& g3 = s->paths[1];
  EXPECT_EQ(g3.name, "3g");
  EXPECT_TRUE(g3.backup);
  EXPECT_EQ(g3.downlink.rate_mbps, 3);
  EXPECT_EQ(g3.uplink.rate_mbps, 1);
  EXPECT_EQ(g3.uplink.delay_ms, 60);  // shared fields apply to both directions
  EXPECT_EQ(g3.uplink.jitter_ms, 20);
  EXPECT_EQ(g3.downlink.loss, 0.001);
  ASSERT_EQ(s->events.size(), 2u);
  EXPECT_EQ(s->events[0].at_s, 10);
  EXPECT_EQ(s->events[0].path, 0u);
  EXPECT_EQ(s->events[0].action, EventAction::kDown);
  EXPECT_EQ(s->events[1].action, EventAction::kUp);
  EXPECT_EQ(s->app.kind, AppKind::kMedia);
  EXPECT_EQ(s->app.bitrate_mbps, 2);
  EXPECT_EQ(s->app.StreamBytes(), 7'000'000u);  // 2 Mbit/s x 28 s
  EXPECT_EQ(s->output.csv, "out/demo.csv");
  EXPECT_EQ(s->output.svg, "out/demo.svg");
  EXPECT_EQ(s->output.pcap, "");
  EXPECT_EQ(s->baseline_path, 0u);  // Wi-Fi alone, for comparison
}

TEST(ScenarioTest, DefaultsAndDirections) {
  const json j = json::parse(R"({
    "paths": [{"rate_mbps": 10, "uplink": {"rate_mbps": 2, "loss": 0.5},
               "gilbert_elliott": {"p_good_to_bad": 0.01, "loss_bad": 0.5}}],
    "events": [{"at_s": 1.5, "path": "path0", "action": "set", "downlink": {"rate_mbps": 4}}],
    "app": {"type": "bulk", "bytes": 1e6, "direction": "upload"}
  })");
  absl::StatusOr<Scenario> s = ScenarioFromJson(j, "mine");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "mine");
  EXPECT_EQ(s->seed, 1u);
  EXPECT_EQ(s->duration_s, 60);
  EXPECT_EQ(s->paths[0].name, "path0");
  EXPECT_EQ(s->paths[0].downlink.rate_mbps, 10);
  EXPECT_EQ(s->paths[0].downlink.loss, 0);
  EXPECT_EQ(s->paths[0].downlink.delay_ms, 0);
  EXPECT_EQ(s->paths[0].downlink.queue_bytes, kDefaultQueueBytes);
  EXPECT_EQ(s->paths[0].uplink.rate_mbps, 2);
  EXPECT_EQ(s->paths[0].uplink.loss, 0.5);
  ASSERT_TRUE(s->paths[0].uplink.gilbert_elliott.has_value());
  EXPECT_EQ(s->paths[0].uplink.gilbert_elliott->p_good_to_bad, 0.01);
  EXPECT_EQ(s->paths[0].uplink.gilbert_elliott->p_bad_to_good, 1.0);  // its default
  EXPECT_EQ(s->paths[0].uplink.gilbert_elliott->loss_bad, 0.5);
  EXPECT_EQ(s->events[0].downlink.rate_mbps, 4);
  EXPECT_TRUE(s->events[0].uplink.empty());
  EXPECT_EQ(s->app.kind, AppKind::kBulk);
  EXPECT_EQ(s->app.bytes, 1'000'000u);
  EXPECT_TRUE(s->app.upload);
  EXPECT_EQ(s->output.csv, "out/mine.csv");
  EXPECT_EQ(s->output.svg, "out/mine.svg");

  sim::LinkConfig l;
  ApplyLinkChange(s->paths[0].downlink, l);
  EXPECT_EQ(l.bandwidth_bps, 10'000'000u);
  EXPECT_EQ(l.queue_bytes, kDefaultQueueBytes);
}

// A valid scenario to break one field at a time.
json Base() {
  return json::parse(R"({
    "name": "t", "seed": 3, "duration_s": 10,
    "paths": [{"name": "wifi", "rate_mbps": 20, "delay_ms": 10},
              {"name": "3g", "rate_mbps": 3, "delay_ms": 60, "backup": true}],
    "events": [{"at_s": 2, "path": "wifi", "action": "down"}],
    "app": {"type": "media", "bitrate_mbps": 1, "length_s": 5}
  })");
}

std::string ErrorOf(const json& j) {
  absl::StatusOr<Scenario> s = ScenarioFromJson(j, "t");
  if (s.ok()) return "(no error)";
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}

TEST(ScenarioTest, BaseIsValid) { EXPECT_EQ(ErrorOf(Base()), "(no error)"); }

struct BadCase {
  const char* what;
  std::function<void(json&)> edit;
  const char* error;
};

TEST(ScenarioTest, EachBadFieldNamesItself) {
  const std::vector<BadCase> cases = {
      // Numbers.
      {"negative rate", [](json& j) { j["paths"][1]["rate_mbps"] = -3; },
       "paths[1].rate_mbps: expected a positive number"},
      {"zero rate", [](json& j) { j["paths"][1]["rate_mbps"] = 0; },
       "paths[1].rate_mbps: expected a positive number"},
      {"string rate", [](json& j) { j["paths"][1]["rate_mbps"] = "fast"; },
       "paths[1].rate_mbps: expected a positive number"},
      {"huge rate", [](json& j) { j["paths"][1]["rate_mbps"] = 1e9; },
       "paths[1].rate_mbps: expected a positive number, at most 1e+06"},
      {"negative delay", [](json& j) { j["paths"][0]["delay_ms"] = -1; },
       "paths[0].delay_ms: expected a number >= 0"},
      {"loss above 1", [](json& j) { j["paths"][0]["loss"] = 1.5; },
       "paths[0].loss: expected a number between 0 and 1"},
      {"fractional queue", [](json& j) { j["paths"][0]["queue_bytes"] = 1.5; },
       "paths[0].queue_bytes: expected a positive integer"},
      {"zero queue", [](json& j) { j["paths"][0]["queue_bytes"] = 0; },
       "paths[0].queue_bytes: expected a positive integer"},
      {"per-direction rate", [](json& j) { j["paths"][0]["downlink"] = {{"rate_mbps", -1}}; },
       "paths[0].downlink.rate_mbps: expected a positive number"},
      {"Gilbert-Elliott probability",
       [](json& j) { j["paths"][0]["gilbert_elliott"] = {{"p_good_to_bad", 2}}; },
       "paths[0].gilbert_elliott.p_good_to_bad: expected a number between 0 and 1"},
      {"negative seed", [](json& j) { j["seed"] = -1; }, "seed: expected a non-negative integer"},
      {"fractional seed", [](json& j) { j["seed"] = 1.5; },
       "seed: expected a non-negative integer"},
      {"zero duration", [](json& j) { j["duration_s"] = 0; },
       "duration_s: expected a positive number"},
      {"huge duration", [](json& j) { j["duration_s"] = 1e7; },
       "duration_s: expected a positive number, at most 1e+06"},
      {"negative event time", [](json& j) { j["events"][0]["at_s"] = -2; },
       "events[0].at_s: expected a number >= 0"},
      {"zero bitrate", [](json& j) { j["app"]["bitrate_mbps"] = 0; },
       "app.bitrate_mbps: expected a positive number"},
      {"zero bulk bytes", [](json& j) { j["app"] = {{"type", "bulk"}, {"bytes", 0}}; },
       "app.bytes: expected a positive integer"},
      // Other types.
      {"string backup", [](json& j) { j["paths"][0]["backup"] = "yes"; },
       "paths[0].backup: expected true or false"},
      {"empty name", [](json& j) { j["paths"][0]["name"] = ""; },
       "paths[0].name: expected a non-empty string"},
      {"numeric csv", [](json& j) { j["output"] = {{"csv", 3}}; },
       "output.csv: expected a string"},
      {"unknown scheduler", [](json& j) { j["scheduler"] = "fastest"; },
       "scheduler: expected one of \"min-rtt\", \"default\", \"round-robin\", \"rr\", "
       "\"redundant\", \"blest\", \"ecf\", \"minrtt\", \"roundrobin\""},
      {"unknown congestion control", [](json& j) { j["congestion_control"] = "reno"; },
       "congestion_control: expected one of \"newreno\", \"cubic\", \"lia\", \"olia\", "
       "\"balia\""},
      {"congestion control by case", [](json& j) { j["congestion_control"] = "LIA"; },
       "congestion_control: expected one of \"newreno\", \"cubic\", \"lia\", \"olia\", "
       "\"balia\""},
      {"unknown action", [](json& j) { j["events"][0]["action"] = "off"; },
       "events[0].action: expected one of \"down\", \"up\", \"set\""},
      {"unknown app", [](json& j) { j["app"]["type"] = "video"; },
       "app.type: expected one of \"bulk\", \"media\""},
      {"path object", [](json& j) { j["paths"][1] = 3; }, "paths[1]: expected an object"},
      {"paths object", [](json& j) { j["paths"] = json::object(); },
       "paths: expected an array"},
      {"top-level array", [](json& j) { j = json::array(); }, "scenario: expected an object"},
      // Unknown fields, with a suggestion for near misses.
      {"typo in a path", [](json& j) { j["paths"][0]["rte_mbps"] = 20; },
       "paths[0].rte_mbps: unknown field (did you mean \"rate_mbps\"?)"},
      {"typo at the top", [](json& j) { j["sed"] = 3; },
       "sed: unknown field (did you mean \"seed\"?)"},
      {"unknown at the top", [](json& j) { j["xyzzy"] = 1; }, "xyzzy: unknown field"},
      {"typo in Gilbert-Elliott",
       [](json& j) { j["paths"][0]["gilbert_elliott"] = {{"p_good_to_bda", 0.1}}; },
       "paths[0].gilbert_elliott.p_good_to_bda: unknown field (did you mean "
       "\"p_good_to_bad\"?)"},
      {"media field in a bulk app",
       [](json& j) { j["app"] = {{"type", "bulk"}, {"bytes", 10}, {"bitrate_mbps", 1}}; },
       "app.bitrate_mbps: unknown field"},
      // Missing, duplicate, dangling.
      {"no rate", [](json& j) { j["paths"][0].erase("rate_mbps"); },
       "paths[0].rate_mbps: required (a positive number)"},
      {"no uplink rate",
       [](json& j) {
         j["paths"][0].erase("rate_mbps");
         j["paths"][0]["downlink"] = {{"rate_mbps", 5}};
       },
       "paths[0].rate_mbps: required (a positive number)"},
      {"uplink object without a rate",
       [](json& j) {
         j["paths"][0].erase("rate_mbps");
         j["paths"][0]["downlink"] = {{"rate_mbps", 5}};
         j["paths"][0]["uplink"] = {{"delay_ms", 5}};
       },
       "paths[0].uplink.rate_mbps: required (a positive number)"},
      {"no paths", [](json& j) { j.erase("paths"); },
       "paths: required (an array of 1 to 8 paths)"},
      {"empty paths", [](json& j) { j["paths"] = json::array(); },
       "paths: expected at least one path"},
      {"nine paths",
       [](json& j) {
         json p = json::array();
         for (int i = 0; i < 9; ++i) p.push_back({{"name", std::to_string(i)}, {"rate_mbps", 1}});
         j["paths"] = p;
         j.erase("events");
       },
       "paths: at most 8 paths (the connection's subflow limit)"},
      {"duplicate name", [](json& j) { j["paths"][1]["name"] = "wifi"; },
       "paths[1].name: \"wifi\" is already the name of paths[0]"},
      {"dangling event path", [](json& j) { j["events"][0]["path"] = "wfi"; },
       "events[0].path: no path named \"wfi\" (the paths are \"wifi\", \"3g\")"},
      {"event without a time", [](json& j) { j["events"][0].erase("at_s"); },
       "events[0].at_s: required (a time in seconds, >= 0)"},
      {"link field on a down event", [](json& j) { j["events"][0]["rate_mbps"] = 1; },
       "events[0].rate_mbps: only a \"set\" event changes link fields"},
      {"set event without a change", [](json& j) { j["events"][0]["action"] = "set"; },
       "events[0]: a \"set\" event needs a link field to change (rate_mbps, delay_ms, "
       "jitter_ms, loss, queue_bytes, gilbert_elliott, reorder, reorder_delay_ms)"},
      {"no app", [](json& j) { j.erase("app"); }, "app: required (an object with \"type\")"},
      {"media without a bitrate", [](json& j) { j["app"].erase("bitrate_mbps"); },
       "app.bitrate_mbps: required (a positive number)"},
      {"events not an array", [](json& j) { j["events"] = 1; }, "events: expected an array"},
      {"dangling baseline", [](json& j) { j["baseline_path"] = "lte"; },
       "baseline_path: no path named \"lte\" (the paths are \"wifi\", \"3g\")"},
      {"numeric baseline", [](json& j) { j["baseline_path"] = 1; },
       "baseline_path: expected a non-empty string"},
  };
  for (const BadCase& c : cases) {
    json j = Base();
    c.edit(j);
    EXPECT_EQ(ErrorOf(j), c.error) << c.what;
  }
}

TEST(ScenarioTest, SyntaxErrorsNameTheFileAndPlace) {
  absl::StatusOr<Scenario> s = ParseScenario("{\n  \"seed\": 1,\n}", "bad.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()).rfind("bad.json: parse error at line 3, column 1:",
                                                    0),
            0u)
      << s.status().message();
  EXPECT_FALSE(ParseScenario("", "empty.json").ok());
  EXPECT_FALSE(ParseScenario("{\"seed\": 1", "cut.json").ok());
}

TEST(ScenarioTest, KeyValueSpecs) {
  absl::StatusOr<json> j =
      KeyValuesToJson("name=3g, rate_mbps=3,backup,downlink.rate_mbps=1.5,loss=1e-3,x=false");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(*j, json::parse(R"({"name": "3g", "rate_mbps": 3, "backup": true,
                                "downlink": {"rate_mbps": 1.5}, "loss": 0.001, "x": false})"));
  EXPECT_EQ(KeyValuesToJson("=3").status().message(), "\"=3\": expected key=value");
  EXPECT_EQ(KeyValuesToJson("a=1,a.b=2").status().message(),
            "\"a.b\": \"a\" is already a value");
  // Values are checked by the scenario reader like any other.
  json doc = Base();
  ScenarioOverrides o;
  o.paths = {"name=wifi,rate_mbps=-3"};
  ASSERT_TRUE(ApplyOverrides(o, doc).ok());
  EXPECT_FALSE(doc.contains("events"));  // they named the old paths
  EXPECT_EQ(ErrorOf(doc), "paths[0].rate_mbps: expected a positive number");
}

TEST(ScenarioTest, EveryControllerByName) {
  EXPECT_EQ(ScenarioFromJson(Base(), "t")->congestion_control, cc::CcAlgorithm::kCubic);
  for (cc::CcAlgorithm a : cc::kAllCcAlgorithms) {
    json j = Base();
    j["congestion_control"] = std::string(cc::CcAlgorithmName(a));
    absl::StatusOr<Scenario> s = ScenarioFromJson(j, "t");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->congestion_control, a);
  }
}

TEST(ScenarioTest, CcOverride) {
  json doc = Base();
  ScenarioOverrides o;
  o.congestion_control = "olia";
  ASSERT_TRUE(ApplyOverrides(o, doc).ok());
  EXPECT_EQ(ScenarioFromJson(doc, "t")->congestion_control, cc::CcAlgorithm::kOlia);
  o.congestion_control = "vegas";
  EXPECT_EQ(ApplyOverrides(o, doc).message(),
            "--cc: unknown congestion control \"vegas\" (expected one of newreno, cubic, lia, "
            "olia, balia)");
}

TEST(ScenarioTest, OverridesReplaceWhatTheyName) {
  json doc = Base();
  ScenarioOverrides o;
  o.seed = "42";
  o.duration_s = "7.5";
  o.csv = "a.csv";
  o.pcap = "a.pcap";
  o.paths = {"name=a,rate_mbps=30", "name=b,rate_mbps=10,delay_ms=20"};
  o.events = {"at_s=1,path=b,action=set,rate_mbps=5"};
  o.app = "type=bulk,bytes=16777216";
  ASSERT_TRUE(ApplyOverrides(o, doc).ok());
  absl::StatusOr<Scenario> s = ScenarioFromJson(doc, "t");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->duration_s, 7.5);
  EXPECT_EQ(s->output.csv, "a.csv");
  EXPECT_EQ(s->output.svg, "out/t.svg");
  EXPECT_EQ(s->output.pcap, "a.pcap");
  ASSERT_EQ(s->paths.size(), 2u);
  EXPECT_EQ(s->paths[1].downlink.delay_ms, 20);
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].path, 1u);
  EXPECT_EQ(s->events[0].uplink.rate_mbps, 5);
  EXPECT_EQ(s->app.bytes, 16u << 20);

  ScenarioOverrides none;
  none.events = {"none"};
  json d2 = Base();
  ASSERT_TRUE(ApplyOverrides(none, d2).ok());
  EXPECT_TRUE(ScenarioFromJson(d2, "t")->events.empty());

  for (const char* bad : {"-1", "1.5", "x", ""}) {
    ScenarioOverrides b;
    b.seed = bad;
    json d = Base();
    EXPECT_EQ(ApplyOverrides(b, d).message(), "--seed: expected a non-negative integer") << bad;
  }
  for (const char* bad : {"0", "-3", "soon", "1e7"}) {
    ScenarioOverrides b;
    b.duration_s = bad;
    json d = Base();
    EXPECT_EQ(ApplyOverrides(b, d).message(),
              "--duration: expected a positive number of seconds, at most 1e+06")
        << bad;
  }
  ScenarioOverrides b;
  b.app = "=x";
  json d = Base();
  EXPECT_EQ(ApplyOverrides(b, d).message(), "--app: \"=x\": expected key=value");
}

TEST(ScenarioTest, OverridesAndTheBaselineAndDescription) {
  json doc = Base();
  doc["baseline_path"] = "wifi";
  doc["description"] = "Wi-Fi fails at 2 s";
  ASSERT_EQ(ScenarioFromJson(doc, "t")->baseline_path, 0u);
  // Only the seed changes: the same scenario, described as before.
  {
    json d = doc;
    ScenarioOverrides o;
    o.seed = "9";
    ASSERT_TRUE(ApplyOverrides(o, d).ok());
    EXPECT_EQ(ScenarioFromJson(d, "t")->description, "Wi-Fi fails at 2 s");
    EXPECT_EQ(ScenarioFromJson(d, "t")->baseline_path, 0u);
  }
  // New paths: the baseline named an old one, and the description is stale.
  {
    json d = doc;
    ScenarioOverrides o;
    o.paths = {"name=a,rate_mbps=5", "name=b,rate_mbps=6"};
    ASSERT_TRUE(ApplyOverrides(o, d).ok());
    absl::StatusOr<Scenario> s = ScenarioFromJson(d, "t");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->baseline_path.has_value());
    EXPECT_EQ(s->description, "");
  }
  // New paths and a baseline among them.
  {
    json d = doc;
    ScenarioOverrides o;
    o.paths = {"name=a,rate_mbps=5", "name=b,rate_mbps=6"};
    o.baseline = "b";
    ASSERT_TRUE(ApplyOverrides(o, d).ok());
    EXPECT_EQ(ScenarioFromJson(d, "t")->baseline_path, 1u);
  }
  // A new application keeps the paths and the baseline, not the description.
  {
    json d = doc;
    ScenarioOverrides o;
    o.app = "type=bulk,bytes=1000";
    ASSERT_TRUE(ApplyOverrides(o, d).ok());
    EXPECT_EQ(ScenarioFromJson(d, "t")->baseline_path, 0u);
    EXPECT_EQ(ScenarioFromJson(d, "t")->description, "");
  }
  // "none" removes it.
  {
    json d = doc;
    ScenarioOverrides o;
    o.baseline = "none";
    ASSERT_TRUE(ApplyOverrides(o, d).ok());
    EXPECT_FALSE(ScenarioFromJson(d, "t")->baseline_path.has_value());
  }
}

}  // namespace
}  // namespace mptcp::tools

// The text, JSON, CSV and SVG renderings of report.h.
#include "tools/trace/report.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mptcp::trace {
namespace {

constexpr const char* kDirName[2] = {"c2s", "s2c"};
constexpr std::array<const char*, 8> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                 "#9467bd", "#8c564b", "#e377c2", "#17becf"};

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string Id(const std::optional<uint8_t>& id) {
  return id ? absl::StrCat(*id) : std::string("-");
}

nlohmann::json Pair(const std::array<uint64_t, 2>& v) { return nlohmann::json::array({v[0], v[1]}); }

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace

std::string TextReport(const InputInfo& in, const TraceSummary& s) {
  std::string o;
  absl::StrAppendFormat(&o,
                        "%s: %s, %u frames, %u TCP segments, %u other, %u malformed, %u of an "
                        "unsupported link type\n",
                        in.path, in.format, s.frames, s.tcp_segments, s.non_tcp_frames,
                        s.malformed_frames, s.unsupported_link_frames);
  if (!in.read_error.empty()) {
    absl::StrAppendFormat(&o, "%s: %s\n", in.truncated_tail ? "warning" : "error", in.read_error);
  }
  for (const std::string& m : s.malformed_examples) absl::StrAppendFormat(&o, "  malformed %s\n", m);
  absl::StrAppendFormat(&o, "%u MPTCP connection(s), %u plain TCP flow(s)", s.connections.size(),
                        s.plain_tcp_flows);
  if (s.unmatched_segments > 0) {
    absl::StrAppendFormat(&o, ", %u segments of flows whose SYN is not in the capture",
                          s.unmatched_segments);
  }
  o += "\n";
  const int64_t t0 = s.first_time_ns;
  for (const ConnectionSummary& c : s.connections) {
    absl::StrAppendFormat(&o, "\nconnection %d: MPTCP v%d%s", c.index, c.version,
                          c.checksum ? ", DSS checksums" : "");
    for (int side = 0; side < 2; ++side) {
      absl::StrAppendFormat(&o, ", %s key %s token %s", side == 0 ? "client" : "server",
                            c.key[side] ? absl::StrFormat("%016x", *c.key[side]) : "-",
                            c.token[side] ? absl::StrFormat("%08x", *c.token[side]) : "-");
    }
    o += "\n";
    if (c.fallback) absl::StrAppendFormat(&o, "  FALLBACK to TCP: %s\n", c.fallback_reason);
    for (const SubflowSummary& f : c.subflows) {
      absl::StrAppendFormat(
          &o, "  subflow %d: %s -> %s (opened by the %s) %s, address ids %s/%s%s%s%s\n", f.index,
          f.initiator.ToString(), f.responder.ToString(),
          f.initiator_side == 0 ? "client" : "server", f.join ? "MP_JOIN" : "MP_CAPABLE",
          Id(f.initiator_address_id), Id(f.responder_address_id), f.backup ? ", backup" : "",
          f.join ? absl::StrCat(", HMAC ", f.hmac) : "", f.established ? "" : ", not established");
      absl::StrAppendFormat(&o, "    c2s %u bytes in %u packets, s2c %u bytes in %u packets%s\n",
                            f.payload_bytes[0], f.packets[0], f.payload_bytes[1], f.packets[1],
                            f.reset ? ", reset" : "");
    }
    absl::StrAppendFormat(&o,
                          "  payload c2s %u bytes, s2c %u bytes; reinjected c2s %u, s2c %u\n",
                          c.payload_bytes(0), c.payload_bytes(1), c.reinjected_bytes[0],
                          c.reinjected_bytes[1]);
    absl::StrAppendFormat(&o,
                          "  MP_JOIN SYN %u, SYN/ACK %u, ACK %u; ADD_ADDR c2s %u s2c %u (echo c2s "
                          "%u s2c %u); REMOVE_ADDR %u/%u; MP_PRIO %u/%u; MP_FAIL %u, "
                          "MP_FASTCLOSE %u, MP_TCPRST %u\n",
                          c.join_syns, c.join_synacks, c.join_acks, c.add_addr[0], c.add_addr[1],
                          c.add_addr_echo[0], c.add_addr_echo[1], c.remove_addr[0],
                          c.remove_addr[1], c.mp_prio[0], c.mp_prio[1], c.mp_fail,
                          c.mp_fastclose, c.mp_tcprst);
    for (int d = 0; d < 2; ++d) {
      if (c.data_fin[d]) absl::StrAppendFormat(&o, "  DATA_FIN %s at dsn %u\n", kDirName[d], *c.data_fin[d]);
    }
    o += "  timeline:\n";
    for (const TraceEvent& e : c.events) {
      absl::StrAppendFormat(&o, "    %10.6f frame %-7u %s %s %s\n", Seconds(e.time_ns - t0),
                            e.frame, e.subflow >= 0 ? absl::StrCat("sf", e.subflow) : "   ",
                            kDirName[e.direction], e.what);
    }
    if (c.events_dropped > 0) absl::StrAppendFormat(&o, "    (%u more)\n", c.events_dropped);
  }
  if (s.findings.empty()) {
    o += "\nfindings: none\n";
  } else {
    absl::StrAppendFormat(&o, "\nfindings: %u\n", s.findings.size() + s.findings_dropped);
    for (const Finding& f : s.findings) {
      absl::StrAppendFormat(&o, "  frame %u connection %d %s: %s\n", f.frame, f.connection,
                            f.check, f.message);
    }
    if (s.findings_dropped > 0) absl::StrAppendFormat(&o, "  (%u more)\n", s.findings_dropped);
  }
  return o;
}

nlohmann::json JsonReport(const InputInfo& in, const TraceSummary& s) {
  using nlohmann::json;
  json j;
  j["file"] = in.path;
  j["format"] = in.format;
  j["read_error"] = in.read_error;
  j["truncated_tail"] = in.truncated_tail;
  j["frames"] = s.frames;
  j["tcp_segments"] = s.tcp_segments;
  j["non_tcp_frames"] = s.non_tcp_frames;
  j["unsupported_link_frames"] = s.unsupported_link_frames;
  j["malformed_frames"] = s.malformed_frames;
  j["malformed_examples"] = s.malformed_examples;
  j["plain_tcp_flows"] = s.plain_tcp_flows;
  j["unmatched_segments"] = s.unmatched_segments;
  j["duration_s"] = Seconds(s.last_time_ns - s.first_time_ns);
  json conns = json::array();
  for (const ConnectionSummary& c : s.connections) {
    json jc;
    jc["index"] = c.index;
    jc["version"] = c.version;
    jc["checksum"] = c.checksum;
    for (int side = 0; side < 2; ++side) {
      const char* who = side == 0 ? "client" : "server";
      jc[absl::StrCat(who, "_key")] =
          c.key[side] ? json(absl::StrFormat("%016x", *c.key[side])) : json(nullptr);
      jc[absl::StrCat(who, "_token")] =
          c.token[side] ? json(absl::StrFormat("%08x", *c.token[side])) : json(nullptr);
    }
    jc["fallback"] = c.fallback;
    jc["fallback_reason"] = c.fallback_reason;
    json subs = json::array();
    for (const SubflowSummary& f : c.subflows) {
      json js;
      js["index"] = f.index;
      js["initiator"] = f.initiator.ToString();
      js["responder"] = f.responder.ToString();
      js["opened_by"] = f.initiator_side == 0 ? "client" : "server";
      js["join"] = f.join;
      js["initiator_address_id"] =
          f.initiator_address_id ? json(*f.initiator_address_id) : json(nullptr);
      js["responder_address_id"] =
          f.responder_address_id ? json(*f.responder_address_id) : json(nullptr);
      js["backup"] = f.backup;
      js["established"] = f.established;
      js["hmac"] = f.hmac;
      js["reset"] = f.reset;
      js["tcprst_reason"] = f.tcprst_reason ? json(*f.tcprst_reason) : json(nullptr);
      js["packets"] = Pair(f.packets);
      js["payload_bytes"] = Pair(f.payload_bytes);
      js["first_frame"] = f.first_frame;
      subs.push_back(std::move(js));
    }
    jc["subflows"] = std::move(subs);
    jc["payload_bytes"] = json::array({c.payload_bytes(0), c.payload_bytes(1)});
    jc["reinjected_bytes"] = Pair(c.reinjected_bytes);
    jc["join_syn"] = c.join_syns;
    jc["join_synack"] = c.join_synacks;
    jc["join_ack"] = c.join_acks;
    jc["add_addr"] = Pair(c.add_addr);
    jc["add_addr_echo"] = Pair(c.add_addr_echo);
    jc["remove_addr"] = Pair(c.remove_addr);
    jc["mp_prio"] = Pair(c.mp_prio);
    jc["mp_fail"] = c.mp_fail;
    jc["mp_fastclose"] = c.mp_fastclose;
    jc["mp_tcprst"] = c.mp_tcprst;
    jc["data_fin"] = json::array({c.data_fin[0] ? json(*c.data_fin[0]) : json(nullptr),
                                  c.data_fin[1] ? json(*c.data_fin[1]) : json(nullptr)});
    json ev = json::array();
    for (const TraceEvent& e : c.events) {
      ev.push_back({{"frame", e.frame},
                    {"time_s", Seconds(e.time_ns - s.first_time_ns)},
                    {"subflow", e.subflow},
                    {"direction", kDirName[e.direction]},
                    {"what", e.what}});
    }
    jc["events"] = std::move(ev);
    jc["events_dropped"] = c.events_dropped;
    conns.push_back(std::move(jc));
  }
  j["connections"] = std::move(conns);
  json fs = json::array();
  for (const Finding& f : s.findings) {
    fs.push_back({{"frame", f.frame},
                  {"connection", f.connection},
                  {"check", f.check},
                  {"message", f.message}});
  }
  j["findings"] = std::move(fs);
  j["findings_dropped"] = s.findings_dropped;
  return j;
}

std::string CsvLine(const DataPoint& p, int64_t t0_ns) {
  return absl::StrFormat("%.6f,%d,%d,%s,%u,%u,%u,%d,%u\n", Seconds(p.time_ns - t0_ns),
                         p.connection, p.subflow, kDirName[p.direction], p.dsn, p.length, p.ssn,
                         p.reinjected ? 1 : 0, p.frame);
}

std::string SubflowCsv(const TraceSummary& s) {
  std::string o = kSubflowCsvHeader;
  for (const ConnectionSummary& c : s.connections) {
    for (const SubflowSummary& f : c.subflows) {
      absl::StrAppendFormat(&o, "%d,%d,%s,%s,%s,%d,%s,%s,%d,%d,%s,%u,%u,%u,%u\n", c.index,
                            f.index, f.initiator.ToString(), f.responder.ToString(),
                            f.initiator_side == 0 ? "client" : "server", f.join ? 1 : 0,
                            Id(f.initiator_address_id), Id(f.responder_address_id),
                            f.backup ? 1 : 0, f.established ? 1 : 0, f.hmac, f.packets[0],
                            f.packets[1], f.payload_bytes[0], f.payload_bytes[1]);
    }
  }
  return o;
}

std::string SvgPlot(const InputInfo& in, const TraceSummary& s,
                    const std::vector<DataPoint>& points, size_t max_marks_per_panel) {
  // One panel per (connection, direction) that carried data.
  std::map<std::pair<int, int>, std::vector<const DataPoint*>> panels;
  for (const DataPoint& p : points) panels[{p.connection, p.direction}].push_back(&p);
  constexpr int kWidth = 900, kPanelHeight = 320, kLeft = 90, kRight = 150, kTop = 40;
  constexpr int kPlotH = 240;
  const int height = kTop + std::max<int>(1, static_cast<int>(panels.size())) * kPanelHeight;
  std::string o = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"20\" font-size=\"14\">%s: relative data sequence number against "
      "time, by subflow</text>\n",
      kWidth, height, kLeft, XmlEscape(in.path));
  if (panels.empty()) {
    absl::StrAppendFormat(&o, "<text x=\"%d\" y=\"60\">no MPTCP data segments</text>\n", kLeft);
  }
  const int64_t t0 = s.first_time_ns;
  const double span_s = std::max(1e-6, Seconds(s.last_time_ns - t0));
  int row = 0;
  for (const auto& [key, pts] : panels) {
    const int y0 = kTop + row * kPanelHeight + 20;
    const int plot_w = kWidth - kLeft - kRight;
    uint64_t max_dsn = 1;
    for (const DataPoint* p : pts) max_dsn = std::max<uint64_t>(max_dsn, p->dsn + p->length);
    absl::StrAppendFormat(&o,
                          "<text x=\"%d\" y=\"%d\">connection %d, %s</text>\n"
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                          "stroke=\"#888\"/>\n",
                          kLeft, y0 - 6, key.first, key.second == 0 ? "client to server"
                                                                    : "server to client",
                          kLeft, y0, plot_w, kPlotH);
    // Axis labels: time at both ends, DSN at both ends (in bytes).
    absl::StrAppendFormat(&o,
                          "<text x=\"%d\" y=\"%d\">0 s</text>"
                          "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3f s</text>\n"
                          "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>"
                          "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n",
                          kLeft, y0 + kPlotH + 15, kLeft + plot_w, y0 + kPlotH + 15, span_s,
                          kLeft - 4, y0 + kPlotH, kLeft - 4, y0 + 10, max_dsn);
    const size_t step = std::max<size_t>(1, pts.size() / std::max<size_t>(1, max_marks_per_panel));
    std::map<int, bool> seen;
    for (size_t i = 0; i < pts.size(); i += step) {
      const DataPoint& p = *pts[i];
      seen[p.subflow] = true;
      const double x = kLeft + plot_w * Seconds(p.time_ns - t0) / span_s;
      const double ya = y0 + kPlotH - kPlotH * static_cast<double>(p.dsn) / max_dsn;
      const double yb = y0 + kPlotH - kPlotH * static_cast<double>(p.dsn + p.length) / max_dsn;
      absl::StrAppendFormat(&o,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"%s\" stroke-width=\"%s\"/>\n",
                            x, ya, x, std::min(yb, ya - 1.0),
                            kPalette[static_cast<size_t>(p.subflow) % kPalette.size()],
                            p.reinjected ? "3" : "1.5");
    }
    int legend = 0;
    for (const auto& [sf, unused] : seen) {
      const int ly = y0 + 10 + legend++ * 16;
      absl::StrAppendFormat(&o,
                            "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                            "<text x=\"%d\" y=\"%d\">subflow %d</text>\n",
                            kLeft + plot_w + 12, ly - 9,
                            kPalette[static_cast<size_t>(sf) % kPalette.size()],
                            kLeft + plot_w + 26, ly, sf);
    }
    ++row;
  }
  o += "</svg>\n";
  return o;
}

}  // namespace mptcp::trace

// mptcp_sim's outputs from a RunReport: the text header and per-second table (stdout), the
// CSV (one row per second per path, for the run and its baseline) and an SVG plot of per-path
// throughput and the sending subflows' congestion windows with the down periods shaded, the
// playout buffer and the playback stalls. Pure
// functions of the report, formatted with fixed precision, so the same run gives the same bytes.
#ifndef MPTCP_TOOLS_SIM_REPORT_H_
#define MPTCP_TOOLS_SIM_REPORT_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "mptcp/scheduler/factory.h"
#include "tools/sim/runner.h"
#include "tools/sim/scenario.h"

namespace mptcp::tools {

// "20 Mbit/s, 10 ms, +0-20 ms jitter, 0.2% loss, queue 64 KiB".
std::string DescribeLink(const LinkChange& l);
// Paths, events and the application, a few lines.
std::string DescribeScenario(const Scenario& s);
// The per-second table and the summary below it.
std::string FormatTable(const RunReport& r);
// The closing summary alone (stalls, delivery, outcome).
std::string FormatSummary(const RunReport& r);
// run,time_s,path,subflow,state,throughput_mbps,cwnd_bytes,srtt_ms,bytes,goodput_mbps,
// buffer_s,stalled_s: one row per path per second (time_s is the second's end), for the run
// ("all paths") and then its baseline ("wifi only"); buffer_s and stalled_s for media only.
std::string FormatCsv(const RunReport& r);
std::string RenderSvg(const RunReport& r);

// --- implementation ---------------------------------------------------------------------------

namespace report_internal {

inline std::string Num(double v) {
  // Shortest of %g up to 6 digits; "-0" never shows.
  if (v == 0) v = 0;
  return absl::StrFormat("%g", v);
}

inline std::string Bytes(uint64_t b) {
  if (b >= (1u << 20) && b % (1u << 20) == 0) return absl::StrCat(b >> 20, " MiB");
  if (b >= 1024 && b % 1024 == 0) return absl::StrCat(b >> 10, " KiB");
  return absl::StrCat(b, " B");
}

inline std::string XmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A tick step of 1, 2 or 5 times a power of ten giving at most `max_ticks` ticks over `span`.
inline double NiceStep(double span, int max_ticks) {
  if (span <= 0) return 1;
  const double raw = span / max_ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

inline const char* Color(size_t i) {
  static constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  return kColors[i % 8];
}

inline std::string ActionText(const EventSpec& e, const Scenario& s) {
  const std::string& name = s.paths[e.path].name;
  switch (e.action) {
    case EventAction::kDown: return absl::StrCat(name, " down");
    case EventAction::kUp: return absl::StrCat(name, " up");
    case EventAction::kSet: break;
  }
  std::string d = DescribeLink(e.downlink), u = DescribeLink(e.uplink);
  if (d == u) return absl::StrCat(name, ": ", d);
  std::vector<std::string> parts;
  if (!e.downlink.empty()) parts.push_back(absl::StrCat("down ", d));
  if (!e.uplink.empty()) parts.push_back(absl::StrCat("up ", u));
  return absl::StrCat(name, ": ", absl::StrJoin(parts, "; "));
}

inline absl::string_view PlayerStateName(Player::State s) {
  switch (s) {
    case Player::State::kBuffering: return "buffering";
    case Player::State::kPlaying: return "playing";
    case Player::State::kStalled: return "STALLED";
    case Player::State::kDone: return "done";
  }
  return "?";
}

}  // namespace report_internal

inline std::string DescribeLink(const LinkChange& l) {
  using report_internal::Num;
  std::vector<std::string> parts;
  if (l.rate_mbps) parts.push_back(absl::StrCat(Num(*l.rate_mbps), " Mbit/s"));
  if (l.delay_ms) parts.push_back(absl::StrCat(Num(*l.delay_ms), " ms"));
  if (l.jitter_ms && *l.jitter_ms > 0) {
    parts.push_back(absl::StrCat("+0-", Num(*l.jitter_ms), " ms jitter"));
  }
  if (l.loss && *l.loss > 0) parts.push_back(absl::StrCat(Num(*l.loss * 100), "% loss"));
  if (l.gilbert_elliott && l.gilbert_elliott->enabled()) {
    parts.push_back(absl::StrFormat("bursty loss (%s%% mean, %s-packet bursts)",
                                    Num(l.gilbert_elliott->MeanLoss() * 100),
                                    Num(std::round(l.gilbert_elliott->MeanBadRun() * 10) / 10)));
  }
  if (l.reorder && *l.reorder > 0) {
    parts.push_back(absl::StrCat(Num(*l.reorder * 100), "% reordered by ",
                                 Num(l.reorder_delay_ms.value_or(0)), " ms"));
  }
  if (l.queue_bytes) {
    parts.push_back(absl::StrCat("queue ", report_internal::Bytes(*l.queue_bytes)));
  }
  return absl::StrJoin(parts, ", ");
}

inline std::string DescribeScenario(const Scenario& s) {
  using report_internal::Num;
  std::string out = absl::StrCat("scenario ", s.name, "\n");
  if (!s.description.empty()) absl::StrAppend(&out, "  ", s.description, "\n");
  absl::StrAppend(&out, "  seed ", s.seed, ", at most ", Num(s.duration_s), " s, scheduler ",
                  std::string(SchedulerKindName(s.scheduler)), ", ",
                  std::string(cc::CcAlgorithmName(s.congestion_control)), "\n");
  for (size_t i = 0; i < s.paths.size(); ++i) {
    const PathSpec& p = s.paths[i];
    const std::string d = DescribeLink(p.downlink), u = DescribeLink(p.uplink);
    absl::StrAppendFormat(&out, "  path %-8s %s%s\n", p.name,
                          d == u ? d : absl::StrCat("down ", d, "; up ", u),
                          p.backup ? "; backup" : "");
  }
  std::vector<const EventSpec*> ev;
  for (const EventSpec& e : s.events) ev.push_back(&e);
  std::stable_sort(ev.begin(), ev.end(),
                   [](const EventSpec* a, const EventSpec* b) { return a->at_s < b->at_s; });
  for (const EventSpec* e : ev) {
    absl::StrAppendFormat(&out, "  at %6.2f s  %s\n", e->at_s,
                          report_internal::ActionText(*e, s));
  }
  const AppSpec& a = s.app;
  if (a.kind == AppKind::kBulk) {
    absl::StrAppend(&out, "  app bulk ", a.upload ? "upload" : "download", " of ", a.bytes,
                    " bytes\n");
  } else {
    absl::StrAppend(&out, "  app media: ", Num(a.bitrate_mbps), " Mbit/s for ", Num(a.length_s),
                    " s, one ", Num(a.chunk_s), " s chunk at a time; the player starts (and "
                    "restarts after a stall) with ", Num(a.startup_s), " s buffered\n");
  }
  if (s.baseline_path) {
    absl::StrAppend(&out, "  compared with the same over ", s.paths[*s.baseline_path].name,
                    " alone (one subflow, as single-path TCP)\n");
  }
  return out;
}

namespace report_internal {

// A table or plot time: whole seconds without decimals ("10"), else two ("27.15").
inline std::string Secs(double t) {
  const double r = std::round(t);
  if (std::abs(t - r) < 5e-4) return absl::StrCat(static_cast<int64_t>(r));
  return absl::StrFormat("%.2f", t);
}

// The player column of a row: its state at the row's end, or the time it spent stalled.
inline std::string PlayerCell(const Row& row) {
  if (row.stalled_s > 0) return absl::StrFormat("STALL %.2fs", row.stalled_s);
  return std::string(PlayerStateName(row.player));
}

// How the main run and the baseline are called in every output.
inline constexpr absl::string_view kMainRunLabel = "all paths";
inline std::string BaselineLabel(const RunReport& r) {
  return absl::StrCat(r.scenario.paths.at(*r.scenario.baseline_path).name, " only");
}

// The baseline's row k when it covers the same interval as the main run's (both count whole
// seconds from zero, so only a run's last, partial row can differ).
inline const Row* SameInterval(const RunReport* b, size_t k, const Row& row) {
  if (b == nullptr || k >= b->rows.size()) return nullptr;
  const Row& x = b->rows[k];
  return x.start == row.start && x.end == row.end ? &x : nullptr;
}

// "started at 2.20 s, 1 stall, 1.41 s stalled in total, ends at 29.62 s".
inline std::string PlaybackText(const PlayerSummary& p) {
  std::string out;
  if (p.startup_s) {
    absl::StrAppendFormat(&out, "started at %.2f s, ", *p.startup_s);
  } else {
    absl::StrAppend(&out, "never started, ");
  }
  absl::StrAppendFormat(&out, "%d stall%s, %.2f s stalled in total", p.stalls.size(),
                        p.stalls.size() == 1 ? "" : "s", p.total_stall_s);
  if (p.finished_s) absl::StrAppendFormat(&out, ", ends at %.2f s", *p.finished_s);
  if (p.stalled_at_end) absl::StrAppend(&out, " (still stalled when the run ended)");
  return out;
}

// "no stall" or "1 stall, 11.0 s".
inline std::string StallsShort(const PlayerSummary& p) {
  if (p.stalls.empty()) return "no stall";
  return absl::StrFormat("%d stall%s, %.1f s", p.stalls.size(), p.stalls.size() == 1 ? "" : "s",
                         p.total_stall_s);
}

}  // namespace report_internal

inline std::string FormatTable(const RunReport& r) {
  using report_internal::PlayerCell;
  const Scenario& s = r.scenario;
  const bool media = s.app.kind == AppKind::kMedia;
  const RunReport* base = media ? r.baseline.get() : nullptr;
  constexpr int kPathWidth = 25;
  std::string head1 = absl::StrFormat("%6s |", "time");
  std::string head2 = absl::StrFormat("%6s |", "s");
  for (size_t i = 0; i < s.paths.size(); ++i) {
    // The subflow id: the first one seen on the path.
    SubflowId id = 0;
    for (const Row& row : r.rows) {
      if (row.paths[i].subflow != 0) {
        id = row.paths[i].subflow;
        break;
      }
    }
    std::string title = s.paths[i].name;
    if (id != 0) absl::StrAppend(&title, " (subflow ", id, ")");
    head1 += absl::StrFormat(" %-*s|", kPathWidth - 2, title);
    head2 += absl::StrFormat(" %6s %7s %6s  |", "Mbit/s", "cwnd KB", "rtt ms");
  }
  head1 += absl::StrFormat(" %7s |", "goodput");
  head2 += absl::StrFormat(" %7s |", "Mbit/s");
  if (media) {
    // The player of this run, and of the baseline beside it.
    head1 += absl::StrFormat(" %-19s|",
                             absl::StrCat("player (", report_internal::kMainRunLabel, ")"));
    head2 += absl::StrFormat(" %5s %-12s |", "buf s", "state");
    if (base != nullptr) {
      head1 += absl::StrFormat(" %-19s|",
                               absl::StrCat("player (", report_internal::BaselineLabel(r), ")"));
      head2 += absl::StrFormat(" %5s %-12s |", "buf s", "state");
    }
  }
  head1 += " events";
  while (!head2.empty() && head2.back() == ' ') head2.pop_back();
  std::string out = absl::StrCat(head1, "\n", head2, "\n");
  for (size_t k = 0; k < r.rows.size(); ++k) {
    const Row& row = r.rows[k];
    const double t0 = runner_internal::Secs(row.start), t1 = runner_internal::Secs(row.end);
    std::string line = absl::StrFormat(
        "%6s |", absl::StrCat(report_internal::Secs(t0), "-", report_internal::Secs(t1)));
    for (const PathSample& p : row.paths) {
      if (p.state == SubflowState::kNone) {
        line += absl::StrFormat(" %6.2f %7s %6s  |", p.throughput_mbps, "-", "-");
      } else {
        const char mark = p.state == SubflowState::kStale    ? '!'
                          : p.state == SubflowState::kClosed ? 'x'
                                                             : ' ';
        line += absl::StrFormat(" %6.2f %7.1f %6.0f%c |", p.throughput_mbps,
                                static_cast<double>(p.cwnd) / 1024, p.srtt_ms, mark);
      }
    }
    line += absl::StrFormat(" %7.2f |", row.goodput_mbps);
    if (media) {
      line += absl::StrFormat(" %5.2f %-12s |", row.buffer_s, PlayerCell(row));
      if (base != nullptr) {
        const Row* b = report_internal::SameInterval(base, k, row);
        line += b != nullptr ? absl::StrFormat(" %5.2f %-12s |", b->buffer_s, PlayerCell(*b))
                             : absl::StrFormat(" %5s %-12s |", "", "");
      }
    }
    std::vector<std::string> notes;
    for (const EventSpec& e : s.events) {
      if (e.at_s >= t0 && e.at_s < t1) notes.push_back(report_internal::ActionText(e, s));
    }
    if (!notes.empty()) absl::StrAppend(&line, " ", absl::StrJoin(notes, "; "));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out,
                  "(throughput: payload each path carried in the data direction during the "
                  "second; cwnd and rtt: the sender's subflow at its end; ! stale, x closed)\n");
  return out;
}

inline std::string FormatSummary(const RunReport& r) {
  std::string out;
  const Scenario& s = r.scenario;
  const RunReport* base = r.baseline.get();
  if (s.app.kind == AppKind::kMedia) {
    absl::StrAppend(&out, "playback: ", report_internal::PlaybackText(r.player), "\n");
    for (const Interval& st : r.player.stalls) {
      absl::StrAppendFormat(&out, "  stall %.3f - %.3f s (%.3f s)\n", st.start_s, st.end_s,
                            st.end_s - st.start_s);
    }
  }
  absl::StrAppendFormat(&out, "delivered %d of %d bytes", r.delivered, r.stream_bytes);
  if (r.complete) {
    absl::StrAppend(&out, ", byte-exact, connection closed cleanly");
  } else if (r.ok) {
    absl::StrAppend(&out, " (the run reached duration_s first)");
  }
  absl::StrAppendFormat(&out, "; run ended at %.3f s\n", r.end_s);
  if (base != nullptr) {
    absl::StrAppend(&out, "compared with ", report_internal::BaselineLabel(r),
                    " (one subflow, as single-path TCP): ");
    if (s.app.kind == AppKind::kMedia) {
      absl::StrAppend(&out, "playback ", report_internal::PlaybackText(base->player), "; ");
    }
    if (base->complete) {
      absl::StrAppendFormat(&out, "delivered all in %.3f s\n", base->end_s);
    } else if (base->ok) {
      absl::StrAppendFormat(&out, "delivered %d of %d bytes by %.3f s\n", base->delivered,
                            base->stream_bytes, base->end_s);
    } else {
      absl::StrAppend(&out, "FAILED: ", base->error, "\n");
    }
  }
  if (!r.ok) absl::StrAppend(&out, "FAILED: ", r.error, "\n");
  return out;
}

inline std::string FormatCsv(const RunReport& r) {
  std::string out =
      "run,time_s,path,subflow,state,throughput_mbps,cwnd_bytes,srtt_ms,bytes,goodput_mbps,"
      "buffer_s,stalled_s\n";
  const bool media = r.scenario.app.kind == AppKind::kMedia;
  auto rows = [&out, media](const RunReport& run, absl::string_view label) {
    for (const Row& row : run.rows) {
      const std::string player =
          media ? absl::StrFormat("%.3f,%.3f", row.buffer_s, row.stalled_s) : ",";
      for (size_t i = 0; i < row.paths.size(); ++i) {
        const PathSample& p = row.paths[i];
        const bool has = p.state != SubflowState::kNone;
        absl::StrAppendFormat(&out, "%s,%.3f,%s,%s,%s,%.6f,%s,%s,%d,%.6f,%s\n", label,
                              runner_internal::Secs(row.end), run.scenario.paths[i].name,
                              has ? absl::StrCat(p.subflow) : "", SubflowStateName(p.state),
                              p.throughput_mbps, has ? absl::StrCat(p.cwnd) : "",
                              has ? absl::StrFormat("%.3f", p.srtt_ms) : "", p.bytes,
                              row.goodput_mbps, player);
      }
    }
  };
  rows(r, report_internal::kMainRunLabel);
  if (r.baseline != nullptr) rows(*r.baseline, report_internal::BaselineLabel(r));
  return out;
}

inline std::string RenderSvg(const RunReport& r) {
  using report_internal::Color;
  using report_internal::Num;
  using report_internal::XmlEscape;
  const Scenario& s = r.scenario;
  const bool media = s.app.kind == AppKind::kMedia;
  const RunReport* base = r.baseline.get();
  const RunReport* media_base = media ? base : nullptr;
  // Layout, top to bottom: title; the throughput panel; the cwnd panel (each path's sending
  // subflow, so that what the congestion controller did shows beside what it got); for media,
  // the playout-buffer panel and a playback strip (one lane per run, stalls in red). The
  // legend sits on the right.
  constexpr double kW = 980, kLeft = 84, kRight = 206, kTop = 74, kPlotH = 300;
  constexpr double kGap = 58, kCwndH = 150, kBufH = 110, kLaneH = 14, kLaneGap = 8;
  constexpr double kBottom = 56;
  const double pw = kW - kLeft - kRight;
  const double plot_bottom = kTop + kPlotH;
  const double cwnd_top = plot_bottom + kGap;
  const double cwnd_bottom = cwnd_top + kCwndH;
  const double buf_top = cwnd_bottom + kGap;
  const double buf_bottom = buf_top + kBufH;
  const double strip_top = buf_bottom + kGap;
  const size_t lanes = media_base != nullptr ? 2 : 1;
  const double strip_bottom =
      strip_top + static_cast<double>(lanes) * kLaneH + static_cast<double>(lanes - 1) * kLaneGap;
  const double last_bottom = media ? strip_bottom : cwnd_bottom;
  const double h = last_bottom + kBottom;

  double end_s = r.table_end_s;
  if (media_base != nullptr) end_s = std::max(end_s, media_base->table_end_s);
  const double x_max = std::max(1.0, std::ceil(end_s - 1e-9));
  double y_top = media ? s.app.bitrate_mbps : 0;
  for (const Row& row : r.rows) {
    for (const PathSample& p : row.paths) y_top = std::max(y_top, p.throughput_mbps);
  }
  if (y_top <= 0) y_top = 1;
  const double y_step = report_internal::NiceStep(y_top * 1.1, 6);
  const double y_max = std::ceil(y_top * 1.1 / y_step) * y_step;
  // The buffer axis fits this run; a baseline that refills far higher (a backlog arriving at
  // once after an outage) leaves the panel at the top, clipped, rather than flatten this run.
  double b_top = s.app.startup_s;
  for (const Row& row : r.rows) b_top = std::max(b_top, row.buffer_s);
  if (b_top <= 0) b_top = 1;
  const double b_step = report_internal::NiceStep(b_top, 4);
  const double b_max = std::ceil(b_top / b_step - 1e-9) * b_step;
  // The cwnd axis, in KB, fits every path's sending subflow over the run.
  double c_top = 0;
  for (const Row& row : r.rows) {
    for (const PathSample& p : row.paths) {
      if (p.state != SubflowState::kNone) c_top = std::max(c_top, p.cwnd / 1024.0);
    }
  }
  if (c_top <= 0) c_top = 1;
  const double c_step = report_internal::NiceStep(c_top * 1.1, 4);
  const double c_max = std::ceil(c_top * 1.1 / c_step) * c_step;
  const double x_step = report_internal::NiceStep(x_max, 12);
  auto X = [&](double t) { return kLeft + pw * std::clamp(t / x_max, 0.0, 1.0); };
  auto Y = [&](double v) { return kTop + kPlotH * (1 - std::clamp(v / y_max, 0.0, 1.0)); };
  auto C = [&](double v) { return cwnd_top + kCwndH * (1 - std::clamp(v / c_max, 0.0, 1.0)); };
  auto B = [&](double v) { return buf_top + kBufH * (1 - std::clamp(v / b_max, 0.0, 1.0)); };
  auto BUnclamped = [&](double v) { return buf_top + kBufH * (1 - std::max(v, 0.0) / b_max); };
  auto F = [](double v) { return absl::StrFormat("%.1f", v); };

  std::string o;
  absl::StrAppendFormat(&o,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                        "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
                        "font-size=\"12\" fill=\"#222\">\n",
                        int(kW), int(h), int(kW), int(h));
  absl::StrAppendFormat(&o, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", int(kW),
                        int(h));
  // Title and subtitle.
  std::vector<std::string> names;
  for (const PathSpec& p : s.paths) names.push_back(p.name);
  absl::StrAppendFormat(&o,
                        "<text x=\"%s\" y=\"26\" font-size=\"17\" font-weight=\"bold\">%s: "
                        "MPTCP over %s, throughput and cwnd per subflow</text>\n",
                        F(kLeft), XmlEscape(s.name), XmlEscape(absl::StrJoin(names, " + ")));
  std::string sub = absl::StrCat("seed ", s.seed, "; ");
  if (media) {
    absl::StrAppendFormat(&sub, "%s Mbit/s stream for %s s; playback: %s",
                          Num(s.app.bitrate_mbps), Num(s.app.length_s),
                          report_internal::StallsShort(r.player));
    if (media_base != nullptr) {
      absl::StrAppend(&sub, " (", report_internal::BaselineLabel(r), ": ",
                      report_internal::StallsShort(media_base->player), ")");
    }
  } else {
    absl::StrAppendFormat(&sub, "bulk %s of %d bytes", s.app.upload ? "upload" : "download",
                          s.app.bytes);
    if (r.complete) absl::StrAppendFormat(&sub, " in %.2f s", r.end_s);
    if (base != nullptr && base->complete) {
      absl::StrAppendFormat(&sub, " (%s: %.2f s)", report_internal::BaselineLabel(r),
                            base->end_s);
    }
  }
  absl::StrAppend(&sub, r.complete ? "; every byte delivered and checked"
                                   : absl::StrFormat("; %d of %d bytes delivered", r.delivered,
                                                     r.stream_bytes));
  absl::StrAppendFormat(&o, "<text x=\"%s\" y=\"48\" fill=\"#555\">%s</text>\n", F(kLeft),
                        XmlEscape(sub));

  // Down periods: a band in the path's colour over every panel, its edges dashed, named at the
  // top. Stalls of this run: a red band in each of the two plots.
  for (size_t i = 0; i < r.down.size(); ++i) {
    for (const Interval& d : r.down[i]) {
      const double x0 = X(d.start_s), x1 = X(d.end_s);
      absl::StrAppendFormat(&o,
                            "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" "
                            "fill-opacity=\"0.12\"/>\n",
                            F(x0), F(kTop), F(std::max(1.0, x1 - x0)), F(last_bottom - kTop),
                            Color(i));
      for (double x : {x0, x1}) {
        absl::StrAppendFormat(&o,
                              "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                              "stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\"/>\n",
                              F(x), F(kTop), F(x), F(last_bottom), Color(i));
      }
      absl::StrAppendFormat(&o,
                            "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" fill=\"%s\" "
                            "font-weight=\"bold\">%s down</text>\n",
                            F((x0 + x1) / 2), F(kTop + 16 + 14.0 * double(i)), Color(i),
                            XmlEscape(s.paths[i].name));
    }
  }
  for (const Interval& st : r.player.stalls) {
    for (const auto& [top, bottom] : {std::pair{kTop, plot_bottom},
                                      std::pair{cwnd_top, cwnd_bottom},
                                      std::pair{buf_top, buf_bottom}}) {
      absl::StrAppendFormat(&o,
                            "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
                            "fill=\"#d62728\" fill-opacity=\"0.15\"/>\n",
                            F(X(st.start_s)), F(top),
                            F(std::max(1.0, X(st.end_s) - X(st.start_s))), F(bottom - top));
    }
  }

  // A panel's frame, horizontal grid with value labels, time ticks and labels, and y title.
  auto time_ticks = [&](double bottom) {
    for (double t = 0; t <= x_max + 1e-9; t += x_step) {
      absl::StrAppendFormat(&o,
                            "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333\"/>\n"
                            "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n",
                            F(X(t)), F(bottom), F(X(t)), F(bottom + 5), F(X(t)),
                            F(bottom + 18), Num(std::round(t * 1000) / 1000));
    }
  };
  auto axes = [&](double top, double height, double max, double step, auto&& to_y,
                  const std::string& title) {
    for (double v = 0; v <= max + 1e-9; v += step) {
      absl::StrAppendFormat(&o,
                            "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#e3e3e3\"/>\n"
                            "<text x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>\n",
                            F(kLeft), F(to_y(v)), F(kLeft + pw), F(to_y(v)), F(kLeft - 6),
                            F(to_y(v) + 4), Num(std::round(v * 1000) / 1000));
    }
    time_ticks(top + height);
    absl::StrAppendFormat(&o,
                          "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"none\" "
                          "stroke=\"#333\"/>\n",
                          F(kLeft), F(top), F(pw), F(height));
    absl::StrAppendFormat(&o,
                          "<text transform=\"translate(%s %s) rotate(-90)\" "
                          "text-anchor=\"middle\">%s</text>\n",
                          F(kLeft - 48), F(top + height / 2), XmlEscape(title));
  };
  axes(kTop, kPlotH, y_max, y_step, Y, "throughput (Mbit/s)");
  absl::StrAppendFormat(&o,
                        "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">simulated time (s)"
                        "</text>\n",
                        F(kLeft + pw / 2), F(last_bottom + 38));
  // The stream's bitrate.
  if (media) {
    absl::StrAppendFormat(&o,
                          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#555\" "
                          "stroke-dasharray=\"6 4\"/>\n",
                          F(kLeft), F(Y(s.app.bitrate_mbps)), F(kLeft + pw),
                          F(Y(s.app.bitrate_mbps)));
  }
  // One step line per path: each second at its average.
  for (size_t i = 0; i < s.paths.size(); ++i) {
    std::string pts;
    for (const Row& row : r.rows) {
      const double v = row.paths[i].throughput_mbps;
      absl::StrAppend(&pts, F(X(runner_internal::Secs(row.start))), ",", F(Y(v)), " ",
                      F(X(runner_internal::Secs(row.end))), ",", F(Y(v)), " ");
    }
    if (!pts.empty()) pts.pop_back();
    absl::StrAppendFormat(&o,
                          "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                          "stroke-width=\"2.5\" stroke-linejoin=\"round\"/>\n",
                          pts, Color(i));
  }

  // Each path's sending subflow's cwnd at the end of each second (as the CSV's cwnd_bytes),
  // joined point to point; a path without a subflow leaves a gap.
  axes(cwnd_top, kCwndH, c_max, c_step, C, "cwnd (KB)");
  absl::StrAppendFormat(&o,
                        "<text x=\"%s\" y=\"%s\" fill=\"#555\">congestion window of each "
                        "path's sending subflow (%s), at the end of each second</text>\n",
                        F(kLeft), F(cwnd_top - 8),
                        std::string(cc::CcAlgorithmName(s.congestion_control)));
  for (size_t i = 0; i < s.paths.size(); ++i) {
    std::vector<std::string> segments(1);
    for (const Row& row : r.rows) {
      const PathSample& p = row.paths[i];
      if (p.state == SubflowState::kNone) {
        if (!segments.back().empty()) segments.emplace_back();
        continue;
      }
      absl::StrAppend(&segments.back(), segments.back().empty() ? "" : " ",
                      F(X(runner_internal::Secs(row.end))), ",", F(C(p.cwnd / 1024.0)));
    }
    for (const std::string& pts : segments) {
      if (pts.empty()) continue;
      absl::StrAppendFormat(&o,
                            "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                            "stroke-width=\"2\" stroke-linejoin=\"round\"/>\n",
                            pts, Color(i));
    }
  }

  if (media) {
    // The playout buffer of each run, at the end of each second.
    axes(buf_top, kBufH, b_max, b_step, B, "buffer (s)");
    absl::StrAppendFormat(&o,
                          "<text x=\"%s\" y=\"%s\" fill=\"#555\">playout buffer: media "
                          "received and not yet played, at the end of each second</text>\n",
                          F(kLeft), F(buf_top - 8));
    absl::StrAppendFormat(&o,
                          "<clipPath id=\"buffer-panel\"><rect x=\"%s\" y=\"%s\" "
                          "width=\"%s\" height=\"%s\"/></clipPath>\n",
                          F(kLeft), F(buf_top - 1), F(pw), F(kBufH + 2));
    for (const RunReport* run : {media_base, &r}) {  // this run's line on top
      if (run == nullptr) continue;
      std::string pts = absl::StrCat(F(X(0)), ",", F(B(0)));
      for (const Row& row : run->rows) {
        absl::StrAppend(&pts, " ", F(X(runner_internal::Secs(row.end))), ",",
                        F(BUnclamped(row.buffer_s)));
      }
      absl::StrAppendFormat(&o,
                            "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                            "stroke-width=\"2\"%s clip-path=\"url(#buffer-panel)\"/>\n",
                            pts, run == &r ? "#222" : "#999",
                            run == &r ? "" : " stroke-dasharray=\"5 3\"");
    }
    for (const Interval& st : r.player.stalls) {
      absl::StrAppendFormat(&o,
                            "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" fill=\"#d62728\" "
                            "font-weight=\"bold\">stall</text>\n",
                            F((X(st.start_s) + X(st.end_s)) / 2), F(buf_top + 14));
    }
    // The playback strip: a lane per run, red where it stalled.
    absl::StrAppendFormat(&o,
                          "<text x=\"%s\" y=\"%s\" fill=\"#555\">playback: red while the "
                          "player is stalled waiting for data</text>\n",
                          F(kLeft), F(strip_top - 8));
    std::vector<std::pair<std::string, const RunReport*>> runs = {
        {std::string(report_internal::kMainRunLabel), &r}};
    if (media_base != nullptr) runs.emplace_back(report_internal::BaselineLabel(r), media_base);
    for (size_t k = 0; k < runs.size(); ++k) {
      const auto& [label, run] = runs[k];
      const double y = strip_top + static_cast<double>(k) * (kLaneH + kLaneGap);
      const double played_to =
          run->player.finished_s ? *run->player.finished_s : run->table_end_s;
      const double start = run->player.startup_s ? *run->player.startup_s : played_to;
      absl::StrAppendFormat(&o,
                            "<text x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>\n"
                            "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
                            "fill=\"#f2f2f2\" stroke=\"#bbb\"/>\n",
                            F(kLeft - 6), F(y + kLaneH - 3), XmlEscape(label), F(kLeft), F(y),
                            F(pw), F(kLaneH));
      // Playing: green from start-up to the end (or the plot's edge).
      absl::StrAppendFormat(&o,
                            "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
                            "fill=\"#2ca02c\" fill-opacity=\"0.35\"/>\n",
                            F(X(start)), F(y), F(std::max(0.0, X(played_to) - X(start))),
                            F(kLaneH));
      for (const Interval& st : run->player.stalls) {
        absl::StrAppendFormat(&o,
                              "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
                              "fill=\"#d62728\"/>\n",
                              F(X(st.start_s)), F(y),
                              F(std::max(2.0, X(st.end_s) - X(st.start_s))), F(kLaneH));
      }
      absl::StrAppendFormat(&o,
                            "<text x=\"%s\" y=\"%s\" fill=\"%s\" font-weight=\"bold\">%s</text>\n",
                            F(kLeft + pw + 8), F(y + kLaneH - 3),
                            run->player.stalls.empty() ? "#2ca02c" : "#d62728",
                            XmlEscape(report_internal::StallsShort(run->player)));
    }
    time_ticks(strip_bottom);
  }

  // Legend.
  const double lx = kLeft + pw + 16;
  double ly = kTop + 8;
  for (size_t i = 0; i < s.paths.size(); ++i) {
    absl::StrAppendFormat(&o,
                          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                          "stroke-width=\"3\"/>\n<text x=\"%s\" y=\"%s\">%s%s</text>\n",
                          F(lx), F(ly), F(lx + 22), F(ly), Color(i), F(lx + 28), F(ly + 4),
                          XmlEscape(s.paths[i].name), s.paths[i].backup ? " (backup)" : "");
    const LinkChange& d = s.paths[i].downlink;
    std::string link = d.rate_mbps ? absl::StrCat(Num(*d.rate_mbps), " Mbit/s") : "";
    if (d.delay_ms) absl::StrAppend(&link, ", ", Num(*d.delay_ms), " ms");
    absl::StrAppendFormat(&o, "<text x=\"%s\" y=\"%s\" fill=\"#555\" font-size=\"11\">%s</text>\n",
                          F(lx + 28), F(ly + 18), XmlEscape(link));
    ly += 40;
  }
  auto swatch = [&](const char* color, double opacity, const std::string& label) {
    absl::StrAppendFormat(&o,
                          "<rect x=\"%s\" y=\"%s\" width=\"22\" height=\"12\" fill=\"%s\" "
                          "fill-opacity=\"%s\"/>\n<text x=\"%s\" y=\"%s\">%s</text>\n",
                          F(lx), F(ly - 6), color, Num(opacity), F(lx + 28), F(ly + 4),
                          XmlEscape(label));
    ly += 22;
  };
  auto line = [&](const char* color, const char* dash, const std::string& label) {
    absl::StrAppendFormat(&o,
                          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                          "stroke-width=\"2\"%s/>\n<text x=\"%s\" y=\"%s\">%s</text>\n",
                          F(lx), F(ly), F(lx + 22), F(ly), color,
                          *dash ? absl::StrCat(" stroke-dasharray=\"", dash, "\"") : "",
                          F(lx + 28), F(ly + 4), XmlEscape(label));
    ly += 22;
  };
  if (media) line("#555", "6 4", "stream bitrate");
  for (size_t i = 0; i < r.down.size(); ++i) {
    if (!r.down[i].empty()) swatch(Color(i), 0.25, absl::StrCat(s.paths[i].name, " down"));
  }
  if (media) {
    ly += 8;
    line("#222", "", absl::StrCat("buffer, ", report_internal::kMainRunLabel));
    if (media_base != nullptr) {
      line("#999", "5 3", absl::StrCat("buffer, ", report_internal::BaselineLabel(r)));
    }
    swatch("#f2f2f2", 1, "starting up");
    swatch("#2ca02c", 0.35, "playing");
    swatch("#d62728", 1, "playback stall");
  }
  o += "</svg>\n";
  return o;
}

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_SIM_REPORT_H_

package dev.offramp.cli.report;

import java.util.List;
import java.util.Locale;

/** The report page: inline CSS, the four charts as sibling PNG files, every piece of text escaped. */
final class ReportHtml {
    private ReportHtml() {}

    static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
                   max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
            h1 { font-size: 1.6em; margin-bottom: 0.2em; }
            h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
            .sub { color: #555; margin-top: 0; }
            table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
            th, td { padding: 0.35em 0.8em; border-bottom: 1px solid #e3e3e3; }
            th { background: #f4f4f4; text-align: left; vertical-align: bottom; }
            td.n { text-align: right; white-space: nowrap; }
            tr.full td { font-weight: 600; background: #fafafa; }
            tr.bound td { color: #666; font-style: italic; }
            td.neg { color: #b3261e; }
            .tag { font-size: 0.8em; color: #777; font-style: normal; border: 1px solid #bbb; border-radius: 3px;
                   padding: 0 0.3em; margin-left: 0.4em; }
            figure { margin: 1.2em 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
            figcaption, .note { color: #444; font-size: 0.95em; max-width: 60em; }
            code { background: #f4f4f4; padding: 0 0.2em; }
            """;

    static String render(ReportData d, List<String> images) {
        TimingContext t = d.timing();
        String full = fmt(ReportCharts.show(d.fullModelMetric()));
        String drop = ReportCharts.trim(d.maxDropPoints());
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc("Speed–accuracy report: " + d.taskName() + ", " + d.modelName()))
                .append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");

        h.append("<h1>").append(esc("Early exit on " + d.taskName() + ": " + d.modelName())).append("</h1>\n");
        h.append("<p class=\"sub\">").append(esc(String.format(Locale.ROOT,
                "%s on the %s split; full %d-layer model %s. Each criterion is calibrated to its fastest setting "
                        + "within %s points of the full model (metric ≥ %s).",
                d.metricName(), d.split(), d.layers(), full, drop, fmt(ReportCharts.show(d.calibrationFloor())))))
                .append("</p>\n");

        h.append("<h2>Calibrated settings</h2>\n");
        table(h, d);
        h.append("<p class=\"note\">").append(esc(
                "Metrics are shown ×100; Δ is the difference to the full model in points (1 point = 0.01). "
                        + "Layer speed-up = L / mean layers executed (" + d.layers() + " / mean exit layer). "
                        + "Wall-clock speed-up = full-depth time / early-exit time, same engine, same inputs, "
                        + "at batch " + t.smallBatch() + " and " + t.largeBatch() + ". "
                        + "vs ONNX Runtime = ONNX Runtime's full-depth time / our early-exit time on the same inputs. "
                        + "Static and oracle are reference bounds, not methods: static exits every example at "
                        + "one fixed layer (what an adaptive criterion must beat); oracle exits each example at the "
                        + "first layer whose prediction is correct (a score: within the tolerance its setting shows of "
                        + "the gold score), else the last, which needs the label (a "
                        + "ceiling no real criterion reaches). A dash means not measured."))
                .append("</p>\n");

        h.append("<h2>Trade-off: ").append(esc(d.metricName())).append(" vs layer speed-up</h2>\n");
        ReportCharts.Range layerRange = ReportCharts.metricRange(d, CurvePoint::layerSpeedup);
        figure(h, ReportWriter.LAYER_CHART, d.metricName() + " against layer speed-up for every criterion",
                "Each line is one criterion swept over its knob (e.g. the confidence threshold), each setting replayed on "
                        + "this split's cached exit outputs; only the settings no other setting of the same criterion "
                        + "beats on both axes are drawn. Further right is "
                        + "faster, higher is better. Layer speed-up = L / mean layers executed, the saving in "
                        + "encoder work, independent of the machine. The ringed marker is the calibrated setting. "
                        + "The solid black line is the full model, the dashed one the calibration floor (full − "
                        + drop + " points). Grey dashed/dotted lines are the static and oracle bounds."
                        + hiddenNote(layerRange));

        h.append("<h2>Trade-off: ").append(esc(d.metricName())).append(" vs wall-clock speed-up</h2>\n");
        if (images.contains(ReportWriter.WALL_CHART)) {
            ReportCharts.Range wallRange = ReportCharts.metricRange(d, CurvePoint::wallClockSpeedup);
            figure(h, ReportWriter.WALL_CHART, d.metricName() + " against measured wall-clock speed-up",
                    "The same curves at the settings whose time was measured (batch " + t.curveBatchSize()
                            + "). Wall-clock speed-up = full-depth time / early-exit time, same engine, same "
                            + "inputs: it includes the exit heads, the criterion and the cost of batches whose "
                            + "examples leave at different layers, so it is usually below the layer speed-up."
                            + " Criteria without timed settings are missing here." + hiddenNote(wallRange));
        } else {
            h.append("<p class=\"note\">No wall-clock measurements in this run.</p>\n");
        }

        h.append("<h2>Where examples exit</h2>\n");
        if (images.contains(ReportWriter.HISTOGRAM_CHART)) {
            figure(h, ReportWriter.HISTOGRAM_CHART, "exit-layer histograms at the calibrated settings",
                    "For each criterion at its calibrated setting, the share of " + d.split()
                            + " examples that leave after each layer (one y scale for all criteria; the bounds have their own). Mass on the "
                            + "left means early exits and a large speed-up; a tall last bar means examples the "
                            + "criterion never trusted enough to stop early.");
        } else {
            h.append("<p class=\"note\">No criterion reached the calibration target, so there are no exit "
                    + "histograms.</p>\n");
        }

        h.append("<h2>Each exit on its own</h2>\n");
        figure(h, ReportWriter.PER_EXIT_CHART, d.metricName() + " of each exit layer",
                "The metric if every example left at that exit: how good each internal classifier is on its own. "
                        + "Early exit pays off when good exits come early and the criterion can tell which "
                        + "examples are easy.");
        perExitTable(h, d);

        h.append("<h2>Timing context</h2>\n<p class=\"note\">")
                .append(esc("Wall-clock points on the curves: batch " + t.curveBatchSize() + ". Table: batch "
                        + t.smallBatch() + " and batch " + t.largeBatch()
                        + "."))
                .append("</p>\n");
        if (!t.machineNote().isBlank()) {
            h.append("<p class=\"note\">Machine: ").append(esc(t.machineNote())).append("</p>\n");
        }
        h.append("<p class=\"note\">Generated by offramp report.</p>\n</body>\n</html>\n");
        return h.toString();
    }

    private static void table(StringBuilder h, ReportData d) {
        TimingContext t = d.timing();
        h.append("<table>\n<thead><tr><th>criterion</th><th>setting</th><th>").append(esc(d.metricName()))
                .append("</th><th>Δ vs full<br>(points)</th><th>mean exit<br>layer</th><th>layer<br>speed-up</th>")
                .append("<th>wall-clock<br>batch ").append(t.smallBatch()).append("</th>")
                .append("<th>wall-clock<br>batch ").append(t.largeBatch()).append("</th>")
                .append("<th>vs ONNX Runtime<br>batch ").append(t.smallBatch()).append("</th>")
                .append("<th>vs ONNX Runtime<br>batch ").append(t.largeBatch()).append("</th></tr></thead>\n<tbody>\n");
        h.append("<tr class=\"full\"><td>full model</td><td>").append(esc("all " + d.layers() + " layers"))
                .append("</td>").append(numCell(fmt(ReportCharts.show(d.fullModelMetric()))))
                .append(numCell("0.00")).append(numCell(fmt(d.layers())))
                .append(numCell("1.00×")).append(numCell("1.00×")).append(numCell("1.00×"))
                .append(numCell("—")).append(numCell("—")).append("</tr>\n");
        for (CriterionCurve c : d.criteria()) {
            h.append(c.bound() ? "<tr class=\"bound\">" : "<tr>").append("<td>").append(esc(c.name()));
            if (c.bound()) h.append("<span class=\"tag\">bound</span>");
            h.append("</td>");
            CalibratedPoint p = c.calibrated();
            if (p == null) {
                h.append("<td colspan=\"9\">").append(esc("no setting within " + ReportCharts.trim(d.maxDropPoints())
                        + " points of the full model")).append("</td></tr>\n");
                continue;
            }
            String delta = ReportWriter.delta(d, p.metric());
            h.append("<td>").append(esc(p.knob())).append("</td>")
                    .append(numCell(fmt(ReportCharts.show(p.metric()))))
                    .append(delta.startsWith("-") ? "<td class=\"n neg\">" + esc(delta.replace('-', '−')) + "</td>"
                            : numCell(delta))
                    .append(numCell(fmt(p.meanExitLayer())))
                    .append(numCell(times(p.layerSpeedup())))
                    .append(numCell(times(p.wallSmallBatch()))).append(numCell(times(p.wallLargeBatch())))
                    .append(numCell(times(p.onnxSmallBatch()))).append(numCell(times(p.onnxLargeBatch())))
                    .append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void perExitTable(StringBuilder h, ReportData d) {
        double[] m = d.perExitMetric();
        h.append("<table>\n<tr><th>exit</th>");
        for (int l = 1; l <= d.layers(); l++) h.append("<th>").append(l).append("</th>");
        h.append("</tr>\n<tr><th>").append(esc(d.metricName())).append("</th>");
        for (double v : m) h.append(numCell(fmt(ReportCharts.show(v))));
        h.append("</tr>\n</table>\n");
    }

    static void figure(StringBuilder h, String file, String alt, String caption) {
        h.append("<figure>\n<img src=\"").append(esc(file)).append("\" alt=\"").append(esc(alt)).append("\">\n")
                .append("<figcaption>").append(esc(caption)).append("</figcaption>\n</figure>\n");
    }

    static String hiddenNote(ReportCharts.Range r) {
        if (r.hiddenBelow() == 0) return "";
        return String.format(Locale.ROOT, " The metric axis is zoomed to the region near the full model; %d "
                + "aggressive setting%s below %.1f %s off the chart (see the table for calibrated values).",
                r.hiddenBelow(), r.hiddenBelow() == 1 ? "" : "s", r.min(), r.hiddenBelow() == 1 ? "is" : "are");
    }

    static String numCell(String text) {
        return "<td class=\"n\">" + esc(text) + "</td>";
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String times(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.2f×", v);
    }

    /** HTML text and attribute escaping: &amp; &lt; &gt; &quot; &#39;. */
    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}

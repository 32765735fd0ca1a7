package dev.offramp.cli.report;

import java.util.List;
import java.util.Locale;

import static dev.offramp.cli.report.ReportHtml.esc;
import static dev.offramp.cli.report.ReportHtml.figure;
import static dev.offramp.cli.report.ReportHtml.fmt;
import static dev.offramp.cli.report.ReportHtml.hiddenNote;
import static dev.offramp.cli.report.ReportHtml.numCell;
import static dev.offramp.cli.report.ReportHtml.times;

/**
 * The generation page: token-level early exit of a decoder against its own full-depth greedy output. Same charts as
 * the classification report, read differently: the metric is ROUGE-L of the early-exit continuation against the
 * full-depth one (full depth is 100 by definition), the items that exit are generated tokens, the wall clock is
 * tokens per second at batch 1.
 */
public final class GenerationReportHtml {
    private GenerationReportHtml() {}

    /** The speed-ups of the equal-speed-up table. */
    public static final double[] EQUAL_SPEEDUPS = {1.25, 1.5, 1.75, 2.0};

    /**
     * A criterion at a given speed-up: the best ROUGE-L among its swept settings at least that fast (layer or
     * tokens/s speed-up); NaN when none is.
     */
    public static double bestAtSpeedup(CriterionCurve c, double speedup, boolean wallClock) {
        double best = Double.NaN;
        for (CurvePoint p : c.points()) {
            double x = wallClock ? p.wallClockSpeedup() : p.layerSpeedup();
            if (x >= speedup && !(p.metric() <= best)) best = p.metric();
        }
        return best;
    }

    static String render(ReportData d, List<GenerationRow> rows, String commandLine, List<String> images) {
        String floor = fmt(ReportCharts.show(d.calibrationFloor()));
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc("Generation with token-level early exit: " + d.modelName()))
                .append("</title>\n<style>\n").append(ReportHtml.CSS).append("</style>\n</head>\n<body>\n");

        h.append("<h1>").append(esc("Token-level early exit in generation: " + d.modelName())).append("</h1>\n");
        h.append("<p class=\"sub\">").append(esc(String.format(Locale.ROOT,
                "Greedy decoding on %s, %d layers. Each generated token leaves after the first layer where the "
                        + "criterion says so; the prompt runs every layer. Agreement is ROUGE-L of the early-exit "
                        + "continuation against the full-depth one (×100; full depth is 100). Each criterion is "
                        + "calibrated, on other held-out prompts, to its fastest setting with ROUGE-L ≥ %s.",
                d.split(), d.layers(), floor))).append("</p>\n");

        h.append("<h2>Calibrated settings</h2>\n");
        table(h, d, rows);
        h.append("<p class=\"note\">").append(esc(
                "Token match = positions where the two continuations agree, over the longer one. Layer speed-up = L / "
                        + "mean exit layer of the generated tokens after the first (the first comes from the prompt's "
                        + "full-depth pass). Tokens/s: batch 1, early exit and full depth interleaved prompt by prompt "
                        + "in the same run, median of the repeats. Perplexity: teacher-forced on held-out documents, each "
                        + "token's distribution from its exit layer. Static (every token at one layer) and oracle (each "
                        + "token at the first layer whose greedy token is the full-depth one; it runs every layer to "
                        + "know that) are bounds, not methods."))
                .append("</p>\n");

        h.append("<h2>Speed vs agreement: layers</h2>\n");
        ReportCharts.Range layerRange = ReportCharts.metricRange(d, CurvePoint::layerSpeedup);
        figure(h, ReportWriter.LAYER_CHART, "ROUGE-L against layer speed-up for every criterion",
                "Each line is one criterion swept over its knob, free-running on the evaluation prompts. Further right "
                        + "is faster, higher is closer to full-depth output. The ringed marker is the calibrated "
                        + "setting; the dashed line is the calibration target." + hiddenNote(layerRange));

        h.append("<h2>Speed vs agreement: tokens per second</h2>\n");
        if (images.contains(ReportWriter.WALL_CHART)) {
            ReportCharts.Range wallRange = ReportCharts.metricRange(d, CurvePoint::wallClockSpeedup);
            figure(h, ReportWriter.WALL_CHART, "ROUGE-L against measured tokens/s speed-up",
                    "The same settings against early-exit tokens/s over full-depth tokens/s. Criteria that read the "
                            + "logits at every layer they test (top-prob, top-margin) pay for the LM head there, so "
                            + "they turn fewer of their saved layers into time than those reading the hidden state "
                            + "(saturation, ConsistentEE's one dot product per layer). The oracle runs every layer "
                            + "and has no point here." + hiddenNote(wallRange));
        } else {
            h.append("<p class=\"note\">No tokens/s measurements in this run.</p>\n");
        }

        h.append("<h2>At equal speed-up</h2>\n");
        equalSpeedupTable(h, d, false);
        equalSpeedupTable(h, d, true);
        h.append("<p class=\"note\">").append(esc("Each cell: the best ROUGE-L (×100) among the criterion's swept settings"
                + " that are at least that fast; — where none is. The oracle is left out: it runs every layer."))
                .append("</p>\n");

        h.append("<h2>Where tokens exit</h2>\n");
        if (images.contains(ReportWriter.HISTOGRAM_CHART)) {
            figure(h, ReportWriter.HISTOGRAM_CHART, "exit-layer histograms at the calibrated settings",
                    "For each criterion at its calibrated setting, the share of generated tokens that leave after each "
                            + "layer.");
        } else {
            h.append("<p class=\"note\">No criterion reached the calibration target.</p>\n");
        }

        h.append("<h2>Every token at one layer</h2>\n");
        figure(h, ReportWriter.PER_EXIT_CHART, "ROUGE-L when every token exits at one layer",
                "Static exit at each layer: how close each layer's greedy continuation stays to full depth on its own.");

        h.append("<h2>How this was made</h2>\n<p class=\"note\">").append(esc("Command: " + commandLine)).append("</p>\n");
        if (!d.timing().machineNote().isBlank()) {
            h.append("<p class=\"note\">Machine: ").append(esc(d.timing().machineNote())).append("</p>\n");
        }
        h.append("<p class=\"note\">Generated by offramp report-gen.</p>\n</body>\n</html>\n");
        return h.toString();
    }

    private static void equalSpeedupTable(StringBuilder h, ReportData d, boolean wallClock) {
        h.append("<table>\n<thead><tr><th>").append(wallClock ? "tokens/s speed-up ≥" : "layer speed-up ≥").append("</th>");
        for (double x : EQUAL_SPEEDUPS) h.append("<th>").append(esc(times(x))).append("</th>");
        h.append("</tr></thead>\n<tbody>\n");
        for (CriterionCurve c : d.criteria()) {
            if (c.name().startsWith("oracle")) continue;
            h.append(c.bound() ? "<tr class=\"bound\">" : "<tr>").append("<td>").append(esc(c.name())).append("</td>");
            for (double x : EQUAL_SPEEDUPS) h.append(numCell(fmt(ReportCharts.show(bestAtSpeedup(c, x, wallClock)))));
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void table(StringBuilder h, ReportData d, List<GenerationRow> rows) {
        h.append("<table>\n<thead><tr><th>criterion</th><th>setting</th><th>ROUGE-L<br>vs full</th>")
                .append("<th>token<br>match</th><th>mean exit<br>layer</th><th>layer<br>speed-up</th>")
                .append("<th>tokens/s</th><th>tokens/s<br>speed-up</th><th>perplexity</th></tr></thead>\n<tbody>\n");
        if (!rows.isEmpty()) {
            GenerationRow any = rows.getFirst();
            h.append("<tr class=\"full\"><td>full depth</td><td>").append(esc("all " + d.layers() + " layers"))
                    .append("</td>").append(numCell("100.00")).append(numCell("100.00"))
                    .append(numCell(fmt(d.layers()))).append(numCell("1.00×"))
                    .append(numCell(String.format(Locale.ROOT, "%.1f", any.fullTokensPerSecond())))
                    .append(numCell("1.00×")).append(numCell(fmt(any.fullPpl()))).append("</tr>\n");
        }
        for (GenerationRow r : rows) {
            boolean bound = CriterionCurve.isBoundName(r.criterion());
            h.append(bound ? "<tr class=\"bound\">" : "<tr>").append("<td>").append(esc(r.criterion()));
            if (bound) h.append("<span class=\"tag\">bound</span>");
            h.append("</td><td>").append(esc(r.setting())).append("</td>");
            String rouge = fmt(ReportCharts.show(r.rougeL()));
            h.append(r.calibrated() ? numCell(rouge) : "<td class=\"n neg\">" + esc(rouge) + "</td>")
                    .append(numCell(fmt(ReportCharts.show(r.tokenMatch()))))
                    .append(numCell(fmt(r.meanExitLayer())))
                    .append(numCell(times(r.layerSpeedup())))
                    .append(numCell(Double.isNaN(r.tokensPerSecond()) ? "—"
                            : String.format(Locale.ROOT, "%.1f", r.tokensPerSecond())))
                    .append(numCell(times(r.speedup())))
                    .append(numCell(fmt(r.ppl()))).append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }
}

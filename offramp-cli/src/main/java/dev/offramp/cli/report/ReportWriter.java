package dev.offramp.cli.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.internal.chartpart.Chart;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes the speed–accuracy report: {@code index.html} (inline CSS, no external resources) plus four PNG charts
 * next to it, and a fixed-width text summary for the terminal.
 */
public final class ReportWriter {
    public static final String HTML = "index.html";
    public static final String LAYER_CHART = "tradeoff-layers.png";
    public static final String WALL_CHART = "tradeoff-wallclock.png";
    public static final String HISTOGRAM_CHART = "exit-histograms.png";
    public static final String PER_EXIT_CHART = "per-exit.png";

    private ReportWriter() {}

    /**
     * Writes index.html and the charts into {@code outDir} (created if missing; existing report files replaced).
     * The wall-clock chart is left out when no curve point has a wall-clock measurement, the histogram chart when
     * no criterion has a calibrated setting. Returns the HTML file.
     */
    public static Path write(ReportData data, Path outDir) throws IOException {
        List<String> written = writeCharts(data, outDir);
        Path html = outDir.resolve(HTML);
        Files.writeString(html, ReportHtml.render(data, written), StandardCharsets.UTF_8);
        return html;
    }

    /**
     * The generation page: the same four charts (metric = ROUGE-L against full-depth greedy output, items = generated
     * tokens) and {@link GenerationReportHtml}'s text, with one row per calibrated criterion.
     */
    public static Path writeGeneration(ReportData data, List<GenerationRow> rows, String commandLine, Path outDir)
            throws IOException {
        List<String> written = writeCharts(data, outDir);
        Path html = outDir.resolve(HTML);
        Files.writeString(html, GenerationReportHtml.render(data, rows, commandLine, written), StandardCharsets.UTF_8);
        return html;
    }

    private static List<String> writeCharts(ReportData data, Path outDir) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // charts render off-screen; servers have no display
        }
        Files.createDirectories(outDir);
        List<String> written = new ArrayList<>();
        save(ReportCharts.tradeoff(data, false), outDir.resolve(LAYER_CHART));
        written.add(LAYER_CHART);
        if (ReportCharts.hasWallClock(data)) {
            save(ReportCharts.tradeoff(data, true), outDir.resolve(WALL_CHART));
            written.add(WALL_CHART);
        } else {
            Files.deleteIfExists(outDir.resolve(WALL_CHART)); // not from an older run
        }
        List<CategoryChart> panels = ReportCharts.exitHistograms(data);
        if (!panels.isEmpty()) {
            int cols = Math.min(ReportCharts.PANEL_COLUMNS, panels.size());
            int rows = (panels.size() + cols - 1) / cols;
            while (panels.size() < rows * cols) panels.add(blankPanel()); // the encoder wants a full grid
            try (OutputStream out = Files.newOutputStream(outDir.resolve(HISTOGRAM_CHART))) {
                BitmapEncoder.saveBitmap(panels, rows, cols, out, BitmapEncoder.BitmapFormat.PNG);
            }
            written.add(HISTOGRAM_CHART);
        } else {
            Files.deleteIfExists(outDir.resolve(HISTOGRAM_CHART));
        }
        save(ReportCharts.perExit(data), outDir.resolve(PER_EXIT_CHART));
        written.add(PER_EXIT_CHART);
        return written;
    }

    private static void save(Chart<?, ?> chart, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static CategoryChart blankPanel() {
        CategoryChart c = new CategoryChart(ReportCharts.PANEL_WIDTH, ReportCharts.PANEL_HEIGHT);
        c.addSeries(" ", List.of(1), List.of(0.0));
        c.getStyler().setLegendVisible(false).setChartBackgroundColor(java.awt.Color.WHITE);
        c.getStyler().setAxisTicksVisible(false).setPlotGridLinesVisible(false);
        c.getStyler().setPlotBorderVisible(false);
        c.getStyler().setPlotBackgroundColor(java.awt.Color.WHITE);
        c.getStyler().setXAxisTitleVisible(false).setYAxisTitleVisible(false);
        return c;
    }

    /** The calibrated table as fixed-width text (one line per criterion), with a header naming the run. */
    public static String textSummary(ReportData d) {
        TimingContext t = d.timing();
        String[] head = {"criterion", "setting", d.metricName(), "delta pts", "mean layer", "layer x",
                "wall b" + t.smallBatch(), "wall b" + t.largeBatch(), "ORT b" + t.smallBatch(),
                "ORT b" + t.largeBatch()};
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"full model", "all " + d.layers() + " layers", num(ReportCharts.show(d.fullModelMetric())),
                "0.00", num(d.layers()), "1.00x", "1.00x", "1.00x", "-", "-"});
        for (CriterionCurve c : d.criteria()) {
            String name = c.legendName();
            CalibratedPoint p = c.calibrated();
            if (p == null) {
                rows.add(new String[] {name, "none within " + ReportCharts.trim(d.maxDropPoints()) + " pts", "-", "-",
                        "-", "-", "-", "-", "-", "-"});
                continue;
            }
            rows.add(new String[] {name, p.knob(), num(ReportCharts.show(p.metric())), delta(d, p.metric()),
                    num(p.meanExitLayer()), times(p.layerSpeedup()), times(p.wallSmallBatch()),
                    times(p.wallLargeBatch()), times(p.onnxSmallBatch()), times(p.onnxLargeBatch())});
        }
        int[] w = new int[head.length];
        for (int i = 0; i < head.length; i++) w[i] = head[i].length();
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());

        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s on %s (%s, %d layers): %s on %s, full model %.2f, calibrated "
                        + "within %s points%n", d.modelName(), d.taskName(), d.split(), d.layers(), d.metricName(),
                d.split(), ReportCharts.show(d.fullModelMetric()), ReportCharts.trim(d.maxDropPoints())));
        appendRow(sb, head, w);
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < w.length; i++) rule.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
        sb.append(rule).append(System.lineSeparator());
        for (String[] r : rows) appendRow(sb, r, w);
        sb.append("layer x = L / mean layers; wall = full-depth / early-exit time, same engine and inputs; ")
                .append("ORT = ONNX Runtime full-depth time / our early-exit time; - = not measured")
                .append(System.lineSeparator());
        if (!t.machineNote().isBlank()) sb.append("machine: ").append(t.machineNote()).append(System.lineSeparator());
        return sb.toString();
    }

    /** Text columns: the first two left-aligned, numbers right-aligned. */
    private static void appendRow(StringBuilder sb, String[] cells, int[] w) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) line.append("  ");
            String pad = " ".repeat(w[i] - cells[i].length());
            line.append(i < 2 ? cells[i] + pad : pad + cells[i]);
        }
        sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }

    static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String times(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** Difference to the full model in points, signed: "-0.42", "+0.10". */
    static String delta(ReportData d, double metric) {
        double points = ReportCharts.show(metric) - ReportCharts.show(d.fullModelMetric());
        return Math.abs(points) < 0.005 ? "0.00" : String.format(Locale.ROOT, "%+.2f", points);
    }
}

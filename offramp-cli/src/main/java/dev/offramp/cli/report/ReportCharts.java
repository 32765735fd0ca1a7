package dev.offramp.cli.report;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Builds the report's charts from {@link ReportData}. Metrics are drawn ×100 (accuracy in %, others as
 * "×100"), so a 0.5-point drop is 0.5 on the axis.
 */
final class ReportCharts {
    static final int WIDTH = 1100;
    static final int HEIGHT = 650;
    /** One panel of the exit-layer small multiples. */
    static final int PANEL_WIDTH = 550;
    static final int PANEL_HEIGHT = 300;
    static final int PANEL_COLUMNS = 2;

    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 22);
    private static final Font AXIS_TITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 19);
    private static final Font TICKS = new Font(Font.SANS_SERIF, Font.PLAIN, 16);
    private static final Font LEGEND = new Font(Font.SANS_SERIF, Font.PLAIN, 16);
    private static final Font PANEL_TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 17);
    private static final Font PANEL_AXIS = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
    private static final Font PANEL_TICKS = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Color FULL_LINE = new Color(0x111111);
    private static final Color GRID = new Color(0xDDDDDD);
    /**
     * The metric axis shows at most this many points below the full model, so curves near it stay readable; or three
     * times the calibration's allowed drop when that is more (generation allows 10 points of ROUGE-L).
     */
    static final double METRIC_WINDOW_POINTS = 10.0;

    static double metricWindow(ReportData d) {
        return Math.max(METRIC_WINDOW_POINTS, 3 * d.maxDropPoints());
    }

    private ReportCharts() {}

    /** Metric → display units (×100). */
    static double show(double metric) {
        return 100.0 * metric;
    }

    /** "accuracy (%)" or "F1 (×100)". */
    static String metricAxisTitle(ReportData d) {
        boolean percent = d.metricName().toLowerCase(Locale.ROOT).contains("accuracy");
        return d.metricName() + " on " + d.split() + (percent ? " (%)" : " (×100)");
    }

    /** Display range of a metric axis: [min, max] in display units, plus how many points fall below it. */
    record Range(double min, double max, int hiddenBelow) {}

    /**
     * The metric axis of a trade-off chart: from just above the best point down to the worst point, but no lower
     * than {@link #metricWindow} below the full model (the aggressive end of a sweep is not the
     * interesting part); always shows the full-model and calibration lines and every calibrated point.
     */
    static Range metricRange(ReportData d, ToDoubleFunction<CurvePoint> x) {
        double full = show(d.fullModelMetric());
        double floorLine = show(d.calibrationFloor());
        double hi = full;
        double lo = floorLine;
        double allMin = Double.POSITIVE_INFINITY;
        for (CriterionCurve c : d.criteria()) {
            for (CurvePoint p : c.points()) {
                if (Double.isNaN(x.applyAsDouble(p))) continue;
                hi = Math.max(hi, show(p.metric()));
                allMin = Math.min(allMin, show(p.metric()));
            }
            if (c.calibrated() != null) lo = Math.min(lo, show(c.calibrated().metric()));
        }
        double windowFloor = full - metricWindow(d);
        if (allMin < Double.POSITIVE_INFINITY) lo = Math.min(lo, Math.max(allMin, windowFloor));
        double span = Math.max(hi - lo, 1.0);
        double min = lo - 0.06 * span;
        double max = hi + 0.06 * span;
        int hidden = 0;
        for (CriterionCurve c : d.criteria()) {
            for (CurvePoint p : c.points()) {
                if (!Double.isNaN(x.applyAsDouble(p)) && show(p.metric()) < min) hidden++;
            }
        }
        return new Range(min, max, hidden);
    }

    /** Chart 1 (layer speed-up) and chart 2 (wall-clock speed-up): every criterion's curve on one chart. */
    static XYChart tradeoff(ReportData d, boolean wallClock) {
        ToDoubleFunction<CurvePoint> xOf = wallClock ? CurvePoint::wallClockSpeedup : CurvePoint::layerSpeedup;
        String xName = wallClock
                ? "wall-clock speed-up (× vs full depth, batch " + d.timing().curveBatchSize() + ")"
                : "layer speed-up (× = L / mean layers executed)";
        XYChart chart = new XYChart(WIDTH, HEIGHT);
        chart.setTitle(title(d, d.metricName() + " vs " + (wallClock ? "wall-clock" : "layer") + " speed-up"));
        chart.setXAxisTitle(xName);
        chart.setYAxisTitle(metricAxisTitle(d));
        styleAxes(chart.getStyler());
        chart.getStyler().setMarkerSize(9);

        Range y = metricRange(d, xOf);
        // x: from 1× (no speed-up) to the fastest point that is still on the metric axis
        double xMin = 1.0;
        double xMax = 1.0;
        for (CriterionCurve c : d.criteria()) {
            for (CurvePoint p : c.points()) {
                double px = xOf.applyAsDouble(p);
                if (Double.isNaN(px)) continue;
                xMin = Math.min(xMin, px);
                if (show(p.metric()) >= y.min()) xMax = Math.max(xMax, px);
            }
        }
        xMax = Math.max(xMax * 1.04, xMin + 0.5);
        if (xMin < 1.0) xMin = Math.floor(xMin * 10.0) / 10.0; // wall-clock slower than full depth: show it
        chart.getStyler().setXAxisMin(xMin).setXAxisMax(xMax);
        chart.getStyler().setYAxisMin(y.min()).setYAxisMax(y.max());
        chart.getStyler().setXAxisDecimalPattern("0.0#'×'");
        chart.getStyler().setYAxisDecimalPattern("0.0#");

        List<SeriesStyle> styles = SeriesStyle.assign(d.criteria());
        List<Integer> order = boundsLast(d.criteria());
        for (int i : order) {
            CriterionCurve c = d.criteria().get(i);
            SeriesStyle s = styles.get(i);
            List<CurvePoint> pts = new ArrayList<>();
            for (CurvePoint p : c.points()) if (!Double.isNaN(xOf.applyAsDouble(p))) pts.add(p);
            if (pts.isEmpty()) continue;
            pts.sort(Comparator.comparingDouble(xOf));
            double[] xs = new double[pts.size()];
            double[] ys = new double[pts.size()];
            for (int k = 0; k < xs.length; k++) {
                xs[k] = xOf.applyAsDouble(pts.get(k));
                ys[k] = show(pts.get(k).metric());
            }
            XYSeries series = chart.addSeries(c.legendName(), xs, ys);
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            series.setLineColor(s.color());
            series.setLineStyle(s.line());
            series.setMarker(s.marker());
            series.setMarkerColor(s.color());

            CalibratedPoint cal = c.calibrated();
            if (cal != null && !Double.isNaN(xOf.applyAsDouble(cal.point()))) {
                XYSeries mark = chart.addSeries(c.name() + " — calibrated",
                        new double[] {xOf.applyAsDouble(cal.point())}, new double[] {show(cal.metric())});
                mark.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                mark.setMarker(new CalibratedMarker(s.marker()));
                mark.setMarkerColor(s.color());
                mark.setShowInLegend(false);
            }
        }
        addHorizontalLines(chart, d, xMin, xMax);
        // legend entry only: a ring drawn left of the x axis, where the plot clips it away
        XYSeries ring = chart.addSeries("calibrated setting", new double[] {xMin - 10.0}, new double[] {y.min()});
        ring.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        ring.setMarker(CalibratedMarker.LEGEND_RING);
        ring.setMarkerColor(Color.BLACK);
        return chart;
    }

    /** Full-model metric (solid black) and the calibration floor full − drop (dashed black), across the chart. */
    private static void addHorizontalLines(XYChart chart, ReportData d, double xMin, double xMax) {
        double[] xs = {xMin, xMax};
        double full = show(d.fullModelMetric());
        XYSeries f = chart.addSeries(String.format(Locale.ROOT, "full model (%.2f)", full), xs,
                new double[] {full, full});
        f.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        f.setMarker(SeriesMarkers.NONE);
        f.setLineColor(FULL_LINE);
        f.setLineStyle(new java.awt.BasicStroke(2f));
        double floor = show(d.calibrationFloor());
        XYSeries t = chart.addSeries(String.format(Locale.ROOT, "full − %s points (%.2f)",
                trim(d.maxDropPoints()), floor), xs, new double[] {floor, floor});
        t.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        t.setMarker(SeriesMarkers.NONE);
        t.setLineColor(FULL_LINE);
        t.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT,
                java.awt.BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 5f}, 0f));
    }

    /** True if at least one curve point has a measured wall-clock speed-up. */
    static boolean hasWallClock(ReportData d) {
        for (CriterionCurve c : d.criteria()) for (CurvePoint p : c.points()) if (p.hasWallClock()) return true;
        return false;
    }

    /** Chart 3: one small bar chart per calibrated criterion, x = exit layer, y = % of examples, shared y axis. */
    static List<CategoryChart> exitHistograms(ReportData d) {
        List<SeriesStyle> styles = SeriesStyle.assign(d.criteria());
        // one y scale for the real criteria so their panels compare at a glance; a bound (static puts 100 % on one
        // layer) would flatten them, so each bound gets its own
        double sharedMax = 0.0;
        for (CriterionCurve c : d.criteria()) {
            if (c.calibrated() != null && !c.bound()) sharedMax = Math.max(sharedMax, maxShare(c));
        }
        List<Integer> layersAxis = new ArrayList<>();
        for (int l = 1; l <= d.layers(); l++) layersAxis.add(l);

        List<CategoryChart> charts = new ArrayList<>();
        for (int i : boundsLast(d.criteria())) {
            CriterionCurve c = d.criteria().get(i);
            if (c.calibrated() == null) continue;
            int n = c.examplesInHistogram();
            int[] h = c.exitHistogram();
            List<Double> share = new ArrayList<>();
            for (int v : h) share.add(n == 0 ? 0.0 : 100.0 * v / n);
            CategoryChart chart = new CategoryChart(PANEL_WIDTH, PANEL_HEIGHT);
            chart.setTitle(String.format(Locale.ROOT, "%s: mean exit %.2f, %s", c.legendName(),
                    c.calibrated().meanExitLayer(), c.calibrated().knob()));
            chart.setXAxisTitle("exit layer");
            chart.setYAxisTitle("% of " + d.itemName());
            CategorySeries s = chart.addSeries(c.name(), layersAxis, share);
            s.setFillColor(styles.get(i).color());
            var st = chart.getStyler();
            st.setChartTitleFont(PANEL_TITLE);
            st.setAxisTitleFont(PANEL_AXIS).setAxisTickLabelsFont(PANEL_TICKS);
            st.setLegendVisible(false);
            st.setChartBackgroundColor(Color.WHITE).setPlotBackgroundColor(Color.WHITE);
            st.setPlotBorderColor(new Color(0x999999));
            st.setChartTitleBoxVisible(false);
            st.setPlotGridLinesColor(GRID).setPlotGridVerticalLinesVisible(false);
            double top = c.bound() || sharedMax == 0.0 ? maxShare(c) : sharedMax;
            // a little headroom even at 100 %: XChart draws only the two end ticks on an axis ending at 100
            st.setYAxisMin(0.0).setYAxisMax(top > 95.0 ? 105.0 : Math.ceil((top + 2.0) / 10.0) * 10.0);
            st.setYAxisDecimalPattern("0");
            st.setYAxisTickMarkSpacingHint(45); // the default leaves a 0–100 axis with only its two ends
            st.setAvailableSpaceFill(0.8);
            st.setChartPadding(8);
            charts.add(chart);
        }
        return charts;
    }

    /** Largest share of examples (%) at any one exit layer. */
    private static double maxShare(CriterionCurve c) {
        int n = c.examplesInHistogram();
        double m = 0.0;
        if (n > 0) for (int v : c.exitHistogram()) m = Math.max(m, 100.0 * v / n);
        return m;
    }

    /** "SST-2, model: what", or without the model name when that would not fit above the chart. */
    private static String title(ReportData d, String what) {
        String full = d.taskName() + ", " + d.modelName() + ": " + what;
        return full.length() <= 72 ? full : d.taskName() + ": " + what;
    }

    /** Chart 4: the metric of each exit when every example leaves there, with the full-model line. */
    static CategoryChart perExit(ReportData d) {
        CategoryChart chart = new CategoryChart(WIDTH, HEIGHT);
        chart.setTitle(title(d, d.metricName() + " of each exit"));
        chart.setXAxisTitle("exit layer (all " + d.itemName() + " exit here)");
        chart.setYAxisTitle(metricAxisTitle(d));
        styleAxes(chart.getStyler());
        chart.getStyler().setMarkerSize(10);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        chart.getStyler().setOverlapped(true); // otherwise each line series is shifted like a grouped bar
        List<Integer> layersAxis = new ArrayList<>();
        List<Double> metric = new ArrayList<>();
        double[] shown = Arrays.stream(d.perExitMetric()).map(ReportCharts::show).toArray();
        for (int l = 1; l <= d.layers(); l++) {
            layersAxis.add(l);
            metric.add(shown[l - 1]);
        }
        double full = show(d.fullModelMetric());
        double floor = show(d.calibrationFloor());
        double lo = Math.min(floor, Arrays.stream(shown).min().orElse(full));
        double hi = Math.max(full, Arrays.stream(shown).max().orElse(full));
        double span = Math.max(hi - lo, 1.0);
        chart.getStyler().setYAxisMin(lo - 0.06 * span).setYAxisMax(hi + 0.06 * span);
        chart.getStyler().setYAxisDecimalPattern("0.0#");

        CategorySeries exits = chart.addSeries("exit " + d.metricName(), layersAxis, metric);
        exits.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        exits.setLineColor(new Color(0x0072B2));
        exits.setMarkerColor(new Color(0x0072B2));
        exits.setMarker(SeriesMarkers.CIRCLE);
        exits.setLineStyle(SeriesStyle.SOLID);

        List<Double> fullLine = new ArrayList<>();
        List<Double> floorLine = new ArrayList<>();
        for (int l = 1; l <= d.layers(); l++) {
            fullLine.add(full);
            floorLine.add(floor);
        }
        CategorySeries f = chart.addSeries(String.format(Locale.ROOT, "full model (%.2f)", full), layersAxis,
                fullLine);
        f.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        f.setMarker(SeriesMarkers.NONE);
        f.setLineColor(FULL_LINE);
        f.setLineStyle(new java.awt.BasicStroke(2f));
        CategorySeries t = chart.addSeries(String.format(Locale.ROOT, "full − %s points (%.2f)",
                trim(d.maxDropPoints()), floor), layersAxis, floorLine);
        t.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        t.setMarker(SeriesMarkers.NONE);
        t.setLineColor(FULL_LINE);
        t.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT,
                java.awt.BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 5f}, 0f));
        return chart;
    }

    private static void styleAxes(AxesChartStyler st) {
        st.setChartTitleFont(TITLE);
        st.setLegendFont(LEGEND);
        st.setAxisTitleFont(AXIS_TITLE).setAxisTickLabelsFont(TICKS);
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setLegendBorderColor(new Color(0xBBBBBB));
        st.setLegendSeriesLineLength(36);
        st.setChartBackgroundColor(Color.WHITE).setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderColor(new Color(0x999999));
        st.setChartTitleBoxVisible(false);
        st.setPlotGridLinesColor(GRID);
        st.setAxisTitlePadding(10);
        st.setChartPadding(14);
    }

    /** Criteria in data order, then the bounds, so the legend lists the real methods first. */
    private static List<Integer> boundsLast(List<CriterionCurve> curves) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < curves.size(); i++) if (!curves.get(i).bound()) order.add(i);
        for (int i = 0; i < curves.size(); i++) if (curves.get(i).bound()) order.add(i);
        return order;
    }

    /** 0.5 → "0.5", 1.0 → "1". */
    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}

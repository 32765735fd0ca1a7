package dev.offramp.cli.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GenerationReportHtmlTest {
    static final CriterionCurve CURVE = CriterionCurve.of("saturation (CALM)", List.of(
            new CurvePoint("τ=0.99", 0.99, 1.1, 1.05), new CurvePoint("τ=0.9", 0.95, 1.6, Double.NaN),
            new CurvePoint("τ=0.8", 0.80, 2.1, 1.9)), null, null);

    @Test
    void bestAtSpeedupIsTheMostFaithfulSettingAtLeastThatFast() {
        assertEquals(0.99, GenerationReportHtml.bestAtSpeedup(CURVE, 1.0, false));
        assertEquals(0.95, GenerationReportHtml.bestAtSpeedup(CURVE, 1.5, false));
        assertEquals(0.80, GenerationReportHtml.bestAtSpeedup(CURVE, 2.0, false));
        assertTrue(Double.isNaN(GenerationReportHtml.bestAtSpeedup(CURVE, 2.5, false)));
        // a setting whose time was not measured does not count on the tokens/s axis
        assertEquals(0.80, GenerationReportHtml.bestAtSpeedup(CURVE, 1.5, true));
    }

    @Test
    void pageHasTheRowsTheEqualSpeedupTableAndTheCharts(@TempDir Path dir) throws Exception {
        CurvePoint full = new CurvePoint("layer 4", 1.0, 1.0, 1.0);
        CurvePoint two = new CurvePoint("layer 2", 0.7, 2.0, 1.8);
        CriterionCurve stat = CriterionCurve.of("static", List.of(full, two),
                new CalibratedPoint(full, 4, 1.0, Double.NaN, Double.NaN, Double.NaN), new int[]{0, 0, 0, 10});
        ReportData d = new ReportData("lm", "generation", "ROUGE-L", "held-out prompts, vs full-depth output", 4, 1.0,
                new double[]{0.5, 0.7, 0.9, 1.0}, 10, new TimingContext(1, 1, 1, "test"), List.of(CURVE, stat),
                "generated tokens");
        List<GenerationRow> rows = List.of(new GenerationRow("saturation (CALM)", "τ=0.99 <x>", true, 0.99, 0.98, 3.6,
                1.11, 900, 850, 30.5, 30.1));
        Path html = ReportWriter.writeGeneration(d, rows, "./offramp report-gen --model lm", dir);
        String s = Files.readString(html);
        assertTrue(s.contains("At equal speed-up"), s);
        assertTrue(s.contains("τ=0.99 &lt;x&gt;"), "text is escaped");
        assertTrue(s.contains("<td class=\"n\">95.00</td>"), "saturation at ≥ 1.5× layers is its τ=0.9 point: " + s);
        assertTrue(s.contains("30.50") && s.contains("30.10"), "perplexity early and full");
        assertTrue(Files.size(dir.resolve(ReportWriter.LAYER_CHART)) > 1000);
        // a 10-point target widens the metric axis to 30 points, so the 70-point static setting is on the chart
        ReportCharts.Range r = ReportCharts.metricRange(d, CurvePoint::layerSpeedup);
        assertTrue(r.min() < 70 && r.min() > 60, "min " + r.min());
        assertEquals(0, r.hiddenBelow());
        assertTrue(Files.exists(dir.resolve(ReportWriter.HISTOGRAM_CHART)));
    }
}

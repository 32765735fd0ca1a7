package dev.offramp.cli.report;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Writes example reports to target/report-example*, to look at in a browser after a build. */
class ReportExampleTest {
    @Test
    void writesExampleReport() throws IOException {
        ReportData data = SyntheticReport.make("bert-base-uncased (synthetic)", "synthetic data, no timings were run");
        Path html = ReportWriter.write(data, Path.of("target", "report-example"));
        assertTrue(Files.size(html) > 2000);
        System.out.print(ReportWriter.textSummary(data));
    }

    /** A small model, a metric that is not accuracy, no timings, one criterion that misses the target. */
    @Test
    void writesSparseExampleReport() throws IOException {
        List<CurvePoint> maxProb = List.of(new CurvePoint("tau=0.95", 0.884, 1.2, Double.NaN),
                new CurvePoint("tau=0.90", 0.879, 1.5, Double.NaN), new CurvePoint("tau=0.80", 0.861, 2.1, Double.NaN));
        List<CurvePoint> patience = List.of(new CurvePoint("patience=3", 0.872, 1.3, Double.NaN),
                new CurvePoint("patience=2", 0.85, 1.7, Double.NaN));
        List<CurvePoint> oracle = List.of(new CurvePoint("first correct exit", 0.95, 3.1, Double.NaN));
        int[] hist = {30, 80, 120, 200, 100, 378};
        List<CriterionCurve> curves = List.of(
                CriterionCurve.of("max-prob", maxProb, new CalibratedPoint(maxProb.get(1), 4.0, Double.NaN,
                        Double.NaN, Double.NaN, Double.NaN), hist),
                CriterionCurve.of("patience (PABEE)", patience, null, null),
                CriterionCurve.of("oracle", oracle, new CalibratedPoint(oracle.get(0), 6 / 3.1, Double.NaN,
                        Double.NaN, Double.NaN, Double.NaN), new int[] {400, 200, 100, 50, 40, 118}));
        ReportData data = new ReportData("tiny-bert-6", "MRPC", "F1", "dev", 6, 0.883,
                new double[] {0.81, 0.812, 0.84, 0.86, 0.875, 0.883}, 0.5, TimingContext.standard(1, ""), curves);
        Path html = ReportWriter.write(data, Path.of("target", "report-example-sparse"));
        assertFalse(Files.exists(html.resolveSibling(ReportWriter.WALL_CHART)));
        assertTrue(Files.exists(html.resolveSibling(ReportWriter.HISTOGRAM_CHART)));
    }
}

package dev.offramp.cli.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportWriterTest {
    private static final String NASTY_MODEL = "bert<base>&\"sst2's\"";
    private static final String NASTY_MACHINE = "2 cores <shared> & loaded";

    @Test
    void writesHtmlAndFourReadablePngs(@TempDir Path dir) throws IOException {
        ReportData data = SyntheticReport.make(NASTY_MODEL, NASTY_MACHINE);
        Path html = ReportWriter.write(data, dir);
        assertEquals(dir.resolve("index.html"), html);

        assertPng(dir.resolve(ReportWriter.LAYER_CHART), ReportCharts.WIDTH, ReportCharts.HEIGHT);
        assertPng(dir.resolve(ReportWriter.WALL_CHART), ReportCharts.WIDTH, ReportCharts.HEIGHT);
        // 8 calibrated criteria → 4 rows × 2 columns of panels
        assertPng(dir.resolve(ReportWriter.HISTOGRAM_CHART), 2 * ReportCharts.PANEL_WIDTH,
                4 * ReportCharts.PANEL_HEIGHT);
        assertPng(dir.resolve(ReportWriter.PER_EXIT_CHART), ReportCharts.WIDTH, ReportCharts.HEIGHT);

        // the max-prob curve is drawn in its own colour on the trade-off chart
        BufferedImage layers = ImageIO.read(dir.resolve(ReportWriter.LAYER_CHART).toFile());
        assertTrue(countColour(layers, 0x0072B2) > 200, "max-prob blue missing from the layer trade-off chart");
        assertTrue(countColour(layers, 0xD55E00) > 200, "entropy vermillion missing from the layer trade-off chart");

        String page = Files.readString(html);
        for (String name : SyntheticReport.NAMES) {
            assertTrue(page.contains("<td>" + ReportHtml.esc(name)), "no table row for " + name);
        }
        // full-model row + one row per criterion in the calibrated table
        String calibrated = page.substring(page.indexOf("<tbody>"), page.indexOf("</tbody>"));
        assertEquals(1 + SyntheticReport.NAMES.length, count(calibrated, "<tr"));
        for (String f : List.of(ReportWriter.LAYER_CHART, ReportWriter.WALL_CHART, ReportWriter.HISTOGRAM_CHART,
                ReportWriter.PER_EXIT_CHART)) {
            assertTrue(page.contains("src=\"" + f + "\""), "page does not show " + f);
        }
        assertFalse(page.contains(NASTY_MODEL), "model name put into HTML unescaped");
        assertTrue(page.contains("bert&lt;base&gt;&amp;&quot;sst2&#39;s&quot;"));
        assertFalse(page.contains("<shared>"), "machine note put into HTML unescaped");
        assertTrue(page.contains("2 cores &lt;shared&gt; &amp; loaded"));
        // self-contained: no external scripts, styles or images
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("<script")
                || page.contains("<link"), "page references external resources");
        // a NaN timing is a dash, never "NaN"
        assertFalse(page.contains("NaN"));
        assertTrue(page.contains("—"));
        // BEEM-C's calibrated setting has ΔF = -0.xx: shown with a minus sign in red
        assertTrue(page.contains("class=\"n neg\""));
    }

    @Test
    void textSummaryIsAFixedWidthTable() {
        ReportData data = SyntheticReport.make("bert-base", "test machine");
        String text = ReportWriter.textSummary(data);
        String[] lines = text.split("\\R");
        int header = -1;
        for (int i = 0; i < lines.length; i++) if (lines[i].startsWith("criterion")) header = i;
        assertTrue(header >= 0, "no header line:\n" + text);
        // the speed-up column ends at the same character in the header and every row
        int end = lines[header].indexOf("layer x") + "layer x".length();
        List<String> rows = new ArrayList<>();
        for (int i = header + 2; i < header + 2 + 1 + SyntheticReport.NAMES.length; i++) rows.add(lines[i]);
        for (String row : rows) {
            assertEquals('x', row.charAt(end - 1), "layer speed-up column misaligned in: " + row);
            assertEquals(' ', row.charAt(end), "layer speed-up column misaligned in: " + row);
        }
        for (String name : SyntheticReport.NAMES) assertTrue(text.contains(name), name + " missing:\n" + text);
        assertTrue(text.contains("static (bound)") && text.contains("oracle (bound)"), text);
        assertFalse(text.contains("NaN"), text);
        assertTrue(text.contains("machine: test machine"));
    }

    @Test
    void withoutTimingsOrCalibrationTheChartsAreLeftOutAndSaid(@TempDir Path dir) throws IOException {
        List<CriterionCurve> curves = List.of(new CriterionCurve("max-prob", false,
                List.of(new CurvePoint("tau=0.9", 0.90, 1.5, Double.NaN),
                        new CurvePoint("tau=0.8", 0.85, 2.5, Double.NaN)), null, null));
        ReportData data = new ReportData("m", "t", "F1", "dev", 4, 0.91, new double[] {0.7, 0.8, 0.88, 0.91}, 0.5,
                TimingContext.standard(1, ""), curves);
        ReportWriter.write(data, dir);
        assertTrue(Files.exists(dir.resolve(ReportWriter.LAYER_CHART)));
        assertFalse(Files.exists(dir.resolve(ReportWriter.WALL_CHART)));
        assertFalse(Files.exists(dir.resolve(ReportWriter.HISTOGRAM_CHART)));
        assertPng(dir.resolve(ReportWriter.PER_EXIT_CHART), ReportCharts.WIDTH, ReportCharts.HEIGHT);
        String page = Files.readString(dir.resolve("index.html"));
        assertTrue(page.contains("No wall-clock measurements"));
        assertTrue(page.contains("no setting within 0.5 points"));
        assertTrue(ReportWriter.textSummary(data).contains("none within 0.5 pts"));
    }

    @Test
    void rejectsInconsistentData() {
        CurvePoint p = new CurvePoint("tau=0.9", 0.9, 2.0, Double.NaN);
        CalibratedPoint cal = new CalibratedPoint(p, 6.0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        CriterionCurve wrongBins = new CriterionCurve("max-prob", false, List.of(p), cal, new int[5]);
        var e = assertThrows(IllegalArgumentException.class, () -> new ReportData("m", "t", "accuracy", "dev", 12,
                0.9, new double[12], 0.5, TimingContext.standard(1, ""), List.of(wrongBins)));
        assertTrue(e.getMessage().contains("5 bins") && e.getMessage().contains("12 layers"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ReportData("m", "t", "accuracy", "dev", 12, 0.9,
                new double[11], 0.5, TimingContext.standard(1, ""), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new CurvePoint("x", 0.9, 2.0, -1.0));
        assertThrows(IllegalArgumentException.class, () -> new CriterionCurve("x", false, List.of(p), cal, null));
        assertTrue(CriterionCurve.of("oracle", List.of(p), null, null).bound());
        assertFalse(CriterionCurve.of("BEEM-A", List.of(p), null, null).bound());
    }

    @Test
    void metricAxisZoomsToTheInterestingRange() {
        ReportData data = SyntheticReport.make("m", "");
        ReportCharts.Range r = ReportCharts.metricRange(data, CurvePoint::layerSpeedup);
        double full = 100 * SyntheticReport.FULL;
        // static's exit-1 point (~62) is off the chart, the oracle's 97.5 is on it
        assertTrue(r.min() > full - ReportCharts.METRIC_WINDOW_POINTS - 1.5 && r.min() < full - 0.5, "min " + r.min());
        assertTrue(r.max() >= 97.5, "max " + r.max());
        assertTrue(r.hiddenBelow() > 0);
    }

    /** Exists, decodes, has the expected size, and is not a blank canvas. */
    private static void assertPng(Path file, int width, int height) throws IOException {
        assertTrue(Files.size(file) > 1000, file + " is missing or tiny");
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " does not decode as an image");
        assertEquals(width, img.getWidth(), file + " width");
        assertEquals(height, img.getHeight(), file + " height");
        double sum = 0;
        double sumSq = 0;
        int n = 0;
        for (int y = 0; y < height; y += 2) {
            for (int x = 0; x < width; x += 2) {
                int rgb = img.getRGB(x, y);
                double lum = 0.299 * ((rgb >> 16) & 255) + 0.587 * ((rgb >> 8) & 255) + 0.114 * (rgb & 255);
                sum += lum;
                sumSq += lum * lum;
                n++;
            }
        }
        double mean = sum / n;
        double var = sumSq / n - mean * mean;
        assertTrue(var > 100.0, file + " looks blank (luminance variance " + var + ")");
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        }
        return n;
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}

package dev.offramp.cli;

import dev.offramp.cli.report.CalibratedPoint;
import dev.offramp.cli.report.CriterionCurve;
import dev.offramp.cli.report.CurvePoint;
import dev.offramp.cli.report.GenerationReportHtml;
import dev.offramp.cli.report.GenerationRow;
import dev.offramp.cli.report.ReportData;
import dev.offramp.cli.report.ReportWriter;
import dev.offramp.cli.report.TimingContext;
import dev.offramp.generation.DraftAdapter;
import dev.offramp.generation.EarlyExitDecoder;
import dev.offramp.generation.ExitPolicies;
import dev.offramp.generation.GenerationEval;
import dev.offramp.generation.KvMode;
import dev.offramp.weights.DecoderModels;
import dev.offramp.generation.ThresholdCalibration;
import dev.offramp.generation.TokenCriteria;
import dev.offramp.generation.TokenExitCriterion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * ./offramp report-gen: the report's generation page. Every token-level criterion swept over its knob on held-out
 * prompts (free-running ROUGE-L against full-depth greedy output, layer speed-up, tokens/s speed-up), calibrated on
 * other held-out prompts, and its calibrated setting measured as eval-gen measures it.
 */
@Command(name = "report-gen", mixinStandardHelpOptions = true,
        description = {"Speed vs agreement of every token-level exit criterion on a decoder folder from train-lm: sweep,"
                + " calibrate, time (batch 1), and write an HTML page with plots."},
        footer = {"", "Examples:",
                "  ./offramp report-gen --model runs/lm",
                "  ./offramp report-gen --model runs/lm --target-agreement 0.95 --out runs/lm/report-gen-095"})
final class ReportGenCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a decoder folder (e.g. from train-lm) or demo-lm, the"
            + " demonstration decoder kept in the repository")
    String model;

    @Option(names = "--out", description = "report folder (default: <model>/report-gen)")
    Path out;

    @Mixin
    GenerationCalibrationOptions calibration;

    @Mixin
    HeldOutGenerationOptions heldOut;

    @Option(names = "--policy-file", description = "ConsistentEE exit policies (default: <model>/exit-policy.json;"
            + " left out of the page when missing)")
    Path policyFile;

    @Option(names = "--repeats", defaultValue = "2", description = "timed passes per setting; speeds are medians (default: ${DEFAULT-VALUE})")
    int repeats;

    /** Display names, in the page's order; static and oracle are bounds. */
    private static final List<String[]> CRITERIA = List.of(
            new String[]{TokenCriteria.TOP_PROB, "top-prob (CALM)"},
            new String[]{TokenCriteria.TOP_MARGIN, "top-1 − top-2 (CALM)"},
            new String[]{TokenCriteria.SATURATION, "saturation (CALM)"},
            new String[]{TokenCriteria.CONSISTENTEE, "ConsistentEE policy"},
            new String[]{TokenCriteria.STATIC, "static"},
            new String[]{TokenCriteria.SPECULATIVE, "self-speculative (exit drafts)"},
            new String[]{TokenCriteria.ORACLE, "oracle"});

    @Override
    public Integer call() throws Exception {
        ThresholdCalibration.Agreement measure = calibration.measure(); // a bad --agreement fails before any work
        KvMode mode = heldOut.mode();
        GenerationSetup g = new GenerationSetup(DecoderModels.folder(model));
        Path dir = out != null ? out : g.dir.resolve("report-gen");
        List<int[]> docs = g.heldOut(4000);
        List<int[]> evalPrompts = heldOut.evaluationPrompts(docs);
        List<int[]> calib = heldOut.calibrationPrompts(docs);
        int gen = heldOut.generatedTokens(g);
        GenerationEval.Options o = heldOut.options(g, repeats);
        ExitPolicies policies = g.policies(policyFile);
        EarlyExitDecoder d = g.decoder;
        int layers = g.layers();

        List<String[]> criteria = new ArrayList<>();
        for (String[] c : CRITERIA) if (!c[0].equals(TokenCriteria.CONSISTENTEE) || policies != null) criteria.add(c);
        int settings = 0;
        for (String[] c : criteria) settings += c[0].equals(TokenCriteria.ORACLE) ? 1 : 2 * TokenCriteria.sweep(c[0], layers).length;

        List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(d, calib, gen);
        // one untimed full-depth pass first, so the JIT has compiled the decoder before the first criterion is timed
        GenerationEval.generation(d, TokenCriteria.full(), evalPrompts, gen, mode, 1);
        double fullPpl = GenerationEval.perplexity(d, TokenCriteria.full(), docs, o);  // the same for every criterion
        List<CriterionCurve> curves = new ArrayList<>();
        List<GenerationRow> rows = new ArrayList<>();
        List<String> summaries = new ArrayList<>();  // each row's summary line, printed after the tables
        double[] perExit = new double[layers];
        try (Progress bar = new Progress("criteria x settings", settings, "settings")) {
            int done = 0;
            for (String[] c : criteria) {
                String name = c[0], display = c[1];
                bar.extra(name);
                if (name.equals(TokenCriteria.ORACLE)) {
                    TokenExitCriterion oracle = TokenCriteria.of(name, Double.NaN, null);
                    GenerationEval.Generation r = GenerationEval.generation(d, oracle, evalPrompts, gen, mode, 1);
                    // the oracle runs every layer to know the full-depth token: its tokens/s says nothing
                    CurvePoint p = new CurvePoint("oracle", r.rougeL(), layers / r.meanExitLayer(), Double.NaN);
                    curves.add(CriterionCurve.of(display, List.of(p),
                            new CalibratedPoint(p, r.meanExitLayer(), Double.NaN, Double.NaN, Double.NaN, Double.NaN),
                            r.exitHistogram()));
                    addRow(rows, summaries, name, "-", new GenerationRow(display, "—", true, r.rougeL(), r.tokenMatch(),
                            r.meanExitLayer(), layers / r.meanExitLayer(), Double.NaN, r.fullTokensPerSecond(),
                            GenerationEval.perplexity(d, oracle, docs, o), fullPpl));
                    bar.stepTo(++done);
                    continue;
                }
                if (name.equals(TokenCriteria.SPECULATIVE)) {
                    done = speculativeCurve(g, display, evalPrompts, calib, gen, o, fullPpl, curves, rows, summaries, bar, done);
                    continue;
                }
                double[] knobs = TokenCriteria.sweep(name, layers);
                List<CurvePoint> points = new ArrayList<>();
                List<GenerationEval.Generation> runs = new ArrayList<>();
                for (double knob : knobs) {
                    GenerationEval.Generation r = GenerationEval.generation(d, TokenCriteria.of(name, knob, policies),
                            evalPrompts, gen, mode, repeats);
                    runs.add(r);
                    points.add(new CurvePoint(knobLabel(name, knob), r.rougeL(), layers / r.meanExitLayer(), r.speedup()));
                    if (name.equals(TokenCriteria.STATIC)) perExit[(int) knob - 1] = r.rougeL();
                    bar.stepTo(++done);
                }
                ThresholdCalibration.Result cal = ThresholdCalibration.calibrate(d, refs, name, policies,
                        calibration.target, mode, measure);
                done += knobs.length;
                bar.stepTo(done);
                int pick = indexOf(knobs, cal.chosen() != null ? cal.chosen().knob() : cal.mostFaithful().knob());
                GenerationEval.Generation r = runs.get(pick);
                CurvePoint p = points.get(pick);
                boolean reached = cal.chosen() != null;
                curves.add(CriterionCurve.of(display, points, reached
                        ? new CalibratedPoint(p, r.meanExitLayer(), r.speedup(), Double.NaN, Double.NaN, Double.NaN)
                        : null, reached ? r.exitHistogram() : null));
                double ppl = GenerationEval.perplexity(d, TokenCriteria.of(name, knobs[pick], policies), docs, o);
                addRow(rows, summaries, name, GenerationSetup.fmtKnob(knobs[pick]), new GenerationRow(display,
                        reached ? p.knob() : p.knob() + " (none reaches the target)", reached, r.rougeL(), r.tokenMatch(),
                        r.meanExitLayer(), layers / r.meanExitLayer(), r.tokensPerSecond(), r.fullTokensPerSecond(), ppl, fullPpl));
            }
        }
        String note = String.format(Locale.ROOT, "%d-core machine; batch 1; %d prompts x %d tokens -> %d new tokens per"
                        + " setting, median of %d timed passes; KV of skipped layers: %s; calibrated on %d other prompts,"
                        + " %s agreement", Runtime.getRuntime().availableProcessors(), evalPrompts.size(), heldOut.promptTokens, gen,
                repeats, mode.id(), calib.size(), measure.id());
        double dropPoints = Math.round(1e6 * (1.0 - calibration.target)) / 1e4; // 0.9 → 10 points, not 9.999…
        ReportData data = new ReportData(g.dir.toAbsolutePath().normalize().getFileName().toString(), "generation",
                "ROUGE-L", "held-out prompts, vs full-depth output", layers, 1.0, perExit, dropPoints,
                new TimingContext(1, 1, 1, note), curves, "generated tokens");
        String command = "./offramp report-gen --model " + model + " --target-agreement " + calibration.target
                + " --agreement " + measure.id() + " --kv " + mode.id() + " --prompts " + heldOut.prompts + " --max-tokens " + heldOut.maxTokens
                + " --repeats " + repeats;
        Path html = ReportWriter.writeGeneration(data, rows, command, dir);
        for (boolean wall : new boolean[]{false, true}) {
            StringBuilder line = new StringBuilder(wall ? "best ROUGE-L at tokens/s speed-up >=" : "best ROUGE-L at layer speed-up >=");
            for (double x : GenerationReportHtml.EQUAL_SPEEDUPS) line.append(String.format(Locale.ROOT, " %8.2fx", x));
            System.out.println(line);
            for (CriterionCurve c : curves) {
                if (c.name().startsWith("oracle")) continue;
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-33s", c.name()));
                for (double x : GenerationReportHtml.EQUAL_SPEEDUPS) {
                    double r = GenerationReportHtml.bestAtSpeedup(c, x, wall);
                    row.append(Double.isNaN(r) ? "         -" : String.format(Locale.ROOT, " %9.4f", r));
                }
                System.out.println(row);
            }
        }
        summaries.forEach(System.out::println);
        System.out.println("report: " + html.toAbsolutePath());
        return 0;
    }

    /**
     * Self-speculative decoding at every draft layer (the folder's draft adapter at its layer): ROUGE-L is 1 at each,
     * so the curve is a row of points along the tokens/s axis, and the layer speed-up is 1 (every emitted token ran
     * every layer). The ringed point is the draft layer eval-gen would use: the adapter's, else the fastest on the
     * calibration prompts. Returns the settings done.
     */
    private int speculativeCurve(GenerationSetup g, String display, List<int[]> evalPrompts, List<int[]> calib, int gen,
                                 GenerationEval.Options o, double fullPpl, List<CriterionCurve> curves, List<GenerationRow> rows,
                                 List<String> summaries, Progress bar, int done) {
        String name = TokenCriteria.SPECULATIVE;
        int layers = g.layers(), draftRows = calibration.draftRows;
        DraftAdapter adapter = g.draftAdapter();
        double[] knobs = TokenCriteria.sweep(name, layers);
        List<CurvePoint> points = new ArrayList<>();
        List<GenerationEval.Generation> runs = new ArrayList<>();
        for (double knob : knobs) {
            TokenCriteria.Speculative c = g.speculative((int) knob, draftRows, adapter);
            GenerationEval.Generation r = GenerationEval.generation(g.decoder, c, evalPrompts, gen, o.mode(), o.repeats());
            runs.add(r);
            points.add(new CurvePoint("draft layer " + (int) knob + (c.adapter() != null ? " + adapter" : ""), r.rougeL(),
                    layers / r.meanExitLayer(), r.speedup()));
            bar.stepTo(++done);
        }
        TokenExitCriterion chosen = g.criterion(name, Double.NaN, null, calib, gen, calibration, o.mode());
        done += knobs.length;
        bar.stepTo(done);
        int pick = indexOf(knobs, chosen.threshold());
        GenerationEval.Generation r = runs.get(pick);
        CurvePoint p = points.get(pick);
        curves.add(CriterionCurve.of(display, points, new CalibratedPoint(p, r.meanExitLayer(), r.speedup(), Double.NaN,
                Double.NaN, Double.NaN), r.exitHistogram()));
        addRow(rows, summaries, name, GenerationSetup.fmtKnob(knobs[pick]), new GenerationRow(display, p.knob() + ", " + draftRows
                + " rows", true, r.rougeL(), r.tokenMatch(), r.meanExitLayer(), layers / r.meanExitLayer(), r.tokensPerSecond(),
                r.fullTokensPerSecond(), fullPpl, fullPpl));
        return done;
    }

    /** Adds the page's row and its summary line, which names the criterion by its --policy id and the knob as typed. */
    private static void addRow(List<GenerationRow> rows, List<String> summaries, String id, String setting, GenerationRow r) {
        rows.add(r);
        summaries.add(String.format(Locale.ROOT, "summary: policy=%s setting=%s calibrated=%s tokens_per_s=%.1f"
                        + " full_tokens_per_s=%.1f speedup=%.3f mean_exit_layer=%.3f layer_speedup=%.3f rougeL_vs_full=%.4f"
                        + " ppl=%.3f full_ppl=%.3f", id, setting, r.calibrated(), r.tokensPerSecond(), r.fullTokensPerSecond(),
                r.speedup(), r.meanExitLayer(), r.layerSpeedup(), r.rougeL(), r.ppl(), r.fullPpl()));
    }

    private static int indexOf(double[] knobs, double knob) {
        for (int i = 0; i < knobs.length; i++) if (knobs[i] == knob) return i;
        throw new IllegalStateException("calibration chose " + knob + ", which is not in the sweep");
    }

    static String knobLabel(String criterion, double knob) {
        return criterion.equals(TokenCriteria.STATIC) ? "layer " + (int) knob : "τ=" + GenerationSetup.fmtKnob(knob);
    }
}

package dev.offramp.generation;

import java.util.ArrayList;
import java.util.List;

/**
 * Picks each criterion's knob on held-out text, as eval/calibration does for the encoder: every knob of the sweep
 * runs the held-out prompts teacher-forced on the full-depth greedy continuation, and the loosest knob (fewest
 * layers) whose token agreement with full depth is at least the target wins. Agreement is the fraction of generated
 * positions where the exit layer's greedy token equals the full-depth one, on the full-depth path; the first
 * position comes from the prompt's full-depth pass and is not counted.
 */
public final class ThresholdCalibration {
    private ThresholdCalibration() {}

    /** A prompt and the continuation full-depth greedy decoding gives it. */
    public record Reference(int[] prompt, int[] continuation) {}

    /** One knob's result: agreement in [0, 1], mean exit layer of the counted positions. */
    public record Point(double knob, double agreement, double meanExitLayer) {}

    /** The sweep and the chosen point (null when no knob reaches the target). */
    public record Result(String criterion, List<Point> points, Point chosen) {}

    /** Full-depth greedy continuations of the prompts (maxTokens each, or fewer at an end-of-sequence token). */
    public static List<Reference> references(EarlyExitDecoder d, List<int[]> prompts, int maxTokens) {
        List<Reference> refs = new ArrayList<>();
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(1);
        EarlyExitDecoder.Session s = d.newSession(longest + maxTokens, longest);
        for (int[] p : prompts) {
            refs.add(new Reference(p, d.generate(s, p, maxTokens, TokenCriteria.full(), KvMode.PROPAGATE, null).tokens()));
        }
        return refs;
    }

    /** Agreement and mean exit layer of one criterion on the references. */
    public static Point measure(EarlyExitDecoder d, List<Reference> refs, TokenExitCriterion c, KvMode mode) {
        int longest = refs.stream().mapToInt(r -> r.prompt().length + r.continuation().length).max().orElse(1);
        int longestPrompt = refs.stream().mapToInt(r -> r.prompt().length).max().orElse(1);
        EarlyExitDecoder.Session s = d.newSession(longest, longestPrompt);
        long match = 0, count = 0, layers = 0;
        for (Reference r : refs) {
            EarlyExitDecoder.Forced f = d.force(s, r.prompt(), r.continuation(), c, mode);
            for (int i = 1; i < r.continuation().length; i++) {
                if (f.greedyMatches()[i]) match++;
                layers += f.exitLayers()[i];
                count++;
            }
        }
        return new Point(c.threshold(), count == 0 ? 1 : (double) match / count,
                count == 0 ? Double.NaN : (double) layers / count);
    }

    /** Sweeps the criterion's knobs and picks the loosest with agreement ≥ target. */
    public static Result calibrate(EarlyExitDecoder d, List<Reference> refs, String criterion, ExitPolicies policies,
                                   double targetAgreement, KvMode mode) {
        List<Point> points = new ArrayList<>();
        Point chosen = null;
        for (double knob : TokenCriteria.sweep(criterion, d.model().config().layers())) {
            Point p = measure(d, refs, TokenCriteria.of(criterion, knob, policies), mode);
            points.add(p);
            if (p.agreement() >= targetAgreement && (chosen == null || p.meanExitLayer() < chosen.meanExitLayer())) chosen = p;
        }
        return new Result(criterion, points, chosen);
    }
}

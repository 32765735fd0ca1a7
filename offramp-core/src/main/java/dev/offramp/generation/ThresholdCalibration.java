package dev.offramp.generation;

import java.util.ArrayList;
import java.util.List;

/**
 * Picks each criterion's knob on held-out text, as eval/calibration does for the encoder: every knob of the sweep
 * runs the held-out prompts against their full-depth greedy continuations, and the loosest knob (fewest layers) whose
 * agreement with full depth is at least the target wins. Agreement is measured one of two ways ({@link Agreement}):
 * free-running ROUGE-L, what eval-gen reports, or per-token agreement teacher-forced on the full-depth path, which
 * is cheaper but overstates free-running agreement: once one token differs, the rest of a free-running continuation
 * differs too (docs/results/generation.md: 0.9 token agreement became ROUGE-L 0.69–0.79).
 */
public final class ThresholdCalibration {
    private ThresholdCalibration() {}

    /** What "agreement with full depth" means for a knob. */
    public enum Agreement {
        /** Mean ROUGE-L F1 of the early-exit greedy continuation against the full-depth one, each free-running. */
        ROUGE_L("rouge-l"),
        /** Teacher-forced on the full-depth continuation: the share of positions whose exit-layer greedy token is the
         *  full-depth one (the first position, from the prompt's full-depth pass, not counted). */
        TOKENS("tokens");

        private final String id;

        Agreement(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Agreement fromId(String id) {
            for (Agreement a : values()) if (a.id.equals(id)) return a;
            throw new IllegalArgumentException("unknown agreement measure '" + id + "': rouge-l | tokens");
        }
    }

    /** A prompt and the continuation full-depth greedy decoding gives it. */
    public record Reference(int[] prompt, int[] continuation) {}

    /** One knob's result: agreement in [0, 1], mean exit layer of the counted positions. */
    public record Point(double knob, double agreement, double meanExitLayer) {}

    /** The sweep and the chosen point (null when no knob reaches the target). */
    public record Result(String criterion, List<Point> points, Point chosen) {
        /** The knob with the highest agreement, the fallback when none reaches the target (the first of equals). */
        public Point mostFaithful() {
            Point best = points.getFirst();
            for (Point p : points) if (p.agreement() > best.agreement()) best = p;
            return best;
        }
    }

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

    /** Agreement and mean exit layer of one criterion on the references, agreement measured as {@code a} says. */
    public static Point measure(EarlyExitDecoder d, List<Reference> refs, TokenExitCriterion c, KvMode mode, Agreement a) {
        return a == Agreement.ROUGE_L ? measureFreeRunning(d, refs, c, mode) : measure(d, refs, c, mode);
    }

    /**
     * Free-running: each prompt generates as many tokens as its reference with the criterion; agreement is the mean
     * ROUGE-L F1 against the reference, the mean exit layer counts the tokens after the first.
     */
    public static Point measureFreeRunning(EarlyExitDecoder d, List<Reference> refs, TokenExitCriterion c, KvMode mode) {
        EarlyExitDecoder.Session s = session(d, refs);
        double rouge = 0;
        long count = 0, layers = 0;
        for (Reference r : refs) {
            EarlyExitDecoder.Generated g = d.generate(s, r.prompt(), r.continuation().length, c, mode, null);
            rouge += RougeL.f1(g.tokens(), r.continuation());
            for (int i = 1; i < g.exitLayers().length; i++) layers += g.exitLayers()[i];
            count += Math.max(0, g.exitLayers().length - 1);
        }
        return new Point(c.threshold(), refs.isEmpty() ? 1 : rouge / refs.size(),
                count == 0 ? Double.NaN : (double) layers / count);
    }

    /** A session that holds the longest reference, prompt and continuation. */
    private static EarlyExitDecoder.Session session(EarlyExitDecoder d, List<Reference> refs) {
        int longest = refs.stream().mapToInt(r -> r.prompt().length + r.continuation().length).max().orElse(1);
        int longestPrompt = refs.stream().mapToInt(r -> r.prompt().length).max().orElse(1);
        return d.newSession(longest, longestPrompt);
    }

    /** Teacher-forced token agreement and mean exit layer of one criterion on the references. */
    public static Point measure(EarlyExitDecoder d, List<Reference> refs, TokenExitCriterion c, KvMode mode) {
        EarlyExitDecoder.Session s = session(d, refs);
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

    /** Sweeps the criterion's knobs and picks the loosest with teacher-forced token agreement ≥ target. */
    public static Result calibrate(EarlyExitDecoder d, List<Reference> refs, String criterion, ExitPolicies policies,
                                   double targetAgreement, KvMode mode) {
        return calibrate(d, refs, criterion, policies, targetAgreement, mode, Agreement.TOKENS);
    }

    /** Sweeps the criterion's knobs and picks the loosest with agreement ≥ target, agreement measured as {@code a} says. */
    public static Result calibrate(EarlyExitDecoder d, List<Reference> refs, String criterion, ExitPolicies policies,
                                   double targetAgreement, KvMode mode, Agreement a) {
        List<Point> points = new ArrayList<>();
        Point chosen = null;
        for (double knob : TokenCriteria.sweep(criterion, d.model().config().layers())) {
            Point p = measure(d, refs, TokenCriteria.of(criterion, knob, policies), mode, a);
            points.add(p);
            if (p.agreement() >= targetAgreement && (chosen == null || p.meanExitLayer() < chosen.meanExitLayer())) chosen = p;
        }
        return new Result(criterion, points, chosen);
    }
}

package dev.offramp.generation;

import java.util.Locale;

/**
 * The token-level criteria: CALM's three confidence measures (Schuster et al. 2022), each a threshold on one number,
 * static and oracle as bounds, ConsistentEE's learned policy, and self-speculative decoding, which uses an early exit
 * to draft and full depth to verify.
 */
public final class TokenCriteria {
    private TokenCriteria() {}

    /** Names {@link #of} accepts. */
    public static final String TOP_PROB = "top-prob", TOP_MARGIN = "top-margin", SATURATION = "saturation",
            STATIC = "static", ORACLE = "oracle", CONSISTENTEE = "consistentee", FULL = "full", SPECULATIVE = "speculative";

    /** Every name, in the order the help lists them. */
    public static final java.util.List<String> NAMES = java.util.List.of(TOP_PROB, TOP_MARGIN, SATURATION, STATIC, ORACLE,
            CONSISTENTEE, SPECULATIVE, FULL);

    /** Throws, listing the known names, unless name is one of them. */
    public static String requireKnown(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown token exit criterion '" + name + "' (available: " + String.join(", ", NAMES) + ")");
        }
        return name;
    }

    /** Exits when the exit's softmax top-1 probability reaches tau. */
    public record TopProb(double tau) implements TokenExitCriterion {
        public String name() { return TOP_PROB; }
        public String describe() { return fmt(name(), "tau", tau); }
        public double threshold() { return tau; }
        public boolean exitAfter(LayerSignals s) {
            return s.topTwoProbabilities()[0] >= tau;
        }
    }

    /** Exits when top-1 minus top-2 softmax probability reaches tau (CALM's "softmax response" in its final form). */
    public record TopMargin(double tau) implements TokenExitCriterion {
        public String name() { return TOP_MARGIN; }
        public String describe() { return fmt(name(), "tau", tau); }
        public double threshold() { return tau; }
        public boolean exitAfter(LayerSignals s) {
            double[] p = s.topTwoProbabilities();
            return p[0] - p[1] >= tau;
        }
    }

    /**
     * Exits when the hidden state has saturated: cos(h_l, h_{l−1}) reaches tau (h_0 the embedding). Needs no LM
     * head, so it is the cheapest of CALM's three.
     */
    public record Saturation(double tau) implements TokenExitCriterion {
        public String name() { return SATURATION; }
        public String describe() { return fmt(name(), "tau", tau); }
        public double threshold() { return tau; }
        public boolean exitAfter(LayerSignals s) {
            return TokenMath.cosine(s.hidden(), s.previousHidden(), s.previousHidden().length) >= tau;
        }
    }

    /** Every generated token exits after a fixed layer (the layer count L = full depth). */
    public record Static(int layer) implements TokenExitCriterion {
        public Static {
            if (layer < 1) throw new IllegalArgumentException("static exit layer must be >= 1, got " + layer);
        }
        public String name() { return layer == Integer.MAX_VALUE ? FULL : STATIC; }
        public String describe() { return layer == Integer.MAX_VALUE ? FULL : STATIC + "(layer=" + layer + ")"; }
        public double threshold() { return layer; }
        public boolean exitAfter(LayerSignals s) {
            return s.layer() >= layer;
        }
    }

    /** Full depth for every token: the reference every criterion is compared against. */
    public static TokenExitCriterion full() {
        return new Static(Integer.MAX_VALUE);
    }

    /**
     * The first layer whose greedy token equals the full-depth token: the fewest layers any criterion could use
     * without changing a single token on this path (an upper bound on agreement, a lower bound on depth).
     */
    public record Oracle() implements TokenExitCriterion {
        public String name() { return ORACLE; }
        public String describe() { return ORACLE; }
        public double threshold() { return Double.NaN; }
        public boolean needsFullDepthToken() { return true; }
        public boolean exitAfter(LayerSignals s) {
            return TokenMath.argmax(s.logits()) == s.fullDepthToken();
        }
    }

    /** ConsistentEE: exits at the first layer whose policy gives π_l(normed h_l) ≥ tau (0.5 by default). */
    public record ConsistentEe(ExitPolicies policies, double tau) implements TokenExitCriterion {
        public String name() { return CONSISTENTEE; }
        public String describe() { return fmt(name(), "tau", tau); }
        public double threshold() { return tau; }
        public boolean exitAfter(LayerSignals s) {
            return policies.exitProbability(s.layer(), s.normed(), 0) >= tau;
        }
    }

    /**
     * Self-speculative decoding (LayerSkip, Elhoushi et al. 2024) with early exit as the drafter: each token is
     * drafted by exiting after {@code draftLayer}; then {@code rows} tokens at a time (the last accepted one and the
     * drafts after it) run the layers above in one batched step, and the drafts are kept up to the first one full
     * depth disagrees with, plus full depth's own token there. The output is full depth's greedy output exactly; the
     * gain is that at batch 1 a layer costs about the same for a few rows as for one. An optional {@link DraftAdapter}
     * trained for the draft exit makes drafts agree more often. Single steps (teacher forcing) never exit: every
     * distribution it emits is full depth's.
     */
    public record Speculative(int draftLayer, int rows, DraftAdapter adapter) implements TokenExitCriterion {
        /**
         * Rows per verification when none is given. On demo-lm with its draft adapter at exit 3: 3 rows 1.51x, 4 rows
         * 1.57-1.68x, 5 rows 1.50x (more rows draft past the first refused token, and those drafts are thrown away); without
         * an adapter, at exit 5, 3 and 4 rows both gave 1.40x.
         */
        public static final int DEFAULT_ROWS = 4;
        /** Most rows per verification (a session's steps hold this many tokens). */
        public static final int MAX_ROWS = 16;

        /** Drafts from the plain exit (no adapter). */
        public Speculative(int draftLayer, int rows) {
            this(draftLayer, rows, null);
        }

        public Speculative {
            if (draftLayer < 1) throw new IllegalArgumentException("the draft exit layer must be >= 1, got " + draftLayer);
            if (adapter != null && adapter.layer() != draftLayer) {
                throw new IllegalArgumentException("the draft adapter was trained for exit " + adapter.layer() + ", not " + draftLayer);
            }
            if (rows < 2 || rows > MAX_ROWS) {
                throw new IllegalArgumentException("a verification takes 2 to " + MAX_ROWS + " rows (the last accepted token and its drafts), got " + rows);
            }
        }
        public String name() { return SPECULATIVE; }
        public String describe() {
            return SPECULATIVE + "(draft_layer=" + draftLayer + ", rows=" + rows + (adapter != null ? ", draft adapter" : "") + ")";
        }
        public double threshold() { return draftLayer; }
        public boolean exitAfter(LayerSignals s) {
            return false;
        }
    }

    /**
     * A criterion by name and knob: top-prob / top-margin / saturation / consistentee with a threshold, static with a
     * layer, oracle and full with none. policies may be null unless the name is consistentee.
     */
    public static TokenExitCriterion of(String name, double knob, ExitPolicies policies) {
        return switch (name) {
            case TOP_PROB -> new TopProb(knob);
            case TOP_MARGIN -> new TopMargin(knob);
            case SATURATION -> new Saturation(knob);
            case STATIC -> new Static((int) knob);
            case ORACLE -> new Oracle();
            case FULL -> full();
            case SPECULATIVE -> new Speculative((int) knob, Speculative.DEFAULT_ROWS);
            case CONSISTENTEE -> {
                if (policies == null) throw new IllegalArgumentException("consistentee needs trained exit policies (train-lm-policy)");
                yield new ConsistentEe(policies, knob);
            }
            default -> throw new IllegalArgumentException(requireKnown(name) + " is not handled");
        };
    }

    /**
     * The knobs a calibration sweeps for a criterion, loosest last. Dense where the signal crowds: consecutive layers'
     * hidden states of a trained decoder have cosine 0.99+ and the policies' exit probabilities sit near 1, so a
     * coarse grid there jumps from exiting almost nothing to exiting half the tokens (lm6: saturation 0.999 gave
     * 1.05x fewer layers, 0.99 1.49x) and skips the knob a ROUGE-L target wants. A knob costs one generation pass
     * over the calibration prompts (seconds).
     */
    public static double[] sweep(String name, int layers) {
        return switch (name) {
            case TOP_PROB -> new double[]{0.999, 0.995, 0.99, 0.98, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2};
            case TOP_MARGIN -> new double[]{0.999, 0.99, 0.98, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05};
            case SATURATION -> new double[]{0.9999, 0.9998, 0.9995, 0.999, 0.998, 0.997, 0.995, 0.993, 0.99, 0.985, 0.98,
                    0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.7, 0.5};
            case CONSISTENTEE -> new double[]{0.9999, 0.9995, 0.999, 0.998, 0.995, 0.99, 0.98, 0.97, 0.95, 0.9, 0.85, 0.8,
                    0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02};
            case SPECULATIVE -> {
                double[] k = new double[layers - 1];
                for (int i = 0; i < layers - 1; i++) k[i] = layers - 1 - i;
                yield k;
            }
            case STATIC -> {
                double[] k = new double[layers];
                for (int i = 0; i < layers; i++) k[i] = layers - i;
                yield k;
            }
            default -> throw new IllegalArgumentException(requireKnown(name) + " has no knob to calibrate");
        };
    }

    private static String fmt(String name, String knob, double v) {
        return String.format(Locale.ROOT, "%s(%s=%s)", name, knob, v);
    }
}

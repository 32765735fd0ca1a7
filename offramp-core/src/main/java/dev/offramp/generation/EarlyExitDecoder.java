package dev.offramp.generation;

import dev.offramp.decoder.DecoderState;
import dev.offramp.decoder.LlamaDecoder;

import java.util.Arrays;

/**
 * Greedy generation and teacher-forced scoring with token-level early exit on a {@link LlamaDecoder}.
 *
 * <p>The prompt runs every layer as one step. Each later token runs layer by layer; after layer l &lt; L the
 * criterion decides; on exit the token's logits are that layer's (shared final norm + LM head) and the layers it
 * skipped get its keys and values as the {@link KvMode} says. The model is shared; a {@link Session} is one sequence's
 * memory, made once and reused.
 */
public final class EarlyExitDecoder {
    private final LlamaDecoder model;
    private final int layers, vocab;

    public EarlyExitDecoder(LlamaDecoder model) {
        this.model = model;
        this.layers = model.config().layers();
        this.vocab = model.config().vocabSize();
    }

    public LlamaDecoder model() {
        return model;
    }

    /** One sequence's memory: KV cache for up to capacity positions, a prompt of up to maxPrompt tokens. */
    public final class Session {
        final DecoderState state;
        final LayerSignals signals;
        final float[] logits = new float[vocab];
        final int[] one = new int[1];
        final float[][] layerLogits = new float[layers][vocab];   // the oracle's every-layer logits
        final int[] drafts = new int[TokenCriteria.Speculative.MAX_ROWS];      // speculative: the rows' input tokens
        final float[] draftHidden;                                              // (rows, C) their states at the draft exit
        final float[] verifyLogits;                                             // (rows, V) full depth's logits
        final float[] normed, adapted;                                          // (C) a draft's normed state, through its adapter

        Session(int capacity, int maxPrompt) {
            int maxStep = Math.max(maxPrompt, TokenCriteria.Speculative.MAX_ROWS);
            state = model.newState(capacity, Math.max(1, Math.min(maxStep, capacity)));
            draftHidden = new float[TokenCriteria.Speculative.MAX_ROWS * model.config().hidden()];
            verifyLogits = new float[TokenCriteria.Speculative.MAX_ROWS * vocab];
            normed = new float[model.config().hidden()];
            adapted = new float[model.config().hidden()];
            signals = new LayerSignals(model);
        }

        /** The logits of the last token run, at its exit layer (V; overwritten by the next step). */
        public float[] logits() {
            return logits;
        }

        public int length() {
            return state.length();
        }
    }

    public Session newSession(int capacity, int maxPrompt) {
        return new Session(capacity, maxPrompt);
    }

    /** Runs the prompt through every layer (the session is reset first); its last token's logits in s.logits(). */
    public void prefill(Session s, int[] prompt) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty (it needs at least the BOS token)");
        s.state.reset();
        for (int off = 0; off < prompt.length; off += s.state.maxStep()) {
            int n = Math.min(s.state.maxStep(), prompt.length - off);
            model.begin(s.state, prompt, off, n);
            for (int l = 0; l < layers; l++) model.layer(s.state, l);
            if (off + n == prompt.length) model.logits(s.state, n - 1, 1, s.logits, 0);
            model.finish(s.state);
        }
    }

    /**
     * Runs one token with early exit; returns its exit layer (1..L). Its logits, at that layer, are in s.logits().
     */
    public int step(Session s, int token, TokenExitCriterion c, KvMode mode) {
        DecoderState st = s.state;
        LayerSignals sig = s.signals;
        s.one[0] = token;
        model.begin(st, s.one, 0, 1);
        sig.startToken(st);
        if (c.needsFullDepthToken()) return oracleStep(s, c);
        int exit = layers;
        for (int l = 0; l < layers; l++) {
            model.layer(st, l);
            if (l + 1 == layers) break;
            sig.at(l + 1);
            if (c.exitAfter(sig)) {
                exit = l + 1;
                break;
            }
            sig.advance();
        }
        if (exit == layers) {
            model.logits(st, 0, 1, s.logits, 0);
        } else {
            sig.copyLogits(s.logits);
            for (int l = exit; l < layers; l++) {
                switch (mode) {
                    case PROPAGATE -> model.propagateKv(st, l);
                    case PROPAGATE_WITHOUT_NORM -> model.propagateKvWithoutInputNorm(st, l);
                    case EXACT -> model.layer(st, l);
                }
            }
        }
        model.finish(st);
        return exit;
    }

    /**
     * Every layer runs (so the KV is exact) and keeps its logits; then the criterion, knowing the full-depth token,
     * is asked layer by layer over the saved logits.
     */
    private int oracleStep(Session s, TokenExitCriterion c) {
        DecoderState st = s.state;
        LayerSignals sig = s.signals;
        for (int l = 0; l < layers; l++) {
            model.layer(st, l);
            model.logits(st, 0, 1, s.layerLogits[l], 0);
        }
        model.finish(st);
        sig.fullToken(TokenMath.argmax(s.layerLogits[layers - 1]));
        int exit = layers;
        for (int l = 1; l < layers; l++) {
            sig.replay(l, s.layerLogits[l - 1]);
            if (c.exitAfter(sig)) {
                exit = l;
                break;
            }
        }
        System.arraycopy(s.layerLogits[exit - 1], 0, s.logits, 0, vocab);
        return exit;
    }

    /** What a greedy run produced; verifications counts the deep steps of speculative decoding (0 otherwise). */
    public record Generated(int[] tokens, int[] exitLayers, long decodeNanos, int verifications) {
        public double meanExitLayer() {
            return Arrays.stream(exitLayers).average().orElse(Double.NaN);
        }

        /** Speculative decoding: tokens emitted per deep step after the prompt's (between 1 and the rows); NaN otherwise. */
        public double tokensPerVerification() {
            return verifications == 0 ? Double.NaN : (double) (tokens.length - 1) / verifications;
        }
    }

    /** Receives each generated token as it is chosen (for streaming). */
    public interface TokenListener {
        void accept(int token, int exitLayer);
    }

    /**
     * Greedy decoding: up to maxTokens after the prompt, stopping after an end-of-sequence token of the config.
     * The first token comes from the prompt's full-depth pass (exit layer L). decodeNanos times the steps after the
     * prompt, the part early exit changes.
     */
    public Generated generate(Session s, int[] prompt, int maxTokens, TokenExitCriterion c, KvMode mode,
                              TokenListener listener) {
        if (prompt.length + maxTokens > s.state.capacity()) {
            throw new IllegalArgumentException("prompt " + prompt.length + " + " + maxTokens + " new tokens exceed the session's "
                    + s.state.capacity() + " positions");
        }
        if (c instanceof TokenCriteria.Speculative sp) return generateSpeculative(s, prompt, maxTokens, sp, listener);
        prefill(s, prompt);
        int[] tokens = new int[maxTokens], exits = new int[maxTokens];
        int n = 0, exit = layers;
        long t0 = System.nanoTime();
        while (n < maxTokens) {
            int next = TokenMath.argmax(s.logits);
            tokens[n] = next;
            exits[n] = exit;
            n++;
            if (listener != null) listener.accept(next, exit);
            if (model.config().eosTokenIds().contains(next) || n == maxTokens) break;
            exit = step(s, next, c, mode);
        }
        long nanos = System.nanoTime() - t0;
        return new Generated(Arrays.copyOf(tokens, n), Arrays.copyOf(exits, n), nanos, 0);
    }

    /**
     * Self-speculative greedy decoding (see {@link TokenCriteria.Speculative}). A cycle starts at position p with the
     * last emitted token y0: y0 and then each draft run layers 1..E as shallow steps, each draft the argmax of the
     * exit after E, until there are {@code rows} rows; one deep step runs layers E+1..L on all rows at once. Row j's
     * full-depth token f_j follows y_j; f_0 is always right, and f_j is kept while every draft before it equalled the
     * full token it stood for. The positions of kept rows stay in the cache; the others are truncated. Every emitted
     * token is full depth's, so exitLayers are all L; the gain is only in time.
     */
    private Generated generateSpeculative(Session s, int[] prompt, int maxTokens, TokenCriteria.Speculative c,
                                          TokenListener listener) {
        int e = c.draftLayer();
        if (e >= layers) throw new IllegalArgumentException("the draft exit layer must be below the model's " + layers + " layers, got " + e);
        DecoderState st = s.state;
        int width = model.config().hidden();
        prefill(s, prompt);
        int[] tokens = new int[maxTokens], exits = new int[maxTokens];
        int n = 0, verifications = 0;
        long t0 = System.nanoTime();
        int next = TokenMath.argmax(s.logits);
        tokens[n++] = next;
        if (listener != null) listener.accept(next, layers);
        boolean done = model.config().eosTokenIds().contains(next) || n == maxTokens;
        while (!done) {
            int p = st.length();
            // each cycle emits at most `rows` tokens; drafting past what is left is waste
            int rows = Math.min(c.rows(), Math.min(maxTokens - n, st.capacity() - p));
            s.drafts[0] = next;
            for (int j = 0; j < rows; j++) {
                s.one[0] = s.drafts[j];
                model.begin(st, s.one, 0, 1);
                for (int l = 0; l < e; l++) model.layer(st, l);
                System.arraycopy(st.hidden(), 0, s.draftHidden, j * width, width);
                if (j + 1 < rows) {
                    if (c.adapter() == null) {
                        model.logits(st, 0, 1, s.logits, 0);
                    } else {
                        model.finalNorm(st, 0, s.normed, 0);
                        c.adapter().apply(s.normed, 0, s.adapted, 0);
                        model.headLogits(s.adapted, 0, 1, s.logits, 0);
                    }
                    s.drafts[j + 1] = TokenMath.argmax(s.logits);
                }
                model.finishShallow(st);
            }
            model.beginDeep(st, p, rows, s.draftHidden, 0, e);
            for (int l = e; l < layers; l++) model.layer(st, l);
            model.logits(st, 0, rows, s.verifyLogits, 0);
            model.finish(st);
            verifications++;
            int kept = 0;
            for (int j = 0; j < rows; j++) {
                int f = TokenMath.argmax(s.verifyLogits, j * vocab, vocab);
                tokens[n++] = f;
                kept++;
                next = f;
                if (listener != null) listener.accept(f, layers);
                if (model.config().eosTokenIds().contains(f) || n == maxTokens) {
                    done = true;
                    break;
                }
                if (j + 1 < rows && s.drafts[j + 1] != f) break;     // the rows after j ran on a wrong token
            }
            st.truncate(p + kept);
        }
        long nanos = System.nanoTime() - t0;
        Arrays.fill(exits, 0, n, layers);
        return new Generated(Arrays.copyOf(tokens, n), Arrays.copyOf(exits, n), nanos, verifications);
    }

    /**
     * Teacher forcing: after the prompt, each token of {@code text} is fed with early exit. Per predicted token:
     * the exit layer that produced its distribution, log p(token) at that layer, and whether that layer's greedy
     * token equals it. The first is predicted by the prompt's full-depth pass.
     */
    public record Forced(int[] exitLayers, double[] logProbabilities, boolean[] greedyMatches) {
        public double nll() {
            double s = 0;
            for (double lp : logProbabilities) s -= lp;
            return s;
        }

        public int matches() {
            int m = 0;
            for (boolean b : greedyMatches) if (b) m++;
            return m;
        }

        public long layerSum() {
            long s = 0;
            for (int e : exitLayers) s += e;
            return s;
        }
    }

    public Forced force(Session s, int[] prompt, int[] text, TokenExitCriterion c, KvMode mode) {
        if (prompt.length + text.length > s.state.capacity()) {
            throw new IllegalArgumentException("prompt " + prompt.length + " + text " + text.length + " exceed the session's "
                    + s.state.capacity() + " positions");
        }
        prefill(s, prompt);
        int n = text.length;
        int[] exits = new int[n];
        double[] lp = new double[n];
        boolean[] match = new boolean[n];
        int exit = layers;
        for (int i = 0; i < n; i++) {
            exits[i] = exit;
            lp[i] = TokenMath.logProbability(s.logits, text[i]);
            match[i] = TokenMath.argmax(s.logits) == text[i];
            if (i + 1 < n) exit = step(s, text[i], c, mode);
        }
        return new Forced(exits, lp, match);
    }
}

package dev.offramp.exits;

import dev.offramp.kernels.Gemm;
import dev.offramp.weights.BertWeights;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The internal classifiers ("exits"), one after every layer, as in the PABEE, BEEM and ConsistentEE code
 * (methods.md §1). For the pooled vector x (B, H) after layer i:
 *
 * <pre>
 *   n      = LN_i(x)                       optional ({@link ExitLayout#layerNorm()})
 *   t      = tanh(n · Wp + bp)             the pooler: shared by all exits, or one per exit
 *   u      = dropout(t)                    training only (inverted dropout)
 *   logits = u · Wc_i + bc_i               (B, K)
 *   probs  = softmax(logits)               K = 1 (regression): probs = logits, the score
 * </pre>
 *
 * Exits are numbered 1..L as in methods.md and the calibration code: exit i follows layer i. Arrays with
 * one entry per exit are indexed i − 1.
 *
 * All parameters are slices of one array ({@link #params()}), their gradients slices of another
 * ({@link #grads()}), so an optimizer sees one flat vector (llm.c's layout). Matrices are stored [in, out]
 * like {@link BertWeights}. This object holds no per-call state: the buffers of a forward/backward live in an
 * {@link Activations}, one per thread, so concurrent inference can share the heads.
 */
public final class ExitHeads {
    /** Standard deviation of freshly initialised weights (BERT's initializer_range). */
    public static final float INIT_STD = 0.02f;
    /** Epsilon of the optional LayerNorm (PyTorch's nn.LayerNorm default). */
    public static final float LN_EPS = 1e-5f;

    public final int hidden;   // H
    public final int layers;   // L
    public final int outputs;  // K
    public final ExitLayout layout;
    private final int poolers; // P: 1 (shared) or L

    // slices of params/grads
    private final int lnGammaOff;  // (L, H)   only with layout.layerNorm
    private final int lnBetaOff;   // (L, H)
    private final int poolerWOff;  // (P, H, H) [in, out]
    private final int poolerBOff;  // (P, H)
    private final int classWOff;   // (L, H, K) [in, out]
    private final int classBOff;   // (L, K)
    private final float[] params;
    private final float[] grads;
    private final List<Tensor> tensors;

    /**
     * One named parameter tensor, a slice of {@link #params()}.
     *
     * @param name   its name in model.safetensors
     * @param offset first element in params()/grads()
     * @param shape  shape in this class's layout; a matrix is [in, out]
     * @param matrix true for dense weights (saved transposed to PyTorch's [out, in]; weight decay applies)
     * @param exit   the exit it belongs to (1..L), or 0 for the shared pooler
     * @param part   which part of the exit: "layer_norm", "pooler" or "classifier"
     */
    public record Tensor(String name, int offset, int[] shape, boolean matrix, int exit, String part) {
        public int size() {
            int s = 1;
            for (int d : shape) s *= d;
            return s;
        }
    }

    /** Zero-initialised heads (LayerNorm gamma = 1); see {@link #create} for the usual initialisation. */
    public ExitHeads(int hidden, int layers, int outputs, ExitLayout layout) {
        if (hidden <= 0 || layers <= 0 || outputs <= 0) {
            throw new IllegalArgumentException("exit heads need positive hidden, layers, outputs; got "
                    + hidden + ", " + layers + ", " + outputs);
        }
        this.hidden = hidden;
        this.layers = layers;
        this.outputs = outputs;
        this.layout = layout;
        this.poolers = layout.sharedPooler() ? 1 : layers;
        int h = hidden, k = outputs, l = layers, off = 0;
        int lnSize = layout.layerNorm() ? l * h : 0;
        lnGammaOff = off; off += lnSize;
        lnBetaOff = off; off += lnSize;
        poolerWOff = off; off += poolers * h * h;
        poolerBOff = off; off += poolers * h;
        classWOff = off; off += l * h * k;
        classBOff = off; off += l * k;
        params = new float[off];
        grads = new float[off];

        List<Tensor> t = new ArrayList<>();
        if (layout.sharedPooler()) {
            t.add(new Tensor("exits.pooler.dense.weight", poolerWOff, new int[]{h, h}, true, 0, "pooler"));
            t.add(new Tensor("exits.pooler.dense.bias", poolerBOff, new int[]{h}, false, 0, "pooler"));
        }
        for (int i = 0; i < l; i++) {
            String p = "exits." + (i + 1) + ".";
            if (layout.layerNorm()) {
                t.add(new Tensor(p + "layer_norm.weight", lnGammaOff + i * h, new int[]{h}, false, i + 1, "layer_norm"));
                t.add(new Tensor(p + "layer_norm.bias", lnBetaOff + i * h, new int[]{h}, false, i + 1, "layer_norm"));
            }
            if (!layout.sharedPooler()) {
                t.add(new Tensor(p + "pooler.dense.weight", poolerWOff + i * h * h, new int[]{h, h}, true, i + 1, "pooler"));
                t.add(new Tensor(p + "pooler.dense.bias", poolerBOff + i * h, new int[]{h}, false, i + 1, "pooler"));
            }
            t.add(new Tensor(p + "classifier.weight", classWOff + i * h * k, new int[]{h, k}, true, i + 1, "classifier"));
            t.add(new Tensor(p + "classifier.bias", classBOff + i * k, new int[]{k}, false, i + 1, "classifier"));
        }
        tensors = Collections.unmodifiableList(t);
        if (layout.layerNorm()) java.util.Arrays.fill(params, lnGammaOff, lnGammaOff + lnSize, 1f);
    }

    /**
     * Heads initialised for training: the pooler copied from the backbone's pooler when it has one
     * (backbone.poolerW != null; into every pooler when there is one per exit), else N(0, 0.02) with zero
     * bias; the classifiers N(0, 0.02) with zero bias; LayerNorm gamma 1, beta 0.
     *
     * @param backbone the backbone's weights, or null to initialise everything fresh
     */
    public static ExitHeads create(int hidden, int layers, int outputs, ExitLayout layout, BertWeights backbone,
                                   long seed) {
        ExitHeads e = new ExitHeads(hidden, layers, outputs, layout);
        SplittableRandom rng = new SplittableRandom(seed);
        int h = hidden;
        for (int p = 0; p < e.poolers; p++) {
            if (backbone != null && backbone.poolerW != null) {
                if (backbone.config.hidden() != h) {
                    throw new IllegalArgumentException("backbone hidden " + backbone.config.hidden()
                            + " differs from the exits' hidden " + h);
                }
                System.arraycopy(backbone.poolerW, 0, e.params, e.poolerWOff + p * h * h, h * h);
                System.arraycopy(backbone.poolerB, 0, e.params, e.poolerBOff + p * h, h);
            } else {
                gaussian(e.params, e.poolerWOff + p * h * h, h * h, INIT_STD, rng);
            }
        }
        gaussian(e.params, e.classWOff, layers * h * outputs, INIT_STD, rng);
        return e;
    }

    private static void gaussian(float[] a, int off, int n, float std, SplittableRandom rng) {
        for (int i = 0; i < n; i++) a[off + i] = (float) (rng.nextGaussian() * std);
    }

    /** Every parameter, flat; see {@link #tensors()} for the slices. Mutable: training updates it in place. */
    public float[] params() { return params; }

    /** Gradients, same layout as params(); backward adds into them. */
    public float[] grads() { return grads; }

    public void zeroGrads() { java.util.Arrays.fill(grads, 0f); }

    /** The named slices of params(), in save order. */
    public List<Tensor> tensors() { return tensors; }

    public Tensor tensor(String name) {
        for (Tensor t : tensors) if (t.name.equals(name)) return t;
        throw new IllegalArgumentException("exit heads have no tensor '" + name + "'");
    }

    /** A copy with the same parameters (gradients zero). */
    public ExitHeads copy() {
        ExitHeads c = new ExitHeads(hidden, layers, outputs, layout);
        System.arraycopy(params, 0, c.params, 0, params.length);
        return c;
    }

    private int poolerIndex(int layer) { return layout.sharedPooler() ? 0 : layer; }

    /** The 0-based array index of exit (1..L). */
    private int index(int exit) {
        if (exit < 1 || exit > layers) throw new IllegalArgumentException("exit " + exit + " outside 1.." + layers);
        return exit - 1;
    }

    // ----------------------------------------------------------------------------------------------------
    // per-call buffers

    /** The buffers of one exit's forward and backward for up to maxBatch samples; one per thread. */
    public static final class Activations {
        final int h, k;
        int capacity;
        int batch, layer = -1;         // layer: 0-based index of the exit last run
        boolean dropped;
        float[] normed = new float[0];   // (B, H) LN output (layerNorm only)
        float[] mean = new float[0];     // (B)
        float[] rstd = new float[0];     // (B)
        float[] tanhOut = new float[0];  // (B, H) pooler output t
        float[] mask = new float[0];     // (B, H) 0 or 1/(1−p) (dropout only)
        float[] dropOut = new float[0];  // (B, H) u
        float[] logits = new float[0];   // (B, K)
        float[] probs = new float[0];    // (B, K)
        float[] dA = new float[0];       // (B, H) scratch gradient
        float[] dB = new float[0];       // (B, H) scratch gradient

        public Activations(ExitHeads heads, int maxBatch) {
            this.h = heads.hidden;
            this.k = heads.outputs;
            ensure(maxBatch);
        }

        void ensure(int b) {
            if (b <= capacity) return;
            capacity = b;
            normed = new float[b * h]; mean = new float[b]; rstd = new float[b];
            tanhOut = new float[b * h]; mask = new float[b * h]; dropOut = new float[b * h];
            logits = new float[b * k]; probs = new float[b * k];
            dA = new float[b * h]; dB = new float[b * h];
        }

        /** (B, K) logits of the last forward (rows beyond batch() are stale). */
        public float[] logits() { return logits; }

        /** (B, K) probabilities of the last forward; for K = 1 the score itself. */
        public float[] probs() { return probs; }

        public int batch() { return batch; }
    }

    // ----------------------------------------------------------------------------------------------------
    // forward

    /**
     * Runs exit {@code exit} (1..L, after layer exit) on pooled (B, H) at pooledOff; results in
     * a.logits()/a.probs().
     *
     * @param dropout probability of zeroing a pooler output; used only when rng != null (training)
     * @param rng     the dropout's random source, or null at inference
     */
    public void forward(Activations a, int exit, float[] pooled, int pooledOff, int b, float dropout,
                        SplittableRandom rng) {
        int layer = index(exit);
        a.ensure(b);
        a.batch = b;
        a.layer = layer;
        int h = hidden, k = outputs;
        float[] x = pooled;
        int xOff = pooledOff;
        if (layout.layerNorm()) {
            layerNormForward(a.normed, a.mean, a.rstd, pooled, pooledOff, params, lnGammaOff + layer * h,
                    lnBetaOff + layer * h, b, h);
            x = a.normed;
            xOff = 0;
        }
        // pooler: t = tanh(x · Wp + bp)   (B, H)
        int p = poolerIndex(layer);
        Gemm.gemm(false, false, b, h, h, x, xOff, h, params, poolerWOff + p * h * h, h, a.tanhOut, 0, h, false);
        int pb = poolerBOff + p * h;
        for (int r = 0; r < b; r++) {
            int o = r * h;
            for (int c = 0; c < h; c++) a.tanhOut[o + c] = (float) Math.tanh(a.tanhOut[o + c] + params[pb + c]);
        }
        // dropout (inverted: scaled at training so inference needs nothing)
        float[] u = a.tanhOut;
        a.dropped = rng != null && dropout > 0f;
        if (a.dropped) {
            if (dropout >= 1f) throw new IllegalArgumentException("dropout must be below 1, got " + dropout);
            float keep = 1f / (1f - dropout);
            for (int i = 0; i < b * h; i++) {
                a.mask[i] = rng.nextDouble() < dropout ? 0f : keep;
                a.dropOut[i] = a.tanhOut[i] * a.mask[i];
            }
            u = a.dropOut;
        }
        // classifier: logits = u · Wc + bc   (B, K)
        Gemm.gemm(false, false, b, k, h, u, 0, h, params, classWOff + layer * h * k, k, a.logits, 0, k, false);
        int cb = classBOff + layer * k;
        for (int r = 0; r < b; r++) {
            for (int c = 0; c < k; c++) a.logits[r * k + c] += params[cb + c];
        }
        if (k == 1) System.arraycopy(a.logits, 0, a.probs, 0, b);
        else softmax(a.probs, a.logits, b, k);
    }

    /** probs (B, K) = softmax of each row of logits (max subtracted for range). */
    public static void softmax(float[] probs, float[] logits, int b, int k) {
        for (int r = 0; r < b; r++) {
            int o = r * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) max = Math.max(max, logits[o + c]);
            float sum = 0f;
            for (int c = 0; c < k; c++) { float e = (float) Math.exp(logits[o + c] - max); probs[o + c] = e; sum += e; }
            float inv = 1f / sum;
            for (int c = 0; c < k; c++) probs[o + c] *= inv;
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // backward

    /**
     * Backward of the last {@link #forward} on a (same pooled input): given dLogits (B, K), ADDS the parameter
     * gradients into grads() and dL/dpooled into dPooled (B, H) at dPooledOff (so the caller zeroes it first).
     * dPooled may be null when the input needs no gradient (frozen backbone): that skips a (B, H, H) product.
     */
    public void backward(Activations a, float[] pooled, int pooledOff, float[] dLogits, float[] dPooled,
                         int dPooledOff) {
        int layer = a.layer, b = a.batch, h = hidden, k = outputs;
        if (layer < 0) throw new IllegalStateException("backward before forward");
        float[] u = a.dropped ? a.dropOut : a.tanhOut;
        // classifier: dWc += uᵀ · dLogits, dbc += Σ rows, du = dLogits · Wcᵀ
        Gemm.gemm(true, false, h, k, b, u, 0, h, dLogits, 0, k, grads, classWOff + layer * h * k, k, true);
        int cb = classBOff + layer * k;
        for (int r = 0; r < b; r++) for (int c = 0; c < k; c++) grads[cb + c] += dLogits[r * k + c];
        float[] dT = a.dA;  // (B, H) dL/dt, then dL/d(pre-tanh)
        Gemm.gemm(false, true, b, h, k, dLogits, 0, k, params, classWOff + layer * h * k, k, dT, 0, h, false);
        // dropout and tanh: d(pre) = du · mask · (1 − t²)
        for (int i = 0; i < b * h; i++) {
            float t = a.tanhOut[i];
            float d = a.dropped ? dT[i] * a.mask[i] : dT[i];
            dT[i] = d * (1f - t * t);
        }
        // pooler: dWp += xᵀ · dPre, dbp += Σ rows, dx = dPre · Wpᵀ
        int p = poolerIndex(layer);
        float[] x = layout.layerNorm() ? a.normed : pooled;
        int xOff = layout.layerNorm() ? 0 : pooledOff;
        Gemm.gemm(true, false, h, h, b, x, xOff, h, dT, 0, h, grads, poolerWOff + p * h * h, h, true);
        int pb = poolerBOff + p * h;
        for (int r = 0; r < b; r++) for (int c = 0; c < h; c++) grads[pb + c] += dT[r * h + c];
        if (dPooled == null && !layout.layerNorm()) return;
        if (!layout.layerNorm()) {
            Gemm.gemm(false, true, b, h, h, dT, 0, h, params, poolerWOff + p * h * h, h, dPooled, dPooledOff, h, true);
            return;
        }
        float[] dNormed = a.dB;
        Gemm.gemm(false, true, b, h, h, dT, 0, h, params, poolerWOff + p * h * h, h, dNormed, 0, h, false);
        layerNormBackward(dPooled, dPooledOff, dNormed, pooled, pooledOff, a.mean, a.rstd,
                lnGammaOff + layer * h, lnBetaOff + layer * h, b, h);
    }

    // ----------------------------------------------------------------------------------------------------
    // LayerNorm over a slice of params (the engine's LayerNorm takes whole arrays)

    private static void layerNormForward(float[] out, float[] mean, float[] rstd, float[] in, int inOff,
                                         float[] p, int gammaOff, int betaOff, int b, int h) {
        for (int r = 0; r < b; r++) {
            int i0 = inOff + r * h, o = r * h;
            float m = 0f;
            for (int c = 0; c < h; c++) m += in[i0 + c];
            m /= h;
            float v = 0f;
            for (int c = 0; c < h; c++) { float d = in[i0 + c] - m; v += d * d; }
            v /= h;
            float rs = (float) (1.0 / Math.sqrt(v + LN_EPS));
            mean[r] = m;
            rstd[r] = rs;
            for (int c = 0; c < h; c++) out[o + c] = (in[i0 + c] - m) * rs * p[gammaOff + c] + p[betaOff + c];
        }
    }

    /** dIn += LN backward (llm.c's form), unless dIn is null; dGamma, dBeta += into grads(). */
    private void layerNormBackward(float[] dIn, int dInOff, float[] dOut, float[] in, int inOff, float[] mean,
                                   float[] rstd, int gammaOff, int betaOff, int b, int h) {
        for (int r = 0; r < b; r++) {
            int i0 = inOff + r * h, o = r * h, d0 = dInOff + r * h;
            float m = mean[r], rs = rstd[r];
            float dnMean = 0f, dnNormMean = 0f;
            for (int c = 0; c < h; c++) {
                float norm = (in[i0 + c] - m) * rs;
                float dn = params[gammaOff + c] * dOut[o + c];
                dnMean += dn;
                dnNormMean += dn * norm;
            }
            dnMean /= h;
            dnNormMean /= h;
            for (int c = 0; c < h; c++) {
                float norm = (in[i0 + c] - m) * rs;
                float dn = params[gammaOff + c] * dOut[o + c];
                grads[betaOff + c] += dOut[o + c];
                grads[gammaOff + c] += norm * dOut[o + c];
                if (dIn != null) dIn[d0 + c] += rs * (dn - dnMean - norm * dnNormMean);
            }
        }
    }
}

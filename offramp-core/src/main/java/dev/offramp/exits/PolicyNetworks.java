package dev.offramp.exits;

import dev.offramp.kernels.Gemm;
import dev.offramp.model.Gelu;
import dev.offramp.weights.BertConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * ConsistentEE's exit policies (methods.md §4): for every layer i &lt; L a small network that reads the pooled
 * hidden vector h_i and returns the probability of leaving there,
 *
 * <pre>
 *   u     = h · W1_i + b1_i          (B, W)   W = 32
 *   g     = gelu(u)                  (B, W)   exact (erf) GELU
 *   z     = g · w2_i + b2_i          (B)      the logit
 *   π_i   = sigmoid(z)               (B)      P(exit at i | h_i)
 * </pre>
 * Nothing is shared between layers (as in the reference code). At layer L the sample always exits: π_L = 1 by
 * definition and there is no network for it.
 *
 * <p>The input is any hidden vector of width H and a layer number, nothing classification-specific, so a decoder
 * can reuse the policies per generated token. The input is treated as detached: backward produces parameter
 * gradients only.
 *
 * <p>Parameters are slices of one flat array ({@link #params()}), gradients of another, matrices stored [in, out]
 * (the {@link dev.offramp.exits.ExitHeads} layout). This object holds no per-call state: buffers live in
 * {@link Activations}, one per thread.
 */
public final class PolicyNetworks {
    /** Width of the hidden layer of every policy (the reference code's 32). */
    public static final int DEFAULT_WIDTH = 32;
    private static final BertConfig.Activation GELU = BertConfig.Activation.GELU_EXACT;

    public final int hidden;    // H
    public final int layers;    // L (the backbone's); networks exist for layers 1..L−1
    public final int width;     // W
    private final int nets;     // L − 1

    // slices of params/grads
    private final int w1Off;    // (L−1, H, W) [in, out]
    private final int b1Off;    // (L−1, W)
    private final int w2Off;    // (L−1, W)    [in, out] with out = 1
    private final int b2Off;    // (L−1)
    private final float[] params;
    private final float[] grads;
    private final List<Tensor> tensors;

    /**
     * One named parameter tensor, a slice of {@link #params()}.
     *
     * @param matrix true for dense weights (saved transposed to PyTorch's [out, in])
     * @param layer  the layer (1..L−1) whose policy it belongs to
     */
    public record Tensor(String name, int offset, int[] shape, boolean matrix, int layer) {
        public int size() {
            int s = 1;
            for (int d : shape) s *= d;
            return s;
        }
    }

    /** Zero parameters; see {@link #create} for the usual initialisation. */
    public PolicyNetworks(int hidden, int layers, int width) {
        if (hidden <= 0 || layers < 2 || width <= 0) {
            throw new IllegalArgumentException("policy networks need hidden > 0, layers >= 2, width > 0; got "
                    + hidden + ", " + layers + ", " + width);
        }
        this.hidden = hidden;
        this.layers = layers;
        this.width = width;
        this.nets = layers - 1;
        int off = 0;
        w1Off = off; off += nets * hidden * width;
        b1Off = off; off += nets * width;
        w2Off = off; off += nets * width;
        b2Off = off; off += nets;
        params = new float[off];
        grads = new float[off];
        List<Tensor> t = new ArrayList<>();
        for (int i = 0; i < nets; i++) {
            String p = "policies." + (i + 1) + ".";
            t.add(new Tensor(p + "dense.weight", w1Off + i * hidden * width, new int[]{hidden, width}, true, i + 1));
            t.add(new Tensor(p + "dense.bias", b1Off + i * width, new int[]{width}, false, i + 1));
            t.add(new Tensor(p + "out.weight", w2Off + i * width, new int[]{width, 1}, true, i + 1));
            t.add(new Tensor(p + "out.bias", b2Off + i, new int[]{1}, false, i + 1));
        }
        tensors = Collections.unmodifiableList(t);
    }

    /**
     * PyTorch nn.Linear's default initialisation (weights and biases uniform in ±1/√fan_in), as the reference
     * code leaves it: the policies start near π = 0.5 with some spread.
     */
    public static PolicyNetworks create(int hidden, int layers, int width, long seed) {
        PolicyNetworks p = new PolicyNetworks(hidden, layers, width);
        SplittableRandom rng = new SplittableRandom(seed);
        float a1 = (float) (1 / Math.sqrt(hidden)), a2 = (float) (1 / Math.sqrt(width));
        uniform(p.params, p.w1Off, p.nets * hidden * width, a1, rng);
        uniform(p.params, p.b1Off, p.nets * width, a1, rng);
        uniform(p.params, p.w2Off, p.nets * width, a2, rng);
        uniform(p.params, p.b2Off, p.nets, a2, rng);
        return p;
    }

    private static void uniform(float[] a, int off, int n, float bound, SplittableRandom rng) {
        for (int i = 0; i < n; i++) a[off + i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }

    /** Every parameter, flat. Mutable: training updates it in place. */
    public float[] params() { return params; }

    /** Gradients, same layout as params(); backward adds into them. */
    public float[] grads() { return grads; }

    public void zeroGrads() { java.util.Arrays.fill(grads, 0f); }

    /** The named slices of params(), in save order. */
    public List<Tensor> tensors() { return tensors; }

    /** A copy with the same parameters (gradients zero). */
    public PolicyNetworks copy() {
        PolicyNetworks c = new PolicyNetworks(hidden, layers, width);
        System.arraycopy(params, 0, c.params, 0, params.length);
        return c;
    }

    private int index(int layer) {
        if (layer < 1 || layer >= layers) {
            throw new IllegalArgumentException("policy layer " + layer + " outside 1.." + (layers - 1)
                    + " (layer " + layers + " always exits and has no policy)");
        }
        return layer - 1;
    }

    // ----------------------------------------------------------------------------------------------------
    // per-call buffers

    /** The buffers of one policy's forward and backward; one per thread (and per layer when backward follows). */
    public static final class Activations {
        final int w;
        int capacity, batch, layer = -1;
        float[] pre = new float[0];   // (B, W) u
        float[] act = new float[0];   // (B, W) gelu(u)
        float[] dAct = new float[0];  // (B, W) scratch
        float[] dPre = new float[0];  // (B, W) scratch
        float[] logit = new float[0]; // (B)
        float[] prob = new float[0];  // (B)

        public Activations(PolicyNetworks p, int maxBatch) {
            this.w = p.width;
            ensure(maxBatch);
        }

        void ensure(int b) {
            if (b <= capacity) return;
            capacity = b;
            pre = new float[b * w]; act = new float[b * w]; dAct = new float[b * w]; dPre = new float[b * w];
            logit = new float[b]; prob = new float[b];
        }

        /** (B) π of the last forward (entries beyond batch() are stale). */
        public float[] probs() { return prob; }

        /** (B) logits z of the last forward. */
        public float[] logits() { return logit; }

        public int batch() { return batch; }
    }

    // ----------------------------------------------------------------------------------------------------
    // forward

    /** π_layer for b hidden vectors (B, H) at xOff; layer in 1..L−1; results in a.probs(). */
    public void forward(Activations a, int layer, float[] x, int xOff, int b) {
        int i = index(layer), h = hidden, w = width;
        a.ensure(b);
        a.batch = b;
        a.layer = i;
        // u = x · W1 + b1   (B, W)
        Gemm.gemm(false, false, b, w, h, x, xOff, h, params, w1Off + i * h * w, w, a.pre, 0, w, false);
        int bo = b1Off + i * w;
        for (int r = 0; r < b; r++) for (int c = 0; c < w; c++) a.pre[r * w + c] += params[bo + c];
        Gelu.forward(a.act, a.pre, 0, b * w, GELU);
        // z = g · w2 + b2, π = σ(z)   (B)
        int wo = w2Off + i * w;
        float bias = params[b2Off + i];
        for (int r = 0; r < b; r++) {
            float z = bias;
            for (int c = 0; c < w; c++) z += a.act[r * w + c] * params[wo + c];
            a.logit[r] = z;
            a.prob[r] = sigmoid(z);
        }
    }

    /** σ(z), written so that neither branch overflows. */
    public static float sigmoid(float z) {
        if (z >= 0) return (float) (1 / (1 + Math.exp(-z)));
        double e = Math.exp(z);
        return (float) (e / (1 + e));
    }

    // ----------------------------------------------------------------------------------------------------
    // backward

    /**
     * Backward of the last {@link #forward} on a (same input x): given dL/dz (B) for the logits, ADDS the
     * parameter gradients into grads(). No input gradient: the policy's input is detached from the backbone.
     */
    public void backward(Activations a, float[] x, int xOff, float[] dLogit) {
        int i = a.layer, b = a.batch, h = hidden, w = width;
        if (i < 0) throw new IllegalStateException("backward before forward");
        int wo = w2Off + i * w;
        // z = g · w2 + b2: dw2 += gᵀ dz, db2 += Σ dz, dg = dz w2ᵀ
        float db2 = 0f;
        for (int r = 0; r < b; r++) {
            float dz = dLogit[r];
            db2 += dz;
            for (int c = 0; c < w; c++) {
                grads[wo + c] += a.act[r * w + c] * dz;
                a.dAct[r * w + c] = dz * params[wo + c];
            }
        }
        grads[b2Off + i] += db2;
        // g = gelu(u): du = dg · gelu'(u)
        java.util.Arrays.fill(a.dPre, 0, b * w, 0f);
        Gelu.backward(a.dPre, a.dAct, a.pre, 0, b * w, GELU);
        // u = x · W1 + b1: dW1 += xᵀ du, db1 += Σ du
        Gemm.gemm(true, false, h, w, b, x, xOff, h, a.dPre, 0, w, grads, w1Off + i * h * w, w, true);
        int bo = b1Off + i * w;
        for (int r = 0; r < b; r++) for (int c = 0; c < w; c++) grads[bo + c] += a.dPre[r * w + c];
    }

    // ----------------------------------------------------------------------------------------------------
    // inference

    /**
     * π for every layer of n samples whose pooled vectors are byLayer[l − 1] (N, H): (N, L) row-major with
     * π_L = 1, the layout of {@link dev.offramp.eval.calibration.ExitOutputs#withPolicy}.
     */
    public float[] exitProbabilities(float[][] byLayer, int n) {
        int chunk = 256, l = layers, h = hidden;
        float[] out = new float[n * l];
        Activations a = new Activations(this, chunk);
        for (int layer = 1; layer < l; layer++) {
            for (int s0 = 0; s0 < n; s0 += chunk) {
                int b = Math.min(chunk, n - s0);
                forward(a, layer, byLayer[layer - 1], s0 * h, b);
                for (int s = 0; s < b; s++) out[(s0 + s) * l + layer - 1] = a.prob[s];
            }
        }
        for (int s = 0; s < n; s++) out[s * l + l - 1] = 1f;
        return out;
    }

    /** The runner's view: π for the batch's pooled vectors at a layer (1 at layer L). Not thread-safe: one per runner. */
    public PolicySource source() {
        Activations a = new Activations(this, 32);
        return (layer, pooled, b, out) -> {
            if (layer == layers) {
                java.util.Arrays.fill(out, 0, b, 1f);
                return;
            }
            forward(a, layer, pooled, 0, b);
            System.arraycopy(a.prob, 0, out, 0, b);
        };
    }
}

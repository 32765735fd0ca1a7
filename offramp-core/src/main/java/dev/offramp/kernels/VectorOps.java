package dev.offramp.kernels;

/**
 * Small vector primitives the model ops are built from. Each dispatches to the Vector API body in
 * {@link PanamaOps} or to its scalar twin in {@link ScalarOps}; the choice is a static final constant
 * (see {@link KernelConfig}), so the JIT removes the branch. Results match the twins up to float rounding
 * (the vector bodies sum in a different order and use fused multiply-adds).
 */
public final class VectorOps {
    private VectorOps() {}

    /** True when the Vector API bodies are in use (false with -Dofframp.vector=false or without the module). */
    public static boolean vectorized() {
        return KernelConfig.VECTOR;
    }

    /** Σ a[aOff+i]·b[bOff+i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return KernelConfig.VECTOR ? PanamaOps.dot(a, aOff, b, bOff, n) : ScalarOps.dot(a, aOff, b, bOff, n);
    }

    /** y[yOff+i] += alpha·x[xOff+i]. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.axpy(alpha, x, xOff, y, yOff, n);
        else ScalarOps.axpy(alpha, x, xOff, y, yOff, n);
    }

    /** x[off+i] *= alpha. */
    public static void scale(float alpha, float[] x, int off, int n) {
        if (KernelConfig.VECTOR) PanamaOps.scale(alpha, x, off, n);
        else ScalarOps.scale(alpha, x, off, n);
    }

    /** y[yOff+i] += x[xOff+i]. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.add(x, xOff, y, yOff, n);
        else ScalarOps.add(x, xOff, y, yOff, n);
    }

    /** y[yOff+i] *= x[xOff+i] (element-wise product, e.g. a gate or a LayerNorm gain). */
    public static void mul(float[] x, int xOff, float[] y, int yOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.mul(x, xOff, y, yOff, n);
        else ScalarOps.mul(x, xOff, y, yOff, n);
    }

    /** Σ x[off+i]. */
    public static float sum(float[] x, int off, int n) {
        return KernelConfig.VECTOR ? PanamaOps.sum(x, off, n) : ScalarOps.sum(x, off, n);
    }

    /** max x[off+i]; -∞ when n = 0. */
    public static float max(float[] x, int off, int n) {
        return KernelConfig.VECTOR ? PanamaOps.max(x, off, n) : ScalarOps.max(x, off, n);
    }

    /** Σ (x[off+i] − mean)², the variance numerator of a LayerNorm. */
    public static float sumSqDiff(float[] x, int off, int n, float mean) {
        return KernelConfig.VECTOR ? PanamaOps.sumSqDiff(x, off, n, mean) : ScalarOps.sumSqDiff(x, off, n, mean);
    }

    /**
     * x[off+i] = exp(x[off+i] − shift) in place; returns the sum of the new values. With shift = max this is the
     * numerically safe middle step of a softmax (then scale by 1/sum).
     */
    public static float expSub(float[] x, int off, int n, float shift) {
        return KernelConfig.VECTOR ? PanamaOps.expSub(x, off, n, shift) : ScalarOps.expSub(x, off, n, shift);
    }

    /** out[oOff+i] = s·x[xOff+i]·w[wOff+i]: the last step of an RMSNorm (s = 1/rms, w the gain). */
    public static void scaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] out, int oOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.scaledProduct(s, x, xOff, w, wOff, out, oOff, n);
        else ScalarOps.scaledProduct(s, x, xOff, w, wOff, out, oOff, n);
    }

    /**
     * out[oOff+i] = silu(gate[gOff+i]) · up[uOff+i], silu(g) = g / (1 + e^−g): the SwiGLU feed-forward of
     * Llama-family decoders. out may be the gate or the up array at the same offset (in place).
     */
    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, float[] out, int oOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.swiglu(gate, gOff, up, uOff, out, oOff, n);
        else ScalarOps.swiglu(gate, gOff, up, uOff, out, oOff, n);
    }

    /**
     * Rotary position embedding in the "rotate half" layout of Hugging Face Llama checkpoints, in place on one
     * head of 2·half values: for i < half, (x[i], x[i+half]) turns by the angle whose cos and sin are
     * cos[csOff+i], sin[csOff+i]: x[i] ← x[i]·c − x[i+half]·s, x[i+half] ← x[i+half]·c + x[i]·s.
     */
    public static void rotateHalf(float[] x, int off, float[] cos, float[] sin, int csOff, int half) {
        if (KernelConfig.VECTOR) PanamaOps.rotateHalf(x, off, cos, sin, csOff, half);
        else ScalarOps.rotateHalf(x, off, cos, sin, csOff, half);
    }

    /** y[yOff+i] += s·x[xOff+i]·w[wOff+i] (e.g. a norm gain's gradient, row by row). */
    public static void addScaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.addScaledProduct(s, x, xOff, w, wOff, y, yOff, n);
        else ScalarOps.addScaledProduct(s, x, xOff, w, wOff, y, yOff, n);
    }

    /**
     * Backward of {@link #swiglu}: with h = silu(g)·u and σ = 1/(1 + e^−g), writes
     * dGate = dOut·u·σ·(1 + g·(1 − σ)) and dUp = dOut·silu(g) (overwrites; they may not alias the inputs).
     */
    public static void swigluBackward(float[] gate, int gOff, float[] up, int uOff, float[] dOut, int dOff,
                                      float[] dGate, int dgOff, float[] dUp, int duOff, int n) {
        if (KernelConfig.VECTOR) PanamaOps.swigluBackward(gate, gOff, up, uOff, dOut, dOff, dGate, dgOff, dUp, duOff, n);
        else ScalarOps.swigluBackward(gate, gOff, up, uOff, dOut, dOff, dGate, dgOff, dUp, duOff, n);
    }
}

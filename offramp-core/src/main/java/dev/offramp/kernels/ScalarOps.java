package dev.offramp.kernels;

/** Scalar twins of {@link VectorOps}: the reference implementations, and the path used without the Vector API. */
public final class ScalarOps {
    private ScalarOps() {}

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    public static void scale(float alpha, float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] *= alpha;
    }

    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    public static void mul(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] *= x[xOff + i];
    }

    public static float sum(float[] x, int off, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    public static float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    public static float sumSqDiff(float[] x, int off, int n, float mean) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            float d = x[off + i] - mean;
            s += d * d;
        }
        return s;
    }

    public static float expSub(float[] x, int off, int n, float shift) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            s += e;
        }
        return s;
    }

    public static void scaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] out, int oOff, int n) {
        for (int i = 0; i < n; i++) out[oOff + i] = s * x[xOff + i] * w[wOff + i];
    }

    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, float[] out, int oOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i];
            out[oOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    public static void rotateHalf(float[] x, int off, float[] cos, float[] sin, int csOff, int half) {
        for (int i = 0; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], c = cos[csOff + i], s = sin[csOff + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    public static void addScaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += s * x[xOff + i] * w[wOff + i];
    }

    public static void swigluBackward(float[] gate, int gOff, float[] up, int uOff, float[] dOut, int dOff,
                                      float[] dGate, int dgOff, float[] dUp, int duOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i], sig = 1f / (1f + (float) Math.exp(-g)), d = dOut[dOff + i];
            dGate[dgOff + i] = d * up[uOff + i] * sig * (1f + g * (1f - sig));
            dUp[duOff + i] = d * g * sig;
        }
    }
}

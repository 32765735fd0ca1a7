package dev.offramp.kernels;

/**
 * Small vector primitives the model ops are built from. PLACEHOLDER scalar bodies until the Vector API
 * versions land (their scalar twins then live in {@link ScalarOps}); the signatures are final.
 */
public final class VectorOps {
    private VectorOps() {}

    /** Σ a[aOff+i]·b[bOff+i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return ScalarOps.dot(a, aOff, b, bOff, n);
    }

    /** y[yOff+i] += alpha·x[xOff+i]. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        ScalarOps.axpy(alpha, x, xOff, y, yOff, n);
    }

    /** x[off+i] *= alpha. */
    public static void scale(float alpha, float[] x, int off, int n) {
        ScalarOps.scale(alpha, x, off, n);
    }

    /** y[yOff+i] += x[xOff+i]. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        ScalarOps.add(x, xOff, y, yOff, n);
    }

    /** Σ x[off+i]. */
    public static float sum(float[] x, int off, int n) {
        return ScalarOps.sum(x, off, n);
    }

    /** max x[off+i]. */
    public static float max(float[] x, int off, int n) {
        return ScalarOps.max(x, off, n);
    }
}

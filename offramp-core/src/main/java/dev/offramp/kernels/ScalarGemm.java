package dev.offramp.kernels;

/**
 * The scalar twin of {@link Gemm}: plain triple loops, the reference the vector kernels are tested against.
 * Row-major; {@code op(X)} is X or its transpose. Also holds the scalar twin of the packed micro-kernel,
 * which {@link Gemm} uses when the Vector API is off.
 */
public final class ScalarGemm {
    private ScalarGemm() {}

    /** C[m×n] (+)= op(A)[m×k] · op(B)[k×n]. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * Scalar twin of {@link PanamaGemm#kernel}: the same operands (A in place with strides rs, ps; B packed) and
     * tile contract (MR = 8 rows, NR = {@link Gemm#NR} columns). The inner j loop is contiguous, so C2 auto-vectorises it.
     */
    static void microKernel(int kc, float[] a, int aOff, int rs, int ps, float[] bp, int bOff,
                            float[] c, int cOff, int ldc, int mr, int nr, boolean addC, float[] tile) {
        final int nrFull = Gemm.NR;
        java.util.Arrays.fill(tile, 0, Gemm.MR * nrFull, 0f);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nrFull;
            for (int r = 0; r < mr; r++) {
                float av = a[aOff + r * rs + p * ps];
                int ti = r * nrFull;
                for (int j = 0; j < nrFull; j++) tile[ti + j] += av * bp[bi + j];
            }
        }
        Gemm.storeTile(tile, c, cOff, ldc, mr, nr, addC);
    }
}

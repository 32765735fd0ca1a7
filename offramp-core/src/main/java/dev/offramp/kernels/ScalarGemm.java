package dev.offramp.kernels;

/**
 * The scalar twin of {@link Gemm}: plain triple loops, the reference the vector kernels are tested against.
 * Row-major; {@code op(X)} is X or its transpose.
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
}

package dev.offramp.kernels;

/**
 * Matrix multiplication, the engine's hot loop. PLACEHOLDER: delegates to the scalar twin until the
 * Vector API kernel lands; the signatures are final.
 */
public final class Gemm {
    private Gemm() {}

    /** C[m×n] (+)= A[m×k] · B, with B packed once ({@link PackedMatrix}); A row-major with leading dim lda. */
    public static void matmul(float[] a, int aOff, int lda, PackedMatrix b, float[] c, int cOff, int ldc,
                              int m, boolean accumulate) {
        ScalarGemm.gemm(false, false, m, b.n, b.k, a, aOff, lda, b.data, 0, b.n, c, cOff, ldc, accumulate);
    }

    /** C[m×n] (+)= op(A)[m×k] · op(B)[k×n]; the general form used by backward passes. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        ScalarGemm.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }
}

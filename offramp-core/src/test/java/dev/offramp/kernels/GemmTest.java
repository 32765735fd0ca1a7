package dev.offramp.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Gemm (vector kernel, packing, blocking, threading) against the triple-loop ScalarGemm. */
class GemmTest {
    private static final String[] SHAPES = {   // M×K×N
            "1x1x1", "7x13x5", "8x32x32", "9x33x31", "33x385x97", "64x384x384", "64x384x1536", "16x1536x384",
            "130x769x65", "3x1000x2", "200x20x1", "1x384x384", "4x384x3", "5x384x384",
    };

    private static float[] random(int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    private static float[] abs(float[] x) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) y[i] = Math.abs(y[i]);
        return y;
    }

    /**
     * |got − want| ≤ 1e-5 · Σ_p |op(A)(i,p)|·|op(B)(p,j)| (+ the |C| it started from when accumulating): the scale of
     * float rounding for a dot product summed in a different order.
     */
    private static void assertClose(String what, float[] want, float[] got, float[] scale, float[] c0, int m, int n,
                                    int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int ci = cOff + i * ldc + j;
                double tol = 1e-5 * (scale[ci] + (c0 == null ? 0 : Math.abs(c0[ci]))) + 1e-30;
                if (!(Math.abs(want[ci] - got[ci]) <= tol)) {
                    fail(what + ": C(" + i + "," + j + ") = " + got[ci] + ", expected " + want[ci] + " ± " + tol);
                }
            }
        }
    }

    @Test
    void matmulMatchesScalarOnOddShapes() {
        for (String shape : SHAPES) {
            int[] d = Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
            int m = d[0], k = d[1], n = d[2];
            for (boolean accumulate : new boolean[] {false, true}) {
                // padded leading dimensions and offsets, so strides and offsets are really used
                int lda = k + 3, ldc = n + 5, aOff = 7, cOff = 11, bOff = 2;
                float[] a = random(aOff + m * lda, 1), b = random(bOff + k * n, 2);
                float[] c0 = random(cOff + m * ldc, 3);
                float[] want = c0.clone(), got = c0.clone(), scale = new float[c0.length];
                ScalarGemm.gemm(false, false, m, n, k, a, aOff, lda, b, bOff, n, want, cOff, ldc, accumulate);
                ScalarGemm.gemm(false, false, m, n, k, abs(a), aOff, lda, abs(b), bOff, n, scale, cOff, ldc, false);
                PackedMatrix pb = PackedMatrix.pack(b, bOff, k, n);
                assertEquals(k, pb.rows());
                assertEquals(n, pb.cols());
                Gemm.matmul(a, aOff, lda, pb, got, cOff, ldc, m, accumulate);
                assertClose("matmul " + shape + " acc=" + accumulate, want, got, scale, accumulate ? c0 : null,
                        m, n, cOff, ldc);
                // outside the m×n window nothing may change (padding columns, offsets)
                for (int i = 0; i < got.length; i++) {
                    int r = (i - cOff) / ldc, col = (i - cOff) % ldc;
                    boolean inside = i >= cOff && r < m && col < n;
                    if (!inside) assertEquals(c0[i], got[i], "matmul " + shape + " wrote outside C at " + i);
                }
            }
        }
    }

    @Test
    void gemmMatchesScalarForAllTransposes() {
        for (String shape : SHAPES) {
            int[] d = Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
            int m = d[0], k = d[1], n = d[2];
            for (int mode = 0; mode < 8; mode++) {
                boolean tA = (mode & 1) != 0, tB = (mode & 2) != 0, accumulate = (mode & 4) != 0;
                int lda = (tA ? m : k) + 1, ldb = (tB ? k : n) + 2, ldc = n + 3;
                int aOff = 5, bOff = 6, cOff = 4;
                float[] a = random(aOff + (tA ? k : m) * lda, 4), b = random(bOff + (tB ? n : k) * ldb, 5);
                float[] c0 = random(cOff + m * ldc, 6);
                float[] want = c0.clone(), got = c0.clone(), scale = new float[c0.length];
                ScalarGemm.gemm(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, want, cOff, ldc, accumulate);
                ScalarGemm.gemm(tA, tB, m, n, k, abs(a), aOff, lda, abs(b), bOff, ldb, scale, cOff, ldc, false);
                Gemm.gemm(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, got, cOff, ldc, accumulate);
                assertClose("gemm " + shape + " tA=" + tA + " tB=" + tB + " acc=" + accumulate, want, got, scale,
                        accumulate ? c0 : null, m, n, cOff, ldc);
            }
        }
    }

    /** A backward-sized shape with several k-blocks and both operands transposed (dW = Xᵀ·dY style). */
    @ParameterizedTest
    @ValueSource(strings = {"TN", "NT"})
    void gemmLargeBackwardShape(String trans) {
        boolean tA = trans.charAt(0) == 'T', tB = trans.charAt(1) == 'T';
        int m = 200, k = 1100, n = 900;
        float[] a = random(m * k, 7), b = random(k * n, 8);
        float[] want = new float[m * n], got = new float[m * n], scale = new float[m * n];
        ScalarGemm.gemm(tA, tB, m, n, k, a, 0, tA ? m : k, b, 0, tB ? k : n, want, 0, n, false);
        ScalarGemm.gemm(tA, tB, m, n, k, abs(a), 0, tA ? m : k, abs(b), 0, tB ? k : n, scale, 0, n, false);
        Arrays.fill(got, Float.NaN);   // the first k-block must store, not read, C
        Gemm.gemm(tA, tB, m, n, k, a, 0, tA ? m : k, b, 0, tB ? k : n, got, 0, n, false);
        assertClose("gemm 200x1100x900 " + trans, want, got, scale, null, m, n, 0, n);
    }

    @Test
    void zeroDepthStoresZerosOrKeepsC() {
        float[] c = {1, 2, 3, 4};
        Gemm.gemm(false, false, 2, 2, 0, new float[0], 0, 0, new float[0], 0, 2, c, 0, 2, true);
        assertEquals(1f, c[0]);
        Gemm.matmul(new float[0], 0, 0, PackedMatrix.pack(new float[0], 0, 0, 2), c, 0, 2, 2, false);
        assertEquals(0f, c[3]);
    }

    @Test
    void repackSeesNewValues() {
        int m = 9, k = 40, n = 70;
        float[] a = random(m * k, 9), b = random(k * n, 10);
        PackedMatrix pb = PackedMatrix.pack(b, 0, k, n);
        for (int i = 0; i < b.length; i++) b[i] *= -2f;
        pb.repack(b, 0);
        float[] want = new float[m * n], got = new float[m * n], scale = new float[m * n];
        ScalarGemm.gemm(false, false, m, n, k, a, 0, k, b, 0, n, want, 0, n, false);
        ScalarGemm.gemm(false, false, m, n, k, abs(a), 0, k, abs(b), 0, n, scale, 0, n, false);
        Gemm.matmul(a, 0, k, pb, got, 0, n, m, false);
        assertClose("after repack", want, got, scale, null, m, n, 0, n);
    }

    @Test
    void badShapesNameTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 4, 4, new float[15], 0, 4, new float[16], 0, 4, new float[16], 0, 4, false));
        assertEquals(true, e.getMessage().contains("A"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, true, 4, 4, 4, new float[16], 0, 4, new float[16], 0, 3, new float[16], 0, 4, false));
    }
}

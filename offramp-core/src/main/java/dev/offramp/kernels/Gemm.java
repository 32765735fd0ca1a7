package dev.offramp.kernels;

/**
 * Matrix multiplication, the engine's hot loop (GotoBLAS-style blocking around one register-tile kernel).
 *
 * <pre>
 * for each k-block  [p0, p0+kc)          kc ≤ KC = 384: one block when K = 384
 *   (gemm only) pack op(B) panels of this thread's columns      → bPack  (kc × NR per panel)
 *   for each m-block [i0, i0+mc)         mc ≤ MC = 128 (its A rows stay in L2)
 *     for each NR-column panel of this thread                   (the kc × NR panel stays in L1/L2)
 *       for each MR-row strip: micro-kernel → C tile (MR × NR)   first k-block stores, later ones add
 * </pre>
 *
 * A is not packed: the kernel reads op(A) in place through a row stride and a depth stride. Packing A with
 * scalar Java code ran at ~1.7 floats/ns, which cost ~20 % at 2048×1536×384; eight strided broadcast
 * streams cost nothing measurable.
 *
 * The threads split the NR-column panels (or the MR-row strips when N is narrow). {@link #matmul} takes B
 * packed once at load time ({@link PackedMatrix}); {@link #gemm} packs both operands per call, which is what
 * the backward passes (dX = dY·Wᵀ, dW = Xᵀ·dY) and attention need.
 */
public final class Gemm {
    private Gemm() {}

    /** Rows of the register tile. */
    static final int MR = 8;
    /** Columns of the register tile: two vectors of the preferred species (32 floats with AVX-512). */
    static final int NR = KernelConfig.VECTOR ? PanamaGemm.NR : 32;
    /** Depth of a k-block; 384 keeps the model's K = 384 in one block (the first block stores C). */
    static final int KC = 384;
    /** Rows of A per block (mc × kc floats ≈ 196 KB, resident in L2 while the panels stream by). */
    static final int MC = 128;
    /** Columns of op(B) packed at once by {@link #gemm} per thread (kc × NC floats ≈ 1.2 MB). */
    static final int NC = 24 * NR;
    /** Below this many multiply-adds a GEMM runs on the caller only: the hand-off would cost more. */
    static final long PARALLEL_MIN_MACS = 1L << 18;

    /** C[m×n] (+)= A[m×k] · B, with B packed once ({@link PackedMatrix}); A row-major with leading dim lda. */
    public static void matmul(float[] a, int aOff, int lda, PackedMatrix b, float[] c, int cOff, int ldc,
                              int m, boolean accumulate) {
        final int n = b.n, k = b.k;
        checkArgs("matmul", false, m, n, k, a, aOff, lda, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) zero(c, cOff, ldc, m, n);
            return;
        }
        final int panels = PackedMatrix.panels(n), strips = (m + MR - 1) / MR;
        if (Parallel.threads() == 1 || (long) m * n * k < PARALLEL_MIN_MACS) {
            matmulBlock(a, aOff, lda, b, c, cOff, ldc, 0, m, 0, panels, accumulate);
        } else if (splitOverColumns(m, n, panels, strips, true)) {
            Parallel.forRange(panels, (j0, j1) -> matmulBlock(a, aOff, lda, b, c, cOff, ldc, 0, m, j0, j1, accumulate));
        } else {
            Parallel.forRange(strips, (s0, s1) -> matmulBlock(a, aOff, lda, b, c, cOff, ldc,
                    s0 * MR, Math.min(m, s1 * MR), 0, panels, accumulate));
        }
    }

    /** C[m×n] (+)= op(A)[m×k] · op(B)[k×n]; the general form used by backward passes. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        checkArgs("gemm", transA, m, n, k, a, aOff, lda, c, cOff, ldc);
        checkOperand("gemm", "B", transB, k, n, b, bOff, ldb);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) zero(c, cOff, ldc, m, n);
            return;
        }
        if (m <= SMALL_M && !transA && !transB) {
            // a few rows (an exit head at batch 1): packing B would cost more than the product; stream B once
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
                for (int p = 0; p < k; p++) VectorOps.axpy(a[aOff + i * lda + p], b, bOff + p * ldb, c, ci, n);
            }
            return;
        }
        final int panels = PackedMatrix.panels(n), strips = (m + MR - 1) / MR;
        if (Parallel.threads() == 1 || (long) m * n * k < PARALLEL_MIN_MACS) {
            gemmBlock(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, 0, m, 0, panels, accumulate);
        } else if (splitOverColumns(m, n, panels, strips, false)) {
            Parallel.forRange(panels, (j0, j1) -> gemmBlock(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
                    c, cOff, ldc, 0, m, j0, j1, accumulate));
        } else {
            Parallel.forRange(strips, (s0, s1) -> gemmBlock(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
                    c, cOff, ldc, s0 * MR, Math.min(m, s1 * MR), 0, panels, accumulate));
        }
    }

    /** Up to this many rows of A, {@link #gemm} streams B row by row instead of packing it. */
    private static final int SMALL_M = 4;

    /** Forces the thread split for tuning: "rows", "cols", or "auto" (default). */
    private static final String SPLIT = System.getProperty("offramp.gemm.split", "auto");

    /**
     * Which dimension the threads split. Each thread packs the whole of the operand along the other
     * dimension, so split the one whose duplicate packing is cheaper: rows duplicate op(B) (free for matmul,
     * where B is packed once), columns duplicate op(A). A thread's rows should still fill one MC block so a
     * B panel is reused over enough strips, and each side needs enough units to balance.
     */
    private static boolean splitOverColumns(int m, int n, int panels, int strips, boolean bPrepacked) {
        if (SPLIT.equals("rows")) return false;
        if (SPLIT.equals("cols")) return true;
        int t = Parallel.threads();
        boolean rowsOk = strips >= (MC / MR) * t, colsOk = panels >= 2 * t || panels % t == 0;
        if (rowsOk && (bPrepacked || m >= n || !colsOk)) return false;
        if (colsOk) return true;
        return panels >= strips;
    }

    // ---- drivers (one thread's share) ------------------------------------------------------------------

    /** Rows [m0, m1) × panels [j0, j1) of C = A · packed B. */
    private static void matmulBlock(float[] a, int aOff, int lda, PackedMatrix b, float[] c, int cOff, int ldc,
                                    int m0, int m1, int j0, int j1, boolean accumulate) {
        final int n = b.n, k = b.k;
        final int kBlocks = (k + KC - 1) / KC, kcMax = (k + kBlocks - 1) / kBlocks;  // balanced k-blocks
        Scratch s = Scratch.get(0);
        for (int p0 = 0; p0 < k; p0 += kcMax) {
            final int kc = Math.min(kcMax, k - p0);
            final boolean addC = accumulate || p0 > 0;
            for (int i0 = m0; i0 < m1; i0 += MC) {
                final int mc = Math.min(MC, m1 - i0);
                for (int j = j0; j < j1; j++) {
                    final int col = j * NR, nr = Math.min(NR, n - col), bpOff = j * k * NR + p0 * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        final int mr = Math.min(MR, mc - ir), cij = cOff + (i0 + ir) * ldc + col;
                        kernel(kc, a, aOff + (i0 + ir) * lda + p0, lda, 1, b.data, bpOff, c, cij, ldc, mr, nr, addC,
                                s.tile);
                    }
                }
            }
        }
    }

    /** Rows [m0, m1) × panels [j0, j1) of C = op(A) · op(B), packing B in NC-column blocks. */
    private static void gemmBlock(boolean transA, boolean transB, int m, int n, int k,
                                  float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, int m0, int m1, int j0, int j1, boolean accumulate) {
        final int kBlocks = (k + KC - 1) / KC, kcMax = (k + kBlocks - 1) / kBlocks;
        final int ncPanels = NC / NR;
        Scratch s = Scratch.get(Math.min(ncPanels, j1 - j0) * NR * kcMax);
        for (int jc = j0; jc < j1; jc += ncPanels) {
            final int jcEnd = Math.min(j1, jc + ncPanels);
            final int col0 = jc * NR, ncols = Math.min(n, jcEnd * NR) - col0;
            for (int p0 = 0; p0 < k; p0 += kcMax) {
                final int kc = Math.min(kcMax, k - p0);
                final boolean addC = accumulate || p0 > 0;
                packB(transB, b, bOff, ldb, p0, kc, col0, ncols, s.bPack);
                // A is read in place: A(i, p) = a[aOff + i·rs + p·ps]
                final int rs = transA ? 1 : lda, ps = transA ? lda : 1;
                for (int i0 = m0; i0 < m1; i0 += MC) {
                    final int mc = Math.min(MC, m1 - i0);
                    for (int j = jc; j < jcEnd; j++) {
                        final int col = j * NR, nr = Math.min(NR, n - col), bpOff = (j - jc) * kc * NR;
                        for (int ir = 0; ir < mc; ir += MR) {
                            final int mr = Math.min(MR, mc - ir), cij = cOff + (i0 + ir) * ldc + col;
                            kernel(kc, a, aOff + (i0 + ir) * rs + p0 * ps, rs, ps, s.bPack, bpOff, c, cij, ldc,
                                    mr, nr, addC, s.tile);
                        }
                    }
                }
            }
        }
    }

    private static void kernel(int kc, float[] a, int aOff, int rs, int ps, float[] bp, int bOff,
                               float[] c, int cOff, int ldc, int mr, int nr, boolean addC, float[] tile) {
        if (KernelConfig.VECTOR) PanamaGemm.kernel(kc, a, aOff, rs, ps, bp, bOff, c, cOff, ldc, mr, nr, addC, tile);
        else ScalarGemm.microKernel(kc, a, aOff, rs, ps, bp, bOff, c, cOff, ldc, mr, nr, addC, tile);
    }

    // ---- packing -----------------------------------------------------------------------------------------

    /**
     * Packs depth [p0, p0+kc) × columns [col0, col0+ncols) of op(B) into NR-column panels:
     * {@code dst[q·kc·NR + p·NR + j] = op(B)(p0 + p, col0 + q·NR + j)}, zero columns past ncols.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int col0, int ncols,
                      float[] dst) {
        for (int q0 = 0; q0 < ncols; q0 += NR) {
            final int nr = Math.min(NR, ncols - q0), base = (q0 / NR) * kc * NR;
            if (!transB) {
                // op(B)(p, j) = b[p·ldb + j]: one row of the panel is a contiguous copy
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(b, bOff + (p0 + p) * ldb + col0 + q0, dst, base + p * NR, nr);
                }
            } else {
                // op(B)(p, j) = b[j·ldb + p]: a transpose, done in 16-deep slices so the NR stored rows being
                // read and the 16 panel rows being written all stay in L1 (unblocked it ran at 0.3 floats/ns)
                for (int pb = 0; pb < kc; pb += 16) {
                    final int depth = Math.min(16, kc - pb);
                    for (int j = 0; j < nr; j++) {
                        final int src = bOff + (col0 + q0 + j) * ldb + p0 + pb, d = base + pb * NR + j;
                        for (int p = 0; p < depth; p++) dst[d + p * NR] = b[src + p];
                    }
                }
            }
            if (nr < NR) {
                for (int p = 0; p < kc; p++) {
                    java.util.Arrays.fill(dst, base + p * NR + nr, base + (p + 1) * NR, 0f);
                }
            }
        }
    }

    /** Copies (or adds) the valid mr×nr corner of an MR×NR tile into C; the edge-tile path of both kernels. */
    static void storeTile(float[] tile, float[] c, int cOff, int ldc, int mr, int nr, boolean addC) {
        for (int r = 0; r < mr; r++) {
            final int ci = cOff + r * ldc, ti = r * NR;
            if (addC) {
                for (int j = 0; j < nr; j++) c[ci + j] += tile[ti + j];
            } else {
                System.arraycopy(tile, ti, c, ci, nr);
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private static void zero(float[] c, int cOff, int ldc, int m, int n) {
        for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
    }

    private static void checkArgs(String op, boolean transA, int m, int n, int k, float[] a, int aOff, int lda,
                                  float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": negative shape m=" + m + ", n=" + n + ", k=" + k);
        }
        checkOperand(op, "A", transA, m, k, a, aOff, lda);
        checkOperand(op, "C", false, m, n, c, cOff, ldc);
    }

    /** op(X) is rows×cols; X itself is stored row-major with leading dimension ld. */
    private static void checkOperand(String op, String name, boolean trans, int rows, int cols, float[] x, int off,
                                     int ld) {
        if (rows == 0 || cols == 0) return;
        final int storedRows = trans ? cols : rows, storedCols = trans ? rows : cols;
        if (ld < storedCols) {
            throw new IllegalArgumentException(op + ": leading dimension of " + name + " is " + ld + " but "
                    + (trans ? "its transpose " : "it ") + "has " + storedCols + " columns");
        }
        long last = (long) off + (long) (storedRows - 1) * ld + storedCols;
        if (off < 0 || last > x.length) {
            throw new IllegalArgumentException(op + ": " + name + " (" + storedRows + "×" + storedCols + ", ld " + ld
                    + ", offset " + off + ") needs " + last + " floats but the array has " + x.length);
        }
    }

    /** Per-thread packing buffers, grown on demand and then reused (no allocation per GEMM). */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        float[] bPack = new float[0];
        final float[] tile = new float[MR * NR];

        static Scratch get(int bSize) {
            Scratch s = LOCAL.get();
            if (s.bPack.length < bSize) s.bPack = new float[bSize];
            return s;
        }
    }
}

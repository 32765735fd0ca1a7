package dev.offramp.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API GEMM micro-kernel: an MR×NR = 8×(2 vectors) tile of C from a packed A strip and a packed B
 * panel. Only loaded when {@link KernelConfig#VECTOR} is true.
 *
 * <p>Deliberately one long method over 16 local accumulators: a helper taking or returning vectors, or a
 * {@code FloatVector[]}, crosses C2's inlining budget and the vectors get boxed (≈4× slower plus heavy
 * garbage).
 */
final class PanamaGemm {
    private PanamaGemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int NR = 2 * L;

    /**
     * C[0..mr)×[0..nr) (+)= A · Bpack over kc steps. A is read in place: A(r, p) = {@code a[aOff + r·rs + p·ps]}
     * (rs = lda, ps = 1 for row-major A; rs = 1, ps = lda for a transposed one), so A needs no packing; rows
     * past mr re-read row mr−1 and are discarded. {@code bp[bOff + p·NR + j]} is B(p, j). addC false stores
     * (the first k-block), true adds to C. Partial tiles go through {@code tile} (MR·NR floats of scratch).
     */
    static void kernel(int kc, float[] a, int aOff, int rs, int ps, float[] bp, int bOff,
                       float[] c, int cOff, int ldc, int mr, int nr, boolean addC, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        final int o1 = Math.min(1, mr - 1) * rs, o2 = Math.min(2, mr - 1) * rs, o3 = Math.min(3, mr - 1) * rs,
                o4 = Math.min(4, mr - 1) * rs, o5 = Math.min(5, mr - 1) * rs, o6 = Math.min(6, mr - 1) * rs,
                o7 = Math.min(7, mr - 1) * rs;
        int ai = aOff, bi = bOff;
        for (int p = 0; p < kc; p++, ai += ps, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector va = FloatVector.broadcast(S, a[ai]);
            c00 = va.fma(b0, c00);
            c01 = va.fma(b1, c01);
            va = FloatVector.broadcast(S, a[ai + o1]);
            c10 = va.fma(b0, c10);
            c11 = va.fma(b1, c11);
            va = FloatVector.broadcast(S, a[ai + o2]);
            c20 = va.fma(b0, c20);
            c21 = va.fma(b1, c21);
            va = FloatVector.broadcast(S, a[ai + o3]);
            c30 = va.fma(b0, c30);
            c31 = va.fma(b1, c31);
            va = FloatVector.broadcast(S, a[ai + o4]);
            c40 = va.fma(b0, c40);
            c41 = va.fma(b1, c41);
            va = FloatVector.broadcast(S, a[ai + o5]);
            c50 = va.fma(b0, c50);
            c51 = va.fma(b1, c51);
            va = FloatVector.broadcast(S, a[ai + o6]);
            c60 = va.fma(b0, c60);
            c61 = va.fma(b1, c61);
            va = FloatVector.broadcast(S, a[ai + o7]);
            c70 = va.fma(b0, c70);
            c71 = va.fma(b1, c71);
        }
        if (mr == 8 && nr == NR) {
            int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc,
                    r7 = r6 + ldc;
            if (addC) {
                c00 = c00.add(FloatVector.fromArray(S, c, r0));
                c01 = c01.add(FloatVector.fromArray(S, c, r0 + L));
                c10 = c10.add(FloatVector.fromArray(S, c, r1));
                c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
                c20 = c20.add(FloatVector.fromArray(S, c, r2));
                c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
                c30 = c30.add(FloatVector.fromArray(S, c, r3));
                c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
                c40 = c40.add(FloatVector.fromArray(S, c, r4));
                c41 = c41.add(FloatVector.fromArray(S, c, r4 + L));
                c50 = c50.add(FloatVector.fromArray(S, c, r5));
                c51 = c51.add(FloatVector.fromArray(S, c, r5 + L));
                c60 = c60.add(FloatVector.fromArray(S, c, r6));
                c61 = c61.add(FloatVector.fromArray(S, c, r6 + L));
                c70 = c70.add(FloatVector.fromArray(S, c, r7));
                c71 = c71.add(FloatVector.fromArray(S, c, r7 + L));
            }
            c00.intoArray(c, r0);
            c01.intoArray(c, r0 + L);
            c10.intoArray(c, r1);
            c11.intoArray(c, r1 + L);
            c20.intoArray(c, r2);
            c21.intoArray(c, r2 + L);
            c30.intoArray(c, r3);
            c31.intoArray(c, r3 + L);
            c40.intoArray(c, r4);
            c41.intoArray(c, r4 + L);
            c50.intoArray(c, r5);
            c51.intoArray(c, r5 + L);
            c60.intoArray(c, r6);
            c61.intoArray(c, r6 + L);
            c70.intoArray(c, r7);
            c71.intoArray(c, r7 + L);
            return;
        }
        // edge tile (M or N tail): spill to scratch, then copy only the valid part
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
        Gemm.storeTile(tile, c, cOff, ldc, mr, nr, addC);
    }
}

package dev.offramp.model;

import dev.offramp.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times {@link Attention#forward} (one layer's attention) against the previous kernel (kept below: per query,
 * scores as d axpys over the keys, P·V as t axpys over the context row), in one process, alternating blocks
 * of repeats; medians.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector [-Dofframp.threads=1] -cp offramp-core/target/classes \
 *      dev.offramp.model.AttentionBench [seconds-per-case]
 * </pre>
 */
public final class AttentionBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AttentionBench() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        System.out.printf(Locale.ROOT, "threads=%d species=%s%n", Parallel.threads(), S);
        int[][] cases = {{32, 64, 384, 12}, {1, 64, 384, 12}, {8, 128, 384, 12}, {32, 64, 768, 12}};
        for (int[] c : cases) run(c[0], c[1], c[2], c[3], seconds);
    }

    private static void run(int batch, int seq, int hidden, int heads, double seconds) {
        int n = batch * seq, d = hidden / heads;
        int[] offset = new int[batch], length = new int[batch];
        for (int b = 0; b < batch; b++) { offset[b] = b * seq; length[b] = seq; }
        SplittableRandom r = new SplittableRandom(7);
        float[] qkv = new float[n * 3 * hidden];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) (r.nextDouble() * 3 - 1.5);
        float[] ctxOld = new float[n * hidden], ctxNew = new float[n * hidden];
        int slots = Parallel.threads();
        float[][] scratchOld = new float[slots][d * seq + seq];
        float[][] scratchNew = new float[slots][Attention.scratchFloats(hidden, heads, seq)];
        Runnable old = () -> oldForward(ctxOld, qkv, offset, length, batch, hidden, heads, scratchOld);
        Runnable neu = () -> Attention.forward(ctxNew, null, null, qkv, offset, length, batch, hidden, heads, scratchNew);

        long warmEnd = System.nanoTime() + (long) (Math.max(1.0, seconds / 2) * 1e9);
        while (System.nanoTime() < warmEnd) { old.run(); neu.run(); }
        double maxDiff = 0;
        for (int i = 0; i < ctxOld.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ctxOld[i] - ctxNew[i]));

        long t0 = System.nanoTime(); neu.run(); old.run();
        long pairNanos = Math.max(1, System.nanoTime() - t0);
        int reps = (int) Math.max(1, 2_000_000L / pairNanos); // blocks of ~2 ms per engine
        int blocks = (int) Math.max(10, seconds * 1e9 / (2.0 * reps * pairNanos));
        double[] tOld = new double[blocks], tNew = new double[blocks];
        for (int k = 0; k < blocks; k++) {
            tOld[k] = time(old, reps);
            tNew[k] = time(neu, reps);
        }
        Arrays.sort(tOld);
        Arrays.sort(tNew);
        double mOld = tOld[blocks / 2], mNew = tNew[blocks / 2];
        double flop = 4.0 * batch * heads * (double) seq * seq * d;
        System.out.printf(Locale.ROOT, "batch %2d × seq %3d × %2d heads × d %2d: old %8.1f µs (%5.1f GFLOP/s)  new %7.1f µs"
                        + " (%5.1f GFLOP/s)  old/new %.2f  (p25..p75 new %.1f..%.1f)  max|diff| %.2g%n",
                batch, seq, heads, d, mOld, flop / mOld / 1e3, mNew, flop / mNew / 1e3, mOld / mNew,
                tNew[blocks / 4], tNew[blocks * 3 / 4], maxDiff);
    }

    /** Microseconds per call, averaged over reps calls. */
    private static double time(Runnable op, int reps) {
        long t = System.nanoTime();
        for (int i = 0; i < reps; i++) op.run();
        return (System.nanoTime() - t) / 1e3 / reps;
    }

    // ----------------------------------------------------------------------------------------------------
    // the previous kernel, verbatim apart from names: the baseline

    static void oldForward(float[] ctx, float[] qkv, int[] offset, int[] length, int batch, int hidden, int heads,
                           float[][] scratch) {
        int d = hidden / heads;
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        float scale = (float) (1.0 / Math.sqrt(d));
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                float[] tmp = scratch[slot];
                for (int pair = slot; pair < pairs; pair += slots) {
                    int b = pair / heads, h = pair % heads;
                    oldHead(ctx, qkv, offset[b], length[b], hidden, h * d, d, scale, tmp);
                }
            }
        });
    }

    private static void oldHead(float[] ctx, float[] qkv, int off, int t, int hidden, int col, int d, float scale,
                                float[] tmp) {
        int w = 3 * hidden;
        int kt = 0, sc = d * t;
        for (int j = 0; j < t; j++) {
            int kr = (off + j) * w + hidden + col;
            for (int p = 0; p < d; p++) tmp[kt + p * t + j] = qkv[kr + p];
        }
        float[] scores = tmp;
        int bound = S.loopBound(t);
        for (int i = 0; i < t; i++) {
            int s0 = sc;
            int qr = (off + i) * w + col;
            Arrays.fill(scores, s0, s0 + t, 0f);
            for (int p = 0; p < d; p++) {
                float q = qkv[qr + p] * scale;
                FloatVector qv = FloatVector.broadcast(S, q);
                int kp = kt + p * t, j = 0;
                for (; j < bound; j += S.length()) {
                    FloatVector.fromArray(S, tmp, kp + j).fma(qv, FloatVector.fromArray(S, scores, s0 + j))
                            .intoArray(scores, s0 + j);
                }
                for (; j < t; j++) scores[s0 + j] += q * tmp[kp + j];
            }
            oldSoftmaxInPlace(scores, s0, t);
            int cr = (off + i) * hidden + col;
            Arrays.fill(ctx, cr, cr + d, 0f);
            int dBound = S.loopBound(d);
            for (int j = 0; j < t; j++) {
                float pj = scores[s0 + j];
                int vr = (off + j) * w + 2 * hidden + col;
                int p = 0;
                if (dBound > 0) {
                    FloatVector pv = FloatVector.broadcast(S, pj);
                    for (; p < dBound; p += S.length()) {
                        FloatVector.fromArray(S, qkv, vr + p).fma(pv, FloatVector.fromArray(S, ctx, cr + p))
                                .intoArray(ctx, cr + p);
                    }
                }
                for (; p < d; p++) ctx[cr + p] += pj * qkv[vr + p];
            }
        }
    }

    private static void oldSoftmaxInPlace(float[] x, int off, int n) {
        int bound = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += S.length()) mv = mv.max(FloatVector.fromArray(S, x, off + i));
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector maxV = FloatVector.broadcast(S, max);
        FloatVector sumV = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(maxV).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) { float e = (float) Math.exp(x[off + i] - max); x[off + i] = e; sum += e; }
        float inv = 1f / sum;
        FloatVector invV = FloatVector.broadcast(S, inv);
        i = 0;
        for (; i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).mul(invV).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }
}

package dev.offramp.decoder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;
import dev.offramp.testing.FiniteDifferences;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each decoder op's backward on its own, against central finite differences of a double-precision version of its
 * forward (the loss is Σ dOut·out for a random dOut, so its gradient is exactly what backward computes).
 */
class DecoderOpGradientTest {

    static float[] gauss(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * (r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 2);
        return a;
    }

    /** ∂loss/∂x[i] by central differences, x perturbed in place. */
    static double[] finiteDifferences(double[] x, DoubleSupplier loss) {
        return FiniteDifferences.of(x, loss);
    }

    /** Relative L2 error of g against the finite differences, below tol; and not a vacuous zero check. */
    static void assertClose(String what, double[] fd, float[] g, double tol) {
        double diff = 0, norm = 0;
        for (int i = 0; i < fd.length; i++) {
            diff += (g[i] - fd[i]) * (g[i] - fd[i]);
            norm += fd[i] * fd[i];
        }
        assertTrue(norm > 1e-10, what + ": vacuous check, zero gradient");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < tol, what + ": relative error " + rel);
    }

    @Test
    void rmsNormBackward() {
        int rows = 3, c = 37;   // 37: a vector body and a scalar tail at every species width
        SplittableRandom r = new SplittableRandom(1);
        float[] in = gauss(r, rows * c, 1.5), w = gauss(r, c, 0.5), dOut = gauss(r, rows * c, 1);
        for (int i = 0; i < c; i++) w[i] += 1f;
        float[] out = new float[rows * c], rstd = new float[rows], dIn = new float[rows * c], dW = new float[c];
        RmsNorm.forward(out, rstd, in, w, 0, rows, c, 1e-5f);
        RmsNorm.backward(dIn, dOut, in, rstd, w, 0, rows, c, new float[c]);
        RmsNorm.backwardWeight(dW, dOut, in, rstd, 0, rows, 0, 20, c);
        RmsNorm.backwardWeight(dW, dOut, in, rstd, 0, rows, 20, c, c);
        double[] x = ReferenceDecoder.toDouble(in), g = ReferenceDecoder.toDouble(w);
        DoubleSupplier loss = () -> {
            double s = 0;
            for (int row = 0; row < rows; row++) {
                double[] y = ReferenceDecoder.rmsNorm(ReferenceDecoder.slice(x, row * c, c), g, 1e-5);
                for (int i = 0; i < c; i++) s += dOut[row * c + i] * y[i];
            }
            return s;
        };
        assertClose("rmsnorm dIn", finiteDifferences(x, loss), dIn, 1e-4);
        assertClose("rmsnorm dWeight", finiteDifferences(g, loss), dW, 1e-4);
        // backward adds
        RmsNorm.backward(dIn, dOut, in, rstd, w, 0, 1, c, new float[c]);
        float[] once = new float[rows * c];
        RmsNorm.backward(once, dOut, in, rstd, w, 0, rows, c, new float[c]);
        assertEquals(2 * once[5], dIn[5], 1e-5f);
    }

    @Test
    void ropeBackwardIsTheTransposeOfTheRotation() {
        int rows = 4, heads = 3, hs = 10, stride = heads * hs + 6, half = hs / 2;
        SplittableRandom r = new SplittableRandom(2);
        float[] cos = new float[rows * half], sin = new float[rows * half], negSin = new float[rows * half];
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = Math.pow(10000, -2.0 * i / hs);
        Rope.tables(inv, 3, rows, cos, sin);
        for (int i = 0; i < sin.length; i++) negSin[i] = -sin[i];
        float[] x = gauss(r, rows * stride + 2, 1), dy = gauss(r, rows * stride + 2, 1);
        float[] y = x.clone(), dx = dy.clone();
        Rope.forward(y, 2, stride, heads, hs, cos, sin, 0, rows);
        Rope.backward(dx, 2, stride, heads, hs, cos, negSin, 0, rows);
        // <dy, R x> = <Rᵀ dy, x> over the rotated values; the 6 spare values per row are left alone
        double lhs = 0, rhs = 0;
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < heads * hs; i++) {
                int o = 2 + row * stride + i;
                lhs += (double) dy[o] * y[o];
                rhs += (double) dx[o] * x[o];
            }
            for (int i = heads * hs; i < stride; i++) assertEquals(dy[2 + row * stride + i], dx[2 + row * stride + i]);
        }
        assertEquals(lhs, rhs, 1e-5 * (Math.abs(lhs) + 1));
        // and the inverse: rotating back restores x
        Rope.backward(y, 2, stride, heads, hs, cos, negSin, 0, rows);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-5f);
    }

    @Test
    void swigluBackward() {
        int rows = 2, in = 41;
        SplittableRandom r = new SplittableRandom(3);
        float[] gu = gauss(r, rows * 2 * in, 2.5), dOut = gauss(r, rows * in, 1);
        float[] dGu = new float[rows * 2 * in];
        SwiGlu.backward(dGu, dOut, gu, 0, rows, in);
        double[] x = ReferenceDecoder.toDouble(gu);
        DoubleSupplier loss = () -> {
            double s = 0;
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < in; j++) {
                    double g = x[row * 2 * in + j], u = x[row * 2 * in + in + j];
                    s += dOut[row * in + j] * g / (1 + Math.exp(-g)) * u;
                }
            }
            return s;
        };
        assertClose("swiglu dGateUp", finiteDifferences(x, loss), dGu, 1e-5);
    }

    @ParameterizedTest(name = "row block {0}")
    @ValueSource(ints = {64, 3})
    void trainingAttentionMatchesTheCachedForward(int rowBlock) {
        int batch = 2, t = 7, heads = 4, kvHeads = 2, hs = 6, qd = heads * hs, kvd = kvHeads * hs;
        SplittableRandom r = new SplittableRandom(4);
        float[] q = gauss(r, batch * t * qd, 1), kv = gauss(r, batch * t * 2 * kvd, 1);
        float[] out = new float[batch * t * qd], probs = new float[batch * heads * t * t];
        java.util.Arrays.fill(probs, Float.NaN);   // whatever was there before: every entry is written
        CausalAttention.forwardTraining(out, probs, q, kv, batch, t, heads, kvHeads, hs, rowBlock);
        for (int b = 0; b < batch; b++) {
            float[] cache = java.util.Arrays.copyOfRange(kv, b * t * 2 * kvd, (b + 1) * t * 2 * kvd);
            float[] qb = java.util.Arrays.copyOfRange(q, b * t * qd, (b + 1) * t * qd), want = new float[t * qd];
            CausalAttention.forward(want, qb, qd, cache, 0, t, heads, kvHeads, hs, new float[][]{new float[t], new float[t]});
            for (int i = 0; i < t * qd; i++) assertEquals(want[i], out[b * t * qd + i], 1e-5f, "sequence " + b + " value " + i);
        }
        // each probability row sums to one over the positions it may see, zeros after
        for (int row = 0; row < batch * heads * t; row++) {
            int i = row % t;
            double s = 0;
            for (int j = 0; j <= i; j++) s += probs[row * t + j];
            assertEquals(1, s, 1e-5);
            for (int j = i + 1; j < t; j++) assertEquals(0f, probs[row * t + j]);
        }
    }

    @ParameterizedTest(name = "row block {0}")
    @ValueSource(ints = {64, 2})
    void attentionBackward(int rowBlock) {
        int batch = 2, t = 5, heads = 4, kvHeads = 2, hs = 6, qd = heads * hs, kvd = kvHeads * hs, group = heads / kvHeads;
        SplittableRandom r = new SplittableRandom(5);
        float[] q = gauss(r, batch * t * qd, 1.2), kv = gauss(r, batch * t * 2 * kvd, 1.2), dOut = gauss(r, batch * t * qd, 1);
        float[] out = new float[batch * t * qd], probs = new float[batch * heads * t * t];
        CausalAttention.forwardTraining(out, probs, q, kv, batch, t, heads, kvHeads, hs, rowBlock);
        float[] dq = new float[q.length], dkv = new float[kv.length];
        float[][] scratch = new float[3][t * t];
        for (float[] a : scratch) java.util.Arrays.fill(a, Float.NaN);   // stale scratch must not leak in
        CausalAttention.backward(dq, dkv, dOut, probs, q, kv, batch, t, heads, kvHeads, hs, scratch, rowBlock);
        double[] qd64 = ReferenceDecoder.toDouble(q), kv64 = ReferenceDecoder.toDouble(kv);
        DoubleSupplier loss = () -> {
            double s = 0;
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    int kh = h / group;
                    for (int i = 0; i < t; i++) {
                        double[] p = new double[i + 1];
                        double sum = 0;
                        for (int j = 0; j <= i; j++) {
                            double d = 0;
                            for (int m = 0; m < hs; m++) {
                                d += qd64[(b * t + i) * qd + h * hs + m] * kv64[(b * t + j) * 2 * kvd + kh * hs + m];
                            }
                            sum += p[j] = Math.exp(d / Math.sqrt(hs));
                        }
                        for (int j = 0; j <= i; j++) {
                            for (int m = 0; m < hs; m++) {
                                s += dOut[(b * t + i) * qd + h * hs + m] * p[j] / sum * kv64[(b * t + j) * 2 * kvd + kvd + kh * hs + m];
                            }
                        }
                    }
                }
            }
            return s;
        };
        assertClose("attention dq", finiteDifferences(qd64, loss), dq, 1e-4);
        assertClose("attention d[k|v]", finiteDifferences(kv64, loss), dkv, 1e-4);
    }

    @Test
    void crossEntropyRowGradient() {
        int v = 53;
        SplittableRandom r = new SplittableRandom(6);
        float[] z = gauss(r, v + 3, 3);
        double[] z64 = ReferenceDecoder.toDouble(java.util.Arrays.copyOfRange(z, 3, v + 3));
        float[] work = z.clone();
        float loss = DecoderTrainer.crossEntropyRow(work, 3, v, 17, 0.25f);
        DoubleSupplier ce = () -> {
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (double x : z64) max = Math.max(max, x);
            for (double x : z64) s += Math.exp(x - max);
            return 0.25 * (Math.log(s) + max - z64[17]);
        };
        assertEquals(ce.getAsDouble() / 0.25, loss, 1e-5);
        assertClose("dlogits", finiteDifferences(z64, ce), java.util.Arrays.copyOfRange(work, 3, v + 3), 1e-5);
        // without a gradient scale the row is left as it was
        float[] again = z.clone();
        DecoderTrainer.crossEntropyRow(again, 3, v, 17, 0f);
        for (int i = 0; i < 3; i++) assertEquals(z[i], again[i]);
    }

    @Test
    void exitWeightsFollowCalm() {
        double[] w = ExitWeighting.LINEAR.weights(4);
        assertEquals(List.of(0.1, 0.2, 0.3, 0.4), List.of(w[0], w[1], w[2], w[3]).stream().map(d -> Math.round(d * 1e9) / 1e9).toList());
        assertEquals(0.25, ExitWeighting.MEAN.weights(4)[2], 1e-12);
        assertEquals(0, ExitWeighting.LAST.weights(4)[2]);
        assertEquals(1, ExitWeighting.LAST.weights(4)[3]);
    }

    @Test
    void layerDropoutRisesWithDepthAndIsAPureFunction() {
        assertEquals(0, DecoderTrainer.layerDropProbability(0.2f, 0, 6));
        assertEquals(0.2, DecoderTrainer.layerDropProbability(0.2f, 5, 6), 1e-7);
        double p2 = DecoderTrainer.layerDropProbability(0.2f, 2, 6), p3 = DecoderTrainer.layerDropProbability(0.2f, 3, 6);
        assertTrue(0 < p2 && p2 < p3 && p3 < 0.2);
        int dropped = 0, n = 20_000;
        for (int s = 0; s < n; s++) {
            boolean d = DecoderTrainer.layerDropped(7, s, 5, s % 16, 0.2f, 6);
            assertEquals(d, DecoderTrainer.layerDropped(7, s, 5, s % 16, 0.2f, 6));
            if (d) dropped++;
        }
        assertEquals(0.2, dropped / (double) n, 0.015);
        for (int s = 0; s < 1000; s++) assertTrue(!DecoderTrainer.layerDropped(7, s, 0, 0, 0.2f, 6), "the first layer always runs");
    }
}

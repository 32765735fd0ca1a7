package dev.offramp.model;

import dev.offramp.weights.BertConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;
import dev.offramp.testing.FiniteDifferences;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each op's backward on its own, against central finite differences of a double-precision version of its
 * forward; and the vector GELU paths against their scalar twins.
 */
class OpGradientTest {

    /** ∂loss/∂x[i] by central differences, x perturbed in place. */
    private static double[] finiteDifferences(double[] x, DoubleSupplier loss) {
        return FiniteDifferences.of(x, loss);
    }

    private static void assertClose(String what, double[] fd, float[] g) {
        double diff = 0, norm = 0;
        for (int i = 0; i < fd.length; i++) {
            diff += (g[i] - fd[i]) * (g[i] - fd[i]);
            norm += fd[i] * fd[i];
        }
        assertTrue(norm > 1e-8, what + ": vacuous check, zero gradient");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < 1e-4, what + ": relative error " + rel);
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    @Test
    void layerNormBackward() {
        int rows = 3, c = 37; // 37: a vector body plus a scalar tail at every species width
        Random r = new Random(1);
        float[] in = TinyModels.gauss(r, rows * c, 2f), gamma = TinyModels.ones(r, c), beta = TinyModels.gauss(r, c, 0.1f);
        float[] dOut = TinyModels.gauss(r, rows * c, 1f);
        float[] out = new float[rows * c], mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(out, mean, rstd, in, gamma, beta, 0, rows, c, 1e-5f);
        float[] dIn = new float[rows * c], dGamma = new float[c], dBeta = new float[c];
        LayerNorm.backward(dIn, dGamma, dBeta, dOut, in, mean, rstd, gamma, 0, rows, c);
        double[] x = toDouble(in), g = toDouble(gamma), b = toDouble(beta);
        DoubleSupplier loss = () -> {
            double[] y = ReferenceEncoder.layerNorm(x, rows, c, g, b, 1e-5);
            double s = 0;
            for (int i = 0; i < y.length; i++) s += dOut[i] * y[i];
            return s;
        };
        assertClose("dIn", finiteDifferences(x, loss), dIn);
        assertClose("dGamma", finiteDifferences(g, loss), dGamma);
        assertClose("dBeta", finiteDifferences(b, loss), dBeta);
        // the column-split parameter pass adds the same as the per-row one
        float[] dGamma2 = new float[c], dBeta2 = new float[c];
        LayerNorm.backwardGammaBeta(dGamma2, dBeta2, dOut, in, mean, rstd, 0, rows, 0, 20, c);
        LayerNorm.backwardGammaBeta(dGamma2, dBeta2, dOut, in, mean, rstd, 0, rows, 20, c, c);
        for (int i = 0; i < c; i++) {
            assertEquals(dGamma[i], dGamma2[i], 1e-5f);
            assertEquals(dBeta[i], dBeta2[i], 1e-5f);
        }
    }

    @ParameterizedTest
    @EnumSource(BertConfig.Activation.class)
    void geluBackwardMatchesFiniteDifferencesAndItsScalarTwin(BertConfig.Activation act) {
        int n = 1021; // prime: the scalar tail runs
        Random r = new Random(2);
        float[] in = TinyModels.gauss(r, n, 3f), dOut = TinyModels.gauss(r, n, 1f);
        float[] dIn = new float[n];
        Gelu.backward(dIn, dOut, in, 0, n, act);
        double[] fd = new double[n];
        for (int i = 0; i < n; i++) {
            double x = in[i], e = 1e-6;
            fd[i] = dOut[i] * (ReferenceEncoder.gelu(x + e, act) - ReferenceEncoder.gelu(x - e, act)) / (2 * e);
        }
        assertClose("gelu' " + act, fd, dIn);
        float[] out = new float[n];
        Gelu.forward(out, in, 0, n, act);
        for (int i = 0; i < n; i++) {
            float scalarD = act == BertConfig.Activation.GELU_EXACT ? Gelu.geluExactDerivative(in[i]) : Gelu.geluTanhDerivative(in[i]);
            assertEquals(dOut[i] * scalarD, dIn[i], 1e-5f * (1 + Math.abs(dOut[i] * scalarD)), "vector vs scalar gelu' at " + in[i]);
            float scalar = act == BertConfig.Activation.GELU_EXACT ? Gelu.geluExact(in[i]) : Gelu.geluTanh(in[i]);
            assertEquals(scalar, out[i], 1e-5f * (1 + Math.abs(scalar)), "vector vs scalar gelu at " + in[i]);
            assertEquals(ReferenceEncoder.gelu(in[i], act), out[i], 2e-6 * (1 + Math.abs(out[i])), "gelu vs double at " + in[i]);
        }
        // accumulates instead of overwriting
        Gelu.backward(dIn, dOut, in, 0, n, act);
        float single = act == BertConfig.Activation.GELU_EXACT ? Gelu.geluExactDerivative(in[5]) : Gelu.geluTanhDerivative(in[5]);
        assertEquals(2 * dOut[5] * single, dIn[5], 1e-5f);
    }

    @Test
    void referenceErfIsAccurate() {
        // values from tables (Abramowitz & Stegun 7.1)
        assertEquals(0.5204998778130465, ReferenceEncoder.erf(0.5), 1e-15);
        assertEquals(0.9953222650189527, ReferenceEncoder.erf(2.0), 1e-15);
        assertEquals(0.9999779095030014, ReferenceEncoder.erf(3.0), 1e-15);
        assertEquals(-0.9999999845827421, ReferenceEncoder.erf(-4.0), 1e-15);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(floats = {0f, 0.3f})
    void attentionBackward(float dropout) {
        int hidden = 8, heads = 2, d = hidden / heads;
        int[] length = {5, 3}, offset = {0, 5}, attOffset = {0, heads * 25};
        int n = 8, attTotal = heads * (25 + 9);
        Random r = new Random(3);
        float[] qkv = TinyModels.gauss(r, n * 3 * hidden, 1.2f), dCtx = TinyModels.gauss(r, n * hidden, 1f);
        float[] ctx = new float[n * hidden], att = new float[attTotal];
        float[][] scratch = {new float[2 * 25], new float[2 * 25]};
        long key = Dropout.key(5, 0, 1);
        Attention.forwardTraining(ctx, att, attOffset, qkv, offset, length, 2, hidden, heads, dropout, key, scratch);
        float[] dQkv = new float[n * 3 * hidden];
        Attention.backward(dQkv, dCtx, qkv, att, attOffset, offset, length, 2, hidden, heads, dropout, key, scratch);
        double[] x = toDouble(qkv);
        DoubleSupplier loss = () -> {
            double s = 0;
            for (int b = 0; b < 2; b++) {
                int t = length[b], o = offset[b];
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < t; i++) {
                        double[] p = new double[t];
                        double sum = 0;
                        for (int j = 0; j < t; j++) {
                            double dot = 0;
                            for (int m = 0; m < d; m++) {
                                dot += x[(o + i) * 3 * hidden + h * d + m] * x[(o + j) * 3 * hidden + hidden + h * d + m];
                            }
                            p[j] = Math.exp(dot / Math.sqrt(d));
                            sum += p[j];
                        }
                        for (int j = 0; j < t; j++) {
                            double pj = p[j] / sum;
                            if (dropout > 0) pj *= Dropout.scale(key, attOffset[b] + h * t * t + i * t + j, dropout);
                            for (int m = 0; m < d; m++) {
                                s += dCtx[(o + i) * hidden + h * d + m] * pj * x[(o + j) * 3 * hidden + 2 * hidden + h * d + m];
                            }
                        }
                    }
                }
            }
            return s;
        };
        assertClose("dQkv (dropout " + dropout + ")", finiteDifferences(x, loss), dQkv);
    }

    @Test
    void dropoutMaskIsAPureFunctionWithTheRightRate() {
        long key = Dropout.key(1, 2, 3);
        int dropped = 0, n = 100_000;
        for (int i = 0; i < n; i++) {
            float s = Dropout.scale(key, i, 0.1f);
            assertEquals(s, Dropout.scale(key, i, 0.1f));
            assertTrue(s == 0f || Math.abs(s - 1f / 0.9f) < 1e-6);
            if (s == 0f) dropped++;
        }
        assertEquals(0.1, dropped / (double) n, 0.005);
        float[] x = new float[1000], y = new float[1000];
        java.util.Arrays.fill(x, 1f);
        Dropout.forward(y, x, 0, 1000, 0.1f, key);
        for (int i = 0; i < 1000; i++) assertEquals(Dropout.scale(key, i, 0.1f), y[i]);
        assertTrue(Dropout.key(1, 2, 3) != Dropout.key(1, 2, 4) && Dropout.key(1, 2, 3) != Dropout.key(1, 3, 3));
    }
}

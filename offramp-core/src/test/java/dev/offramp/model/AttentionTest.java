package dev.offramp.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector inference attention against its scalar twin: ragged lengths around the query block (4) and the
 * vector width (16 keys), head dims that are whole vectors (32, 64) and that are not (24, 20: scalar columns).
 */
class AttentionTest {
    private static final int[] LENGTHS = {1, 2, 17, 63, 64, 65, 130, 3};

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 24, 20})
    void vectorMatchesScalarTwin(int d) {
        int heads = 3, hidden = heads * d, batch = LENGTHS.length;
        int[] offset = new int[batch];
        int n = 0, tmax = 0;
        for (int b = 0; b < batch; b++) { offset[b] = n; n += LENGTHS[b]; tmax = Math.max(tmax, LENGTHS[b]); }
        Random r = new Random(d);
        float[] qkv = TinyModels.gauss(r, n * 3 * hidden, 1.5f); // σ 1.5: peaked softmax rows, not flat ones
        float[] expected = new float[n * hidden];
        Attention.forwardScalar(expected, qkv, offset, LENGTHS, batch, hidden, heads);

        // stale NaN scratch and ctx: the kernel must neither read padding it did not write nor skip an output
        float[][] scratch = new float[3][Attention.scratchFloats(hidden, heads, tmax)];
        for (float[] s : scratch) Arrays.fill(s, Float.NaN);
        float[] ctx = new float[n * hidden];
        Arrays.fill(ctx, Float.NaN);
        int[] attOffset = new int[batch];
        int attSize = 0;
        for (int b = 0; b < batch; b++) { attOffset[b] = attSize; attSize += heads * LENGTHS[b] * LENGTHS[b]; }
        float[] att = new float[attSize];
        Arrays.fill(att, Float.NaN);
        Attention.forward(ctx, att, attOffset, qkv, offset, LENGTHS, batch, hidden, heads, scratch);
        assertClose(expected, ctx, offset, LENGTHS, hidden, "d=" + d + " with probabilities");

        Arrays.fill(ctx, Float.NaN);
        Attention.forward(ctx, null, null, qkv, offset, LENGTHS, batch, hidden, heads, scratch);
        assertClose(expected, ctx, offset, LENGTHS, hidden, "d=" + d);

        // probabilities: P·V recomputed from them gives the context, and rows sum to 1
        for (int b = 0; b < batch; b++) {
            int t = LENGTHS[b];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    int a = attOffset[b] + h * t * t + i * t;
                    double sum = 0;
                    for (int j = 0; j < t; j++) sum += att[a + j];
                    assertTrue(Math.abs(sum - 1) < 1e-5, "probability row sums to " + sum);
                    for (int k = 0; k < d; k++) {
                        double c = 0;
                        for (int j = 0; j < t; j++) c += att[a + j] * qkv[(offset[b] + j) * 3 * hidden + 2 * hidden + h * d + k];
                        float e = expected[(offset[b] + i) * hidden + h * d + k];
                        assertTrue(Math.abs(c - e) <= 1e-5 * (1 + Math.abs(e)), "P·V " + c + " vs " + e);
                    }
                }
            }
        }
    }

    /** Per sample: max |diff| ≤ 1e-5 · max |expected|; NaN (an unwritten output) fails. */
    private static void assertClose(float[] expected, float[] actual, int[] offset, int[] length, int hidden, String what) {
        for (int b = 0; b < length.length; b++) {
            double maxDiff = 0, maxRef = 0;
            for (int i = offset[b] * hidden; i < (offset[b] + length[b]) * hidden; i++) {
                double diff = Math.abs(expected[i] - actual[i]);
                if (!(diff <= maxDiff)) maxDiff = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff;
                maxRef = Math.max(maxRef, Math.abs(expected[i]));
            }
            assertTrue(maxRef > 0.1, what + ": vacuous check");
            assertTrue(maxDiff <= 1e-5 * maxRef, what + ", sample of " + length[b] + " tokens: max diff " + maxDiff
                    + " vs max |ctx| " + maxRef);
        }
    }

    @Test
    void tooSmallScratchIsRejected() {
        int hidden = 64, heads = 2;
        int[] offset = {0}, length = {40};
        float[] qkv = new float[40 * 3 * hidden], ctx = new float[40 * hidden];
        float[][] scratch = {new float[Attention.scratchFloats(hidden, heads, 40) - 1]};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Attention.forward(ctx, null, null, qkv, offset, length, 1, hidden, heads, scratch));
        assertTrue(e.getMessage().contains("40 tokens"), e.getMessage());
    }
}

package dev.offramp.eval.calibration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LengthMatchingTest {
    @Test
    void resampledLengthsFollowTheTarget() {
        // validation: 90 short (length 5) and 10 long (length 30); target: half short, half long
        int n = 100;
        int[] vLen = new int[n];
        float[] out = new float[n * 2 * 2], gold = new float[n];
        for (int i = 0; i < n; i++) {
            vLen[i] = i < 90 ? 5 : 30;
            gold[i] = i < 90 ? 0 : 1;  // label marks the length, so the resample's composition is readable
            for (int l = 0; l < 2; l++) { out[(i * 2 + l) * 2] = 0.5f; out[(i * 2 + l) * 2 + 1] = 0.5f; }
        }
        int[] target = new int[40];
        for (int i = 0; i < 40; i++) target[i] = i % 2 == 0 ? 5 : 30;
        ExitOutputs v = new ExitOutputs(n, 2, 2, out, gold, null);
        ExitOutputs r = LengthMatching.resample(v, vLen, target, 2, 20000, 7);
        double longShare = 0;
        for (float g : r.gold()) longShare += g;
        longShare /= r.samples();
        assertEquals(0.5, longShare, 0.02, "long inputs should make up half of the resample");
        double[] w = LengthMatching.weights(vLen, target, 2);
        assertEquals(0.5 / 90, w[0], 1e-12);
        assertEquals(0.5 / 10, w[95], 1e-12);
    }

    @Test
    void matchingDistributionsKeepUniformWeights() {
        int[] len = {3, 9, 12, 20, 7, 3, 15, 30};
        double[] w = LengthMatching.weights(len, len, 4);
        for (double x : w) assertTrue(Math.abs(x - 1.0 / len.length) < 1e-12, "weights " + java.util.Arrays.toString(w));
    }
}

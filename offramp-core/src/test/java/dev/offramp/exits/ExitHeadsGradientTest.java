package dev.offramp.exits;

import dev.offramp.testing.FiniteDifferences;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exits' backward against central finite differences of the joint weighted loss, through pooling, the
 * optional LayerNorm, the pooler, dropout (a fixed mask: the dropout generator is reseeded per forward) and
 * the classifier, for every parameter and every element of every layer's ragged hidden state.
 */
class ExitHeadsGradientTest {
    static final int H = 6, L = 3, B = 4;
    static final int[] LENGTHS = {3, 1, 4, 2};
    static final float EPS = 1e-3f;

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (Pooling p : Pooling.values())
            for (boolean ln : new boolean[]{false, true})
                for (boolean shared : new boolean[]{true, false})
                    for (boolean regression : new boolean[]{false, true})
                        a.add(Arguments.of(p, ln, shared, regression));
        return a.stream();
    }

    @ParameterizedTest(name = "{0} ln={1} shared={2} regression={3}")
    @MethodSource("cases")
    void backwardMatchesFiniteDifferences(Pooling pooling, boolean ln, boolean shared, boolean regression) {
        int k = regression ? 1 : 3;
        ExitHeads heads = new ExitHeads(H, L, k, new ExitLayout(pooling, ln, shared));
        TinyBert.randomise(heads, 0.5f, 7);
        int[] offsets = new int[B];
        int n = 0;
        for (int b = 0; b < B; b++) { offsets[b] = n; n += LENGTHS[b]; }
        SplittableRandom r = new SplittableRandom(11);
        float[][] hidden = new float[L][n * H];   // (L)(N, H)
        for (float[] x : hidden) for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        int[] labels = {0, 2, 1, 2};
        float[] targets = {0.5f, -1f, 2f, 0.1f};
        float[] w = ExitLoss.jointWeights(L);
        float dropout = 0.3f;

        // analytic, through the joint step the backbone trainer uses (dropout reseeded per exit, as below)
        heads.zeroGrads();
        float[][] dHidden = new float[L][n * H];
        JointExitStep step = new JointExitStep(heads, B);
        double joint = 0;
        for (int l = 0; l < L; l++) {
            float[] only = new float[L];
            only[l] = w[l];
            joint += step.run(hidden, offsets, LENGTHS, B, regression ? null : labels, regression ? targets : null,
                    only, dropout, new SplittableRandom(100 + l), dHidden);
        }
        float[] grads = heads.grads().clone();

        // numeric
        DoubleSupplier loss = () -> {
            double total = 0;
            float[] pl = new float[B * H];
            ExitHeads.Activations a = new ExitHeads.Activations(heads, B);
            for (int l = 0; l < L; l++) {
                pooling.pool(hidden[l], offsets, LENGTHS, B, H, pl, 0);
                heads.forward(a, l + 1, pl, 0, B, dropout, new SplittableRandom(100 + l));
                total += w[l] * (regression ? ExitLoss.mse(a.probs(), targets, B) : ExitLoss.crossEntropy(a.probs(), labels, B, k));
            }
            return total;
        };
        assertEquals(loss.getAsDouble(), joint, 1e-6 * Math.abs(joint));
        Checker check = new Checker();
        float[] p = heads.params();
        for (ExitHeads.Tensor t : heads.tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) check.at(t.name() + "[" + (i - t.offset()) + "]", p, i, grads[i], loss);
        }
        for (int l = 0; l < L; l++) {
            for (int i = 0; i < n * H; i++) check.at("hidden" + (l + 1) + "[" + i + "]", hidden[l], i, dHidden[l][i], loss);
        }
        assertTrue(check.largest > 0.05, "gradients too small for a meaningful check: " + check.largest);
        assertEquals(0, check.failures.size(), () -> check.failures.size() + " of " + check.count
                + " gradients differ, e.g. " + check.failures.subList(0, Math.min(8, check.failures.size())));
    }

    static final class Checker {
        final List<String> failures = new ArrayList<>();
        double largest;
        int count;

        void at(String name, float[] x, int i, float analytic, DoubleSupplier loss) {
            double numeric = FiniteDifferences.at(x, i, EPS, loss);
            largest = Math.max(largest, Math.abs(numeric));
            count++;
            double err = Math.abs(analytic - numeric);
            if (err > 1e-2 * Math.max(Math.abs(analytic), Math.abs(numeric)) + 3e-4) {
                failures.add(name + ": analytic " + analytic + " numeric " + numeric);
            }
        }
    }
}

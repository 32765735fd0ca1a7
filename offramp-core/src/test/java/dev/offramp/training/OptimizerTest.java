package dev.offramp.training;

import dev.offramp.model.ParameterSet;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** AdamW against a plain double-precision transcription of torch.optim.AdamW; schedule and clipping by hand. */
class OptimizerTest {

    @Test
    void adamWMatchesTheReferenceUpdateWithAndWithoutDecay() {
        Random r = new Random(1);
        int n = 70_000; // above the parallel threshold: the split path runs too
        float[] w = new float[n], b = new float[5], gw = new float[n], gb = new float[5];
        for (int i = 0; i < n; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < 5; i++) b[i] = (float) r.nextGaussian();
        double[] rw = toDouble(w), rb = toDouble(b);
        double[] mw = new double[n], vw = new double[n], mb = new double[5], vb = new double[5];
        ParameterSet set = new ParameterSet().add("w", w, gw, true).add("b", b, gb, false);
        AdamW.Options o = new AdamW.Options(0.9, 0.999, 1e-8, 0.1);
        AdamW opt = new AdamW(set, o);
        double lr = 1e-2;
        for (int t = 1; t <= 5; t++) {
            for (int i = 0; i < n; i++) gw[i] = (float) r.nextGaussian();
            for (int i = 0; i < 5; i++) gb[i] = (float) r.nextGaussian();
            opt.step(lr);
            reference(rw, toDouble(gw), mw, vw, t, lr, o, true);
            reference(rb, toDouble(gb), mb, vb, t, lr, o, false);
        }
        assertEquals(5, opt.steps());
        for (int i = 0; i < n; i += 97) assertEquals(rw[i], w[i], 1e-5, "w[" + i + "]");
        for (int i = 0; i < 5; i++) assertEquals(rb[i], b[i], 1e-5, "b[" + i + "]");
    }

    @Test
    void decayIsDecoupledFromTheGradient() {
        float[] w = {2f, -4f}, g = {0f, 0f};
        AdamW opt = new AdamW(new ParameterSet().add("w", w, g, true), new AdamW.Options(0.9, 0.999, 1e-8, 0.5));
        opt.step(0.1);
        // zero gradient: Adam's part is 0, only θ·(1 − lr·wd) remains
        assertEquals(2f * 0.95f, w[0], 1e-6f);
        assertEquals(-4f * 0.95f, w[1], 1e-6f);
    }

    private static void reference(double[] p, double[] g, double[] m, double[] v, int t, double lr, AdamW.Options o,
                                  boolean decay) {
        for (int i = 0; i < p.length; i++) {
            if (decay) p[i] -= lr * o.weightDecay() * p[i];
            m[i] = o.beta1() * m[i] + (1 - o.beta1()) * g[i];
            v[i] = o.beta2() * v[i] + (1 - o.beta2()) * g[i] * g[i];
            double mh = m[i] / (1 - Math.pow(o.beta1(), t)), vh = v[i] / (1 - Math.pow(o.beta2(), t));
            p[i] -= lr * mh / (Math.sqrt(vh) + o.eps());
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    @Test
    void linearWarmupThenLinearDecay() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 10, 110);
        assertEquals(0, s.at(0), 1e-15);
        assertEquals(5e-4, s.at(5), 1e-15);
        assertEquals(1e-3, s.at(10), 1e-15);
        assertEquals(5e-4, s.at(60), 1e-15);
        assertEquals(0, s.at(110), 1e-15);
        assertEquals(0, s.at(200), 1e-15);
        assertEquals(1e-3, new LearningRateSchedule(1e-3, 0, 10).at(0), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3, 20, 10));
    }

    @Test
    void clippingScalesAllGradientsByOneFactor() {
        float[] a = {3f, 0f}, b = {4f}, pa = new float[2], pb = new float[1];
        ParameterSet set = new ParameterSet().add("a", pa, a, true).add("b", pb, b, false);
        assertEquals(5.0, GradientClipping.clipGlobalNorm(set, 1.0), 1e-12);
        assertEquals(1.0, set.gradientNorm(), 1e-5);
        assertEquals(0.6f, a[0], 1e-5f);
        assertEquals(0.8f, b[0], 1e-5f);
        // under the limit: untouched
        assertEquals(1.0, GradientClipping.clipGlobalNorm(set, 10.0), 1e-5);
        assertEquals(0.6f, a[0], 1e-5f);
        assertThrows(IllegalArgumentException.class, () -> set.add("a", new float[1], new float[1], true));
    }
}

package dev.offramp.training;

import dev.offramp.kernels.Parallel;
import dev.offramp.model.ParameterSet;

import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW): per element
 * <pre>
 *   m = β1·m + (1 − β1)·g          v = β2·v + (1 − β2)·g²
 *   θ = θ − lr·wd·θ  (decay entries only)
 *   θ = θ − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * </pre>
 * Moments are allocated once per parameter set. Updates parameters in place: an inference
 * {@link dev.offramp.model.BertEncoder} built on the same weights must then be told with {@code repack()}.
 */
public final class AdamW {
    public record Options(double beta1, double beta2, double eps, double weightDecay) {
        public Options {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("need eps > 0 and weightDecay >= 0, got " + eps + ", " + weightDecay);
            }
        }

        /** BERT fine-tuning defaults: β = (0.9, 0.999), ε = 1e-8 (torch; 1e-6 in the original TF BERT), wd 0.01. */
        public static Options defaults() {
            return new Options(0.9, 0.999, 1e-8, 0.01);
        }
    }

    /** Below this many elements a tensor is updated on the calling thread. */
    private static final int PARALLEL_MIN = 1 << 16;

    private final ParameterSet params;
    private final Options options;
    private final float[][] m, v;
    private int t;

    public AdamW(ParameterSet params, Options options) {
        this.params = params;
        this.options = options;
        List<ParameterSet.Entry> es = params.entries();
        m = new float[es.size()][];
        v = new float[es.size()][];
        for (int i = 0; i < es.size(); i++) {
            m[i] = new float[es.get(i).param().length];
            v[i] = new float[es.get(i).param().length];
        }
    }

    /** Steps taken so far. */
    public int steps() {
        return t;
    }

    /** First moment of parameter-set entry i (live array: a checkpoint reads and restores it in place). */
    public float[] firstMoment(int i) {
        return m[i];
    }

    /** Second moment of parameter-set entry i (live array). */
    public float[] secondMoment(int i) {
        return v[i];
    }

    /** Sets the step count after the moments were restored from a checkpoint (bias correction depends on it). */
    public void restoreSteps(int steps) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        t = steps;
    }

    /** One update with learning rate lr from the gradients now in the parameter set (which it does not zero). */
    public void step(double lr) {
        List<ParameterSet.Entry> es = params.entries();
        if (es.size() != m.length) {
            throw new IllegalStateException("parameter set changed size after the optimizer was built ("
                    + m.length + " -> " + es.size() + ")");
        }
        t++;
        float b1 = (float) options.beta1, b2 = (float) options.beta2;
        // bias corrections folded into the step size and ε, as torch does
        double bc1 = 1 - Math.pow(options.beta1, t), bc2 = 1 - Math.pow(options.beta2, t);
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        float eps = (float) options.eps;
        for (int i = 0; i < es.size(); i++) {
            ParameterSet.Entry e = es.get(i);
            float decay = e.decay() ? (float) (1 - lr * options.weightDecay) : 1f;
            float[] p = e.param(), g = e.grad(), mi = m[i], vi = v[i];
            Parallel.RangeTask update = (from, to) -> {
                for (int j = from; j < to; j++) {
                    float gj = g[j];
                    float mj = b1 * mi[j] + (1 - b1) * gj;
                    float vj = b2 * vi[j] + (1 - b2) * gj * gj;
                    mi[j] = mj;
                    vi[j] = vj;
                    p[j] = p[j] * decay - stepSize * mj / ((float) Math.sqrt(vj) * invSqrtBc2 + eps);
                }
            };
            if (p.length < PARALLEL_MIN) update.run(0, p.length);
            else Parallel.forRange(p.length, update);
        }
    }
}

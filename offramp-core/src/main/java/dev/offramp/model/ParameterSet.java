package dev.offramp.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The trainable tensors of a model as named (parameter, gradient, decay?) entries, so that the encoder and the
 * exit heads can share one optimizer and one gradient clip. Parameters are updated in place.
 */
public final class ParameterSet {
    /**
     * @param decay whether AdamW's weight decay applies (matrices and embeddings yes; biases and LayerNorm no)
     */
    public record Entry(String name, float[] param, float[] grad, boolean decay) {
        public Entry {
            if (param.length != grad.length) {
                throw new IllegalArgumentException("parameter " + name + " has " + param.length
                        + " values but its gradient " + grad.length);
            }
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public ParameterSet add(String name, float[] param, float[] grad, boolean decay) {
        for (Entry e : entries) {
            if (e.name.equals(name)) throw new IllegalArgumentException("parameter " + name + " added twice");
            if (e.param == param) throw new IllegalArgumentException("parameter " + name + " is the same array as " + e.name);
        }
        entries.add(new Entry(name, param, grad, decay));
        return this;
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    public int size() {
        return entries.size();
    }

    /** Total number of scalar parameters. */
    public long count() {
        long n = 0;
        for (Entry e : entries) n += e.param.length;
        return n;
    }

    public void zeroGradients() {
        for (Entry e : entries) Arrays.fill(e.grad, 0f);
    }

    /** √(Σ grad²) over every entry, accumulated in double. */
    public double gradientNorm() {
        double s = 0;
        for (Entry e : entries) {
            float[] g = e.grad;
            for (float v : g) s += (double) v * v;
        }
        return Math.sqrt(s);
    }
}

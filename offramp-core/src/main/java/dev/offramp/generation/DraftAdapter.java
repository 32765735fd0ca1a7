package dev.offramp.generation;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
import dev.offramp.kernels.VectorOps;
import dev.offramp.weights.SafetensorsReader;
import dev.offramp.weights.SafetensorsWriter;

import java.nio.file.Path;

/**
 * A draft adapter for self-speculative decoding (after Kangaroo, Liu et al. 2024): one C×C linear map with a skip
 * connection on the final-normed state of the draft exit, n' = n + A·n, read by the shared LM head. Trained with the
 * decoder frozen ({@link DraftAdapterTrainer}) so that the exit's top-1 is more often full depth's greedy token; it
 * costs C² multiply-adds per draft, a tenth of a demo-lm layer. A = 0 is the plain exit. Immutable. Saved as {@value #FILE}
 * beside the weights.
 */
public final class DraftAdapter {
    public static final String FILE = "draft-adapter.safetensors";
    final int layer, hidden;
    final float[] a;              // (C, C) row-major: n'_i = n_i + Σ_j a[i·C + j] n_j
    private final PackedMatrix packed;   // Aᵀ as (in, out), so a draft's product is the engine's GEMV

    /** The adapter n + A·n for the exit after {@code layer} (1-based) of a model of width hidden; a is (C, C), copied. */
    public DraftAdapter(int layer, int hidden, float[] a) {
        if (layer < 1) throw new IllegalArgumentException("the draft layer must be >= 1, got " + layer);
        if (a.length != hidden * hidden) throw new IllegalArgumentException("A must be " + hidden + " x " + hidden + ", got " + a.length + " values");
        this.layer = layer;
        this.hidden = hidden;
        this.a = a.clone();
        float[] t = new float[a.length];
        for (int i = 0; i < hidden; i++) for (int j = 0; j < hidden; j++) t[j * hidden + i] = a[i * hidden + j];
        this.packed = PackedMatrix.pack(t, 0, hidden, hidden);
    }

    /** The exit it was trained for (1-based). */
    public int layer() {
        return layer;
    }

    public int hidden() {
        return hidden;
    }

    /** out[outOff..+C) = n + A·n for the normed state n at x[off..+C) (out must not overlap x). */
    public void apply(float[] x, int off, float[] out, int outOff) {
        Gemm.matmul(x, off, hidden, packed, out, outOff, hidden, 1, false);
        VectorOps.add(x, off, out, outOff, hidden);
    }

    /** The scalar twin of {@link #apply}: the same sum, one multiply-add at a time (for tests). */
    void applyScalar(float[] x, int off, float[] out, int outOff) {
        for (int i = 0; i < hidden; i++) {
            double s = x[off + i];
            for (int j = 0; j < hidden; j++) s += (double) a[i * hidden + j] * x[off + j];
            out[outOff + i] = (float) s;
        }
    }

    public void save(Path file) {
        new SafetensorsWriter().add("adapter.weight", a, hidden, hidden)
                .metadata("layer", String.valueOf(layer))
                .metadata("about", "offramp draft adapter: n' = n + A n on the final-normed state of exit 'layer'")
                .write(file);
    }

    /** Reads an adapter and checks it fits a model of the given depth and width. */
    public static DraftAdapter load(Path file, int layers, int hidden) {
        SafetensorsReader r = SafetensorsReader.open(file);
        String l = r.metadata().get("layer");
        if (l == null || !r.has("adapter.weight")) {
            throw new IllegalArgumentException(file + " is not a draft adapter (no 'layer' metadata or no adapter.weight)");
        }
        int layer = Integer.parseInt(l);
        long[] shape = r.shape("adapter.weight");
        if (shape.length != 2 || shape[0] != hidden || shape[1] != hidden || layer < 1 || layer >= layers) {
            throw new IllegalArgumentException(file + ": an adapter for exit " + layer + " of width " + java.util.Arrays.toString(shape)
                    + " does not fit a model of " + layers + " layers of width " + hidden);
        }
        return new DraftAdapter(layer, hidden, r.floats("adapter.weight"));
    }
}

package dev.offramp.generation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.kernels.VectorOps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * ConsistentEE's exit policies for a decoder, one per layer l &lt; L: π_l(h) = sigmoid(w_l · n + b_l) with n the
 * final-normed hidden state of the token after layer l (what the LM head reads). At layer L a token always exits.
 * Saved as {@value #FILE} in the model folder, beside the weights.
 */
public final class ExitPolicies {
    public static final String FILE = "exit-policy.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    final int layers, hidden;
    final float[] w;   // (L−1, C): row l−1 is layer l's policy
    final float[] b;   // (L−1)
    /** How they were trained, kept in the file for the record: alpha, estimator, target. */
    final String trainedWith;

    public ExitPolicies(int layers, int hidden, String trainedWith) {
        if (layers < 2) throw new IllegalArgumentException("exit policies need at least 2 layers, got " + layers);
        this.layers = layers;
        this.hidden = hidden;
        this.w = new float[(layers - 1) * hidden];
        this.b = new float[layers - 1];
        this.trainedWith = trainedWith;
    }

    public int layers() {
        return layers;
    }

    public int hidden() {
        return hidden;
    }

    public String trainedWith() {
        return trainedWith;
    }

    /** The policy's logit z_l at layer l (1..L−1) for the normed state x[off..off+C). */
    public double logit(int layer, float[] x, int off) {
        if (layer < 1 || layer >= layers) throw new IllegalArgumentException("policies cover layers 1.." + (layers - 1) + ", got " + layer);
        int row = (layer - 1) * hidden;
        return b[layer - 1] + VectorOps.dot(w, row, x, off, hidden);
    }

    /** π_l: the probability of exiting at layer l (1..L−1). */
    public double exitProbability(int layer, float[] x, int off) {
        return sigmoid(logit(layer, x, off));
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    public void save(Path file) {
        ObjectNode root = JSON.createObjectNode();
        root.put("layers", layers).put("hidden", hidden).put("trained_with", trainedWith);
        ArrayNode bias = root.putArray("bias");
        for (float v : b) bias.add(v);
        ArrayNode weights = root.putArray("weights");
        for (int l = 0; l < layers - 1; l++) {
            ArrayNode row = weights.addArray();
            for (int i = 0; i < hidden; i++) row.add(w[l * hidden + i]);
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write exit policies to " + file, e);
        }
    }

    /** Reads policies and checks they fit a model of the given shape. */
    public static ExitPolicies load(Path file, int layers, int hidden) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read exit policies " + file + " (train them with train-lm-policy)", e);
        }
        int l = root.path("layers").asInt(-1), c = root.path("hidden").asInt(-1);
        if (l != layers || c != hidden) {
            throw new IllegalArgumentException(file + ": policies for " + l + " layers of width " + c + ", the model has "
                    + layers + " of width " + hidden);
        }
        ExitPolicies p = new ExitPolicies(l, c, root.path("trained_with").asText(""));
        JsonNode bias = root.path("bias"), weights = root.path("weights");
        if (bias.size() != l - 1 || weights.size() != l - 1) {
            throw new IllegalArgumentException(file + ": field bias/weights should have " + (l - 1) + " rows");
        }
        for (int j = 0; j < l - 1; j++) {
            p.b[j] = (float) bias.get(j).asDouble();
            JsonNode row = weights.get(j);
            if (row.size() != c) throw new IllegalArgumentException(file + ": weights row " + j + " has " + row.size() + " values, want " + c);
            for (int i = 0; i < c; i++) p.w[j * c + i] = (float) row.get(i).asDouble();
        }
        return p;
    }
}

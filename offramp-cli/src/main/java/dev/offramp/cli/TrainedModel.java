package dev.offramp.cli;

import dev.offramp.api.Offramp;
import dev.offramp.data.Example;
import dev.offramp.eval.TaskMetric;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicySource;
import dev.offramp.io.AtomicFiles;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.training.FeatureCache;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A trained multi-exit model folder, loaded through the library ({@link Offramp}, at full depth: the CLI picks its
 * criteria itself), with the task's splits, ready to evaluate.
 */
record TrainedModel(Path dir, Offramp library, TaskSplits splits) {

    static TrainedModel load(Path dir, String taskOverride) throws IOException {
        Offramp lib = Offramp.load(dir, Offramp.Options.defaults().withPolicy(Offramp.FULL_DEPTH));
        MultiExitModel m = lib.model();
        try {
            return new TrainedModel(dir, lib, TaskSplits.forModel(m, taskOverride, 0));
        } catch (IllegalArgumentException e) {
            lib.close();
            throw new IllegalArgumentException("model " + dir + ": " + e.getMessage(), e);
        }
    }

    MultiExitModel model() { return library.model(); }

    BertEncoder encoder() { return library.encoder(); }

    WordPieceTokenizer tokenizer() { return library.tokenizer(); }

    /** The published backbone's ONNX file, for ONNX Runtime's timing; null for a safetensors backbone. */
    Path backboneOnnxFile() { return library.backboneOnnxFile(); }

    /** Tokens per input, as the model was trained. */
    int maxLength() { return model().trainedMaxLength(); }

    List<Encoding> encode(List<Example> examples) {
        return TaskSplits.encode(tokenizer(), examples, maxLength());
    }

    /**
     * Every exit's output on a split, full depth; cached in the model folder (keyed by the inputs' fingerprint),
     * so calibration sweeps and reports never recompute it.
     */
    LayerwiseOutputs layerwise(List<Example> examples, String split) throws IOException {
        List<Encoding> inputs = encode(examples);
        long fp = FeatureCache.fingerprint(inputs);
        Path file = dir().resolve("cache").resolve("outputs-" + split + ".bin");
        LayerwiseOutputs cached = read(file, fp);
        if (cached != null) return cached;
        LayerwiseOutputs out;
        try (Progress p = new Progress("exit outputs (" + split + ")", inputs.size(), "inputs")) {
            out = LayerwiseOutputs.compute(encoder(), model(), inputs, 64, 64 * 128, p.counter());
        }
        write(file, fp, out);
        return out;
    }

    /**
     * ConsistentEE's π of every layer on a split, (N, L) with π_L = 1, or null when the model has no policies;
     * cached in the model folder keyed by the inputs' and the policies' fingerprints.
     */
    float[] policyProbs(List<Example> examples, String split) throws IOException {
        if (model().policies() == null) return null;
        List<Encoding> inputs = encode(examples);
        long key = FeatureCache.fingerprint(inputs) ^ dev.offramp.consistentee.PolicyOutputs.fingerprint(model().policies());
        Path file = dir().resolve("cache").resolve("policy-" + split + ".bin");
        float[] cached = readPolicy(file, key, inputs.size(), model().heads().layers);
        if (cached != null) return cached;
        float[] pi;
        try (Progress p = new Progress("exit policies (" + split + ")", inputs.size(), "inputs")) {
            pi = dev.offramp.consistentee.PolicyOutputs.compute(encoder(), model().policies(), model().layout().pooling(), inputs,
                    64, 64 * 128, p.counter());
        }
        writePolicy(file, key, pi, inputs.size(), model().heads().layers);
        return pi;
    }

    /** The runner's π source when the criterion reads it (ConsistentEE), else null so other criteria pay nothing. */
    PolicySource policyFor(dev.offramp.criteria.ExitCriterion criterion) {
        if (!(criterion instanceof dev.offramp.criteria.ConsistentEeCriterion)) return null;
        if (model().policies() == null) {
            throw new IllegalArgumentException("model " + dir() + " has no exit policies: train them with"
                    + " ./offramp train --mode consistentee --from " + dir());
        }
        return model().policies().source();
    }

    TaskMetric.Result metricAtExit(LayerwiseOutputs outs, int exit, List<Example> gold) {
        int n = outs.samples();
        if (model().task().regression()) {
            float[] pred = new float[n];
            for (int i = 0; i < n; i++) pred[i] = outs.get(i, exit, 0);
            return TaskMetric.evaluate(splits().task(), pred, gold);
        }
        int[] pred = new int[n];
        for (int i = 0; i < n; i++) pred[i] = outs.prediction(i, exit);
        return TaskMetric.evaluate(splits().task(), pred, gold);
    }

    private static float[] readPolicy(Path file, long key, int n, int l) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readLong() != key || in.readInt() != n || in.readInt() != l) return null;
            byte[] bytes = in.readNBytes(n * l * 4);
            if (bytes.length != n * l * 4) return null;
            float[] v = new float[n * l];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return v;
        }
    }

    static void writePolicy(Path file, long key, float[] pi, int n, int l) throws IOException {
        Files.createDirectories(file.getParent());
        AtomicFiles.write(file, tmp -> {
            try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
                out.writeLong(key);
                out.writeInt(n);
                out.writeInt(l);
                ByteBuffer b = ByteBuffer.allocate(pi.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(pi);
                out.write(b.array());
            }
        });
    }

    private static LayerwiseOutputs read(Path file, long fp) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readLong() != fp) return null;
            int n = in.readInt(), l = in.readInt(), k = in.readInt();
            byte[] bytes = in.readNBytes(n * l * k * 4);
            if (bytes.length != n * l * k * 4) return null;
            float[] v = new float[n * l * k];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return new LayerwiseOutputs(n, l, k, v);
        }
    }

    static void write(Path file, long fp, LayerwiseOutputs o) throws IOException {
        Files.createDirectories(file.getParent());
        AtomicFiles.write(file, tmp -> {
            try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
                out.writeLong(fp);
                out.writeInt(o.samples());
                out.writeInt(o.layers());
                out.writeInt(o.outputs());
                ByteBuffer b = ByteBuffer.allocate(o.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(o.values());
                out.write(b.array());
            }
        });
    }
}

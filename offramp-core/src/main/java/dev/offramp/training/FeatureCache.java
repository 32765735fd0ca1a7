package dev.offramp.training;

import dev.offramp.exits.LayerwisePass;
import dev.offramp.io.AtomicFiles;
import dev.offramp.exits.Pooling;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The pooled hidden state after every layer for every sample of a data set, computed once with the inference
 * encoder: with a frozen backbone the exits can then be trained on it for many epochs without running the
 * encoder again (methods.md §2, the fast path).
 *
 * Stored per layer, byLayer()[i − 1] = (N, H) for exit i (the layer-i output), rather than as one (N, L, H) array: a single
 * Java array holds at most 2³¹ floats, which MNLI's 393k samples × 12 layers × 384 would exceed.
 *
 * Optionally kept in a file keyed by backbone + task + pooling + max length + sample count, plus a fingerprint
 * of the token ids, so a second run over the same data skips the encoder; a file whose key or fingerprint
 * differs is recomputed and overwritten.
 */
public final class FeatureCache {
    private static final byte[] MAGIC = "OFRFEAT1".getBytes(StandardCharsets.US_ASCII);

    public final int samples; // N
    public final int layers;  // L
    public final int hidden;  // H
    private final float[][] byLayer; // (L)(N, H)

    public FeatureCache(float[][] byLayer, int samples, int hidden) {
        for (int l = 0; l < byLayer.length; l++) {
            if (byLayer[l].length != (long) samples * hidden) {
                throw new IllegalArgumentException("layer " + l + " has " + byLayer[l].length + " floats, expected N·H = "
                        + samples + "·" + hidden);
            }
        }
        this.byLayer = byLayer;
        this.samples = samples;
        this.layers = byLayer.length;
        this.hidden = hidden;
    }

    /** (L)(N, H): the pooled vectors that feed exit i at byLayer()[i − 1]. */
    public float[][] byLayer() { return byLayer; }

    /** out (B, H) = rows[from..to) of exit i's features (1..L), gathered (a shuffled minibatch). */
    public void gather(int exit, int[] rows, int from, int to, float[] out) {
        float[] src = byLayer[exit - 1];
        for (int i = from; i < to; i++) System.arraycopy(src, rows[i] * hidden, out, (i - from) * hidden, hidden);
    }

    /** Runs the encoder over the inputs (length-sorted batches) and keeps every layer's pooled vector. */
    public static FeatureCache compute(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                                       int maxBatchTokens) {
        return compute(encoder, inputs, pooling, maxBatch, maxBatchTokens, null);
    }

    /** As above; progress (may be null) receives the number of inputs done. */
    public static FeatureCache compute(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                                       int maxBatchTokens, java.util.function.IntConsumer progress) {
        int n = inputs.size(), l = encoder.config().layers(), h = encoder.config().hidden();
        float[][] byLayer = new float[l][n * h];
        LayerwisePass.run(encoder, inputs, pooling, maxBatch, maxBatchTokens, (exit, rows, pooled, b) -> {
            for (int s = 0; s < b; s++) System.arraycopy(pooled, s * h, byLayer[exit - 1], rows[s] * h, h);
        }, progress);
        return new FeatureCache(byLayer, n, h);
    }

    /**
     * The features from file when it holds this key and these inputs, else computed and written to file.
     *
     * @param file the cache file (see {@link #fileFor}); null: compute, no file
     */
    public static FeatureCache computeOrLoad(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                                             int maxBatchTokens, Path file, String key) throws IOException {
        return computeOrLoad(encoder, inputs, pooling, maxBatch, maxBatchTokens, file, key, TrainingProgress.NONE);
    }

    /** As above, reporting extraction progress as a stage named after the key. */
    public static FeatureCache computeOrLoad(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                                             int maxBatchTokens, Path file, String key, TrainingProgress progress)
            throws IOException {
        long fp = fingerprint(inputs);
        if (file != null) {
            FeatureCache cached = loadIfMatches(file, key, fp);
            if (cached != null && cached.layers == encoder.config().layers() && cached.hidden == encoder.config().hidden()) {
                return cached;
            }
        }
        progress.stage("features " + key.substring(key.indexOf('|') + 1), inputs.size(), "inputs");
        FeatureCache f = compute(encoder, inputs, pooling, maxBatch, maxBatchTokens, progress::advance);
        progress.endStage();
        if (file != null) f.save(file, key, fp);
        return f;
    }

    /** The cache key: what the features depend on besides the token ids. */
    public static String key(String backbone, String task, Pooling pooling, int maxLength, int count) {
        return backbone + "|" + task + "|" + pooling.optionName + "|" + maxLength + "|" + count;
    }

    /** A file name in dir derived from the key (characters unsafe in file names replaced). */
    public static Path fileFor(Path dir, String key) {
        String safe = key.replaceAll("[^A-Za-z0-9._-]+", "_");
        if (safe.length() > 120) safe = safe.substring(safe.length() - 120);
        return dir.resolve("features-" + safe + "-" + Integer.toHexString(key.hashCode()) + ".bin");
    }

    /** A 64-bit FNV-1a hash of every token id and type id, so changed data under the same key is noticed. */
    public static long fingerprint(List<Encoding> inputs) {
        long hash = 0xcbf29ce484222325L;
        for (Encoding e : inputs) {
            hash = (hash ^ e.length()) * 0x100000001b3L;
            for (int t = 0; t < e.length(); t++) {
                hash = (hash ^ e.ids()[t]) * 0x100000001b3L;
                hash = (hash ^ e.typeIds()[t]) * 0x100000001b3L;
            }
        }
        return hash;
    }

    // ----------------------------------------------------------------------------------------------------
    // file: magic, key (int length + UTF-8), fingerprint (long), N, L, H (ints), then L × (N, H) floats, LE

    public void save(Path file, String key, long fingerprint) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate(MAGIC.length + 4 + k.length + 8 + 12).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(k.length).put(k).putLong(fingerprint).putInt(samples).putInt(layers).putInt(hidden).flip();
                writeFully(ch, head);
                ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                FloatBuffer fb = buf.asFloatBuffer();
                for (float[] layer : byLayer) {
                    for (int off = 0; off < layer.length; ) {
                        int m = Math.min(fb.capacity(), layer.length - off);
                        fb.clear();
                        fb.put(layer, off, m);
                        buf.clear().limit(m * 4);
                        writeFully(ch, buf);
                        off += m;
                    }
                }
            }
        });
    }

    /** The cached features, or null when the file is missing or holds another key or fingerprint. */
    public static FeatureCache loadIfMatches(Path file, String key, long fingerprint) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer m = readFully(ch, MAGIC.length + 4, file);
            byte[] magic = new byte[MAGIC.length];
            m.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) throw new IOException(file + " is not an Offramp feature cache (bad magic)");
            int keyLen = m.getInt();
            if (keyLen < 0 || keyLen > 1 << 16) throw new IOException(file + ": corrupt key length " + keyLen);
            ByteBuffer kb = readFully(ch, keyLen + 8 + 12, file);
            byte[] k = new byte[keyLen];
            kb.get(k);
            long fp = kb.getLong();
            int n = kb.getInt(), l = kb.getInt(), h = kb.getInt();
            if (!new String(k, StandardCharsets.UTF_8).equals(key) || fp != fingerprint) return null;
            long expected = ch.position() + 4L * n * l * h;
            if (n < 0 || l <= 0 || h <= 0 || ch.size() != expected) {
                throw new IOException(file + ": " + ch.size() + " bytes, expected " + expected + " for N=" + n + " L=" + l + " H=" + h);
            }
            float[][] byLayer = new float[l][n * h];
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] layer : byLayer) {
                for (int off = 0; off < layer.length; ) {
                    int cnt = Math.min(buf.capacity() / 4, layer.length - off);
                    buf.clear().limit(cnt * 4);
                    while (buf.hasRemaining()) if (ch.read(buf) < 0) throw new IOException(file + ": truncated");
                    buf.flip();
                    buf.asFloatBuffer().get(layer, off, cnt);
                    off += cnt;
                }
            }
            return new FeatureCache(byLayer, n, h);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static ByteBuffer readFully(FileChannel ch, int n, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b) < 0) throw new IOException(file + ": truncated header");
        return b.flip();
    }
}

package dev.offramp.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Groups example indices into batches. A batch is padded to its longest member, so putting examples of
 * similar token length together saves most of the padding work (SST-2 lengths range from 3 to 60+ tokens).
 *
 * <p>Training batches ({@link #lengthBucketed}) keep enough randomness for SGD: shuffle all indices, cut
 * the permutation into chunks of {@code chunkBatches × batchSize}, sort each chunk by length, cut it into
 * batches, then shuffle the order of all batches. Everything is driven by one {@link Random} seeded from
 * (seed, epoch), so a given seed and epoch always give the same batches, and every epoch differs.
 */
public final class Batching {

    /** Chunk size in batches: large enough to find similar lengths, small enough to stay random. */
    public static final int DEFAULT_CHUNK_BATCHES = 50;

    private Batching() {
    }

    /** Length-bucketed, shuffled training batches with {@link #DEFAULT_CHUNK_BATCHES}. */
    public static List<int[]> lengthBucketed(int[] lengths, int batchSize, long seed, int epoch) {
        return lengthBucketed(lengths, batchSize, DEFAULT_CHUNK_BATCHES, seed, epoch);
    }

    /**
     * Length-bucketed, shuffled training batches. Every index {@code 0..lengths.length-1} appears in exactly
     * one batch; all batches have {@code batchSize} members except at most one per chunk (the chunk's tail).
     *
     * @param lengths      token length of each example (after truncation)
     * @param chunkBatches how many batches' worth of examples are sorted together
     */
    public static List<int[]> lengthBucketed(int[] lengths, int batchSize, int chunkBatches, long seed, int epoch) {
        checkArgs(lengths.length, batchSize);
        if (chunkBatches <= 0) {
            throw new IllegalArgumentException("chunkBatches must be positive, got " + chunkBatches);
        }
        int n = lengths.length;
        Random rng = new Random(mix(seed, epoch));
        int[] order = Splits.permutation(n, rng);
        int chunk = (int) Math.min((long) chunkBatches * batchSize, n);
        List<int[]> batches = new ArrayList<>((n + batchSize - 1) / batchSize + n / Math.max(chunk, 1));
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(from + chunk, n);
            Integer[] members = new Integer[to - from]; // boxing is fine: once per example per epoch
            for (int i = from; i < to; i++) {
                members[i - from] = order[i];
            }
            // stable sort: equal lengths keep their random order
            Arrays.sort(members, (a, b) -> Integer.compare(lengths[a], lengths[b]));
            for (int b = 0; b < members.length; b += batchSize) {
                int size = Math.min(batchSize, members.length - b);
                int[] batch = new int[size];
                for (int k = 0; k < size; k++) {
                    batch[k] = members[b + k];
                }
                batches.add(batch);
            }
        }
        // shuffle the batch order so the model does not see short-then-long within each chunk
        for (int i = batches.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int[] t = batches.get(i);
            batches.set(i, batches.get(j));
            batches.set(j, t);
        }
        return batches;
    }

    /**
     * Evaluation batches: all indices sorted by length, longest first (so an out-of-memory shows up in the
     * first batch), ties in index order. No randomness; results must be scattered back by index.
     */
    public static List<int[]> sortedByLength(int[] lengths, int batchSize) {
        checkArgs(lengths.length, batchSize);
        Integer[] order = new Integer[lengths.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Integer.compare(lengths[b], lengths[a]));
        List<int[]> batches = new ArrayList<>();
        for (int b = 0; b < order.length; b += batchSize) {
            int size = Math.min(batchSize, order.length - b);
            int[] batch = new int[size];
            for (int k = 0; k < size; k++) {
                batch[k] = order[b + k];
            }
            batches.add(batch);
        }
        return batches;
    }

    /** Batches in input order: {@code [0..bs), [bs..2bs), ...}. */
    public static List<int[]> sequential(int n, int batchSize) {
        checkArgs(n, batchSize);
        List<int[]> batches = new ArrayList<>();
        for (int b = 0; b < n; b += batchSize) {
            int size = Math.min(batchSize, n - b);
            int[] batch = new int[size];
            for (int k = 0; k < size; k++) {
                batch[k] = b + k;
            }
            batches.add(batch);
        }
        return batches;
    }

    /** Token slots computed when every batch is padded to its longest member: Σ size × max length. */
    public static long paddedTokens(int[] lengths, List<int[]> batches) {
        long total = 0;
        for (int[] batch : batches) {
            int max = 0;
            for (int i : batch) {
                max = Math.max(max, lengths[i]);
            }
            total += (long) max * batch.length;
        }
        return total;
    }

    private static void checkArgs(int n, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        if (n < 0) {
            throw new IllegalArgumentException("negative example count " + n);
        }
    }

    /** SplitMix64 finaliser over (seed, epoch), so nearby seeds and epochs give unrelated streams. */
    static long mix(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

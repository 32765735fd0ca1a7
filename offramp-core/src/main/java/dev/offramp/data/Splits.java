package dev.offramp.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Deterministic splitting and subsampling. GLUE dev stays the evaluation set; when a method needs its own
 * validation data (threshold calibration, exit-policy training) it is carved out of train with a fixed
 * seed, so every run and every method sees the same split.
 *
 * <p>Classification lists are stratified by label: each class contributes in proportion to its size
 * (largest-remainder rounding, so the total is exact). Regression lists are sampled uniformly. The outputs
 * keep the input order, which makes them easy to diff. Randomness is {@link java.util.Random}, whose
 * algorithm is fixed by its specification, so a seed gives the same split on every JDK.
 */
public final class Splits {

    /** A training list split in two disjoint parts that together are the original list. */
    public record Carved(List<Example> train, List<Example> validation) {
        public Carved {
            train = List.copyOf(train);
            validation = List.copyOf(validation);
        }
    }

    private Splits() {
    }

    /** Moves {@code round(fraction * n)} examples to validation; {@code 0 < fraction < 1}. */
    public static Carved carveValidation(List<Example> train, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + fraction);
        }
        return carveValidation(train, (int) Math.round(fraction * train.size()), seed);
    }

    /** Moves exactly {@code count} examples to validation; {@code 0 < count < n}. */
    public static Carved carveValidation(List<Example> train, int count, long seed) {
        if (count <= 0 || count >= train.size()) {
            throw new IllegalArgumentException("validation count must be in [1, " + (train.size() - 1)
                    + "] for " + train.size() + " training examples, got " + count);
        }
        boolean[] chosen = choose(train, count, seed);
        List<Example> rest = new ArrayList<>(train.size() - count);
        List<Example> validation = new ArrayList<>(count);
        for (int i = 0; i < train.size(); i++) {
            (chosen[i] ? validation : rest).add(train.get(i));
        }
        return new Carved(rest, validation);
    }

    /**
     * At most {@code maxExamples} examples, chosen deterministically (stratified for classification), in
     * input order. The whole list (copied) when it is not longer than that; {@code maxExamples <= 0}
     * means no limit.
     */
    public static List<Example> subsample(List<Example> examples, int maxExamples, long seed) {
        if (maxExamples <= 0 || examples.size() <= maxExamples) {
            return List.copyOf(examples);
        }
        boolean[] chosen = choose(examples, maxExamples, seed);
        List<Example> out = new ArrayList<>(maxExamples);
        for (int i = 0; i < examples.size(); i++) {
            if (chosen[i]) {
                out.add(examples.get(i));
            }
        }
        return List.copyOf(out);
    }

    /** Marks exactly {@code count} of the examples, stratified by label when every example has one. */
    static boolean[] choose(List<Example> examples, int count, long seed) {
        int n = examples.size();
        Random rng = new Random(seed);
        boolean[] chosen = new boolean[n];
        boolean classification = examples.stream().noneMatch(Example::isRegression);
        if (!classification) {
            int[] order = permutation(n, rng);
            for (int k = 0; k < count; k++) {
                chosen[order[k]] = true;
            }
            return chosen;
        }
        int classes = examples.stream().mapToInt(Example::label).max().orElse(-1) + 1;
        int[] classSize = new int[classes];
        for (Example e : examples) {
            classSize[e.label()]++;
        }
        // largest-remainder quotas: floor(count * size / n), then +1 for the largest fractional parts
        int[] quota = new int[classes];
        long[] remainder = new long[classes];
        int assigned = 0;
        for (int c = 0; c < classes; c++) {
            long scaled = (long) count * classSize[c];
            quota[c] = (int) (scaled / n);
            remainder[c] = scaled % n;
            assigned += quota[c];
        }
        for (; assigned < count; assigned++) {
            int best = -1;
            for (int c = 0; c < classes; c++) {
                if (quota[c] < classSize[c] && (best < 0 || remainder[c] > remainder[best])) {
                    best = c;
                }
            }
            quota[best]++;
            remainder[best] = -1;
        }
        for (int c = 0; c < classes; c++) {
            int[] members = new int[classSize[c]];
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (examples.get(i).label() == c) {
                    members[m++] = i;
                }
            }
            shuffle(members, rng);
            for (int k = 0; k < quota[c]; k++) {
                chosen[members[k]] = true;
            }
        }
        return chosen;
    }

    static int[] permutation(int n, Random rng) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        shuffle(order, rng);
        return order;
    }

    /** Fisher–Yates, in place. */
    static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}

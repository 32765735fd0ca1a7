package dev.offramp.eval;

import java.util.Arrays;

/**
 * The GLUE metrics, computed in double precision from plain arrays.
 *
 * <p>Degenerate cases return 0, never NaN: Matthews correlation with a constant predictor (or a constant
 * gold column), Pearson/Spearman with zero variance on either side, F1 with no true positives. A constant
 * predictor carries no information, and 0 is what scikit-learn reports for MCC and F1 in those cases. NaN
 * is avoided on purpose: threshold searches compare metric values, and every comparison with NaN is false.
 * Empty or mismatched inputs are programming errors and throw.
 */
public final class Metrics {

    private Metrics() {
    }

    /** Fraction of predictions equal to the gold label. */
    public static double accuracy(int[] predicted, int[] gold) {
        checkSameLength(predicted.length, gold.length);
        int correct = 0;
        for (int i = 0; i < gold.length; i++) {
            if (predicted[i] == gold[i]) {
                correct++;
            }
        }
        return (double) correct / gold.length;
    }

    /** Binary F1 with class 1 as the positive class: 2·TP / (2·TP + FP + FN); 0 when TP = 0. */
    public static double f1(int[] predicted, int[] gold) {
        return f1ForClass(predicted, gold, 1);
    }

    /** F1 of one class against all others; 0 when that class has no true positives. */
    public static double f1ForClass(int[] predicted, int[] gold, int positive) {
        checkSameLength(predicted.length, gold.length);
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean p = predicted[i] == positive;
            boolean g = gold[i] == positive;
            if (p && g) {
                tp++;
            } else if (p) {
                fp++;
            } else if (g) {
                fn++;
            }
        }
        return tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /** Unweighted mean of the per-class F1 over classes {@code 0..numClasses-1}. */
    public static double macroF1(int[] predicted, int[] gold, int numClasses) {
        checkSameLength(predicted.length, gold.length);
        double sum = 0;
        for (int c = 0; c < numClasses; c++) {
            sum += f1ForClass(predicted, gold, c);
        }
        return sum / numClasses;
    }

    /**
     * Matthews correlation coefficient, multi-class form (Gorodkin 2004), which equals the binary
     * (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) for two classes. 0 when the denominator is 0
     * (one side constant). Labels must be non-negative.
     */
    public static double matthews(int[] predicted, int[] gold) {
        checkSameLength(predicted.length, gold.length);
        int classes = 0;
        for (int i = 0; i < gold.length; i++) {
            if (predicted[i] < 0 || gold[i] < 0) {
                throw new IllegalArgumentException("negative label at index " + i);
            }
            classes = Math.max(classes, Math.max(predicted[i], gold[i]) + 1);
        }
        long[] trueCount = new long[classes];
        long[] predCount = new long[classes];
        long correct = 0;
        for (int i = 0; i < gold.length; i++) {
            trueCount[gold[i]]++;
            predCount[predicted[i]]++;
            if (predicted[i] == gold[i]) {
                correct++;
            }
        }
        double n = gold.length;
        double sumPT = 0, sumPP = 0, sumTT = 0;
        for (int k = 0; k < classes; k++) {
            sumPT += (double) predCount[k] * trueCount[k];
            sumPP += (double) predCount[k] * predCount[k];
            sumTT += (double) trueCount[k] * trueCount[k];
        }
        double denominator = Math.sqrt((n * n - sumPP) * (n * n - sumTT));
        return denominator == 0 ? 0.0 : (correct * n - sumPT) / denominator;
    }

    /** Pearson correlation; 0 when either side has zero variance. */
    public static double pearson(float[] x, float[] y) {
        checkSameLength(x.length, y.length);
        double[] dx = new double[x.length];
        double[] dy = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            dx[i] = x[i];
            dy[i] = y[i];
        }
        return pearson(dx, dy);
    }

    /** Pearson correlation in double; 0 when either side has zero variance. Two passes, for accuracy. */
    public static double pearson(double[] x, double[] y) {
        checkSameLength(x.length, y.length);
        int n = x.length;
        double meanX = 0, meanY = 0;
        for (int i = 0; i < n; i++) {
            meanX += x[i];
            meanY += y[i];
        }
        meanX /= n;
        meanY /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double a = x[i] - meanX;
            double b = y[i] - meanY;
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        if (sxx == 0 || syy == 0) {
            return 0.0;
        }
        // clamp: rounding can push a perfect correlation a hair past ±1
        return Math.max(-1.0, Math.min(1.0, sxy / Math.sqrt(sxx * syy)));
    }

    /** Spearman rank correlation: Pearson of the ranks, tied values sharing their average rank. */
    public static double spearman(float[] x, float[] y) {
        checkSameLength(x.length, y.length);
        return pearson(ranks(x), ranks(y));
    }

    /**
     * 1-based ranks; a run of equal values gets the mean of the ranks it spans (e.g. [10, 20, 20, 30] →
     * [1, 2.5, 2.5, 4]). NaN is rejected since it has no rank.
     */
    public static double[] ranks(float[] values) {
        int n = values.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(values[i])) {
                throw new IllegalArgumentException("NaN at index " + i + " cannot be ranked");
            }
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(values[a], values[b]));
        double[] rank = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && values[order[j + 1]] == values[order[i]]) {
                j++;
            }
            double average = (i + j) / 2.0 + 1.0; // positions i..j hold ranks i+1..j+1
            for (int k = i; k <= j; k++) {
                rank[order[k]] = average;
            }
            i = j + 1;
        }
        return rank;
    }

    private static void checkSameLength(int predicted, int gold) {
        if (predicted != gold) {
            throw new IllegalArgumentException("predictions and gold differ in length: " + predicted + " vs " + gold);
        }
        if (gold == 0) {
            throw new IllegalArgumentException("no examples to score");
        }
    }
}

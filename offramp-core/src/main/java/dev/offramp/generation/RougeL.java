package dev.offramp.generation;

/**
 * ROUGE-L (Lin 2004): the longest common subsequence of a candidate and a reference, as F1 of LCS/|candidate| and
 * LCS/|reference| (β = 1, as Hugging Face's rouge_score reports it). On token ids or word ids alike.
 */
public final class RougeL {
    private RougeL() {}

    public static int lcs(int[] a, int[] b) {
        int[] prev = new int[b.length + 1], cur = new int[b.length + 1];
        for (int i = 1; i <= a.length; i++) {
            for (int j = 1; j <= b.length; j++) {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length];
    }

    /** F1 of the LCS; 1 when both are empty, 0 when only one is. */
    public static double f1(int[] candidate, int[] reference) {
        if (candidate.length == 0 && reference.length == 0) return 1;
        int l = lcs(candidate, reference);
        if (l == 0) return 0;
        double p = (double) l / candidate.length, r = (double) l / reference.length;
        return 2 * p * r / (p + r);
    }
}

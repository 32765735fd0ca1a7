package dev.offramp.generation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RougeLTest {
    @Test
    void handExamples() {
        // "the cat sat on the mat" vs "the cat is on the mat": LCS = the cat on the mat = 5, P = R = 5/6
        int[] ref = {1, 2, 3, 4, 1, 5}, cand = {1, 2, 6, 4, 1, 5};
        assertEquals(5, RougeL.lcs(cand, ref));
        assertEquals(5.0 / 6, RougeL.f1(cand, ref), 1e-12);
        // a subsequence, not a substring: LCS(abcbdab, bdcaba) = 4 (bcba), P = 4/7, R = 4/6
        int[] a = {1, 2, 3, 2, 4, 1, 2}, b = {2, 4, 3, 1, 2, 1};
        assertEquals(4, RougeL.lcs(a, b));
        double p = 4.0 / 7, r = 4.0 / 6;
        assertEquals(2 * p * r / (p + r), RougeL.f1(a, b), 1e-12);
        assertEquals(1.0, RougeL.f1(ref, ref));
        assertEquals(0.0, RougeL.f1(new int[]{7, 8}, ref));
        assertEquals(1.0, RougeL.f1(new int[0], new int[0]));
        assertEquals(0.0, RougeL.f1(new int[0], ref));
        // shorter candidate fully inside the reference: P = 1, R = 2/6
        assertEquals(2 * (1.0 / 3) / (1 + 1.0 / 3), RougeL.f1(new int[]{2, 5}, ref), 1e-12);
    }
}

package dev.offramp.data;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchingTest {

    private static int[] randomLengths(int n, long seed) {
        Random r = new Random(seed);
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = 3 + r.nextInt(125);
        }
        return lengths;
    }

    private static void assertCoversEachIndexOnce(int n, List<int[]> batches) {
        int[] seen = new int[n];
        for (int[] batch : batches) {
            for (int i : batch) {
                seen[i]++;
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen[i], "index " + i);
        }
    }

    @Test
    void bucketedCoversEveryIndexOnceAndIsDeterministic() {
        int n = 10_007; // prime: ragged last chunk and last batch
        int[] lengths = randomLengths(n, 1);
        List<int[]> a = Batching.lengthBucketed(lengths, 32, 42, 0);
        List<int[]> b = Batching.lengthBucketed(lengths, 32, 42, 0);
        assertCoversEachIndexOnce(n, a);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i));
        }
        for (int[] batch : a) {
            assertTrue(batch.length >= 1 && batch.length <= 32);
        }
        // another epoch gives another order, still complete
        List<int[]> c = Batching.lengthBucketed(lengths, 32, 42, 1);
        assertCoversEachIndexOnce(n, c);
        assertFalse(java.util.Arrays.equals(a.getFirst(), c.getFirst()));
    }

    @Test
    void bucketingCutsPaddingVersusRandomBatches() {
        int n = 5_000;
        int[] lengths = randomLengths(n, 2);
        long bucketed = Batching.paddedTokens(lengths, Batching.lengthBucketed(lengths, 32, 7, 0));
        // chunkBatches = 1 is plain shuffled batching
        long shuffled = Batching.paddedTokens(lengths, Batching.lengthBucketed(lengths, 32, 1, 7, 0));
        long real = 0;
        for (int l : lengths) {
            real += l;
        }
        assertTrue(bucketed < 1.1 * real, "bucketed " + bucketed + " vs real " + real);
        assertTrue(shuffled > 1.5 * real, "shuffled " + shuffled + " vs real " + real);
    }

    @Test
    void evaluationBatchesAreSortedLongestFirst() {
        int[] lengths = {5, 9, 1, 9, 3};
        List<int[]> batches = Batching.sortedByLength(lengths, 2);
        assertArrayEquals(new int[]{1, 3}, batches.get(0));
        assertArrayEquals(new int[]{0, 4}, batches.get(1));
        assertArrayEquals(new int[]{2}, batches.get(2));
        List<int[]> seq = Batching.sequential(5, 2);
        assertArrayEquals(new int[]{4}, seq.get(2));
        assertCoversEachIndexOnce(5, seq);
        assertEquals(0, Batching.lengthBucketed(new int[0], 8, 1, 0).size());
    }
}

package dev.offramp.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitsTest {

    /** 1000 examples, 700 of class 0 and 300 of class 1, interleaved. */
    private static List<Example> imbalanced() {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            out.add(Example.single("text " + i, i % 10 < 7 ? 0 : 1, "mem:" + (i + 1)));
        }
        return out;
    }

    @Test
    void carvingIsDeterministicDisjointAndComplete() {
        List<Example> all = imbalanced();
        Splits.Carved a = Splits.carveValidation(all, 0.1, 7);
        Splits.Carved b = Splits.carveValidation(all, 0.1, 7);
        assertEquals(a, b);
        assertEquals(100, a.validation().size());
        assertEquals(900, a.train().size());
        Set<Example> seen = new HashSet<>(a.train());
        for (Example e : a.validation()) {
            assertTrue(seen.add(e), "in both parts: " + e.source());
        }
        assertEquals(new HashSet<>(all), seen);
        // stratified: 70 / 30
        assertEquals(30, a.validation().stream().filter(e -> e.label() == 1).count());
        // input order kept
        for (int i = 1; i < a.validation().size(); i++) {
            assertTrue(all.indexOf(a.validation().get(i - 1)) < all.indexOf(a.validation().get(i)));
        }
        assertNotEquals(a.validation(), Splits.carveValidation(all, 0.1, 8).validation());
    }

    @Test
    void exactCountWithLargestRemainderRounding() {
        List<Example> all = imbalanced();
        Splits.Carved c = Splits.carveValidation(all, 15, 1);
        assertEquals(15, c.validation().size());
        // 15 × 0.7 = 10.5, 15 × 0.3 = 4.5: tie in remainders goes to the first class
        assertEquals(11, c.validation().stream().filter(e -> e.label() == 0).count());
    }

    @Test
    void regressionExamplesAreSampledUniformly() {
        List<Example> scored = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            scored.add(Example.scored("a" + i, "b" + i, i / 10f, "s:" + i));
        }
        Splits.Carved c = Splits.carveValidation(scored, 12, 3);
        assertEquals(12, c.validation().size());
        assertEquals(c, Splits.carveValidation(scored, 12, 3));
    }

    @Test
    void subsampleIsDeterministicAndNoOpWhenSmall() {
        List<Example> all = imbalanced();
        List<Example> s = Splits.subsample(all, 200, 5);
        assertEquals(200, s.size());
        assertEquals(s, Splits.subsample(all, 200, 5));
        assertEquals(60, s.stream().filter(e -> e.label() == 1).count());
        assertEquals(all, Splits.subsample(all, 5000, 5));
        assertEquals(all, Splits.subsample(all, 0, 5));
    }

    @Test
    void badArgumentsAreRejected() {
        List<Example> all = imbalanced();
        assertThrows(IllegalArgumentException.class, () -> Splits.carveValidation(all, 1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> Splits.carveValidation(all, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Splits.carveValidation(all, 1000, 1));
    }
}

package dev.offramp.training;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Warm-up then cosine decay to a floor. */
class CosineScheduleTest {
    @Test
    void warmsUpThenDecaysToTheFloor() {
        CosineSchedule s = new CosineSchedule(1e-3, 10, 110, 0.1);
        assertEquals(1e-4, s.at(0), 1e-12, "the first warm-up step already moves");
        assertEquals(1e-3, s.at(9), 1e-12);
        assertEquals(1e-3, s.at(10), 1e-12, "the peak where the decay starts");
        assertEquals(0.55e-3, s.at(60), 1e-12, "half way down: the mean of peak and floor");
        assertEquals(1e-4, s.at(110), 1e-12);
        assertEquals(1e-4, s.at(500), 1e-12, "the floor holds past the end");
        for (int t = 10; t < 110; t++) assertTrue(s.at(t + 1) <= s.at(t), "decreasing at " + t);
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 20, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 0, 10, 1.5));
    }
}

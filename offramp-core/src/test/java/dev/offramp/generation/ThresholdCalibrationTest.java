package dev.offramp.generation;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ThresholdCalibrationTest {
    @Test
    void picksTheLoosestThresholdThatMeetsTheTarget() {
        EarlyExitDecoder d = TinyLm.decoder();
        List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(d, EarlyExitDecoderTest.prompts(5), 12);
        double target = 0.8;
        ThresholdCalibration.Result r = ThresholdCalibration.calibrate(d, refs, TokenCriteria.TOP_MARGIN, null, target,
                KvMode.PROPAGATE);
        assertEquals(TokenCriteria.sweep(TokenCriteria.TOP_MARGIN, TinyLm.LAYERS).length, r.points().size());
        assertNotNull(r.chosen(), "the strictest margin exits (almost) nothing and meets any target: " + r.points());
        assertTrue(r.chosen().agreement() >= target);
        for (ThresholdCalibration.Point p : r.points()) {
            // nothing that meets the target is shallower than the choice
            if (p.agreement() >= target) assertTrue(p.meanExitLayer() >= r.chosen().meanExitLayer(), p + " vs " + r.chosen());
        }
        // the sweep spans the trade-off: the loosest knob is shallower than the strictest
        assertTrue(r.points().getLast().meanExitLayer() < r.points().getFirst().meanExitLayer(), r.points().toString());
        // an unreachable target picks nothing
        assertNull(ThresholdCalibration.calibrate(d, refs, TokenCriteria.STATIC, null, 1.01, KvMode.PROPAGATE).chosen());
    }
}

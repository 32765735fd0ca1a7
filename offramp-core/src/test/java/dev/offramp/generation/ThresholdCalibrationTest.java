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

    @Test
    void freeRunningAgreementIsTheRougeLOfEachGeneratedContinuation() {
        EarlyExitDecoder d = TinyLm.decoder();
        List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(d, EarlyExitDecoderTest.prompts(4), 10);
        // full depth reproduces its own references exactly
        ThresholdCalibration.Point full = ThresholdCalibration.measureFreeRunning(d, refs, TokenCriteria.full(), KvMode.PROPAGATE);
        assertEquals(1.0, full.agreement(), 1e-12);
        assertEquals(TinyLm.LAYERS, full.meanExitLayer(), 1e-12);
        // an early static exit: agreement is the mean ROUGE-L of what it generates, computed here independently
        TokenExitCriterion early = TokenCriteria.of(TokenCriteria.STATIC, 1, null);
        ThresholdCalibration.Point p = ThresholdCalibration.measure(d, refs, early, KvMode.PROPAGATE,
                ThresholdCalibration.Agreement.ROUGE_L);
        EarlyExitDecoder.Session s = d.newSession(64, 16);
        double rouge = 0;
        for (ThresholdCalibration.Reference r : refs) {
            int[] got = d.generate(s, r.prompt(), r.continuation().length, early, KvMode.PROPAGATE, null).tokens();
            rouge += RougeL.f1(got, r.continuation());
        }
        assertEquals(rouge / refs.size(), p.agreement(), 1e-12);
        assertEquals(1.0, p.meanExitLayer(), 1e-12);
        assertTrue(p.agreement() < 1.0, "layer 1 of the tiny model does not reproduce full depth: " + p);
        // and it is not the teacher-forced measure
        ThresholdCalibration.Point tf = ThresholdCalibration.measure(d, refs, early, KvMode.PROPAGATE,
                ThresholdCalibration.Agreement.TOKENS);
        assertEquals(ThresholdCalibration.measure(d, refs, early, KvMode.PROPAGATE).agreement(), tf.agreement(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> ThresholdCalibration.Agreement.fromId("bleu"));
    }
}

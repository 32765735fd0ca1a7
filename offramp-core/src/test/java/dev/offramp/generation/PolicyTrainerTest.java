package dev.offramp.generation;

import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.lm.TokenFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PolicyTrainerTest {

    static PolicyTrainer.Features features(LlamaDecoder model) throws Exception {
        int[] train = TokenFile.read(TinyLm.folder().resolve("train/train.tokens"));
        return PolicyTrainer.collect(model, train, 64, 1200, PolicyTrainer.Target.FULL);
    }

    @Test
    void memorizedLayerIsTheFirstFromWhichEveryExitAgrees() throws Exception {
        LlamaDecoder model = TinyLm.decoder().model();
        PolicyTrainer.Features f = features(model);
        assertTrue(f.count() >= 1200);
        int L = TinyLm.LAYERS, easy = 0;
        for (int n = 0; n < f.count(); n++) {
            int m = f.memorized[n];
            assertTrue(m >= 1 && m <= L);
            // with the full-depth target, exit L is always right: log p_L(y) is the largest of that row
            if (m == 1) easy++;
        }
        assertTrue(easy > 0 && easy < f.count(), "some tokens are easy, not all: " + easy + " of " + f.count());
        assertTrue(f.meanMemorizedLayer() > 1 && f.meanMemorizedLayer() < L);
    }

    @Test
    void aHigherCostPerLayerTrainsPoliciesThatExitEarlier(@TempDir Path dir) throws Exception {
        EarlyExitDecoder d = TinyLm.decoder();
        PolicyTrainer.Features f = features(d.model());
        List<String> log = new ArrayList<>();
        double[] depth = new double[2];
        double[] alphas = {0.0, 1.0};
        for (int i = 0; i < 2; i++) {
            ExitPolicies p = PolicyTrainer.train(f, new PolicyTrainer.Options(alphas[i], true, true, 8,
                    PolicyTrainer.Target.FULL, 3, 64, 1e-2, 1), log::add);
            Path file = dir.resolve("p" + i + ".json");
            p.save(file);
            ExitPolicies back = ExitPolicies.load(file, TinyLm.LAYERS, d.model().config().hidden());
            assertArrayEquals(p.w, back.w);
            List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(d, EarlyExitDecoderTest.prompts(4), 12);
            depth[i] = ThresholdCalibration.measure(d, refs, new TokenCriteria.ConsistentEe(back, 0.5), KvMode.PROPAGATE).meanExitLayer();
        }
        assertTrue(depth[1] < depth[0] - 0.3, "alpha 1 should exit earlier than alpha 0: " + java.util.Arrays.toString(depth) + " " + log);
        assertEquals(6, log.size());
        assertThrows(IllegalArgumentException.class, () -> ExitPolicies.load(dir.resolve("p0.json"), TinyLm.LAYERS + 1, 64));
    }

    @Test
    void reinforceAlsoLearnsToExitWhenLayersCost() throws Exception {
        PolicyTrainer.Features f = features(TinyLm.decoder().model());
        List<String> log = new ArrayList<>();
        PolicyTrainer.train(f, new PolicyTrainer.Options(1.0, false, false, 8, PolicyTrainer.Target.FULL, 3, 64, 1e-2, 1), log::add);
        double first = expected(log.getFirst()), last = expected(log.getLast());
        assertTrue(last < TinyLm.LAYERS - 0.5 && last <= first, log.toString());
    }

    static double expected(String line) {
        return Double.parseDouble(line.replaceAll(".*expected exit layer ([0-9.]+) of.*", "$1"));
    }
}

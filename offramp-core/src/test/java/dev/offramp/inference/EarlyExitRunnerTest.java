package dev.offramp.inference;

import dev.offramp.criteria.BeemCriterion;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.criteria.OracleCriterion;
import dev.offramp.criteria.PatienceCriterion;
import dev.offramp.criteria.StaticCriterion;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.SimulationResult;
import dev.offramp.eval.calibration.Simulator;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TinyBert;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner removes samples from the batch as they exit; what each sample gets must not depend on that:
 * it must equal replaying the criterion over the full-depth per-layer outputs (the calibration simulator),
 * and equal running the sample alone.
 */
class EarlyExitRunnerTest {
    private final BertConfig config = TinyBert.config();
    private final BertEncoder encoder = new BertEncoder(TinyBert.weights(config, 7, false));
    private final List<Encoding> inputs = TinyBert.inputs(23, 20, config.vocabSize(), 11);

    private MultiExitModel model(Pooling pooling) {
        ExitHeads heads = ExitHeads.create(config.hidden(), config.layers(), 3,
                new ExitLayout(pooling, false, true), null, 5);
        // a larger classifier scale spreads the exits' confidences, so criteria exit at different layers
        float[] p = heads.params();
        for (ExitHeads.Tensor t : heads.tensors()) {
            if (t.name().contains("classifier")) for (int i = t.offset(); i < t.offset() + t.size(); i++) p[i] *= 60f;
        }
        return new MultiExitModel("tiny", ExitTask.classification("t", List.of("a", "b", "c")), heads, null, null, null);
    }

    @Test
    void runnerAgreesWithSimulatorOnEveryCriterion() {
        for (Pooling pooling : Pooling.values()) {
            MultiExitModel m = model(pooling);
            LayerwiseOutputs full = LayerwiseOutputs.compute(encoder, m, inputs, 8, 200);
            float[] gold = new float[inputs.size()];
            for (int i = 0; i < gold.length; i++) gold[i] = full.prediction(i, config.layers()) == 0 ? 0 : (i % 3);
            ExitOutputs cache = full.toExitOutputs(gold);
            int l = config.layers();
            double[] alphas = new double[l];
            Arrays.fill(alphas, 0.9);
            List<ExitCriterion> criteria = List.of(new MaxProbCriterion(0.6), new PatienceCriterion(1, Double.NaN),
                    new StaticCriterion(2), new OracleCriterion(),
                    new BeemCriterion(BeemCriterion.costWeights(l), alphas, BeemCriterion.Reset.CURRENT, Double.NaN));
            int distinctLayers = 0;
            for (ExitCriterion c : criteria) {
                SimulationResult sim = Simulator.run(cache, c);
                EarlyExitRunner runner = new EarlyExitRunner(encoder, m, c, null);
                EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[inputs.size()];
                runner.run(inputs, res, 0, gold);
                int[] layers = new int[res.length];
                for (int i = 0; i < res.length; i++) {
                    layers[i] = res[i].exitLayer();
                    assertEquals((int) sim.predictions()[i], res[i].label(), c.describe() + " sample " + i);
                    int off = cache.offset(i, res[i].exitLayer());
                    for (int k = 0; k < 3; k++) {
                        assertEquals(cache.outputs()[off + k], res[i].output()[k], 1e-5f, c.describe() + " sample " + i);
                    }
                }
                assertArrayEquals(sim.exitLayers(), layers, c.describe() + " exit layers (" + pooling + ")");
                distinctLayers = Math.max(distinctLayers, (int) Arrays.stream(layers).distinct().count());
            }
            assertTrue(distinctLayers >= 2, "the test needs samples leaving at different layers");
        }
    }

    @Test
    void batchedAnswersEqualSingleAnswers() {
        MultiExitModel m = model(Pooling.MEAN);
        ExitCriterion c = new MaxProbCriterion(0.6);
        EarlyExitRunner runner = new EarlyExitRunner(encoder, m, c, null);
        EarlyExitRunner.Result[] batched = runner.run(inputs);
        for (int i = 0; i < inputs.size(); i++) {
            EarlyExitRunner.Result alone = runner.run(List.of(inputs.get(i)))[0];
            assertEquals(alone.exitLayer(), batched[i].exitLayer(), "sample " + i);
            assertArrayEquals(alone.output(), batched[i].output(), 1e-5f, "sample " + i);
        }
    }

    @Test
    void fullDepthUsesTheLastExit() {
        MultiExitModel m = model(Pooling.CLS);
        LayerwiseOutputs full = LayerwiseOutputs.compute(encoder, m, inputs, 8, 200);
        EarlyExitRunner runner = new EarlyExitRunner(encoder, m, new StaticCriterion(config.layers()), null);
        EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[inputs.size()];
        runner.runFullDepth(inputs, res, 0);
        for (int i = 0; i < res.length; i++) {
            assertEquals(config.layers(), res[i].exitLayer());
            assertEquals(full.prediction(i, config.layers()), res[i].label());
        }
    }
}

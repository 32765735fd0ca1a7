package dev.offramp.eval.calibration;

import dev.offramp.criteria.BeemCriterion;
import dev.offramp.criteria.ConsistentEeCriterion;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.criteria.OracleCriterion;
import dev.offramp.criteria.PatienceCriterion;
import dev.offramp.criteria.StaticCriterion;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimulatorTest {

    static float[] p(int cls, float c) {
        return cls == 0 ? new float[] {c, 1f - c} : new float[] {1f - c, c};
    }

    /**
     * 4 samples × 3 exits. Max-prob τ = 0.8: s0 exits at 1 (correct), s1 at 2 (wrong), s2 at 3 (correct),
     * s3 at 1 (correct). Layers 1+2+3+1 = 7 → mean 1.75, speed-up 3/1.75; accuracy 3/4.
     */
    static ExitOutputs handCache() {
        float[][][] probs = {
                {p(0, 0.9f), p(0, 0.9f), p(0, 0.9f)},
                {p(1, 0.6f), p(1, 0.85f), p(0, 0.9f)},
                {p(0, 0.6f), p(0, 0.6f), p(1, 0.7f)},
                {p(1, 0.95f), p(1, 0.95f), p(1, 0.95f)},
        };
        return ExitOutputs.of(probs, new float[] {0, 0, 1, 1});
    }

    @Test
    void replaysMaxProbOnHandCase() {
        SimulationResult r = Simulator.run(handCache(), new MaxProbCriterion(0.8));
        assertArrayEquals(new int[] {1, 2, 3, 1}, r.exitLayers());
        assertArrayEquals(new float[] {0, 1, 1, 1}, r.predictions());
        assertArrayEquals(new float[] {0.9f, 0.85f, 0.7f, 0.95f}, r.confidences());
        assertEquals(0.75, r.metric(), 1e-12);
        assertEquals(1.75, r.meanLayers(), 1e-12);
        assertEquals(3 / 1.75, r.layerSpeedup(), 1e-12);
        assertArrayEquals(new int[] {2, 1, 1}, r.exitCounts());
    }

    @Test
    void staticOracleAndPluggableMetric() {
        ExitOutputs cache = handCache();
        SimulationResult full = Simulator.run(cache, new StaticCriterion(3));
        assertEquals(1.0, full.metric());
        assertEquals(1.0, full.layerSpeedup());
        SimulationResult oracle = Simulator.run(cache, new OracleCriterion());
        assertArrayEquals(new int[] {1, 3, 3, 1}, oracle.exitLayers());  // s1 right only at 3, s2 only at 3
        assertEquals(1.0, oracle.metric());
        // a plugged-in metric sees the simulated predictions: fraction predicted as class 1
        Metric positives = (pred, gold) -> {
            int k = 0;
            for (float v : pred) if (v == 1f) k++;
            return (double) k / pred.length;
        };
        assertEquals(0.75, Simulator.run(cache, new MaxProbCriterion(0.8), positives).metric(), 1e-12);
    }

    @Test
    void policyProbabilitiesReachConsistentEe() {
        ExitOutputs cache = handCache().withPolicy(new float[] {
                0.9f, 0f, 0f,
                0.1f, 0.6f, 0f,
                0.1f, 0.1f, 0f,
                0.4f, 0.5f, 0f});
        SimulationResult r = Simulator.run(cache, new ConsistentEeCriterion(0.5));
        assertArrayEquals(new int[] {1, 2, 3, 2}, r.exitLayers());
        assertThrows(IllegalArgumentException.class, () -> Simulator.run(handCache(), new ConsistentEeCriterion()));
    }

    @Test
    void sweepPickFastestWithinAllowedDrop() {
        var s = dev.offramp.criteria.CriterionSettings.of("static", "layer", 1);
        TradeoffCurve curve = new TradeoffCurve("hand", 0.90, List.of(
                new TradeoffPoint(s, "k", 0, 0.90, 10, 1.0),
                new TradeoffPoint(s, "k", 1, 0.897, 8, 1.5),
                new TradeoffPoint(s, "k", 2, 0.894, 6, 2.0),     // 0.6 points below
                new TradeoffPoint(s, "k", 3, 0.8951, 7, 1.8),
                new TradeoffPoint(s, "k", 4, 0.899, 7, 1.8),     // as fast, more accurate
                new TradeoffPoint(s, "k", 5, 0.92, 9, 1.2)));
        assertEquals(4, curve.pickFastestWithin(0.5).orElseThrow().knobValue());
        assertEquals(5, curve.pickFastestWithin(0.0).orElseThrow().knobValue());
        assertEquals(2, curve.pickFastestWithin(0.6).orElseThrow().knobValue());  // exactly at the bound
        assertEquals(4, curve.pickBestAtSpeedup(1.6).orElseThrow().knobValue());
        assertFalse(curve.pickBestAtSpeedup(2.5).isPresent());
        TradeoffCurve worse = new TradeoffCurve("worse", 0.90, List.of(new TradeoffPoint(s, "k", 0, 0.5, 1, 10)));
        assertFalse(worse.pickFastestWithin(1).isPresent());
    }

    @Test
    void sweepOverMaxProbOnHandCase() {
        Sweep sweep = new Sweep(handCache(), Metric.ACCURACY);
        assertEquals(1.0, sweep.fullModelMetric());
        TradeoffCurve c = sweep.maxProb(new double[] {0.8, 0.96});
        assertEquals(0.75, c.points().get(0).metric(), 1e-12);
        assertEquals(1.0, c.points().get(1).metric(), 1e-12);   // nobody reaches 0.96: full model
        assertEquals(1.0, c.points().get(1).layerSpeedup(), 1e-12);
        // within 25 points the 0.8 setting is allowed and faster; within 24.9 it is not
        assertEquals(0.8, c.pickFastestWithin(25).orElseThrow().knobValue(), 1e-9);
        assertEquals(0.96, c.pickFastestWithin(24.9).orElseThrow().knobValue(), 1e-9);
    }

    @Test
    void calibratedSettingsRoundTripThroughJson(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        ExitCriterion[] criteria = {new MaxProbCriterion(0.93), new PatienceCriterion(2, 0.25),
                new BeemCriterion(BeemCriterion.costWeights(3), new double[] {0.7, Double.POSITIVE_INFINITY},
                        BeemCriterion.Reset.ZERO)};
        for (ExitCriterion c : criteria) {
            CalibratedSettings saved = new CalibratedSettings(c.settings(), "validation", "accuracy", 0.91, 0.92,
                    7.5, 1.6);
            Path file = dir.resolve(c.name() + ".json");
            saved.write(file);
            String json = Files.readString(file);
            assertTrue(json.contains("\"" + c.name() + "\""), json);
            CalibratedSettings back = CalibratedSettings.read(file);
            assertEquals(c, back.toCriterion(), json);
            assertEquals(0.91, back.metric());
            assertEquals(1.6, back.layerSpeedup());
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> CalibratedSettings.fromJson("{\"criterion\":{\"criterion\":\"nope\",\"knobs\":{}}}")
                        .toCriterion());
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    /** 10k samples × 12 exits × 2 classes with exits that get better with depth. */
    static ExitOutputs syntheticCache(int n, int layers, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] out = new float[n * layers * 2];
        float[] gold = new float[n];
        for (int s = 0; s < n; s++) {
            int y = rnd.nextInt(2);
            gold[s] = y;
            double ease = rnd.nextDouble();  // easy samples are right early
            for (int i = 0; i < layers; i++) {
                double margin = (ease * 4 - 1) * (i + 1) / layers + rnd.nextGaussian() * 0.8;
                float pTrue = (float) (1 / (1 + Math.exp(-margin)));
                int o = (s * layers + i) * 2;
                out[o + y] = pTrue;
                out[o + 1 - y] = 1f - pTrue;
            }
        }
        return new ExitOutputs(n, layers, 2, out, gold, null);
    }

    @Test
    void hundredsOfSettingsOverTenThousandSamplesInSeconds() {
        ExitOutputs cache = syntheticCache(10_000, 12, 42);
        Sweep sweep = new Sweep(cache, Metric.ACCURACY);
        long t0 = System.nanoTime();
        List<TradeoffCurve> curves = sweep.all(Double.NaN);
        double seconds = (System.nanoTime() - t0) / 1e9;
        int points = curves.stream().mapToInt(c -> c.points().size()).sum();
        System.out.printf("sweep: %d settings over 10000x12x2 in %.2f s%n", points, seconds);
        assertTrue(points >= 250, "points " + points);
        assertTrue(seconds < 30, "sweep took " + seconds + " s");  // generous: the machine is shared
        TradeoffCurve merged = TradeoffCurve.merge("all", curves);
        TradeoffPoint best = merged.pickFastestWithin(0.5).orElseThrow();  // the static L point always qualifies
        assertTrue(best.metric() >= sweep.fullModelMetric() - 0.005 - 1e-12);
        assertTrue(best.layerSpeedup() > 1.0, best.toString());
        // the winning point replays to the same numbers
        SimulationResult again = Simulator.run(cache,
                dev.offramp.criteria.Criteria.fromSettings(best.settings()));
        assertEquals(best.metric(), again.metric(), 1e-12);
        assertEquals(best.layerSpeedup(), again.layerSpeedup(), 1e-12);
    }
}

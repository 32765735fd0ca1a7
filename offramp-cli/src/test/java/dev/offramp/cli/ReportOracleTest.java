package dev.offramp.cli;

import dev.offramp.criteria.OracleCriterion;
import dev.offramp.data.Tasks;
import dev.offramp.eval.PolicyCalibration;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.SimulationResult;
import dev.offramp.eval.calibration.Simulator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReportOracleTest {

    /** Four STS-B-like pairs over 4 exits: each exit's score closes in on the gold score. */
    private static ExitOutputs scores() {
        float[] gold = {1.0f, 4.0f, 2.5f, 0.2f};
        float[][][] out = new float[gold.length][4][1];
        float[] startError = {2.0f, 0.3f, 1.2f, 0.6f}; // pair 2 is within 0.5 at exit 1
        for (int i = 0; i < gold.length; i++) {
            for (int l = 0; l < 4; l++) out[i][l][0] = gold[i] + startError[i] * (3 - l) / 3f + 0.01f;
        }
        return ExitOutputs.of(out, gold);
    }

    @Test
    void theRegressionOracleTakesTheFirstExitWithinItsToleranceOfTheGoldScore() {
        OracleCriterion oracle = ReportBuilder.oracleFor(Tasks.STSB);
        assertEquals(ReportBuilder.REGRESSION_ORACLE_TOLERANCE, oracle.tolerance());
        var metric = PolicyCalibration.metricFor(Tasks.STSB);
        SimulationResult r = Simulator.run(scores(), oracle, metric);
        // errors per exit: pair 1 2.01, 1.34, 0.68, 0.01 (exit 4); pair 2 0.31 (exit 1); pair 3 1.21, 0.81, 0.41
        // (exit 3); pair 4 0.61, 0.41 (exit 2)
        assertEquals(4 / ((4 + 1 + 3 + 2) / 4.0), r.layerSpeedup(), 1e-9);
        // an exact-match oracle never matches a float score: every pair runs to the last exit
        assertEquals(1.0, Simulator.run(scores(), new OracleCriterion(), metric).layerSpeedup(), 1e-9);
    }

    @Test
    void theClassificationOracleIgnoresTheTolerance() {
        assertEquals(0.0, ReportBuilder.oracleFor(Tasks.SST2).tolerance());
        assertEquals("oracle", ReportBuilder.oracleFor(Tasks.MRPC).describe());
    }
}

package dev.offramp.cli;

import dev.offramp.api.Offramp;
import dev.offramp.eval.calibration.TradeoffCurve;
import dev.offramp.eval.calibration.TradeoffPoint;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What calibration aims for on validation: the fastest setting within D points of the full model (--max-drop, the
 * default), or the most accurate setting at a layer speed-up of at least S (--speedup), which compares criteria
 * at equal speed.
 */
record CalibrationTarget(double maxDrop, double speedup) {
    CalibrationTarget {
        if (speedup != 0 && !(speedup >= 1.0)) {
            throw new IllegalArgumentException("--speedup must be >= 1 (a layer speed-up), got " + speedup);
        }
        if (!(maxDrop >= 0)) throw new IllegalArgumentException("--max-drop must be >= 0 points, got " + maxDrop);
    }

    static CalibrationTarget maxDrop(double points) { return new CalibrationTarget(points, 0); }

    boolean atSpeedup() { return speedup > 0; }

    Optional<TradeoffPoint> pick(TradeoffCurve curve) {
        return atSpeedup() ? curve.pickBestAtSpeedup(speedup) : curve.pickFastestWithin(maxDrop);
    }

    /**
     * Where a policy's setting for this target is saved in a model folder: the max-drop file is the one the library
     * ({@link Offramp#calibrationFile}) reads; speed-up targets sit beside it as {@code <policy>-speedup-S.json}.
     */
    Path file(Path modelDir, String policy) {
        return atSpeedup() ? Offramp.calibrationFile(modelDir, policy, maxDrop).resolveSibling(policy + "-speedup-" + speedup + ".json")
                : Offramp.calibrationFile(modelDir, policy, maxDrop);
    }

    /** Why nothing was picked, for the error message. */
    String unmet() {
        return atSpeedup() ? String.format(Locale.ROOT, "reaches a layer speed-up of %.2f on validation", speedup)
                : "keeps the validation metric within " + maxDrop + " points of the full model";
    }
}

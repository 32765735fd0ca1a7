package dev.offramp.eval.calibration;

import dev.offramp.criteria.CriterionSettings;

/**
 * One setting of one criterion on a trade-off curve.
 *
 * @param settings     the criterion and all its knobs (rebuild with Criteria.fromSettings)
 * @param knob         name of the swept knob (tau, threshold, patience, epsilon, alpha, layer)
 * @param knobValue    its value at this point
 * @param metric       validation metric (natural unit, e.g. accuracy in [0, 1])
 * @param meanLayers   mean layers executed
 * @param layerSpeedup L / meanLayers
 */
public record TradeoffPoint(CriterionSettings settings, String knob, double knobValue, double metric,
                            double meanLayers, double layerSpeedup) {

    public String criterion() {
        return settings.criterion();
    }

    @Override
    public String toString() {
        return String.format("%s %s=%.4g metric=%.4f layers=%.3f speedup=%.3fx", settings.criterion(), knob,
                knobValue, metric, meanLayers, layerSpeedup);
    }
}

package dev.offramp.eval.calibration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.offramp.criteria.Criteria;
import dev.offramp.criteria.CriterionSettings;
import dev.offramp.criteria.ExitCriterion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A calibrated exit criterion as saved next to a model: the criterion and its knobs, and what it measured on
 * the split it was calibrated on. JSON via Jackson, e.g.
 * <pre>
 * {"criterion":{"criterion":"max-prob","knobs":{"tau":0.9}},"split":"validation","metricName":"accuracy",
 *  "metric":0.915,"fullModelMetric":0.918,"meanLayers":7.2,"layerSpeedup":1.67}
 * </pre>
 * Infinite BEEM thresholds are written as the string "Infinity" and read back as +∞.
 *
 * @param metric          the metric with this criterion on {@code split} (natural unit, e.g. accuracy in [0, 1])
 * @param fullModelMetric the same metric of the full model on {@code split}
 */
public record CalibratedSettings(CriterionSettings criterion, String split, String metricName, double metric,
                                 double fullModelMetric, double meanLayers, double layerSpeedup) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static CalibratedSettings of(TradeoffPoint point, double fullModelMetric, String split, String metricName) {
        return new CalibratedSettings(point.settings(), split, metricName, point.metric(), fullModelMetric,
                point.meanLayers(), point.layerSpeedup());
    }

    /** The criterion these settings describe. */
    public ExitCriterion toCriterion() {
        return Criteria.fromSettings(criterion);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write calibrated settings of " + criterion.criterion() + " as JSON",
                    e);
        }
    }

    public static CalibratedSettings fromJson(String json) {
        try {
            return JSON.readValue(json, CalibratedSettings.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not calibrated-settings JSON: " + e.getOriginalMessage(), e);
        }
    }

    public void write(Path file) {
        try {
            Files.writeString(file, toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write calibrated settings to " + file, e);
        }
    }

    public static CalibratedSettings read(Path file) {
        try {
            return fromJson(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read calibrated settings from " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}

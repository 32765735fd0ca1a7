package dev.offramp.criteria;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A criterion's name and knobs, in a shape that serialises to JSON as {@code {"criterion": "...", "knobs":
 * {...}}}. Knob values are numbers, strings or arrays of numbers. Infinite thresholds (BEEM's "never exit here")
 * are kept as doubles; JSON writers emit them as the strings "Infinity"/"-Infinity", which the accessors here
 * read back, as they read the Integer/Double/List values a JSON reader produces.
 */
public record CriterionSettings(String criterion, Map<String, Object> knobs) {

    public CriterionSettings {
        if (criterion == null || criterion.isBlank()) {
            throw new IllegalArgumentException("criterion settings without a criterion name");
        }
        knobs = Collections.unmodifiableMap(new LinkedHashMap<>(knobs == null ? Map.of() : knobs));
    }

    /** Builds settings from alternating key, value arguments, keeping their order. */
    public static CriterionSettings of(String criterion, Object... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("odd number of key/value arguments for " + criterion);
        }
        Map<String, Object> knobs = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            knobs.put((String) keyValues[i], keyValues[i + 1]);
        }
        return new CriterionSettings(criterion, knobs);
    }

    public boolean has(String key) {
        return knobs.get(key) != null;
    }

    public double number(String key) {
        return toDouble(require(key), key);
    }

    public double number(String key, double fallback) {
        return has(key) ? number(key) : fallback;
    }

    public int integer(String key) {
        double v = number(key);
        if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(criterion + ": knob '" + key + "' must be an integer, got " + v);
        }
        return (int) v;
    }

    public String text(String key) {
        return String.valueOf(require(key));
    }

    public String text(String key, String fallback) {
        return has(key) ? text(key) : fallback;
    }

    public double[] numbers(String key) {
        Object v = require(key);
        if (v instanceof double[] a) {
            return a.clone();
        }
        if (v instanceof float[] a) {
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = a[i];
            return d;
        }
        if (v instanceof List<?> list) {
            double[] d = new double[list.size()];
            for (int i = 0; i < d.length; i++) d[i] = toDouble(list.get(i), key + "[" + i + "]");
            return d;
        }
        throw new IllegalArgumentException(criterion + ": knob '" + key + "' must be an array of numbers, got "
                + v.getClass().getSimpleName() + " " + v);
    }

    private Object require(String key) {
        Object v = knobs.get(key);
        if (v == null) {
            throw new IllegalArgumentException(criterion + ": missing knob '" + key + "' (have " + knobs.keySet()
                    + ")");
        }
        return v;
    }

    private double toDouble(Object v, String key) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s);  // accepts "Infinity", "-Infinity", "NaN"
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(criterion + ": knob '" + key + "' is not a number: '" + s + "'");
            }
        }
        throw new IllegalArgumentException(criterion + ": knob '" + key + "' is not a number: " + v);
    }
}

package dev.offramp.criteria;

import java.util.Arrays;

/** Rebuilds a criterion from its {@link CriterionSettings} (e.g. read back from a model's calibration JSON). */
public final class Criteria {
    private Criteria() {}

    public static ExitCriterion fromSettings(CriterionSettings s) {
        return switch (s.criterion()) {
            case MaxProbCriterion.NAME -> new MaxProbCriterion(s.number("tau"));
            case EntropyCriterion.NAME -> new EntropyCriterion(s.number("threshold"));
            case PatienceCriterion.NAME -> new PatienceCriterion(s.integer("patience"), s.number("delta", Double.NaN));
            case StaticCriterion.NAME -> new StaticCriterion(s.integer("layer"));
            case OracleCriterion.NAME -> new OracleCriterion(s.number("tolerance", 0.0));
            case ConsistentEeCriterion.NAME -> new ConsistentEeCriterion(s.number("tau"));
            case BeemCriterion.NAME -> new BeemCriterion(s.numbers("weights"), s.numbers("alphas"),
                    BeemCriterion.Reset.fromLabel(s.text("reset", "current")), s.number("delta", Double.NaN));
            default -> throw new IllegalArgumentException("unknown exit criterion '" + s.criterion()
                    + "' (known: " + Arrays.toString(names()) + ")");
        };
    }

    public static String[] names() {
        return new String[] {MaxProbCriterion.NAME, EntropyCriterion.NAME, PatienceCriterion.NAME,
                BeemCriterion.NAME, ConsistentEeCriterion.NAME, StaticCriterion.NAME, OracleCriterion.NAME};
    }
}

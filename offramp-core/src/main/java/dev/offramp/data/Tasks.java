package dev.offramp.data;

import dev.offramp.data.Task.Kind;
import dev.offramp.data.Task.Metric;

import java.util.List;
import java.util.Locale;

/**
 * The GLUE tasks we have data for. Label ids follow the GLUE/Hugging Face conventions, so a fine-tuned
 * head from elsewhere means the same thing here: RTE/QNLI 0 = entailment, WNLI 1 = entailment,
 * MRPC 1 = equivalent, CoLA 1 = acceptable, SST-2 1 = positive.
 */
public final class Tasks {

    public static final Task SST2 = new Task("sst2", "SST-2", Kind.SINGLE,
            List.of("negative", "positive"), List.of(Metric.ACCURACY));
    public static final Task COLA = new Task("cola", "CoLA", Kind.SINGLE,
            List.of("unacceptable", "acceptable"), List.of(Metric.MATTHEWS, Metric.ACCURACY));
    public static final Task MRPC = new Task("mrpc", "MRPC", Kind.PAIR,
            List.of("not_equivalent", "equivalent"), List.of(Metric.F1, Metric.ACCURACY));
    public static final Task RTE = new Task("rte", "RTE", Kind.PAIR,
            List.of("entailment", "not_entailment"), List.of(Metric.ACCURACY));
    public static final Task STSB = new Task("stsb", "STS-B", Kind.PAIR,
            List.of(), List.of(Metric.PEARSON, Metric.SPEARMAN));
    public static final Task QNLI = new Task("qnli", "QNLI", Kind.PAIR,
            List.of("entailment", "not_entailment"), List.of(Metric.ACCURACY));
    public static final Task WNLI = new Task("wnli", "WNLI", Kind.PAIR,
            List.of("not_entailment", "entailment"), List.of(Metric.ACCURACY));

    private static final List<Task> GLUE = List.of(SST2, COLA, MRPC, RTE, STSB, QNLI, WNLI);

    private Tasks() {
    }

    /** Every GLUE task known here, in a fixed order. */
    public static List<Task> glue() {
        return GLUE;
    }

    /**
     * Looks a GLUE task up by name, ignoring case, '-' and '_' ({@code sst2}, {@code SST-2}, {@code sts_b}).
     *
     * @throws IllegalArgumentException naming the known tasks when the name is not one of them
     */
    public static Task byName(String name) {
        String key = normalise(name);
        for (Task t : GLUE) {
            if (t.name().equals(key)) {
                return t;
            }
        }
        String hint = switch (key) {
            case "mnli", "qqp" -> " (" + name + " data is not available here; SICK is the 3-class NLI stand-in, "
                    + "loaded with TsvTaskLoader.sick)";
            default -> "";
        };
        throw new IllegalArgumentException("unknown task '" + name + "'; known: "
                + String.join(", ", GLUE.stream().map(Task::name).toList()) + hint);
    }

    static String normalise(String name) {
        return name == null ? "" : name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "").strip();
    }
}

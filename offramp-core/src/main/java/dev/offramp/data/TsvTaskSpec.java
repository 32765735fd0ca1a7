package dev.offramp.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Any labelled TSV folder as a task, described the way a command line names it ({@code --data DIR --text-column C
 * --label-column L}, a dev file or a dev fraction carved from train with a fixed seed, an optional text cleaning).
 * It is a value so that a model trained on it can keep it (as JSON in its training record) and every later command
 * reloads exactly the same splits.
 *
 * @param name           the task's name (reports, the model's config); e.g. the folder's name
 * @param folder         the folder holding the files
 * @param textColumn     the header name of the text column
 * @param textPairColumn the second text's column for a sentence-pair task, or null
 * @param labelColumn    the header name of the label column (classification)
 * @param labelNames     names for the label values in their sorted order (numeric when all are integers), or empty to
 *                       report the values themselves
 * @param trainFile      the training file's name in the folder
 * @param devFile        the dev file's name, or null to carve dev from train
 * @param devFraction    without a dev file: the fraction of train carved (stratified) as dev, in (0, 1)
 * @param seed           the carving's seed
 * @param clean          {@code none} or {@code html} ({@code <br />} line breaks become spaces: IMDB, Amazon reviews)
 */
public record TsvTaskSpec(String name, Path folder, String textColumn, String textPairColumn, String labelColumn,
                          List<String> labelNames, String trainFile, String devFile, double devFraction, long seed,
                          String clean) {

    /** The cleanings {@link #clean} may name. */
    public static final List<String> CLEANINGS = List.of("none", "html");
    public static final String DEFAULT_TRAIN_FILE = "train.tsv";
    public static final double DEFAULT_DEV_FRACTION = 0.1;

    public TsvTaskSpec {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a TSV task needs a name");
        if (folder == null) throw new IllegalArgumentException("TSV task " + name + ": no data folder");
        if (textColumn == null || textColumn.isBlank()) throw new IllegalArgumentException("TSV task " + name + ": no text column");
        if (labelColumn == null || labelColumn.isBlank()) throw new IllegalArgumentException("TSV task " + name + ": no label column");
        labelNames = labelNames == null ? List.of() : List.copyOf(labelNames);
        if (trainFile == null || trainFile.isBlank()) trainFile = DEFAULT_TRAIN_FILE;
        if (devFile != null && devFile.isBlank()) devFile = null;
        if (devFile == null && !(devFraction > 0 && devFraction < 1)) {
            throw new IllegalArgumentException("TSV task " + name + ": without a dev file the dev fraction must be in (0, 1), got " + devFraction);
        }
        clean = clean == null ? "none" : clean.toLowerCase(Locale.ROOT);
        if (!CLEANINGS.contains(clean)) {
            throw new IllegalArgumentException("TSV task " + name + ": unknown text cleaning '" + clean + "'; known: " + CLEANINGS);
        }
    }

    /** A single-text task with train.tsv, dev carved 10 % with seed 42, no cleaning; the name is the folder's. */
    public static TsvTaskSpec of(Path folder, String textColumn, String labelColumn) {
        Path n = folder.toAbsolutePath().normalize().getFileName();
        return new TsvTaskSpec(n == null ? "tsv" : n.toString(), folder, textColumn, null, labelColumn, List.of(),
                DEFAULT_TRAIN_FILE, null, DEFAULT_DEV_FRACTION, TsvTaskLoader.DEFAULT_SEED, "none");
    }

    /** The function {@link #clean} names. */
    public UnaryOperator<String> cleaner() {
        return cleaner(clean);
    }

    /** The text cleaning a name stands for ({@link #CLEANINGS}); the Spark stage applies the same at scoring time. */
    public static UnaryOperator<String> cleaner(String name) {
        return switch (name == null ? "none" : name.toLowerCase(Locale.ROOT)) {
            case "none" -> TextCleaner.NONE;
            case "html" -> TextCleaner.HTML_LINE_BREAKS;
            default -> throw new IllegalArgumentException("unknown text cleaning '" + name + "'; known: " + CLEANINGS);
        };
    }

    /** The loader for this folder; label names are checked against the values the training file has. */
    public TsvTaskLoader loader() {
        TsvTaskLoader plain = builder().build();
        if (labelNames.isEmpty()) return plain;
        List<String> values = plain.labelValues();
        if (values.size() != labelNames.size()) {
            throw new IllegalArgumentException("TSV task " + name + ": " + labelNames.size() + " label names " + labelNames
                    + " for " + values.size() + " label values " + values + " in column " + labelColumn + " of "
                    + folder.resolve(trainFile));
        }
        return builder().labels(values, labelNames).build();
    }

    private TsvTaskLoader.Builder builder() {
        TsvTaskLoader.Builder b = TsvTaskLoader.builder(name, folder).label(labelColumn).trainFile(trainFile).cleaner(cleaner());
        if (textPairColumn == null) b.text(textColumn);
        else b.textPair(textColumn, textPairColumn);
        if (devFile != null) b.devFile(devFile);
        else b.carveDev(devFraction, seed);
        return b;
    }

    /** Train and dev, as {@link TsvTaskLoader#load()}. */
    public TaskData load() {
        return loader().load();
    }

    // ----------------------------------------------------------------------------------------------------
    // JSON, for the model's training record

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("name", name);
        n.put("folder", folder.toAbsolutePath().normalize().toString());
        n.put("text_column", textColumn);
        if (textPairColumn != null) n.put("text_pair_column", textPairColumn);
        n.put("label_column", labelColumn);
        ArrayNode names = n.putArray("label_names");
        labelNames.forEach(names::add);
        n.put("train_file", trainFile);
        if (devFile != null) n.put("dev_file", devFile);
        else n.put("dev_fraction", devFraction);
        n.put("seed", seed);
        n.put("clean", clean);
        return n;
    }

    /** Reads {@link #toJson()}'s object; a missing or mistyped field is an error naming it. */
    public static TsvTaskSpec fromJson(JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("a TSV task description must be a JSON object, got " + n);
        List<String> names = new ArrayList<>();
        JsonNode ln = n.get("label_names");
        if (ln != null && ln.isArray()) ln.forEach(x -> names.add(x.asText()));
        return new TsvTaskSpec(required(n, "name"), Path.of(required(n, "folder")), required(n, "text_column"),
                optional(n, "text_pair_column"), required(n, "label_column"), names, optional(n, "train_file"),
                optional(n, "dev_file"), n.path("dev_fraction").asDouble(0), n.path("seed").asLong(TsvTaskLoader.DEFAULT_SEED),
                optional(n, "clean"));
    }

    private static String required(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException("TSV task description: field '" + field + "' missing or not a string in " + n);
        }
        return v.asText();
    }

    private static String optional(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}

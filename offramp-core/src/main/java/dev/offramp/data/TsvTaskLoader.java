package dev.offramp.data;

import dev.offramp.data.Task.Kind;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Turns any labelled TSV file with a header row into a {@link Task}: name the text column (and optionally a
 * second one for pairs) and the label column (or a score column for regression).
 *
 * <p>Same rules as {@link GlueLoader}: split on tab, quotes are ordinary characters, strict decoding, every
 * row has the header's column count, and any bad row is a {@link DataFormatException} with file and line.
 * Labels are taken from the training file (sorted: numerically when all are integers, otherwise by string)
 * unless given; a label in another file that training did not have is an error.
 *
 * <pre>{@code
 * TaskData imdb = TsvTaskLoader.imdb(DataPaths.data()).load();
 * TaskData spam = TsvTaskLoader.builder("sms", dir).text("SMS").label("Label")
 *         .trainFile("SMSSpamCollection.tsv").carveDev(0.2, 42).build().load();
 * }</pre>
 */
public final class TsvTaskLoader {

    /** Seed of the presets' carved dev splits. */
    public static final long DEFAULT_SEED = 42L;

    private final String name;
    private final String displayName;
    private final Path folder;
    private final String textColumn;
    private final String textColumnB;
    private final String labelColumn;
    private final boolean regression;
    private final List<String> givenLabelValues;
    private final List<String> givenLabelNames;
    private final String trainFile;
    private final String devFile;
    private final double carveFraction;
    private final long seed;
    private final UnaryOperator<String> cleaner;
    private final Charset charset;

    private List<String> labelValues; // resolved on first use

    private TsvTaskLoader(Builder b) {
        this.name = b.name;
        this.displayName = b.displayName != null ? b.displayName : b.name;
        this.folder = b.folder;
        this.textColumn = Objects.requireNonNull(b.textColumn, "text column not set");
        this.textColumnB = b.textColumnB;
        this.labelColumn = Objects.requireNonNull(b.labelColumn, "label (or score) column not set");
        this.regression = b.regression;
        this.givenLabelValues = b.labelValues;
        this.givenLabelNames = b.labelNames;
        this.trainFile = Objects.requireNonNull(b.trainFile, "train file not set");
        this.devFile = b.devFile;
        this.carveFraction = b.carveFraction;
        this.seed = b.seed;
        this.cleaner = b.cleaner;
        this.charset = b.charset;
        if ((devFile == null) == (carveFraction <= 0)) {
            throw new IllegalArgumentException(name + ": give exactly one of devFile(...) or carveDev(...)");
        }
        if (regression && (givenLabelValues != null || givenLabelNames != null)) {
            throw new IllegalArgumentException(name + ": a regression task has no label values");
        }
        if (givenLabelNames != null && givenLabelValues != null && givenLabelNames.size() != givenLabelValues.size()) {
            throw new IllegalArgumentException(name + ": " + givenLabelNames.size() + " label names for "
                    + givenLabelValues.size() + " label values");
        }
        if (givenLabelNames != null && givenLabelValues == null) {
            throw new IllegalArgumentException(name + ": labelNames(...) needs labelValues(...) to say which "
                    + "value each name stands for");
        }
    }

    public static Builder builder(String name, Path folder) {
        return new Builder(name, folder);
    }

    // ---- presets for the shared data sets ------------------------------------------------------------

    /**
     * IMDB movie reviews, 25,000 train / 25,000 test, binary; the test file serves as dev (the standard
     * evaluation set). {@code <br />} markup is replaced by spaces. Reviews are long: truncate when tokenising.
     */
    public static TsvTaskLoader imdb(Path dataDir) {
        return builder("imdb", dataDir.resolve("imdb")).displayName("IMDB")
                .text("text").label("label")
                .labels(List.of("0", "1"), List.of("negative", "positive"))
                .trainFile("train.tsv").devFile("test.tsv")
                .cleaner(TextCleaner.HTML_LINE_BREAKS).build();
    }

    /** SMS Spam Collection (ham / spam); no official split, dev = stratified 20% of it, seed 42. */
    public static TsvTaskLoader smsSpam(Path dataDir) {
        return builder("sms-spam", dataDir.resolve("sms-spam")).displayName("SMS Spam")
                .text("SMS").label("Label")
                .labels(List.of("ham", "spam"), List.of("ham", "spam"))
                .trainFile("SMSSpamCollection.tsv").carveDev(0.2, DEFAULT_SEED).build();
    }

    /**
     * SICK 3-class NLI (the stand-in for MNLI; report it as SICK). dev = SICK_trial.txt; the gold test set
     * is {@code loadFile("SICK_test_annotated.txt")}.
     */
    public static TsvTaskLoader sick(Path dataDir) {
        return builder("sick", dataDir.resolve("sick")).displayName("SICK")
                .textPair("sentence_A", "sentence_B").label("entailment_judgment")
                .labels(List.of("ENTAILMENT", "NEUTRAL", "CONTRADICTION"),
                        List.of("entailment", "neutral", "contradiction"))
                .trainFile("SICK_train.txt").devFile("SICK_trial.txt").build();
    }

    /** SICK relatedness (regression, 1–5, Pearson/Spearman like STS-B). */
    public static TsvTaskLoader sickRelatedness(Path dataDir) {
        return builder("sick-r", dataDir.resolve("sick")).displayName("SICK-R")
                .textPair("sentence_A", "sentence_B").score("relatedness_score")
                .trainFile("SICK_train.txt").devFile("SICK_trial.txt").build();
    }

    /** Amazon fine-food reviews, great (1) / other (0); dev = test.tsv. */
    public static TsvTaskLoader fineFoods(Path dataDir) {
        return builder("fine-foods", dataDir.resolve("fine-foods")).displayName("Fine Foods")
                .text("review").label("score")
                .labels(List.of("other", "great"), List.of("other", "great"))
                .trainFile("train.tsv").devFile("test.tsv")
                .cleaner(TextCleaner.HTML_LINE_BREAKS).build();
    }

    // ---- loading ----------------------------------------------------------------------------------------

    /** Train and dev (read from devFile, or carved from train with the configured seed). */
    public TaskData load() {
        Task task = task();
        List<Example> train = loadFile(trainFile);
        if (devFile != null) {
            return new TaskData(task, train, loadFile(devFile), "dev = " + devFile);
        }
        Splits.Carved carved = Splits.carveValidation(train, carveFraction, seed);
        return new TaskData(task, carved.train(), carved.validation(),
                "dev = " + Math.round(carveFraction * 100) + "% of " + trainFile
                        + (regression ? "" : " (stratified)") + ", seed " + seed);
    }

    /** The task definition; collects the label values from the training file when they were not given. */
    public Task task() {
        List<String> values = labelValues();
        List<String> names = regression ? List.of() : givenLabelNames != null ? givenLabelNames : values;
        return new Task(name, displayName, textColumnB == null ? Kind.SINGLE : Kind.PAIR, names,
                regression ? Task.defaultRegressionMetrics() : Task.defaultClassificationMetrics(names.size()));
    }

    /** Label strings as written in the files; index = label id. Empty for regression. */
    public List<String> labelValues() {
        if (regression) {
            return List.of();
        }
        if (labelValues == null) {
            labelValues = givenLabelValues != null ? givenLabelValues : collectLabels(folder.resolve(trainFile));
        }
        return labelValues;
    }

    /** Reads one file of this folder (same header and label values). */
    public List<Example> loadFile(String fileName) {
        return parse(folder.resolve(fileName), labelValues());
    }

    private List<Example> parse(Path file, List<String> values) {
        List<String> lines = TextLines.read(file, charset);
        Columns cols = columns(file, lines);
        String fileName = file.getFileName().toString();
        List<Example> out = new ArrayList<>(lines.size());
        for (int i = 1; i < lines.size(); i++) {
            int lineNumber = i + 1;
            String[] f = split(file, lines.get(i), lineNumber, cols.count);
            String textA = text(f[cols.textA], file, lineNumber, textColumn);
            String textB = cols.textB < 0 ? null : text(f[cols.textB], file, lineNumber, textColumnB);
            String source = name + "/" + fileName + ":" + lineNumber;
            String raw = f[cols.label];
            if (regression) {
                float score;
                try {
                    score = Float.parseFloat(raw);
                } catch (NumberFormatException e) {
                    throw new DataFormatException(file, lineNumber, labelColumn + " '" + raw + "' is not a number");
                }
                if (!Float.isFinite(score)) {
                    throw new DataFormatException(file, lineNumber, labelColumn + " '" + raw + "' is not finite");
                }
                out.add(Example.scored(textA, textB, score, source));
            } else {
                int label = values.indexOf(raw);
                if (label < 0) {
                    throw new DataFormatException(file, lineNumber, "unknown " + labelColumn + " '" + raw
                            + "'; expected one of " + values);
                }
                out.add(new Example(textA, textB, label, Float.NaN, source));
            }
        }
        return out;
    }

    private List<String> collectLabels(Path file) {
        List<String> lines = TextLines.read(file, charset);
        Columns cols = columns(file, lines);
        TreeSet<String> seen = new TreeSet<>();
        for (int i = 1; i < lines.size(); i++) {
            seen.add(split(file, lines.get(i), i + 1, cols.count)[cols.label]);
        }
        List<String> sorted = new ArrayList<>(seen);
        if (sorted.stream().allMatch(s -> s.matches("-?\\d{1,9}"))) {
            sorted.sort(Comparator.comparingInt(Integer::parseInt));
        }
        if (sorted.size() < 2) {
            throw new DataFormatException(file, 0, "column " + labelColumn + " has " + sorted.size()
                    + " distinct value(s) " + sorted + "; a classification task needs at least two");
        }
        return List.copyOf(sorted);
    }

    private record Columns(int count, int textA, int textB, int label) {
    }

    private Columns columns(Path file, List<String> lines) {
        if (lines.isEmpty()) {
            throw new DataFormatException(file, 0, "empty file; expected a header row");
        }
        List<String> header = List.of(lines.getFirst().split("\t", -1));
        return new Columns(header.size(), column(file, header, textColumn),
                textColumnB == null ? -1 : column(file, header, textColumnB), column(file, header, labelColumn));
    }

    private static int column(Path file, List<String> header, String wanted) {
        int i = header.indexOf(wanted);
        if (i < 0) {
            throw new DataFormatException(file, 1, "no column '" + wanted + "' in header " + header);
        }
        return i;
    }

    private static String[] split(Path file, String line, int lineNumber, int count) {
        String[] f = line.split("\t", -1);
        if (f.length != count) {
            throw new DataFormatException(file, lineNumber, "expected " + count
                    + " tab-separated columns (as in the header), found " + f.length);
        }
        return f;
    }

    private String text(String raw, Path file, int line, String column) {
        String cleaned = cleaner.apply(raw);
        if (cleaned.isBlank()) {
            throw new DataFormatException(file, line, "empty text in column " + column);
        }
        return cleaned;
    }

    /** Configuration of a {@link TsvTaskLoader}; every setter returns this builder. */
    public static final class Builder {
        private final String name;
        private final Path folder;
        private String displayName;
        private String textColumn;
        private String textColumnB;
        private String labelColumn;
        private boolean regression;
        private List<String> labelValues;
        private List<String> labelNames;
        private String trainFile = "train.tsv";
        private String devFile;
        private double carveFraction;
        private long seed = DEFAULT_SEED;
        private UnaryOperator<String> cleaner = TextCleaner.NONE;
        private Charset charset = StandardCharsets.UTF_8;

        private Builder(String name, Path folder) {
            this.name = Objects.requireNonNull(name, "name");
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        public Builder displayName(String displayName) {
            this.displayName = displayName;
            return this;
        }

        /** Single-sentence task reading this column. */
        public Builder text(String column) {
            this.textColumn = column;
            this.textColumnB = null;
            return this;
        }

        /** Sentence-pair task reading these two columns. */
        public Builder textPair(String columnA, String columnB) {
            this.textColumn = columnA;
            this.textColumnB = columnB;
            return this;
        }

        /** Classification: class label strings in this column. */
        public Builder label(String column) {
            this.labelColumn = column;
            this.regression = false;
            return this;
        }

        /** Regression: a number in this column. */
        public Builder score(String column) {
            this.labelColumn = column;
            this.regression = true;
            return this;
        }

        /** The label strings as written (index = label id) and the names to report them by. */
        public Builder labels(List<String> values, List<String> names) {
            this.labelValues = List.copyOf(values);
            this.labelNames = List.copyOf(names);
            return this;
        }

        /** The label strings as written (index = label id), also used as names. */
        public Builder labels(List<String> values) {
            return labels(values, values);
        }

        public Builder trainFile(String fileName) {
            this.trainFile = fileName;
            return this;
        }

        /** Evaluate on this file. */
        public Builder devFile(String fileName) {
            this.devFile = fileName;
            this.carveFraction = 0;
            return this;
        }

        /** No dev file: carve {@code fraction} of train (stratified) with {@code seed}. */
        public Builder carveDev(double fraction, long seed) {
            if (!(fraction > 0 && fraction < 1)) {
                throw new IllegalArgumentException("dev fraction must be in (0, 1), got " + fraction);
            }
            this.carveFraction = fraction;
            this.seed = seed;
            this.devFile = null;
            return this;
        }

        public Builder cleaner(UnaryOperator<String> cleaner) {
            this.cleaner = Objects.requireNonNull(cleaner);
            return this;
        }

        /** File encoding; UTF-8 unless set (decoding is strict either way). */
        public Builder charset(Charset charset) {
            this.charset = Objects.requireNonNull(charset);
            return this;
        }

        public TsvTaskLoader build() {
            return new TsvTaskLoader(this);
        }
    }
}

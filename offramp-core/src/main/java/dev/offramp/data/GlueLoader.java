package dev.offramp.data;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the GLUE {@code train.tsv} / {@code dev.tsv} files (the output of the GLUE download script) into
 * {@link Example}s. Each task's real column layout is spelled out below and the header is checked, so a
 * file from a different source fails loudly instead of being read with shifted columns.
 *
 * <p>GLUE TSVs have no quoting: lines are split on tab and {@code "} is an ordinary character. Every
 * row either becomes an example or raises a {@link DataFormatException} with file and line.
 */
public final class GlueLoader {

    /** The two labelled splits GLUE publishes (test labels are not public). */
    public enum Split {
        TRAIN("train.tsv"), DEV("dev.tsv");

        private final String fileName;

        Split(String fileName) {
            this.fileName = fileName;
        }

        public String fileName() {
            return fileName;
        }
    }

    /**
     * Column layout of one task's files.
     *
     * @param header       expected header columns, or null when the file has no header (CoLA)
     * @param columns      number of tab-separated fields on every line
     * @param textA        column of the first sentence
     * @param textB        column of the second sentence, or -1
     * @param label        column of the label (or of the score for regression)
     * @param labelStrings label string as written in the file, index = label id; null for a score column
     */
    private record Layout(List<String> header, int columns, int textA, int textB, int label,
                          List<String> labelStrings) {
    }

    private static final List<String> ZERO_ONE = List.of("0", "1");
    private static final List<String> ENTAILMENT = List.of("entailment", "not_entailment");

    private final Path root;

    /** A loader over the shared GLUE folder ({@link DataPaths#glue()}). */
    public GlueLoader() {
        this(DataPaths.glue());
    }

    /** A loader over {@code root}, which holds one folder per task ({@code SST-2}, {@code CoLA}, ...). */
    public GlueLoader(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public List<Example> train(Task task) {
        return load(task, Split.TRAIN);
    }

    public List<Example> dev(Task task) {
        return load(task, Split.DEV);
    }

    /** The folder of a task: its display name ({@code SST-2}, {@code STS-B}, ...). */
    public Path folder(Task task) {
        return root.resolve(task.displayName());
    }

    public Path file(Task task, Split split) {
        return folder(task).resolve(split.fileName());
    }

    /** Reads one split; a missing file is an error that says what was expected there. */
    public List<Example> load(Task task, Split split) {
        Path file = file(task, split);
        if (!Files.isRegularFile(file)) {
            String why;
            if (!Files.isDirectory(root)) {
                why = "GLUE root folder " + root + " does not exist";
            } else if (!Files.isDirectory(folder(task))) {
                why = "no " + task.displayName() + " folder in " + root + " (expected " + folder(task)
                        + " with train.tsv and dev.tsv)";
            } else if (task == Tasks.QNLI && split == Split.TRAIN) {
                why = "QNLI has no train.tsv here; only dev.tsv (the 28 MB train file could not be obtained)";
            } else {
                why = "no " + task.displayName() + " " + split.name().toLowerCase(Locale.ROOT)
                        + " split (expected " + split.fileName() + " in " + folder(task) + ")";
            }
            throw new UncheckedIOException(file + ": " + why, new NoSuchFileException(file.toString()));
        }
        return parse(task, file);
    }

    /** Parses any file with the layout of {@code task}'s GLUE files. */
    public static List<Example> parse(Task task, Path file) {
        Layout layout = layout(task);
        List<String> lines = TextLines.readUtf8(file);
        List<Example> out = new ArrayList<>(lines.size());
        int first = 0;
        if (layout.header != null) {
            if (lines.isEmpty()) {
                throw new DataFormatException(file, 0, "empty file; expected a header "
                        + String.join("<TAB>", layout.header));
            }
            List<String> header = List.of(lines.getFirst().split("\t", -1));
            if (!header.equals(layout.header)) {
                throw new DataFormatException(file, 1, "header " + header + " is not the " + task.displayName()
                        + " header " + layout.header);
            }
            first = 1;
        }
        String fileName = file.getFileName().toString();
        for (int i = first; i < lines.size(); i++) {
            int lineNumber = i + 1;
            String[] f = lines.get(i).split("\t", -1);
            if (f.length != layout.columns) {
                throw new DataFormatException(file, lineNumber, "expected " + layout.columns
                        + " tab-separated columns for " + task.displayName() + ", found " + f.length);
            }
            String textA = requireText(f[layout.textA], file, lineNumber, layout.textA);
            String textB = layout.textB < 0 ? null : requireText(f[layout.textB], file, lineNumber, layout.textB);
            String source = task.displayName() + "/" + fileName + ":" + lineNumber;
            String raw = f[layout.label];
            if (layout.labelStrings == null) {
                out.add(Example.scored(textA, textB, parseScore(raw, file, lineNumber), source));
            } else {
                int label = layout.labelStrings.indexOf(raw);
                if (label < 0) {
                    throw new DataFormatException(file, lineNumber, "unknown " + task.displayName() + " label '"
                            + raw + "' in column " + (layout.label + 1) + "; expected one of " + layout.labelStrings);
                }
                out.add(new Example(textA, textB, label, Float.NaN, source));
            }
        }
        return out;
    }

    private static String requireText(String text, Path file, int line, int column) {
        if (text.isBlank()) {
            throw new DataFormatException(file, line, "empty text in column " + (column + 1));
        }
        return text;
    }

    private static float parseScore(String raw, Path file, int line) {
        float score;
        try {
            score = Float.parseFloat(raw);
        } catch (NumberFormatException e) {
            throw new DataFormatException(file, line, "score '" + raw + "' is not a number");
        }
        if (!(score >= 0f && score <= 5f)) {
            throw new DataFormatException(file, line, "score " + raw + " is outside the STS-B range 0..5");
        }
        return score;
    }

    private static Layout layout(Task task) {
        return switch (task.name()) {
            case "sst2" -> new Layout(List.of("sentence", "label"), 2, 0, -1, 1, ZERO_ONE);
            // source, label, original acceptability mark, sentence; no header
            case "cola" -> new Layout(null, 4, 3, -1, 1, ZERO_ONE);
            // the header's UTF-8 BOM is removed by TextLines
            case "mrpc" -> new Layout(List.of("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"), 5, 3, 4, 0,
                    ZERO_ONE);
            case "rte" -> new Layout(List.of("index", "sentence1", "sentence2", "label"), 4, 1, 2, 3, ENTAILMENT);
            case "qnli" -> new Layout(List.of("index", "question", "sentence", "label"), 4, 1, 2, 3, ENTAILMENT);
            case "wnli" -> new Layout(List.of("index", "sentence1", "sentence2", "label"), 4, 1, 2, 3, ZERO_ONE);
            case "stsb" -> new Layout(List.of("index", "genre", "filename", "year", "old_index", "source1",
                    "source2", "sentence1", "sentence2", "score"), 10, 7, 8, 9, null);
            default -> throw new IllegalArgumentException("'" + task.name() + "' is not a GLUE task this loader "
                    + "knows; use TsvTaskLoader for other labelled TSV files");
        };
    }
}

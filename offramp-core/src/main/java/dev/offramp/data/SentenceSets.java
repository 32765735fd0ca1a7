package dev.offramp.data;

import dev.offramp.data.Task.Kind;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The classic sentence-classification sets that are not TSV files: one file per class (MR, SUBJ, CR, MPQA),
 * {@code LABEL:fine text} lines (TREC) and quoted CSV (AG News). Same rules as the other loaders: strict
 * decoding in the file's documented charset, and a row that does not parse is a {@link DataFormatException}.
 * Blank lines (CR and MPQA have a few, including a trailing one) are not examples; they are skipped and
 * their number is stated in {@link TaskData#note()}.
 *
 * <p>None of MR/SUBJ/CR/MPQA/AG News has an official dev split: dev is carved from the data, stratified,
 * with the given seed. MR and SUBJ share Rotten Tomatoes snippets with SST-2: never train on them for an
 * SST-2 evaluation.
 */
public final class SentenceSets {

    private SentenceSets() {
    }

    /** MR sentence polarity (Latin-1): rt-polarity.neg = 0, rt-polarity.pos = 1. */
    public static TaskData mr(Path dataDir, double devFraction, long seed) {
        return perClassFiles("mr", "MR", dataDir.resolve("mr"), List.of("rt-polarity.neg", "rt-polarity.pos"),
                List.of("negative", "positive"), StandardCharsets.ISO_8859_1, devFraction, seed);
    }

    /** SUBJ (Latin-1): subj.objective = 0, subj.subjective = 1. */
    public static TaskData subj(Path dataDir, double devFraction, long seed) {
        return perClassFiles("subj", "SUBJ", dataDir.resolve("subj"), List.of("subj.objective", "subj.subjective"),
                List.of("objective", "subjective"), StandardCharsets.ISO_8859_1, devFraction, seed);
    }

    /** CR customer reviews: custrev.neg = 0, custrev.pos = 1. */
    public static TaskData cr(Path dataDir, double devFraction, long seed) {
        return perClassFiles("cr", "CR", dataDir.resolve("cr"), List.of("custrev.neg", "custrev.pos"),
                List.of("negative", "positive"), StandardCharsets.UTF_8, devFraction, seed);
    }

    /** MPQA phrase polarity: mpqa.neg = 0, mpqa.pos = 1. */
    public static TaskData mpqa(Path dataDir, double devFraction, long seed) {
        return perClassFiles("mpqa", "MPQA", dataDir.resolve("mpqa"), List.of("mpqa.neg", "mpqa.pos"),
                List.of("negative", "positive"), StandardCharsets.UTF_8, devFraction, seed);
    }

    /**
     * One sentence per line, one file per class (file {@code i} holds label {@code i}); dev is a stratified
     * {@code devFraction} of all examples.
     */
    public static TaskData perClassFiles(String name, String displayName, Path folder, List<String> files,
                                         List<String> labelNames, Charset charset, double devFraction, long seed) {
        if (files.size() != labelNames.size()) {
            throw new IllegalArgumentException(name + ": " + files.size() + " files for " + labelNames.size() + " labels");
        }
        List<Example> all = new ArrayList<>();
        int blank = 0;
        for (int label = 0; label < files.size(); label++) {
            Path file = folder.resolve(files.get(label));
            List<String> lines = TextLines.read(file, charset);
            for (int i = 0; i < lines.size(); i++) {
                String text = lines.get(i);
                if (text.isBlank()) {
                    blank++;
                    continue;
                }
                all.add(Example.single(text, label, name + "/" + files.get(label) + ":" + (i + 1)));
            }
        }
        Task task = new Task(name, displayName, Kind.SINGLE, labelNames,
                Task.defaultClassificationMetrics(labelNames.size()));
        Splits.Carved carved = Splits.carveValidation(all, devFraction, seed);
        return new TaskData(task, carved.train(), carved.validation(), "dev = " + Math.round(devFraction * 100)
                + "% of " + files + " (stratified), seed " + seed + "; " + blank + " blank lines skipped");
    }

    /**
     * TREC question classification, 6 coarse classes (ABBR, DESC, ENTY, HUM, LOC, NUM) or the 50 fine ones
     * ({@code DESC:manner}); train = TREC.train (Latin-1), dev = TREC.test (the standard 500-question test).
     */
    public static TaskData trec(Path dataDir, boolean fine) {
        Path folder = dataDir.resolve("trec");
        List<String[]> train = trecRows(folder.resolve("TREC.train"), fine);
        List<String[]> test = trecRows(folder.resolve("TREC.test"), fine);
        TreeSet<String> labels = new TreeSet<>();
        train.forEach(r -> labels.add(r[0]));
        List<String> names = List.copyOf(labels);
        Task task = new Task(fine ? "trec-fine" : "trec", fine ? "TREC-50" : "TREC-6", Kind.SINGLE, names,
                Task.defaultClassificationMetrics(names.size()));
        return new TaskData(task, trecExamples(train, names, folder.resolve("TREC.train")),
                trecExamples(test, names, folder.resolve("TREC.test")), "dev = TREC.test");
    }

    /** Rows {label, text, line} of a TREC file. */
    private static List<String[]> trecRows(Path file, boolean fine) {
        List<String> lines = TextLines.read(file, StandardCharsets.ISO_8859_1);
        List<String[]> rows = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int space = line.indexOf(' ');
            int colon = line.indexOf(':');
            if (space < 0 || colon < 0 || colon > space || space == line.length() - 1) {
                throw new DataFormatException(file, i + 1, "expected 'COARSE:fine question', got '" + line + "'");
            }
            String label = fine ? line.substring(0, space) : line.substring(0, colon);
            rows.add(new String[]{label, line.substring(space + 1), Integer.toString(i + 1)});
        }
        return rows;
    }

    private static List<Example> trecExamples(List<String[]> rows, List<String> names, Path file) {
        List<Example> out = new ArrayList<>(rows.size());
        for (String[] r : rows) {
            int label = names.indexOf(r[0]);
            if (label < 0) {
                throw new DataFormatException(file, Integer.parseInt(r[2]), "label " + r[0]
                        + " does not occur in TREC.train");
            }
            out.add(Example.single(r[1], label, "trec/" + file.getFileName() + ":" + r[2]));
        }
        return out;
    }

    /**
     * AG News (test split only; 7,600 rows, 4 balanced classes). Text = title + " " + description after
     * {@link #cleanAgNews}. There is no train file: dev is a stratified {@code devFraction} of the rows.
     */
    public static TaskData agNews(Path dataDir, double devFraction, long seed) {
        Path file = dataDir.resolve("ag-news").resolve("test.csv");
        List<String> lines = TextLines.readUtf8(file);
        if (lines.isEmpty() || !lines.getFirst().equals("label,title,description")) {
            throw new DataFormatException(file, 1, "expected header label,title,description");
        }
        List<String> values = List.of("1", "2", "3", "4");
        List<Example> all = new ArrayList<>(lines.size());
        for (int i = 1; i < lines.size(); i++) {
            List<String> f = parseCsvLine(lines.get(i), file, i + 1);
            if (f.size() != 3) {
                throw new DataFormatException(file, i + 1, "expected 3 CSV fields, found " + f.size());
            }
            int label = values.indexOf(f.get(0));
            if (label < 0) {
                throw new DataFormatException(file, i + 1, "unknown label '" + f.get(0) + "'; expected 1..4");
            }
            String text = cleanAgNews(f.get(1)) + " " + cleanAgNews(f.get(2));
            all.add(Example.single(text.strip(), label, "ag-news/test.csv:" + (i + 1)));
        }
        Task task = new Task("ag-news", "AG News", Kind.SINGLE, List.of("World", "Sports", "Business", "Sci/Tech"),
                Task.defaultClassificationMetrics(4));
        Splits.Carved carved = Splits.carveValidation(all, devFraction, seed);
        return new TaskData(task, carved.train(), carved.validation(), "AG News test.csv only; dev = "
                + Math.round(devFraction * 100) + "% of it (stratified), seed " + seed);
    }

    /**
     * One RFC 4180 CSV record on a single line: fields separated by commas, a field may be quoted, a doubled
     * quote inside quotes is a quote. An unterminated quote is an error (AG News has no multi-line fields).
     */
    static List<String> parseCsvLine(String line, Path file, int lineNumber) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        int n = line.length();
        while (true) {
            if (i < n && line.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new DataFormatException(file, lineNumber, "unterminated quoted CSV field");
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        if (i < n && line.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        field.append(c);
                    }
                }
                if (i < n && line.charAt(i) != ',') {
                    throw new DataFormatException(file, lineNumber, "text after a closing quote at column " + (i + 1));
                }
            } else {
                while (i < n && line.charAt(i) != ',') {
                    field.append(line.charAt(i++));
                }
            }
            fields.add(field.toString());
            field.setLength(0);
            if (i >= n) {
                return fields;
            }
            i++; // the comma
        }
    }

    private static final Pattern NUMERIC_ENTITY = Pattern.compile("&?#(\\d{2,5});");
    private static final Pattern SPACES = Pattern.compile("\\s{2,}");
    private static final Charset CP1252 = Charset.forName("windows-1252");

    /**
     * AG News keeps escapes from its crawl: {@code #39;} for ', {@code #36;} for $, cp1252 codes such as
     * {@code #151;} (em dash), HTML {@code &lt; &gt; &amp; &quot;}, and {@code \} where the source had a line
     * break. Decodes those, turns backslashes into spaces and collapses runs of spaces.
     */
    public static String cleanAgNews(String text) {
        Matcher m = NUMERIC_ENTITY.matcher(text);
        StringBuilder sb = new StringBuilder(text.length());
        while (m.find()) {
            int code = Integer.parseInt(m.group(1));
            String replacement = code >= 128 && code < 160
                    ? new String(new byte[]{(byte) code}, CP1252)
                    : Character.isValidCodePoint(code) ? Character.toString(code) : m.group();
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        String s = sb.toString().replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
                .replace("&amp;", "&").replace('\\', ' ');
        return SPACES.matcher(s).replaceAll(" ").strip();
    }
}

package dev.offramp.lm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.data.DataFormatException;
import dev.offramp.data.Datasets;
import dev.offramp.data.Example;
import dev.offramp.data.TaskData;
import dev.offramp.data.TextCleaner;
import dev.offramp.data.TextLines;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The text a language model is trained on, from the shared data folder: Alpaca instructions with their answers
 * (and the 175 seed tasks), IMDB and Amazon fine-food reviews, GLUE and SICK sentences, news (AG News, Reuters),
 * SMS messages, and the classic sentence sets. A document is one review, one sentence, one instruction with its
 * answer; labels are ignored.
 *
 * <p>Cleaning: HTML line breaks ({@code <br />}, IMDB and fine foods) become spaces; surrounding white space is
 * trimmed; empty and exactly repeated documents (GLUE pairs repeat their sentences, SST-2 and MR share snippets)
 * are kept once. Alpaca records become {@code ### Instruction:\n…\n\n### Input:\n…\n\n### Response:\n…} (the Input
 * part only when there is one), the layout of the Alpaca prompt without its preamble sentence, so a trained model
 * can be prompted with the same headers.
 *
 * <p>The held-out split is a function of each document's text and the seed (a hash under a threshold), so it does
 * not move when sources are added or the corpus is capped; then both parts are shuffled with the seed.
 */
public final class LmCorpus {
    private LmCorpus() {}

    /** One piece of text and the source it came from. */
    public record Document(String source, String text) {}

    /** The training and held-out documents, each in its shuffled order. */
    public record Split(List<Document> train, List<Document> heldOut) {
        public long trainChars() {
            return chars(train);
        }

        public long heldOutChars() {
            return chars(heldOut);
        }

        private static long chars(List<Document> docs) {
            long n = 0;
            for (Document d : docs) n += d.text().length();
            return n;
        }
    }

    /** Every source, in the order they are read. */
    public static final List<String> SOURCES = List.of("alpaca", "imdb", "fine-foods", "glue", "sick", "ag-news",
            "reuters", "sms-spam", "mr", "subj", "cr", "mpqa", "trec");

    private static final List<String> GLUE = List.of("cola", "sst2", "mrpc", "rte", "stsb", "qnli", "wnli");

    /** The documents of the named sources (see {@link #SOURCES}) under dataDir, cleaned and without repeats. */
    public static List<Document> load(Path dataDir, List<String> sources) {
        Set<String> seen = new LinkedHashSet<>();
        List<Document> docs = new ArrayList<>();
        for (String s : sources) {
            if (!SOURCES.contains(s)) {
                throw new IllegalArgumentException("unknown corpus source '" + s + "' (available: " + String.join(", ", SOURCES) + ")");
            }
            for (String text : texts(dataDir, s)) {
                String t = text.strip();
                if (!t.isEmpty() && seen.add(t)) docs.add(new Document(s, t));
            }
        }
        return docs;
    }

    private static List<String> texts(Path dataDir, String source) {
        return switch (source) {
            case "alpaca" -> alpaca(dataDir.resolve("alpaca"));
            case "reuters" -> reuters(dataDir.resolve("reuters-weka"));
            case "glue" -> {
                List<String> all = new ArrayList<>();
                for (String task : GLUE) all.addAll(taskTexts(Datasets.load(task, dataDir)));
                yield all;
            }
            default -> taskTexts(Datasets.load(source, dataDir));
        };
    }

    /** Both texts of every example, train then dev; HTML line breaks already replaced by the loaders that need it. */
    private static List<String> taskTexts(TaskData data) {
        List<String> out = new ArrayList<>();
        for (List<Example> part : List.of(data.train(), data.dev())) {
            for (Example e : part) {
                out.add(TextCleaner.replaceHtmlLineBreaks(e.textA()));
                if (e.textB() != null) out.add(TextCleaner.replaceHtmlLineBreaks(e.textB()));
            }
        }
        return out;
    }

    /** The Alpaca prompt layout (without the preamble sentence). */
    public static String alpacaText(String instruction, String input, String output) {
        StringBuilder b = new StringBuilder("### Instruction:\n").append(instruction.strip());
        if (input != null && !input.isBlank()) b.append("\n\n### Input:\n").append(input.strip());
        return b.append("\n\n### Response:\n").append(output.strip()).toString();
    }

    private static List<String> alpaca(Path dir) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        Path main = dir.resolve("alpaca_5000.json"), seeds = dir.resolve("seed_tasks.jsonl");
        try {
            JsonNode root = json.readTree(main.toFile());
            if (root == null || !root.isArray()) throw new DataFormatException(main, 1, "not a JSON array of records");
            for (JsonNode r : root) {
                out.add(alpacaText(r.path("instruction").asText(""), r.path("input").asText(""), r.path("output").asText("")));
            }
            List<String> lines = TextLines.readUtf8(seeds);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                JsonNode task;
                try {
                    task = json.readTree(lines.get(i));
                } catch (IOException e) {
                    throw new DataFormatException(seeds, i + 1, "not JSON: " + e.getMessage());
                }
                for (JsonNode inst : task.path("instances")) {
                    out.add(alpacaText(task.path("instruction").asText(""), inst.path("input").asText(""),
                            inst.path("output").asText("")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The news texts of the Reuters ARFF files (corn and grain share their texts, so corn's train and test suffice):
     * after {@code @data}, one {@code 'quoted text',label} per line with {@code \n}, {@code \'} and {@code \\} escapes.
     */
    static List<String> reuters(Path dir) {
        List<String> out = new ArrayList<>();
        for (String name : List.of("ReutersCorn-train.arff", "ReutersCorn-test.arff")) {
            Path file = dir.resolve(name);
            List<String> lines = TextLines.read(file, StandardCharsets.ISO_8859_1);
            boolean data = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (!data) {
                    data = line.trim().equalsIgnoreCase("@data");
                    continue;
                }
                if (line.isBlank()) continue;
                int end = line.lastIndexOf("',");
                if (!line.startsWith("'") || end < 1) throw new DataFormatException(file, i + 1, "not a 'text',label row");
                out.add(unescapeArff(line.substring(1, end)).replaceAll("\\s+", " "));
            }
        }
        return out;
    }

    private static String unescapeArff(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char next = s.charAt(++i);
                b.append(switch (next) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    default -> next;
                });
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    /**
     * Splits documents into training and held-out parts: a document is held out when a seeded 64-bit hash of its
     * text falls under {@code heldOutFraction}. Both parts are then shuffled with the seed.
     */
    public static Split split(List<Document> docs, double heldOutFraction, long seed) {
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("heldOutFraction must be in (0, 1), got " + heldOutFraction);
        }
        List<Document> train = new ArrayList<>(), held = new ArrayList<>();
        for (Document d : docs) (unit(hash(d.text(), seed)) < heldOutFraction ? held : train).add(d);
        Collections.shuffle(train, new Random(seed));
        Collections.shuffle(held, new Random(seed + 1));
        return new Split(train, held);
    }

    /** The first documents of each part up to maxChars of training text (and the held-out part in proportion). */
    public static Split cap(Split s, long maxChars, double heldOutFraction) {
        if (maxChars <= 0) return s;
        long heldChars = Math.max(1, Math.round(maxChars * heldOutFraction / (1 - heldOutFraction)));
        return new Split(prefix(s.train(), maxChars), prefix(s.heldOut(), heldChars));
    }

    private static List<Document> prefix(List<Document> docs, long maxChars) {
        List<Document> out = new ArrayList<>();
        long n = 0;
        for (Document d : docs) {
            if (n >= maxChars) break;
            out.add(d);
            n += d.text().length();
        }
        return out;
    }

    /** FNV-1a over the text's chars, seeded, then SplitMix64's finaliser. */
    static long hash(String text, long seed) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (int i = 0; i < text.length(); i++) h = (h ^ text.charAt(i)) * 0x100000001b3L;
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    private static double unit(long h) {
        return (h >>> 11) * 0x1.0p-53;
    }

    /** Writes documents as JSON lines {"source": …, "text": …}: the held-out prompts other commands read back. */
    public static void writeJsonLines(List<Document> docs, Path file) {
        ObjectMapper json = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        try {
            for (Document d : docs) {
                b.append(json.writeValueAsString(json.createObjectNode().put("source", d.source()).put("text", d.text()))).append('\n');
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads what {@link #writeJsonLines} wrote. */
    public static List<Document> readJsonLines(Path file) {
        ObjectMapper json = new ObjectMapper();
        List<Document> out = new ArrayList<>();
        List<String> lines = TextLines.readUtf8(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            try {
                JsonNode n = json.readTree(lines.get(i));
                out.add(new Document(n.path("source").asText(""), n.path("text").asText("")));
            } catch (IOException e) {
                throw new DataFormatException(file, i + 1, "not JSON: " + e.getMessage());
            }
        }
        return out;
    }
}

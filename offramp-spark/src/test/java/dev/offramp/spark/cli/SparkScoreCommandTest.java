package dev.offramp.spark.cli;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import dev.offramp.spark.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ./offramp spark-score end to end on the tiny model: TSV, CSV and JSON lines in, Parquet out with the input's
 * columns and the predictions, bad rows counted, accuracy against a gold column, and the summary line.
 */
class SparkScoreCommandTest {
    static final Pattern SUMMARY = Pattern.compile(
            "^summary: rows=(\\d+) rows_per_s=([\\d.]+) mean_exit_layer=([\\d.]+) layer_speedup=([\\d.]+) errors=(\\d+)$", Pattern.MULTILINE);

    @TempDir
    static Path tmp;
    static Path model;
    static Offramp library;
    static SparkSession spark;
    static List<String> texts;
    static List<String> gold;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SharedSpark.session();
        model = TinyModelFolder.write(tmp.resolve("tiny"));
        library = Offramp.load(model);
        texts = new ArrayList<>(TinyModelFolder.texts(60, 5));
        texts.set(7, "the \"best\" film, ever");  // quotes are text in a TSV
        gold = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            Prediction p = library.classify(texts.get(i));
            // right by name, right by index, and some wrong
            gold.add(i % 3 == 0 ? p.label() : i % 3 == 1 ? Integer.toString(p.labelIndex()) : TinyModelFolder.LABELS.get((p.labelIndex() + 1) % 3));
        }
        texts.add("");                                                        // an empty field
        texts.add(String.join(" ", Collections.nCopies(30, "film")));         // over the 24-token limit
        gold.add("red");
        gold.add("red");
    }

    @AfterAll
    static void tearDown() {
        library.close();
    }

    static Path tsv() throws Exception {
        StringBuilder sb = new StringBuilder("id\tgold\ttext\n");
        for (int i = 0; i < texts.size(); i++) sb.append(i).append('\t').append(gold.get(i)).append('\t').append(texts.get(i)).append('\n');
        return Files.writeString(tmp.resolve("in.tsv"), sb);
    }

    static Map<Integer, Row> byId(Dataset<Row> d) {
        Map<Integer, Row> m = new HashMap<>();
        for (Row r : d.collectAsList()) m.put(Integer.parseInt(r.getAs("id").toString()), r);
        return m;
    }

    @Test
    void scoresATsvIntoParquetAndSummarises() throws Exception {
        Path out = tmp.resolve("out-tsv");
        SparkCli.Outcome o = SparkCli.run("spark-score", "--model", model.toString(), "--input", tsv().toString(),
                "--output", out.toString(), "--label-column", "gold", "--partitions", "3", "--batch", "8");
        assertEquals(0, o.code(), o.err());
        Matcher m = SUMMARY.matcher(o.out());
        assertTrue(m.find(), o.out());
        assertEquals(62, Integer.parseInt(m.group(1)));
        assertEquals(2, Integer.parseInt(m.group(5)));
        double exitSum = 0;
        for (int i = 0; i < 60; i++) exitSum += library.classify(texts.get(i)).exitLayer();
        assertEquals(exitSum / 60, Double.parseDouble(m.group(3)), 1e-3, "mean exit layer of the scored rows");
        assertEquals(TinyModelFolder.LAYERS / (exitSum / 60), Double.parseDouble(m.group(4)), 1e-2);
        assertTrue(o.out().contains(String.format(Locale.ROOT, "accuracy %.4f on 60 labelled rows", 40 / 60.0)), o.out());
        assertTrue(o.out().contains("1 x no text (null or an empty field)"), "an empty TSV field is null: " + o.out());

        Dataset<Row> written = spark.read().parquet(out.toString());
        assertEquals(List.of("id", "gold", "text", "offramp_label", "offramp_probability", "offramp_exit_layer",
                "offramp_confidence", "offramp_error"), List.of(written.columns()));
        Map<Integer, Row> rows = byId(written);
        assertEquals(62, rows.size());
        assertEquals("the \"best\" film, ever", rows.get(7).getAs("text"));
        for (int i = 0; i < 60; i++) {
            Prediction p = library.classify(texts.get(i));
            assertEquals(p.label(), rows.get(i).getAs("offramp_label"), texts.get(i));
            assertEquals(p.exitLayer(), (int) rows.get(i).getAs("offramp_exit_layer"), texts.get(i));
        }
        assertTrue(rows.get(61).<String>getAs("offramp_error").contains("32 tokens"), rows.get(61).toString());

        SparkCli.Outcome again = SparkCli.run("spark-score", "--model", model.toString(), "--input", tsv().toString(),
                "--output", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--overwrite"), again.err());
    }

    @Test
    void csvAndJsonLinesGiveTheSamePredictions() throws Exception {
        StringBuilder csv = new StringBuilder("id,gold,text\n"), json = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            csv.append(i).append(',').append(gold.get(i)).append(",\"").append(texts.get(i).replace("\"", "\"\"")).append("\"\n");
            json.append("{\"id\": ").append(i).append(", \"gold\": \"").append(gold.get(i)).append("\", \"text\": \"")
                    .append(texts.get(i).replace("\"", "\\\"")).append("\"}\n");
        }
        Path csvFile = Files.writeString(tmp.resolve("in.csv"), csv), jsonFile = Files.writeString(tmp.resolve("in.jsonl"), json);
        Map<Integer, Row> want = null;
        for (Path in : List.of(tsv(), csvFile, jsonFile)) {
            Path out = tmp.resolve("out-" + in.getFileName());
            SparkCli.Outcome o = SparkCli.run("spark-score", "--model", model.toString(), "--input", in.toString(),
                    "--output", out.toString(), "--overwrite", "--prefix", "p", "--partitions", "2");
            assertEquals(0, o.code(), o.err());
            Map<Integer, Row> got = byId(spark.read().parquet(out.toString()));
            if (want == null) {
                want = got;
                continue;
            }
            for (int i = 0; i < texts.size(); i++) {
                if (texts.get(i).isEmpty()) {  // null in TSV and CSV, "" in JSON: an error either way
                    assertTrue(got.get(i).getAs("p_error") != null, in.toString());
                    continue;
                }
                assertEquals(want.get(i).<String>getAs("text"), got.get(i).<String>getAs("text"), in.toString());
                assertEquals(want.get(i).<String>getAs("p_label"), got.get(i).<String>getAs("p_label"), in + " row " + i);
                assertEquals(want.get(i).<Object>getAs("p_exit_layer"), got.get(i).<Object>getAs("p_exit_layer"), in + " row " + i);
                assertEquals(want.get(i).<String>getAs("p_error"), got.get(i).<String>getAs("p_error"), in + " row " + i);
            }
        }
    }

    @Test
    void inputMistakesNameTheProblem() throws Exception {
        SparkCli.Outcome col = SparkCli.run("spark-score", "--model", model.toString(), "--input", tsv().toString(),
                "--output", tmp.resolve("x").toString(), "--text-column", "body");
        assertEquals(2, col.code());
        assertTrue(col.err().contains("no column 'body'"), col.err());
        Path odd = Files.writeString(tmp.resolve("in.txt"), "text\nhello\n");
        SparkCli.Outcome fmt = SparkCli.run("spark-score", "--model", model.toString(), "--input", odd.toString(),
                "--output", tmp.resolve("y").toString());
        assertEquals(2, fmt.code());
        assertTrue(fmt.err().contains("--format"), fmt.err());
    }
}

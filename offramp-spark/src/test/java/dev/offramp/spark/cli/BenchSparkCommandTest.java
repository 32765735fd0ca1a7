package dev.offramp.spark.cli;

import dev.offramp.spark.MiniLmModel;
import dev.offramp.spark.SharedSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./offramp bench spark on a few rows: all four runs happen and the summary line has the form. */
class BenchSparkCommandTest {
    static final Pattern SUMMARY = Pattern.compile("^summary: rows=(\\d+) rows_per_s=([\\d.]+) full_depth_rows_per_s=([\\d.]+)"
            + " onnxruntime_rows_per_s=([\\d.]+) single_jvm_rows_per_s=([\\d.]+) errors=(\\d+)$", Pattern.MULTILINE);

    @Test
    void fourRunsAndTheSummaryLine(@TempDir Path tmp) throws Exception {
        SharedSpark.session();
        Path model = MiniLmModel.write(tmp.resolve("minilm"));
        StringBuilder json = new StringBuilder();
        String[] words = {"a gorgeous, witty movie", "boilerplate clichés", "a charming journey", "bleak and desperate"};
        for (int i = 0; i < 40; i++) {
            json.append("{\"id\": ").append(i).append(", \"label\": ").append(i % 2).append(", \"review\": \"")
                    .append(words[i % 4]).append(" number ").append(i).append("\"}\n");
        }
        Path in = Files.writeString(tmp.resolve("reviews.json"), json);
        SparkCli.Outcome o = SparkCli.run("bench", "spark", "--model", model.toString(), "--input", in.toString(),
                "--text-column", "review", "--label-column", "label", "--policy", "max-prob", "--partitions", "4",
                "--batch", "8", "--warmup-rows", "8");
        assertEquals(0, o.code(), o.err());
        Matcher m = SUMMARY.matcher(o.out());
        assertTrue(m.find(), o.out());
        assertEquals(40, Integer.parseInt(m.group(1)));
        for (int g = 2; g <= 5; g++) assertTrue(Double.parseDouble(m.group(g)) > 0, "rate " + g + ": " + o.out());
        assertEquals(0, Integer.parseInt(m.group(6)));
        assertTrue(o.out().contains("early exit vs ONNX Runtime in Spark"), o.out());
        assertTrue(o.out().contains("accuracy: early exit"), o.out());
        assertTrue(o.out().contains("single JVM early exit"), o.out());
        // the full-depth runs (Offramp and ONNX Runtime) exit at the last layer; their accuracies agree (frozen backbone)
        Matcher full = Pattern.compile("^spark full depth\\s+40\\s+\\S+\\s+\\S+\\s+6\\.000\\s+(\\S+)", Pattern.MULTILINE).matcher(o.out());
        Matcher ort = Pattern.compile("^spark onnxruntime\\s+40\\s+\\S+\\s+\\S+\\s+6\\.000\\s+(\\S+)", Pattern.MULTILINE).matcher(o.out());
        assertTrue(full.find() && ort.find(), o.out());
        assertEquals(full.group(1), ort.group(1), o.out());
    }
}

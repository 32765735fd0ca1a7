package dev.offramp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --data DIR --text-column C --label-column L}: any labelled TSV folder is a task; the model keeps the
 * folder's description and a later command ({@code exits}) reloads the same splits from it, with no task registry.
 */
class TrainOnTsvFolderTest {

    @Test
    void trainsOnAFolderAndLaterCommandsReloadItsSplits(@TempDir Path tmp) throws Exception {
        Path data = reviews(tmp);
        Path out = tmp.resolve("model");

        CliInputErrorsTest.Outcome train = CliInputErrorsTest.run("train", "--data", data.toString(), "--text-column", "body",
                "--label-column", "stars", "--label-names", "negative,positive", "--clean", "html", "--dev-fraction", "0.25",
                "--model", "all-minilm-l6-v2", "--max-length", "32", "--epochs", "2", "--batch", "8",
                "--cache-dir", tmp.resolve("cache").toString(), "--out", out.toString());
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("summary: task=reviews mode=frozen"), train.out());

        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("reviews", config.at("/task/name").asText());
        assertEquals("positive", config.at("/task/labels/1").asText());
        JsonNode spec = config.at("/training/options/data");
        assertEquals("body", spec.get("text_column").asText());
        assertEquals("html", spec.get("clean").asText());
        assertEquals(0.25, spec.get("dev_fraction").asDouble());

        CliInputErrorsTest.Outcome exits = CliInputErrorsTest.run("exits", "--model", out.toString());
        assertEquals(0, exits.code(), exits.err());
        assertTrue(exits.out().contains("summary: task=reviews final_metric="), exits.out());

        CliInputErrorsTest.Outcome missing = CliInputErrorsTest.run("train", "--data", data.toString(), "--out", out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--text-column and --label-column"), missing.err());
    }

    /**
     * {@code --mode two-stage}: the backbone is fine-tuned with the last exit, then the early exits train on its
     * features; the folder holds a fine-tuned backbone with one pooler per exit, and a rerun finds stage 1 done.
     */
    @Test
    void twoStageModeSavesAFineTunedModelAndResumesAtStageTwo(@TempDir Path tmp) throws Exception {
        Path data = reviews(tmp), out = tmp.resolve("model");
        String[] args = {"train", "--data", data.toString(), "--text-column", "body", "--label-column", "stars",
                "--dev-fraction", "0.25", "--model", "all-minilm-l6-v2", "--mode", "two-stage", "--max-length", "32",
                "--epochs", "1", "--exits-epochs", "2", "--batch", "8", "--cache-dir", tmp.resolve("cache").toString(),
                "--out", out.toString()};
        CliInputErrorsTest.Outcome train = CliInputErrorsTest.run(args);
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("summary: task=reviews mode=two-stage"), train.out());
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("two-stage", config.at("/training/mode").asText());
        assertEquals(2, config.at("/training/options/stage2_epochs").asInt());
        assertEquals(6, config.at("/training/dev_metrics").size(), config.toString());
        assertTrue(Files.isRegularFile(out.resolve("checkpoint").resolve("stage-1").resolve("config.json")));
        dev.offramp.exits.MultiExitModel m = dev.offramp.exits.MultiExitModel.load(out);
        assertTrue(m.fineTunedBackbone() != null, "two-stage saves its fine-tuned backbone");
        assertEquals(false, m.layout().sharedPooler());

        // the progress log goes to System.err, outside picocli's error writer
        Files.delete(out.resolve("config.json"));
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        CliInputErrorsTest.Outcome again;
        try {
            System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
            again = CliInputErrorsTest.run(args);
        } finally {
            System.setErr(oldErr);
        }
        assertEquals(0, again.code(), again.err());
        String progress = log.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(progress.contains("stage 1 already done"), progress);
        assertTrue(!progress.contains("joint epoch"), "stage 1 ran again: " + progress);

        CliInputErrorsTest.Outcome unknown = CliInputErrorsTest.run("train", "--task", "sst2", "--mode", "three-stage",
                "--out", tmp.resolve("x").toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("two-stage"), unknown.err());
    }

    /** A small labelled TSV folder: 48 reviews, star ratings 1 and 5, one with HTML line breaks. */
    private static Path reviews(Path tmp) throws java.io.IOException {
        Path data = Files.createDirectories(tmp.resolve("reviews"));
        StringBuilder sb = new StringBuilder("id\tstars\tbody\n");
        String[] good = {"a wonderful, moving film", "great acting and a lovely story", "I loved every minute"};
        String[] bad = {"a dull, boring mess", "terrible acting<br /><br />and a silly plot", "I hated every minute"};
        for (int i = 0; i < 48; i++) {
            boolean pos = i % 2 == 0;
            sb.append("r").append(i).append('\t').append(pos ? "5" : "1").append('\t')
                    .append((pos ? good : bad)[i % 3]).append(" (").append(i).append(")\n");
        }
        Files.writeString(data.resolve("train.tsv"), sb);
        return data;
    }
}

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
}

package dev.offramp.cli;

import dev.offramp.lm.LmTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** train-lm on the command line: its defaults are the library's, a tiny run ends with its summary and a folder. */
class TrainLmCommandTest {
    @Test
    void defaultsAreTheLibrarysDefaults() {
        TrainLmCommand cmd = new TrainLmCommand();
        new CommandLine(cmd).parseArgs("--out", "x");
        assertEquals(LmTrainer.Options.defaults(), cmd.options());
    }

    @Test
    void aTinyRunSavesAFolderAndPrintsItsSummary(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("lm");
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("train-lm", "--out", out.toString(), "--layers", "2",
                "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--ffn", "64", "--vocab", "400", "--seq", "32",
                "--batch", "4", "--steps", "6", "--warmup", "2", "--eval-windows", "8", "--checkpoint-every", "4",
                "--sources", "alpaca", "--max-chars", "60000", "--held-out", "0.05", "--bpe-sample-chars", "60000");
        assertEquals(0, o.code(), o.err());
        String last = Arrays.asList(o.out().strip().split("\n")).getLast();
        assertTrue(last.startsWith("summary: steps=6 params="), o.out());
        assertTrue(last.contains(" ppl_per_exit=") && last.contains(" unigram_ppl="), last);
        for (String f : new String[]{"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"torch_dtype\" : \"float16\""));
        o = CliInputErrorsTest.run("train-lm", "--out", out.toString(), "--dtype", "f8");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown --dtype 'f8'"), o.err());
    }
}

package dev.offramp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** train-lm-policy, generate and eval-gen on a folder train-lm just wrote. */
class GenerationCommandsTest {
    static final Pattern SUMMARY = Pattern.compile("summary: policy=top-margin tokens_per_s=[0-9.]+ full_tokens_per_s=[0-9.]+"
            + " speedup=[0-9.]+ mean_exit_layer=[0-9.]+ rougeL_vs_full=[0-9.]+ ppl=[0-9.]+ full_ppl=[0-9.]+");

    @Test
    void policyGenerateAndEvalGenOnATrainLmFolder(@TempDir Path dir) throws Exception {
        Path lm = dir.resolve("lm");
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("train-lm", "--out", lm.toString(), "--layers", "3",
                "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--ffn", "64", "--vocab", "400", "--seq", "64",
                "--batch", "4", "--steps", "30", "--warmup", "2", "--eval-windows", "8", "--checkpoint-every", "100",
                "--sources", "alpaca", "--max-chars", "120000", "--held-out", "0.1", "--bpe-sample-chars", "60000", "--dtype", "f32");
        assertEquals(0, o.code(), o.err());

        o = CliInputErrorsTest.run("generate", "--model", lm.toString(), "--policy", "consistentee", "hi");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("train-lm-policy"), o.err());

        o = CliInputErrorsTest.run("train-lm-policy", "--model", lm.toString(), "--positions", "300", "--epochs", "2");
        assertEquals(0, o.code(), o.err());
        assertTrue(Files.isRegularFile(lm.resolve("exit-policy.json")));
        assertTrue(o.out().contains("policy epoch 2"), o.out());

        o = CliInputErrorsTest.run("generate", "--model", lm.toString(), "--policy", "static", "--threshold", "1",
                "--show-exits", "--max-tokens", "8", "### Instruction:\\nName a color.");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("⟨1⟩") && o.out().contains("⟨3⟩"), "the first token runs every layer, the rest exit at 1: " + o.out());
        assertTrue(o.out().contains("mean exit layer"), o.out());

        o = CliInputErrorsTest.run("generate", "--model", lm.toString(), "--policy", "consistentee", "--max-tokens", "4", "The");
        assertEquals(0, o.code(), o.err());

        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "top-margin", "--prompts", "3",
                "--prompt-tokens", "8", "--max-tokens", "8", "--calibration-prompts", "3", "--ppl-docs", "3", "--ppl-tokens", "32");
        assertEquals(0, o.code(), o.err());
        String last = Arrays.asList(o.out().strip().split("\n")).getLast();
        assertTrue(SUMMARY.matcher(last).matches(), o.out());
        assertTrue(o.out().contains("calibrated top-margin") || o.out().contains("no top-margin knob"), o.out());

        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "top-margin", "--prompts", "3",
                "--prompt-tokens", "8", "--max-tokens", "8", "--calibration-prompts", "3", "--ppl-docs", "3", "--ppl-tokens", "32",
                "--agreement", "tokens", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("tokens agreement"), o.out());
        // --compare-kv: one row per KV mode. With every generated token leaving at layer 2 of 3, no token ever reads
        // layer 3's keys and values, so how a skipped layer gets them cannot change the output: the rows must agree.
        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "static", "--threshold", "2",
                "--prompts", "3", "--prompt-tokens", "8", "--max-tokens", "8", "--ppl-docs", "3", "--ppl-tokens", "32",
                "--repeats", "1", "--compare-kv");
        assertEquals(0, o.code(), o.err());
        List<String> rows = o.out().lines().filter(l -> l.matches("  (propagate|propagate-no-norm|exact) .*")).toList();
        assertEquals(3, rows.size(), o.out());
        List<String> first = Arrays.asList(rows.getFirst().trim().split(" +")).subList(1, 5);  // ppl, ROUGE-L, match, layer
        for (String row : rows) assertEquals(first, Arrays.asList(row.trim().split(" +")).subList(1, 5), o.out());
        assertTrue(o.out().strip().lines().toList().getLast().startsWith("summary: policy=static "), o.out());

        // speculative: the draft layer is calibrated for speed, and the output is full depth's whatever it is
        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "speculative", "--draft-rows", "2",
                "--prompts", "3", "--prompt-tokens", "8", "--max-tokens", "8", "--calibration-prompts", "3", "--ppl-docs", "3",
                "--ppl-tokens", "32", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("calibrated speculative: draft layer ") && o.out().contains(", 2 rows"), o.out());
        assertTrue(o.out().contains(" tokens per verification"), o.out());
        last = o.out().strip().lines().toList().getLast();
        assertTrue(SUMMARY.matcher(last.replace("policy=speculative", "policy=top-margin")).matches()
                && last.startsWith("summary: policy=speculative ") && last.contains("rougeL_vs_full=1.0000") && last.contains("mean_exit_layer=3.000"), last);
        // a draft adapter for exit 2, then speculative decoding drafting there uses it
        o = CliInputErrorsTest.run("train-lm-draft", "--model", lm.toString(), "--layer", "2", "--prompts", "6",
                "--new-tokens", "8", "--epochs", "1", "--batch", "16");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().lines().anyMatch(l -> l.matches("summary: layer=2 agreement_before=[0-9.]+ agreement_after=[0-9.]+"
                + " positions=48 kept_aside=8")), o.out());
        assertTrue(Files.isRegularFile(lm.resolve("draft-adapter.safetensors")));
        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "speculative", "--threshold", "2",
                "--prompts", "2", "--prompt-tokens", "8", "--max-tokens", "8", "--ppl-docs", "2", "--ppl-tokens", "16", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("speculative(draft_layer=2, rows=4, draft adapter)"), o.out());
        assertTrue(o.out().strip().lines().toList().getLast().contains("rougeL_vs_full=1.0000"), o.out());
        o = CliInputErrorsTest.run("train-lm-draft", "--model", lm.toString(), "--layer", "3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("the draft layer must be in 1..2, got 3"), o.err());
        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "speculative", "--threshold", "3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("the draft exit layer must be a whole layer below the model's 3 layers, got 3"), o.err());

        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "top-margin", "--agreement", "bleu");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown agreement measure 'bleu'"), o.err());

        Path report = dir.resolve("report-gen");
        o = CliInputErrorsTest.run("report-gen", "--model", lm.toString(), "--out", report.toString(), "--prompts", "3",
                "--prompt-tokens", "8", "--max-tokens", "8", "--calibration-prompts", "3", "--ppl-docs", "3",
                "--ppl-tokens", "32", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        String html = Files.readString(report.resolve("index.html"));
        for (String c : new String[]{"top-prob (CALM)", "saturation (CALM)", "ConsistentEE policy", "static", "oracle",
                "self-speculative (exit drafts)", "draft layer 2 + adapter"}) {
            assertTrue(html.contains(c), c + " missing from the page");
        }
        for (String png : new String[]{"tradeoff-layers.png", "tradeoff-wallclock.png", "per-exit.png"}) {
            assertTrue(Files.size(report.resolve(png)) > 1000, png);
        }
        long summaries = o.out().lines().filter(l -> l.startsWith("summary: policy=")).count();
        assertEquals(7, summaries, o.out());
        // speculative decoding emits full depth's tokens at every draft layer; the folder's adapter (exit 2) picks its layer
        assertTrue(o.out().lines().anyMatch(l -> l.startsWith("summary: policy=speculative setting=2 calibrated=true ")
                && l.contains("rougeL_vs_full=1.0000")), o.out());
        // summary lines name each criterion by the id --policy takes, and its knob as a plain number
        for (String id : new String[]{"top-prob", "top-margin", "saturation", "consistentee", "static"}) {
            assertTrue(o.out().lines().anyMatch(l -> l.matches("summary: policy=" + id + " setting=[0-9.]+ calibrated=(true|false) .*")),
                    id + ": " + o.out());
        }
        // the oracle exits each token where its greedy token is full depth's, so it reproduces full-depth output
        assertTrue(o.out().lines().anyMatch(l -> l.startsWith("summary: policy=oracle ") && l.contains("rougeL_vs_full=1.0000")),
                o.out());

        o = CliInputErrorsTest.run("eval-gen", "--model", lm.toString(), "--policy", "entropy");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown token exit criterion 'entropy'"), o.err());
    }
}

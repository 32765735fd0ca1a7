package dev.offramp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gives exit code 2 and one line that names the problem; good input runs. */
class CliInputErrorsTest {
    record Outcome(int code, String out, String err) {}

    static synchronized Outcome run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cl.execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    private static void assertFails(Outcome o, String... fragments) {
        assertEquals(2, o.code(), "exit code; stderr: " + o.err());
        for (String f : fragments) assertTrue(o.err().contains(f), "stderr should mention '" + f + "': " + o.err());
        assertTrue(!o.err().contains("\tat "), "no stack trace expected: " + o.err());
    }

    @Test
    void emptyText() {
        assertFails(run("encode", ""), "argument 1", "empty text");
        assertFails(run("encode", "   \t "), "empty text");
    }

    @Test
    void textLongerThanTheModelAccepts() {
        String longText = "word ".repeat(600);
        assertFails(run("encode", longText), "602 tokens", "at most 512", "--truncate");
        Outcome ok = run("encode", "--truncate", longText);
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("tokens=512"), ok.out());
    }

    @Test
    void nonUtf8File(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.txt");
        Files.write(f, new byte[] {'o', 'k', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        assertFails(run("encode", "--input", f.toString()), "bad.txt", "UTF-8", "byte offset 3");
    }

    @Test
    void missingFiles(@TempDir Path dir) {
        assertFails(run("encode", "--input", dir.resolve("nope.txt").toString()), "input file not found", "nope.txt");
        assertFails(run("encode", "--model", dir.resolve("no-model").toString(), "hi"), "unknown model", "no-model");
        assertFails(run("encode", "--model", "bert-huge", "hi"), "unknown model 'bert-huge'", "bge-small-en-v1.5");
    }

    @Test
    void brokenModelFile(@TempDir Path dir) throws Exception {
        Path onnx = dir.resolve("model.onnx");
        Files.write(onnx, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Outcome o = run("encode", "--model", onnx.toString(), "hi");
        assertFails(o, "model.onnx");
    }

    @Test
    void goodInputRunsAndPairsWork() {
        Outcome o = run("encode", "--pair", "A man is playing a guitar.", "Someone plays music.");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("summary: inputs=1"), o.out());
        assertFails(run("encode", "--pair", "only one"), "even number");
    }

    @Test
    void verifyAgainstOnnxRuntime() {
        Outcome o = run("verify", "--model", "all-minilm-l6-v2", "--sentences", "8");
        assertEquals(0, o.code(), o.err() + o.out());
        String last = o.out().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("summary: max_rel_err="), last);
        double err = Double.parseDouble(last.replaceAll(".*max_rel_err=([^ ]+).*", "$1"));
        assertTrue(err <= 1e-4, "max relative error " + err);
    }

    @Test
    void serveOptionsAreChecked(@TempDir Path dir) throws Exception {
        assertFails(run("serve", "--model", dir.toString(), "--engine", "tensorrt"), "unknown engine 'tensorrt'", "onnxruntime");
        assertFails(run("serve", "--model", dir.toString(), "--batcher", "greedy"), "unknown batcher 'greedy'");
        assertFails(run("serve", "--model", dir.toString(), "--port", "70000"), "port must be 0..65535");
        assertFails(run("serve", "--model", dir.toString(), "--queue-capacity", "0"), "queue-capacity must be > 0");
        assertFails(run("serve", "--model", dir.toString(), "--api-key-file", dir.resolve("nope").toString()), "API key file not found");
        Files.writeString(dir.resolve("empty-key"), "\n");
        assertFails(run("serve", "--model", dir.toString(), "--api-key-file", dir.resolve("empty-key").toString()), "is empty");
        assertFails(run("serve", "--model", dir.resolve("no-model").toString(), "--port", "0"), "no-model");
        assertFails(run("bench", "serve", "--model", dir.toString(), "--servers", "early-exit,triton"), "unknown server 'triton'");
    }
}

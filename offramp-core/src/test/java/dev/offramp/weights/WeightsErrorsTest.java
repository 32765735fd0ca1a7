package dev.offramp.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Every way a model can fail to load ends in an exception whose message names the file and the problem. */
class WeightsErrorsTest {
    @TempDir
    Path tmp;

    private static String failure(String nameOrPath) {
        return assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(nameOrPath)).getMessage();
    }

    @Test
    void unknownNameListsKnownNamesAndMentionsFolders() {
        String msg = failure("bert-huge-unknown");
        assertTrue(msg.contains("bert-huge-unknown"), msg);
        assertTrue(msg.contains("bge-small-en-v1.5") && msg.contains("all-minilm-l6-v2"), msg);
        assertTrue(msg.contains("folder"), msg);
    }

    @Test
    void missingOnnxFile() {
        Path p = tmp.resolve("nothing.onnx");
        String msg = failure(p.toString());
        assertTrue(msg.contains("file not found") && msg.contains(p.toString()), msg);
    }

    @Test
    void folderWithoutWeights() throws IOException {
        HuggingFaceFolderWriter.write(HuggingFaceFolderRoundTripTest.random(HuggingFaceFolderRoundTripTest.TINY, false, 9), tmp);
        Files.delete(tmp.resolve("model.safetensors"));
        String msg = failure(tmp.toString());
        assertTrue(msg.contains("file not found") && msg.contains("model.safetensors"), msg);
    }

    @Test
    void folderWithoutConfig() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        String msg = failure(dir.toString());
        assertTrue(msg.contains("config.json"), msg);
    }

    @Test
    void truncatedSafetensors() throws IOException {
        HuggingFaceFolderWriter.write(HuggingFaceFolderRoundTripTest.random(HuggingFaceFolderRoundTripTest.TINY, true, 8), tmp);
        Path st = tmp.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        Files.write(st, Arrays.copyOf(all, all.length / 2)); // data cut short
        String msg = failure(tmp.toString());
        assertTrue(msg.contains("truncated") && msg.contains(st.toString()), msg);
        Files.write(st, Arrays.copyOf(all, 100)); // header cut short
        msg = failure(tmp.toString());
        assertTrue(msg.contains("truncated") && msg.contains("header says"), msg);
        Files.write(st, Arrays.copyOf(all, 5)); // not even the length
        msg = failure(tmp.toString());
        assertTrue(msg.contains("truncated") && msg.contains("5 bytes"), msg);
    }

    @Test
    void garbageSafetensorsHeader() throws IOException {
        HuggingFaceFolderWriter.write(HuggingFaceFolderRoundTripTest.random(HuggingFaceFolderRoundTripTest.TINY, false, 7), tmp);
        Path st = tmp.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        all[8] = 'x'; // header no longer starts with '{'
        Files.write(st, all);
        String msg = failure(tmp.toString());
        assertTrue(msg.contains("not a safetensors file") && msg.contains("JSON"), msg);
    }

    @Test
    void shapeMismatchNamesTheTensor() throws IOException {
        HuggingFaceFolderWriter.write(HuggingFaceFolderRoundTripTest.random(HuggingFaceFolderRoundTripTest.TINY, false, 6), tmp);
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"intermediate_size\" : 16", "\"intermediate_size\" : 32"));
        String msg = failure(tmp.toString());
        assertTrue(msg.contains("encoder.layer.0.intermediate.dense.weight") && msg.contains("[16, 8]"), msg);
    }

    @Test
    void garbageBytesAsOnnx() throws IOException {
        byte[] junk = new byte[4096];
        new Random(42).nextBytes(junk);
        Path p = Files.write(tmp.resolve("junk.onnx"), junk);
        Files.writeString(tmp.resolve("tokenizer.json"), "{}");
        String msg = failure(p.toString());
        assertTrue(msg.contains("not an ONNX model") && msg.contains(p.toString()), msg);

        Files.write(p, new byte[0]);
        msg = failure(p.toString());
        assertTrue(msg.contains("not an ONNX model") && msg.contains("empty"), msg);

        Files.writeString(p, "this is a text file, not a model\n");
        msg = failure(p.toString());
        assertTrue(msg.contains("not an ONNX model"), msg);
    }

    @Test
    void truncatedRealOnnx() throws IOException {
        Path p = tmp.resolve("cut.onnx");
        try (var in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            Files.write(p, in.readNBytes(1 << 20));
        }
        Files.writeString(tmp.resolve("tokenizer.json"), "{}");
        String msg = failure(p.toString());
        assertTrue(msg.contains("not an ONNX model") && msg.contains("truncated") && msg.contains(p.toString()), msg);
    }

    @Test
    void onnxWithoutTokenizer() throws IOException {
        Path p = Files.write(tmp.resolve("model.onnx"), new byte[]{8, 7});
        String msg = failure(p.toString());
        assertTrue(msg.contains("tokenizer"), msg);
    }
}

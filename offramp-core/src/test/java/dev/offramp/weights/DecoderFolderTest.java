package dev.offramp.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Decoder folders: written and read back in every dtype and shard layout with identical tensors, and every kind of
 * broken or unsupported folder refused with a message that names the problem.
 */
class DecoderFolderTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path golden(String name) {
        try {
            return Path.of(DecoderFolderTest.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertSameTensors(DecoderWeights a, DecoderWeights b) {
        List<DecoderFolderWriter.Tensor> ta = DecoderFolderWriter.tensors(a), tb = DecoderFolderWriter.tensors(b);
        assertEquals(ta.size(), tb.size());
        for (int i = 0; i < ta.size(); i++) {
            assertEquals(ta.get(i).name(), tb.get(i).name());
            assertArrayEquals(ta.get(i).data(), tb.get(i).data(), ta.get(i).name());
        }
        assertEquals(a.config, b.config);
    }

    @Test
    void roundTripsInEveryLayout(@TempDir Path tmp) throws IOException {
        for (String name : List.of("tiny-llama", "tiny-qwen2")) {
            PretrainedDecoder m = DecoderFolderLoader.load(golden(name));
            // F16 and BF16 values survive F32, and the committed dtype itself, exactly
            SafetensorsWriter.Dtype own = name.equals("tiny-llama") ? SafetensorsWriter.Dtype.F16 : SafetensorsWriter.Dtype.BF16;
            for (SafetensorsWriter.Dtype dtype : List.of(SafetensorsWriter.Dtype.F32, own)) {
                for (int shards : new int[]{1, 3}) {
                    Path dir = tmp.resolve(name + "-" + dtype + "-" + shards);
                    DecoderFolderWriter.write(m.weights(), m.tokenizerJson(), dir, dtype, shards);
                    PretrainedDecoder back = DecoderFolderLoader.load(dir);
                    assertSameTensors(m.weights(), back.weights());
                    assertEquals(shards == 1, Files.exists(dir.resolve("model.safetensors")));
                    assertEquals(shards == 3, Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
                    assertEquals(m.newTokenizer().vocabSize(), back.newTokenizer().vocabSize());
                }
            }
            // writing over a sharded folder with one file leaves no stale shard behind
            Path dir = tmp.resolve(name + "-F32-3");
            DecoderFolderWriter.write(m.weights(), null, dir, SafetensorsWriter.Dtype.F32, 1);
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(0, files.filter(f -> f.getFileName().toString().startsWith("model-")).count());
            }
            assertSameTensors(m.weights(), DecoderFolderLoader.load(dir).weights());
        }
    }

    @Test
    void halfPrecisionRoundsToNearestEven(@TempDir Path tmp) {
        float[] values = {1f, 1 + 0x1p-8f, 1 + 0x1p-8f + 0x1p-20f, 1 + 3 * 0x1p-8f, -2.5f, 65520f, 1e-8f,
                Float.POSITIVE_INFINITY, Float.NaN};
        // bf16 keeps 8 bits of mantissa: 1 + 2^-8 is a tie → even (1), a hair above rounds up, 1 + 3·2^-8 → 1 + 2^-6
        float[] bf16 = {1f, 1f, 1 + 0x1p-7f, 1 + 0x1p-6f, -2.5f, 65536f};
        Path file = tmp.resolve("t.safetensors");
        new SafetensorsWriter().add("bf", SafetensorsWriter.Dtype.BF16, values, values.length)
                .add("f16", SafetensorsWriter.Dtype.F16, values, values.length).write(file);
        SafetensorsReader r = SafetensorsReader.open(file);
        assertEquals("BF16", r.entry("bf").dtype());
        float[] got = r.floats("bf");
        for (int i = 0; i < 6; i++) assertEquals(bf16[i], got[i], "bf16 of " + values[i]);
        assertEquals(1e-8f, got[6], 1e-8f * 0x1p-8f, "bf16 keeps the exponent of small values, within half an ulp");
        assertTrue(Float.isNaN(got[8]) && Float.isInfinite(got[7]));
        float[] f16 = r.floats("f16");
        for (int i = 0; i < values.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), f16[i]);
        assertEquals(Float.POSITIVE_INFINITY, f16[5], "65520 is past the largest half (65504) after rounding");
    }

    /** A copy of tiny-llama with config.json edited. */
    private static Path withConfig(Path tmp, Consumer<ObjectNode> edit) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "broken");
        try (Stream<Path> files = Files.list(golden("tiny-llama"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(c);
        JSON.writeValue(dir.resolve("config.json").toFile(), c);
        return dir;
    }

    private static void assertRefused(Path dir, String... phrases) {
        String m = assertThrows(IllegalArgumentException.class, () -> DecoderFolderLoader.load(dir)).getMessage();
        for (String p : phrases) assertTrue(m.contains(p), "message '" + m + "' should contain '" + p + "'");
    }

    @Test
    void unsupportedConfigsAreNamed(@TempDir Path tmp) throws IOException {
        assertRefused(withConfig(tmp, c -> c.put("model_type", "gpt2")), "model_type 'gpt2'", "llama, qwen2");
        assertRefused(withConfig(tmp, c -> c.put("model_type", "mistral")), "'mistral'");
        assertRefused(withConfig(tmp, c -> c.put("hidden_act", "gelu")), "hidden_act 'gelu'");
        assertRefused(withConfig(tmp, c -> ((ObjectNode) c.get("rope_scaling")).put("rope_type", "yarn")), "'yarn'");
        assertRefused(withConfig(tmp, c -> c.put("attention_bias", true)), "attention_bias");
        assertRefused(withConfig(tmp, c -> c.put("num_key_value_heads", 3)), "not a multiple of num_key_value_heads 3");
        assertRefused(withConfig(tmp, c -> c.remove("hidden_size")), "'hidden_size'");
    }

    @Test
    void brokenWeightsAreNamed(@TempDir Path tmp) throws IOException {
        assertRefused(withConfig(tmp, c -> c.put("intermediate_size", 100)), "model.layers.0.mlp.gate_proj.weight",
                "[112, 64]", "[100, 64]");
        assertRefused(withConfig(tmp, c -> c.put("num_hidden_layers", 1)), "more layers than num_hidden_layers = 1");
        assertRefused(withConfig(tmp, c -> c.put("num_hidden_layers", 3)), "no tensor 'model.layers.2.input_layernorm.weight'");
        assertRefused(withConfig(tmp, c -> c.put("tie_word_embeddings", true).put("model_type", "qwen2")),
                "q_proj.bias");   // a qwen2 config expects q/k/v biases this checkpoint lacks

        Path noShard = withConfig(tmp, c -> { });
        Files.delete(noShard.resolve("model-00002-of-00002.safetensors"));
        assertRefused(noShard, "model-00002-of-00002.safetensors", "a shard listed by");

        Path wrongIndex = withConfig(tmp, c -> { });
        String index = Files.readString(wrongIndex.resolve("model.safetensors.index.json"));
        Files.writeString(wrongIndex.resolve("model.safetensors.index.json"),
                index.replace("\"lm_head.weight\" : \"model-00002-of-00002", "\"lm_head.weight\" : \"model-00001-of-00002"));
        assertRefused(wrongIndex, "'lm_head.weight' is in model-00001-of-00002.safetensors", "no such tensor");

        Path noWeights = withConfig(tmp, c -> { });
        Files.delete(noWeights.resolve("model.safetensors.index.json"));
        assertRefused(noWeights, "model.safetensors", "model.safetensors.index.json");

        Path untiedWithoutHead = withConfig(tmp, c -> { });
        Files.writeString(untiedWithoutHead.resolve("model.safetensors.index.json"),
                index.replace(",\n    \"lm_head.weight\" : \"model-00002-of-00002.safetensors\"", ""));
        assertRefused(untiedWithoutHead, "no tensor 'lm_head.weight'", "tie_word_embeddings = false");
    }

    @Test
    void aTiedHeadIsTheEmbeddingTable() {
        DecoderWeights w = DecoderFolderLoader.load(golden("tiny-qwen2")).weights();
        assertNull(w.lmHead);
        float[] head = w.lmHeadInOut();
        int v = w.config.vocabSize(), c = w.config.hidden();
        for (int id : new int[]{0, 17, v - 1}) {
            for (int j = 0; j < c; j++) assertEquals(w.tokenEmbeddings[id * c + j], head[j * v + id]);
        }
    }
}

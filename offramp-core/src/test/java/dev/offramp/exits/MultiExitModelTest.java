package dev.offramp.exits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MultiExitModelTest {
    @TempDir
    Path tmp;

    private static MultiExitModel fineTuned(BertWeights w) {
        ExitTask task = ExitTask.classification("sst2", List.of("negative", "positive"));
        BertConfig c = w.config;
        ExitHeads heads = ExitHeads.create(c.hidden(), c.layers(), 2, ExitLayout.DEFAULT, w, 5);
        TinyBert.randomise(heads, 0.3f, 9);
        ObjectNode opts = new ObjectMapper().createObjectNode().put("batch_size", 32);
        TrainingRecord rec = new TrainingRecord("joint", 3, 2e-5, 42, 12.5, "accuracy", new double[]{0.5, 0.7, 0.9}, opts);
        ObjectNode criteria = new ObjectMapper().createObjectNode().put("method", "beem");
        criteria.putArray("alpha").add(0.8).add(1.2);
        return new MultiExitModel("bge-small-en-v1.5", task, heads, w, rec, criteria);
    }

    @Test
    void saveLoadRoundTripGivesIdenticalOutputs() throws IOException {
        BertWeights w = TinyBert.weights(TinyBert.config(), 1, true);
        MultiExitModel m = fineTuned(w);
        Path dir = tmp.resolve("model");
        m.save(dir);
        MultiExitModel back = MultiExitModel.load(dir);

        assertEquals("bge-small-en-v1.5", back.backbone());
        assertEquals(m.task(), back.task());
        assertEquals(m.layout(), back.layout());
        assertArrayEquals(m.heads().params(), back.heads().params());
        assertEquals("joint", back.training().mode());
        assertEquals(42, back.training().seed());
        assertArrayEquals(new double[]{0.5, 0.7, 0.9}, back.training().devMetrics());
        assertEquals(32, back.training().options().get("batch_size").asInt());
        assertEquals(m.criteria(), back.criteria());

        BertWeights bw = back.fineTunedBackbone();
        assertNotNull(bw);
        assertEquals(w.config, bw.config);
        assertArrayEquals(w.layers[2].wIn, bw.layers[2].wIn);
        assertArrayEquals(w.layers[0].wq, bw.layers[0].wq);
        assertArrayEquals(w.poolerW, bw.poolerW);
        assertArrayEquals(w.wordEmbeddings, bw.wordEmbeddings);

        List<Encoding> inputs = TinyBert.inputs(9, 12, TinyBert.config().vocabSize(), 3);
        LayerwiseOutputs a = LayerwiseOutputs.compute(new BertEncoder(w), m, inputs, 4, 64);
        LayerwiseOutputs b = LayerwiseOutputs.compute(new BertEncoder(bw), back, inputs, 4, 64);
        assertArrayEquals(a.values(), b.values());
    }

    @Test
    void headsOnlyRegressionWithPerExitPoolerAndLayerNormRoundTrips() throws IOException {
        ExitHeads heads = new ExitHeads(8, 4, 1, new ExitLayout(Pooling.MEAN, true, false));
        TinyBert.randomise(heads, 0.3f, 2);
        MultiExitModel m = new MultiExitModel("/models/minilm", ExitTask.regression("stsb"), heads, null, null, null);
        m.save(tmp);
        MultiExitModel back = MultiExitModel.load(tmp);
        assertNull(back.fineTunedBackbone());
        assertNull(back.training());
        assertNull(back.criteria());
        assertTrue(back.task().regression());
        assertEquals(new ExitLayout(Pooling.MEAN, true, false), back.layout());
        assertArrayEquals(heads.params(), back.heads().params());
    }

    /** The weights file is plain safetensors with PyTorch [out, in] dense weights. */
    @Test
    void weightsFileIsStandardSafetensors() throws IOException {
        BertWeights w = TinyBert.weights(TinyBert.config(), 1, false);
        MultiExitModel m = fineTuned(w);
        m.save(tmp);
        byte[] bytes = Files.readAllBytes(tmp.resolve(MultiExitModel.WEIGHTS_FILE));
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
        int h = w.config.hidden(), in = w.config.intermediate();
        assertEquals("[" + in + "," + h + "]", header.get("encoder.layer.0.intermediate.dense.weight").get("shape").toString());
        assertEquals("[2," + h + "]", header.get("exits.3.classifier.weight").get("shape").toString());
        assertEquals("F32", header.get("exits.pooler.dense.weight").get("dtype").asText());
        assertFalse(header.has("pooler.dense.weight"), "backbone without pooler must not write one");
        // element [out=1][in=5] of the stored classifier of exit 3 is params [in=5][out=1] of layer index 2
        JsonNode t = header.get("exits.3.classifier.weight");
        long start = 8 + headerLen + t.get("data_offsets").get(0).asLong();
        float stored = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (start + 4L * (1 * h + 5)));
        ExitHeads.Tensor et = m.heads().tensor("exits.3.classifier.weight");
        assertEquals(m.heads().params()[et.offset() + 5 * 2 + 1], stored);
    }

    @Test
    void corruptConfigIsNamedInTheError() throws IOException {
        ExitHeads heads = new ExitHeads(8, 2, 2, ExitLayout.DEFAULT);
        new MultiExitModel("x", ExitTask.classification("t", List.of("a", "b")), heads, null, null, null).save(tmp);
        Path config = tmp.resolve(MultiExitModel.CONFIG_FILE);
        String good = Files.readString(config);

        Files.writeString(config, good.substring(0, good.length() / 2));
        IOException e = assertThrows(IOException.class, () -> MultiExitModel.load(tmp));
        assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());

        Files.writeString(config, good.replace("\"pooling\" : \"cls\"", "\"pooling\" : \"max\""));
        e = assertThrows(IOException.class, () -> MultiExitModel.load(tmp));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("max"), e.getMessage());

        Files.writeString(config, good.replace("\"layers\" : 2", "\"layers\" : 3"));
        e = assertThrows(IOException.class, () -> MultiExitModel.load(tmp));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("exits.3."), e.getMessage());

        Files.writeString(config, good.replace("\"hidden\" : 8", "\"hidden\" : 16"));
        e = assertThrows(IOException.class, () -> MultiExitModel.load(tmp));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("has shape [8, 8]")
                && e.getMessage().contains("config.json implies [16, 16]"), e.getMessage());
    }

    @Test
    void missingFolderOrFilesAreNamed() throws IOException {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> MultiExitModel.load(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"));
        Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(NoSuchFileException.class, () -> MultiExitModel.load(tmp.resolve("empty")));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void truncatedWeightsAreNamed() throws IOException {
        ExitHeads heads = new ExitHeads(8, 2, 2, ExitLayout.DEFAULT);
        new MultiExitModel("x", ExitTask.classification("t", List.of("a", "b")), heads, null, null, null).save(tmp);
        Path weights = tmp.resolve(MultiExitModel.WEIGHTS_FILE);
        byte[] b = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(b, b.length - 10));
        IOException e = assertThrows(IOException.class, () -> MultiExitModel.load(tmp));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }
}

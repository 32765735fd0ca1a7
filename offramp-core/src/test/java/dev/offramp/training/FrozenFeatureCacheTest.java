package dev.offramp.training;

import dev.offramp.exits.Pooling;
import dev.offramp.exits.TinyBert;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FrozenFeatureCacheTest {
    final BertConfig c = TinyBert.config();
    final BertEncoder enc = new BertEncoder(TinyBert.weights(c, 4, false));
    final List<Encoding> inputs = TinyBert.inputs(11, 14, c.vocabSize(), 5);

    @Test
    void featuresEqualEachSampleRunAlone() {
        for (Pooling pooling : Pooling.values()) {
            FeatureCache f = FeatureCache.compute(enc, inputs, pooling, 4, 25);
            assertEquals(inputs.size(), f.samples);
            EncoderBatch batch = enc.newBatch();
            float[] pooled = new float[c.hidden()];
            for (int i = 0; i < inputs.size(); i++) {
                enc.start(batch, List.of(inputs.get(i)));
                for (int l = 0; l < c.layers(); l++) {
                    enc.layer(batch);
                    pooling.pool(batch, c.hidden(), pooled, 0);
                    for (int j = 0; j < c.hidden(); j++) {
                        assertEquals(pooled[j], f.byLayer()[l][i * c.hidden() + j], 1e-5f, pooling + " sample " + i + " layer " + l);
                    }
                }
            }
        }
    }

    @Test
    void fileRoundTripAndKeyChecks(@TempDir Path tmp) throws IOException {
        String key = FeatureCache.key("tiny", "t/train", Pooling.CLS, 128, inputs.size());
        Path file = FeatureCache.fileFor(tmp, key);
        long fp = FeatureCache.fingerprint(inputs);
        FeatureCache f = FeatureCache.compute(enc, inputs, Pooling.CLS, 4, 64);
        f.save(file, key, fp);
        FeatureCache back = FeatureCache.loadIfMatches(file, key, fp);
        assertNotNull(back);
        for (int l = 0; l < c.layers(); l++) assertArrayEquals(f.byLayer()[l], back.byLayer()[l]);
        assertNull(FeatureCache.loadIfMatches(file, key + "x", fp), "another key must not match");
        assertNull(FeatureCache.loadIfMatches(file, key, fp + 1), "other data must not match");
        assertNotEquals(fp, FeatureCache.fingerprint(inputs.subList(1, inputs.size())));

        // computeOrLoad reads the file instead of running the encoder: plant marked features and get them back
        f.byLayer()[0][0] = 12345f;
        f.save(file, key, fp);
        FeatureCache loaded = FeatureCache.computeOrLoad(enc, inputs, Pooling.CLS, 4, 64, file, key);
        assertEquals(12345f, loaded.byLayer()[0][0]);
        // a different key recomputes
        String key2 = FeatureCache.key("tiny", "t/train", Pooling.CLS, 64, inputs.size());
        FeatureCache fresh = FeatureCache.computeOrLoad(enc, inputs, Pooling.CLS, 4, 64, FeatureCache.fileFor(tmp, key2), key2);
        assertNotEquals(12345f, fresh.byLayer()[0][0]);
    }
}

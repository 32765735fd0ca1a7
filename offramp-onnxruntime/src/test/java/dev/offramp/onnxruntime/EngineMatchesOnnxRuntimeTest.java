package dev.offramp.onnxruntime;

import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.weights.ModelRegistry;
import dev.offramp.weights.PretrainedModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine against ONNX Runtime on the same ONNX file: last hidden state of every token, relative error per
 * input ≤ 1e-4; also with samples dropped from the batch between layers (compaction must not change answers).
 */
class EngineMatchesOnnxRuntimeTest {
    private static final String[] SINGLES = {
            "it 's a charming and often affecting journey .",
            "unflinchingly bleak and desperate",
            "the acting , costumes , music , cinematography and sound are all astounding given the production 's austere locales .",
            "Héllo wörld! Naïve café, 1,234.5 — tested?",
    };
    private static final String[][] PAIRS = {
            {"Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting his evidence .",
                    "Referring to him as only \" the witness \" , Amrozi accused his brother of deliberately distorting his evidence ."},
            {"No Weapons of Mass Destruction Found in Iraq Yet.", "Weapons of Mass Destruction Found in Iraq."},
    };

    @ParameterizedTest
    @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
    void lastHiddenStateMatches(String name) {
        PretrainedModel m = ModelRegistry.load(name);
        WordPieceTokenizer tok = m.newTokenizer();
        List<Encoding> inputs = new ArrayList<>();
        for (String s : SINGLES) inputs.add(tok.encode(s, 512));
        for (String[] p : PAIRS) inputs.add(tok.encodePair(p[0], p[1], 512));
        BertEncoder enc = new BertEncoder(m.weights());
        EncoderBatch batch = enc.newBatch();
        enc.start(batch, inputs);
        enc.runToEnd(batch);
        try (OnnxRuntimeEncoder ort = new OnnxRuntimeEncoder(m.onnxFile(), 2)) {
            float[][] ref = ort.lastHidden(inputs);
            for (int b = 0; b < inputs.size(); b++) {
                double err = relErr(batch.copyHidden(b), ref[b]);
                assertTrue(err <= 1e-4, name + " input " + b + ": relative error " + err);
            }
            // compaction: drop every other sample after layer 2; survivors must match a full run
            enc.start(batch, inputs);
            enc.layer(batch);
            enc.layer(batch);
            batch.retain(pos -> pos % 2 == 1);
            enc.runToEnd(batch);
            assertEquals(inputs.size() / 2, batch.size());
            for (int b = 0; b < batch.size(); b++) {
                int id = batch.sampleId(b);
                assertEquals(1, id % 2);
                double err = relErr(batch.copyHidden(b), ref[id]);
                assertTrue(err <= 1e-4, name + " compacted input " + id + ": relative error " + err);
            }
        }
    }

    static double relErr(float[] a, float[] ref) {
        assertEquals(ref.length, a.length, "hidden state sizes differ");
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }
}

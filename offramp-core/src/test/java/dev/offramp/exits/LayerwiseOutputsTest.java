package dev.offramp.exits;

import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LayerwiseOutputsTest {
    /** Length-sorted batching must give every sample exactly what running it alone gives. */
    @Test
    void batchedOutputsEqualOneSampleAtATime() {
        BertConfig c = TinyBert.config();
        BertEncoder enc = new BertEncoder(TinyBert.weights(c, 4, false));
        for (ExitLayout layout : List.of(ExitLayout.DEFAULT, new ExitLayout(Pooling.MEAN, true, false))) {
            ExitHeads heads = ExitHeads.create(c.hidden(), c.layers(), 3, layout, null, 8);
            TinyBert.randomise(heads, 0.3f, 8);
            MultiExitModel m = new MultiExitModel("tiny", ExitTask.classification("t", List.of("a", "b", "c")), heads, null, null, null);
            List<Encoding> inputs = TinyBert.inputs(13, 15, c.vocabSize(), 6);
            LayerwiseOutputs out = LayerwiseOutputs.compute(enc, m, inputs, 4, 30);

            ExitHeads.Activations act = new ExitHeads.Activations(heads, 1);
            EncoderBatch batch = enc.newBatch();
            float[] pooled = new float[c.hidden()];
            for (int i = 0; i < inputs.size(); i++) {
                enc.start(batch, List.of(inputs.get(i)));
                for (int l = 0; l < c.layers(); l++) {
                    enc.layer(batch);
                    layout.pooling().pool(batch, c.hidden(), pooled, 0);
                    heads.forward(act, l + 1, pooled, 0, 1, 0f, null);
                    float sum = 0;
                    for (int k = 0; k < 3; k++) {
                        assertEquals(act.probs()[k], out.get(i, l + 1, k), 1e-5f, "sample " + i + " exit " + (l + 1));
                        sum += out.get(i, l + 1, k);
                    }
                    assertEquals(1f, sum, 1e-5f);
                }
            }
        }
    }

    @Test
    void accuracyPerExitCountsArgmax() {
        // 2 samples, 2 layers, 2 classes
        float[] v = {0.9f, 0.1f, 0.2f, 0.8f,   // sample 0: layer 1 says 0, layer 2 says 1
                     0.3f, 0.7f, 0.4f, 0.6f};  // sample 1: both say 1
        LayerwiseOutputs o = new LayerwiseOutputs(2, 2, 2, v);
        assertArrayEquals(new double[]{0.5, 1.0}, o.accuracyPerExit(new int[]{1, 1}));
        assertArrayEquals(new double[]{1.0, 0.5}, o.accuracyPerExit(new int[]{0, 1}));
        var eo = o.toExitOutputs(new float[]{1, 1});
        assertArrayEquals(new double[]{0.5, 1.0}, eo.exitAccuracies(), 1e-12);
        String table = LayerwiseOutputs.table(List.of("accuracy"), List.of(new double[]{0.5, 1.0}));
        assertTrue(table.contains("0.5000") && table.lines().count() == 3, table);
    }
}

package dev.offramp.training;

import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.model.EncoderTrainer;
import dev.offramp.model.ParameterSet;
import dev.offramp.model.TinyModels;
import dev.offramp.model.TrainingStep;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: encoder + a linear probe on the last layer's [CLS] trained with AdamW, warm-up/decay and
 * clipping on a separable synthetic task (label = whether token 3 occurs). The loss must fall clearly, and
 * the inference engine must see the trained weights after repack().
 */
class TrainingSmokeTest {

    @Test
    void lossFallsOnASeparableTask() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyModels.randomWeights(c, 5);
        int h = c.hidden(), classes = 2, last = c.layers();
        Random r = new Random(6);
        List<Encoding> data = new ArrayList<>();
        int[] labels = new int[32];
        for (int i = 0; i < labels.length; i++) {
            int len = 4 + r.nextInt(8);
            int[] ids = new int[len], types = new int[len];
            ids[0] = 1;
            for (int t = 1; t < len; t++) ids[t] = 4 + r.nextInt(c.vocabSize() - 4);
            labels[i] = i % 2;
            if (labels[i] == 1) ids[1 + r.nextInt(len - 1)] = 3;
            data.add(new Encoding(ids, types));
        }

        EncoderTrainer trainer = new EncoderTrainer(w, EncoderTrainer.Options.defaults(11L));
        float[] probeW = new float[h * classes], probeB = new float[classes];
        float[] dProbeW = new float[h * classes], dProbeB = new float[classes];
        for (int i = 0; i < probeW.length; i++) probeW[i] = (float) (r.nextGaussian() * 0.1);
        ParameterSet params = new ParameterSet();
        trainer.addParameters(params);
        params.add("probe.weight", probeW, dProbeW, true).add("probe.bias", probeB, dProbeB, false);
        AdamW opt = new AdamW(params, AdamW.Options.defaults());
        int steps = 60;
        LearningRateSchedule lr = new LearningRateSchedule(1e-2, 5, steps);
        float[][] dOutputs = new float[last + 1][];

        double first = 0, lastLoss = 0;
        for (int step = 0; step < steps; step++) {
            params.zeroGradients();
            TrainingStep s = trainer.forward(data, true);
            float[] x = s.layerOutput(last);
            if (dOutputs[last] == null || dOutputs[last].length < s.tokens() * h) dOutputs[last] = new float[s.tokens() * h];
            java.util.Arrays.fill(dOutputs[last], 0f);
            double loss = 0;
            for (int b = 0; b < s.size(); b++) {
                int cls = s.offset(b) * h;
                double[] logit = new double[classes];
                for (int k = 0; k < classes; k++) {
                    logit[k] = probeB[k];
                    for (int j = 0; j < h; j++) logit[k] += x[cls + j] * probeW[j * classes + k];
                }
                double max = Math.max(logit[0], logit[1]);
                double z = Math.exp(logit[0] - max) + Math.exp(logit[1] - max);
                loss -= (logit[labels[b]] - max - Math.log(z)) / s.size();
                for (int k = 0; k < classes; k++) {
                    float dl = (float) ((Math.exp(logit[k] - max) / z - (k == labels[b] ? 1 : 0)) / s.size());
                    dProbeB[k] += dl;
                    for (int j = 0; j < h; j++) {
                        dProbeW[j * classes + k] += x[cls + j] * dl;
                        dOutputs[last][cls + j] += probeW[j * classes + k] * dl;
                    }
                }
            }
            trainer.backward(s, dOutputs);
            GradientClipping.clipGlobalNorm(params, 1.0);
            opt.step(lr.at(step));
            if (step == 0) first = loss;
            lastLoss = loss;
        }
        System.out.printf("smoke training: loss %.4f -> %.4f in %d steps%n", first, lastLoss, steps);
        assertTrue(lastLoss < 0.3 * first, "loss " + first + " -> " + lastLoss);

        // the inference engine sees the updated weights once repacked
        BertEncoder encoder = new BertEncoder(w); // packed from the trained weights
        TrainingStep eval = trainer.forward(data.subList(0, 3), false);
        EncoderBatch batch = encoder.start(encoder.newBatch(), data.subList(0, 3));
        encoder.runToEnd(batch);
        for (int i = 0; i < eval.tokens() * h; i++) assertEquals(batch.hidden()[i], eval.layerOutput(last)[i], 1e-5f);
        opt.step(1e-2); // weights move again; a repack makes the old encoder follow
        encoder.repack();
        eval = trainer.forward(data.subList(0, 3), false);
        batch = encoder.start(encoder.newBatch(), data.subList(0, 3));
        encoder.runToEnd(batch);
        for (int i = 0; i < eval.tokens() * h; i++) assertEquals(batch.hidden()[i], eval.layerOutput(last)[i], 1e-5f);
    }
}

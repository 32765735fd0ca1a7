package dev.offramp.consistentee;

import dev.offramp.exits.LayerwisePass;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.exits.Pooling;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;

import java.util.List;

/**
 * π of every layer for every input of a split, (N, L) row-major with π_L = 1: what
 * {@link dev.offramp.eval.calibration.ExitOutputs#withPolicy} takes, so the ConsistentEE τ sweep runs on cached
 * numbers like every other criterion.
 */
public final class PolicyOutputs {
    private PolicyOutputs() {}

    /** Runs the encoder to full depth over the inputs and evaluates the policies on each layer's pooled vectors. */
    public static float[] compute(BertEncoder encoder, PolicyNetworks policies, Pooling pooling, List<Encoding> inputs,
                                  int maxBatch, int maxBatchTokens, java.util.function.IntConsumer progress) {
        if (encoder.config().layers() != policies.layers || encoder.config().hidden() != policies.hidden) {
            throw new IllegalArgumentException("encoder has " + encoder.config().layers() + " layers of width "
                    + encoder.config().hidden() + ", the policies expect " + policies.layers + " of width " + policies.hidden);
        }
        int n = inputs.size(), l = policies.layers;
        float[] out = new float[n * l];
        PolicyNetworks.Activations a = new PolicyNetworks.Activations(policies, maxBatch);
        LayerwisePass.run(encoder, inputs, pooling, maxBatch, maxBatchTokens, (exit, samples, pooled, b) -> {
            if (exit == l) {
                for (int s = 0; s < b; s++) out[samples[s] * l + l - 1] = 1f;
                return;
            }
            policies.forward(a, exit, pooled, 0, b);
            for (int s = 0; s < b; s++) out[samples[s] * l + exit - 1] = a.probs()[s];
        }, progress);
        return out;
    }

    /** A 64-bit hash of the policies' parameters, so a cache of π notices retrained policies. */
    public static long fingerprint(PolicyNetworks p) {
        long h = 0xcbf29ce484222325L ^ p.width;
        for (float v : p.params()) h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001b3L;
        return h;
    }
}

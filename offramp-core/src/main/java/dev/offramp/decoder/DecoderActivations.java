package dev.offramp.decoder;

import dev.offramp.weights.DecoderConfig;

/**
 * What a {@link DecoderTrainer}'s forward over B sequences of T tokens keeps for backward, allocated once for that
 * (B, T) (llm.c style: a step allocates nothing, and another shape is an error). Row r = b·T + i is token i of
 * sequence b; N = B·T. Shape letters as in {@link DecoderConfig}: C hidden, Q = NH·HS, KV = KVH·HS, I feed-forward.
 */
final class DecoderActivations {
    final int batch, seq, rows;

    final int[] tokens;         // (N)
    /** [L + 1] (N, C): x[l] is the residual stream entering layer l; x[L] leaves the last layer. */
    final float[][] x;
    final float[][] rstd1;      // [L] (N) 1/rms of the input norm
    final float[][] xn1;        // [L] (N, C) input_layernorm output
    final float[][] q;          // [L] (N, Q) rotated queries
    final float[][] kv;         // [L] (N, 2KV) [rotated k | v]
    final float[][] probs;      // [L] (B, NH, T, T) attention probabilities, lower triangle
    final float[][] att;        // [L] (N, Q) attention output before o_proj
    final float[][] xMid;       // [L] (N, C) residual after the attention block
    final float[][] rstd2;      // [L] (N)
    final float[][] xn2;        // [L] (N, C) post_attention_layernorm output
    final float[][] gateUp;     // [L] (N, 2I) [gate | up] before the SwiGLU
    final float[][] h;          // [L] (N, I) silu(gate) ⊙ up
    /** [L][B]: layer l skipped for sequence b in this step (LayerSkip's layer dropout). */
    final boolean[][] dropped;

    DecoderActivations(DecoderConfig c, int batch, int seq) {
        if (batch < 1 || seq < 1) throw new IllegalArgumentException("need batch >= 1 and seq >= 1, got " + batch + ", " + seq);
        long n = (long) batch * seq;
        long widest = Math.max(Math.max(2L * c.intermediate(), c.vocabSize()), (long) c.heads() * seq);
        if (n * widest > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch " + batch + " × seq " + seq + " is too large for one array per tensor");
        }
        this.batch = batch;
        this.seq = seq;
        this.rows = (int) n;
        int l = c.layers(), r = rows, hd = c.hidden();
        tokens = new int[r];
        x = new float[l + 1][r * hd];
        rstd1 = new float[l][r];
        xn1 = new float[l][r * hd];
        q = new float[l][r * c.qDim()];
        kv = new float[l][r * 2 * c.kvDim()];
        probs = new float[l][batch * c.heads() * seq * seq];
        att = new float[l][r * c.qDim()];
        xMid = new float[l][r * hd];
        rstd2 = new float[l][r];
        xn2 = new float[l][r * hd];
        gateUp = new float[l][r * 2 * c.intermediate()];
        h = new float[l][r * c.intermediate()];
        dropped = new boolean[l][batch];
    }
}

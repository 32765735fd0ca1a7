package dev.offramp.exits;

import dev.offramp.model.EncoderBatch;

/**
 * How an exit turns one sample's token rows (T, H) into a single vector (H).
 * {@code cls}: the first token's row, as in BERT, PABEE, DeeBERT, BEEM and ConsistentEE.
 * {@code mean}: the mean over all the sample's tokens (specials included; a ragged batch has no padding to mask).
 *
 * The ragged layout is the engine's: sample b owns rows [offset[b], offset[b] + length[b]) of hidden (N, H).
 */
public enum Pooling {
    CLS("cls"),
    MEAN("mean");

    /** The option name, as written in config.json and on the command line. */
    public final String optionName;

    Pooling(String optionName) {
        this.optionName = optionName;
    }

    public static Pooling fromName(String name) {
        for (Pooling p : values()) if (p.optionName.equalsIgnoreCase(name)) return p;
        throw new IllegalArgumentException("unknown pooling '" + name + "' (known: cls, mean)");
    }

    // ----------------------------------------------------------------------------------------------------
    // forward: ragged (N, H) → (B, H)

    /** out (B, H) at outOff = pooled rows of hidden (N, H). */
    public void pool(float[] hidden, int[] offset, int[] length, int b, int h, float[] out, int outOff) {
        for (int s = 0; s < b; s++) poolOne(hidden, offset[s], length[s], h, out, outOff + s * h);
    }

    /** out (B, H) = pooled rows of the batch's current hidden state; row s is the sample at position s. */
    public void pool(EncoderBatch batch, int h, float[] out, int outOff) {
        float[] x = batch.hidden();
        for (int s = 0; s < batch.size(); s++) poolOne(x, batch.offset(s), batch.length(s), h, out, outOff + s * h);
    }

    private void poolOne(float[] x, int offset, int length, int h, float[] out, int o) {
        int r = offset * h;
        if (this == CLS) {
            System.arraycopy(x, r, out, o, h);
            return;
        }
        for (int c = 0; c < h; c++) out[o + c] = 0f;
        for (int t = 0; t < length; t++, r += h) {
            for (int c = 0; c < h; c++) out[o + c] += x[r + c];
        }
        float inv = 1f / length;
        for (int c = 0; c < h; c++) out[o + c] *= inv;
    }

    // ----------------------------------------------------------------------------------------------------
    // backward: (B, H) → ragged (N, H), adding

    /**
     * dHidden (N, H) += the gradient of the pooling given dPooled (B, H): cls puts it on the first token row,
     * mean spreads it evenly over the sample's rows. Rows of other tokens are left as they are.
     */
    public void unpoolBackward(float[] dPooled, int dPooledOff, int[] offset, int[] length, int b, int h,
                               float[] dHidden) {
        for (int s = 0; s < b; s++) {
            int p = dPooledOff + s * h, r = offset[s] * h;
            if (this == CLS) {
                for (int c = 0; c < h; c++) dHidden[r + c] += dPooled[p + c];
                continue;
            }
            float inv = 1f / length[s];
            for (int t = 0; t < length[s]; t++, r += h) {
                for (int c = 0; c < h; c++) dHidden[r + c] += dPooled[p + c] * inv;
            }
        }
    }
}

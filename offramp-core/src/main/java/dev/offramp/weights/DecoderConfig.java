package dev.offramp.weights;

import java.util.List;

/**
 * Shape and numerics of a Llama-family decoder (Hugging Face model_type "llama" or "qwen2"). Letters as in llm.c:
 * V vocabulary, C hidden width, L layers, NH query heads, KVH key/value heads, HS head size, I feed-forward width.
 *
 * @param modelType        "llama" or "qwen2" (the only difference the engine sees is {@code qkvBias})
 * @param vocabSize        V, rows of the token embedding table and columns of the LM head
 * @param hidden           C, width of the residual stream
 * @param intermediate     I, width of the SwiGLU feed-forward
 * @param layers           L
 * @param heads            NH, query heads
 * @param kvHeads          KVH, key/value heads (grouped-query attention: NH/KVH query heads share one)
 * @param headDim          HS, width of one head (C/NH unless config.json says head_dim)
 * @param maxPositions     longest sequence the rotary embeddings were trained for (max_position_embeddings)
 * @param rmsNormEps       epsilon inside every RMSNorm
 * @param ropeTheta        base of the rotary frequencies
 * @param ropeScaling      rope_scaling of config.json, or null
 * @param tiedEmbeddings   the LM head is the token embedding table (tie_word_embeddings)
 * @param qkvBias          q/k/v projections have biases (Qwen 2)
 * @param bosTokenId       bos_token_id, or -1
 * @param eosTokenIds      eos_token_id (a number or a list in config.json), possibly empty
 */
public record DecoderConfig(String modelType, int vocabSize, int hidden, int intermediate, int layers, int heads,
                            int kvHeads, int headDim, int maxPositions, float rmsNormEps, double ropeTheta,
                            RopeScaling ropeScaling, boolean tiedEmbeddings, boolean qkvBias, int bosTokenId,
                            List<Integer> eosTokenIds) {
    public static final String LLAMA = "llama", QWEN2 = "qwen2";

    /**
     * Rotary frequency scaling. "linear" divides every frequency by {@code factor}; "llama3" (Llama 3.1+) divides
     * only the low frequencies, keeps the high ones and blends in between, by wavelength against
     * {@code originalMaxPositions}.
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) {
        public static final String LINEAR = "linear", LLAMA3 = "llama3";

        public RopeScaling {
            if (!type.equals(LINEAR) && !type.equals(LLAMA3)) {
                throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (supported: "
                        + LINEAR + ", " + LLAMA3 + ")");
            }
            if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling factor must be positive, got " + factor);
            if (type.equals(LLAMA3) && !(highFreqFactor > lowFreqFactor && lowFreqFactor > 0 && originalMaxPositions > 0)) {
                throw new IllegalArgumentException("rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor and "
                        + "original_max_position_embeddings > 0, got " + this);
            }
        }
    }

    public DecoderConfig {
        if (!modelType.equals(LLAMA) && !modelType.equals(QWEN2)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not a supported decoder (supported: "
                    + LLAMA + ", " + QWEN2 + ")");
        }
        if (vocabSize <= 0 || hidden <= 0 || intermediate <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0
                || headDim <= 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("every DecoderConfig dimension must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads "
                    + kvHeads);
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " is odd; rotary embeddings need pairs");
        if (!(rmsNormEps > 0) || !(ropeTheta > 1)) {
            throw new IllegalArgumentException("rms_norm_eps must be > 0 and rope_theta > 1, got " + rmsNormEps + ", " + ropeTheta);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** NH·HS, width of the attention's query and output. */
    public int qDim() {
        return heads * headDim;
    }

    /** KVH·HS, width of one position's keys (and values) in the cache. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Parameters of the model (embeddings, layers, final norm, and the LM head unless tied). */
    public long parameterCount() {
        long c = hidden, perLayer = 2 * c                                 // two RMSNorm gains
                + c * qDim() + 2 * c * kvDim() + (long) qDim() * c         // q, k, v, o
                + (qkvBias ? qDim() + 2L * kvDim() : 0)
                + 3 * c * intermediate;                                    // gate, up, down
        return (long) vocabSize * c * (tiedEmbeddings ? 1 : 2) + layers * perLayer + c;
    }
}

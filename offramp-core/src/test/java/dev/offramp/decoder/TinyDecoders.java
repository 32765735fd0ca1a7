package dev.offramp.decoder;

import dev.offramp.tokenizer.bpe.BpeTokenizerWriter;
import dev.offramp.tokenizer.bpe.ByteLevel;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderFolderWriter;
import dev.offramp.weights.DecoderWeights;
import dev.offramp.weights.SafetensorsWriter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the tiny random decoders and tokenizers of the reference check into src/test/resources/golden/
 * (deterministic: SplitMix64 seeds and Box-Muller normals, no JDK sampling that could change between releases):
 *
 * <ul>
 *   <li>{@code tiny-llama/}: model_type llama, 2 layers, C 64, 4 query heads over 2 KV heads of 16, I 112,
 *       untied LM head, rope_scaling llama3, F16 weights in two shards with their index; a Llama-3-style
 *       tokenizer.json (Split regex, ignore_merges, merges as pairs, {@code <|begin_of_text|>} template);</li>
 *   <li>{@code tiny-qwen2/}: model_type qwen2, 2 layers, C 48, 6 query heads over 2 KV heads of 8, I 96, q/k/v
 *       biases, tied embeddings, rope_theta 1e6, one BF16 file; a Qwen-2-style tokenizer.json (NFC, digits
 *       alone, merges as strings);</li>
 *   <li>{@code bpe-gpt2/}: a GPT-2-style tokenizer.json only (ByteLevel with its built-in regex).</li>
 * </ul>
 *
 * All three tokenizers share one vocabulary: 256 bytes, 160 merges learned from {@link #CORPUS} and two entries
 * no merge builds (so Llama 3's ignore_merges changes some ids). {@code scripts/reference/llama_reference.py}
 * then writes each folder's golden.json. Rerun with
 * {@code java ... dev.offramp.decoder.TinyDecoders offramp-core/src/test/resources/golden}; {@link TinyDecodersTest}
 * checks the committed files are what this writes.
 */
public final class TinyDecoders {
    private TinyDecoders() {}

    static final int MERGES = 160;
    static final List<String> SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|pad|>");
    /** In the vocabulary but built by no merge: with ignore_merges a whole word matching one is one token. */
    static final List<String> UNMERGED = List.of("Ġzebra", "quokka");
    static final int VOCAB_SIZE = 432;   // 256 + 160 + 2 + 3 specials = 421 ids; rows past them are unused padding

    static final String CORPUS = """
            The quick brown fox jumps over the lazy dog. The dog didn't move; it's a very lazy dog, and the fox
            knows it. We'll see whether they're friends by 2024 or 1999 -- nobody has said. In 1984 the price was
            $3.50, in 2001 it was $12.99 and today it's 100% more. "Hello," she said, "how are you?" I'm fine,
            thanks! Early exit lets easy tokens leave the network sooner, and hard tokens use every layer.
            Transformers read the text, the model predicts the next token, the next token becomes the input.
            The café on the corner serves crème brûlée; the naïve résumé was rejected. Ünïcödé text is handled
            byte by byte. Straße, Zürich, São Paulo, Kraków. Привет мир. 東京は大きい。 😀 smiles, 😀 again!
            The the the and and and of of of to to to in in in is is is it it it that that that.
            Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 100 1000 2024 2025 3.14159 42 007.
            Code: for (int i = 0; i < n; i++) { sum += x[i]; } // done
            """;

    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : "offramp-core/src/test/resources/golden");
        writeAll(root);
        System.out.println("wrote tiny-llama, tiny-qwen2 and bpe-gpt2 under " + root.toAbsolutePath());
    }

    static void writeAll(Path root) {
        Vocabulary v = learnVocabulary();
        Path llama = root.resolve("tiny-llama"), qwen = root.resolve("tiny-qwen2"), gpt2 = root.resolve("bpe-gpt2");
        BpeTokenizerWriter.write(llama.resolve("tokenizer.json"), v.tokens, v.merges, SPECIALS, BpeTokenizerWriter.Style.LLAMA3);
        BpeTokenizerWriter.write(qwen.resolve("tokenizer.json"), v.tokens, v.merges, SPECIALS, BpeTokenizerWriter.Style.QWEN2);
        BpeTokenizerWriter.write(gpt2.resolve("tokenizer.json"), v.tokens, v.merges, SPECIALS, BpeTokenizerWriter.Style.GPT2);

        int bos = v.tokens.size(), eos = bos + 1;
        DecoderConfig llamaConfig = new DecoderConfig(DecoderConfig.LLAMA, VOCAB_SIZE, 64, 112, 2, 4, 2, 16, 256, 1e-5f,
                10000.0, new DecoderConfig.RopeScaling(DecoderConfig.RopeScaling.LLAMA3, 8, 1, 4, 32), false, false,
                bos, List.of(eos));
        DecoderFolderWriter.write(randomWeights(llamaConfig, 0x11A3A), null, llama, SafetensorsWriter.Dtype.F16, 2);
        DecoderConfig qwenConfig = new DecoderConfig(DecoderConfig.QWEN2, VOCAB_SIZE, 48, 96, 2, 6, 2, 8, 256, 1e-6f,
                1_000_000.0, null, true, true, -1, List.of(eos));
        DecoderFolderWriter.write(randomWeights(qwenConfig, 0x9E2), null, qwen, SafetensorsWriter.Dtype.BF16, 1);
    }

    // ---------------------------------------------------------------------------------------- tokenizer

    record Vocabulary(List<String> tokens, List<String[]> merges) {}

    /** Byte-level BPE on CORPUS: the most frequent adjacent pair wins, ties to the smallest pair as text. */
    static Vocabulary learnVocabulary() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.charOf(b)));
        Map<List<String>, Integer> words = new LinkedHashMap<>();
        Matcher m = Pattern.compile(" ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+", Pattern.UNICODE_CHARACTER_CLASS)
                .matcher(CORPUS.replace("\n", " "));
        while (m.find()) {
            String w = ByteLevel.encode(m.group());
            List<String> symbols = new ArrayList<>();
            for (int i = 0; i < w.length(); i++) symbols.add(w.substring(i, i + 1));
            words.merge(symbols, 1, Integer::sum);
        }
        List<String[]> merges = new ArrayList<>();
        while (merges.size() < MERGES) {
            Map<String, Integer> counts = new HashMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey();
                for (int i = 0; i + 1 < s.size(); i++) counts.merge(s.get(i) + "\u0000" + s.get(i + 1), e.getValue(), Integer::sum);
            }
            String best = null;
            for (var e : counts.entrySet()) {
                if (best == null || e.getValue() > counts.get(best) || (e.getValue().equals(counts.get(best)) && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                }
            }
            if (best == null) break;
            String[] pair = best.split("\u0000", 2);
            merges.add(pair);
            if (!tokens.contains(pair[0] + pair[1])) tokens.add(pair[0] + pair[1]);
            Map<List<String>, Integer> next = new LinkedHashMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey(), out = new ArrayList<>();
                for (int i = 0; i < s.size(); i++) {
                    if (i + 1 < s.size() && s.get(i).equals(pair[0]) && s.get(i + 1).equals(pair[1])) {
                        out.add(pair[0] + pair[1]);
                        i++;
                    } else {
                        out.add(s.get(i));
                    }
                }
                next.merge(out, e.getValue(), Integer::sum);
            }
            words = next;
        }
        for (String u : UNMERGED) {
            if (tokens.contains(u)) throw new IllegalStateException(u + " was learned; pick another unmerged entry");
            tokens.add(u);
        }
        return new Vocabulary(tokens, merges);
    }

    // ---------------------------------------------------------------------------------------- weights

    /** Normal(0, 1) from SplitMix64 by Box-Muller (both values used). */
    static final class Normal {
        private final SplittableRandom random;
        private double spare = Double.NaN;

        Normal(long seed) {
            random = new SplittableRandom(seed);
        }

        double next() {
            if (!Double.isNaN(spare)) {
                double s = spare;
                spare = Double.NaN;
                return s;
            }
            double u = 1.0 - random.nextDouble(), v = random.nextDouble(), r = Math.sqrt(-2 * Math.log(u));
            spare = r * Math.sin(2 * Math.PI * v);
            return r * Math.cos(2 * Math.PI * v);
        }

        float[] fill(int n, double mean, double std) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) (mean + std * next());
            return a;
        }
    }

    /**
     * Random weights with unit-scale activations: embeddings N(0, 1), norm gains 1 + N(0, 0.2²), each linear
     * N(0, 1/in), biases N(0, 0.3²), LM head N(0, 4/C) so the logits are spread enough to matter.
     */
    static DecoderWeights randomWeights(DecoderConfig c, long seed) {
        Normal n = new Normal(seed);
        int v = c.vocabSize(), h = c.hidden(), q = c.qDim(), kv = c.kvDim(), in = c.intermediate();
        float[] emb = n.fill(v * h, 0, 1);
        DecoderWeights.Layer[] layers = new DecoderWeights.Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            float[] attnNorm = n.fill(h, 1, 0.2);
            float[] wq = linear(n, h, q), bq = c.qkvBias() ? n.fill(q, 0, 0.3) : null;
            float[] wk = linear(n, h, kv), bk = c.qkvBias() ? n.fill(kv, 0, 0.3) : null;
            float[] wv = linear(n, h, kv), bv = c.qkvBias() ? n.fill(kv, 0, 0.3) : null;
            float[] wo = linear(n, q, h);
            float[] mlpNorm = n.fill(h, 1, 0.2);
            layers[l] = new DecoderWeights.Layer(attnNorm, wq, bq, wk, bk, wv, bv, wo, mlpNorm,
                    linear(n, h, in), linear(n, h, in), linear(n, in, h));
        }
        float[] finalNorm = n.fill(h, 1, 0.2);
        float[] head = c.tiedEmbeddings() ? null : DecoderWeights.transpose(n.fill(v * h, 0, 2 / Math.sqrt(h)), v, h);
        return new DecoderWeights(c, emb, layers, finalNorm, head);
    }

    /** A Linear's weight drawn in PyTorch's [out, in] order, returned [in, out]. */
    private static float[] linear(Normal n, int in, int out) {
        return DecoderWeights.transpose(n.fill(out * in, 0, 1 / Math.sqrt(in)), out, in);
    }
}

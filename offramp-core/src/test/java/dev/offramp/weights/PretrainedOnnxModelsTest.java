package dev.offramp.weights;

import dev.offramp.weights.OnnxGraph.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Loads the two real models from the langchain4j artifacts (extracted to the model cache) and checks the
 * recovered config, the data-flow mapping of the anonymous MatMul weights against the exporter's node names,
 * and basic plausibility of the numbers.
 */
class PretrainedOnnxModelsTest {
    static PretrainedModel bge, minilm;

    @BeforeAll
    static void load() {
        bge = ModelRegistry.load("bge-small-en-v1.5");
        minilm = ModelRegistry.load("all-minilm-l6-v2");
    }

    @Test
    void bgeConfig() throws Exception {
        assertEquals(new BertConfig(30522, 384, 12, 12, 1536, 512, 2, 1e-12f, BertConfig.Activation.GELU_EXACT),
                bge.config());
        assertNull(bge.weights().poolerW, "the bge export has no pooler");
        assertTrue(Files.size(bge.onnxFile()) > 100_000_000L, "extracted onnx is the full 133 MB file");
        assertTrue(bge.tokenizer().file().getFileName().toString().endsWith("tokenizer.json"));
        assertFalse(bge.tokenizer().vocabTxt());
        assertTrue(Files.exists(bge.tokenizer().file()));
        assertEquals("bge-small-en-v1.5", bge.name());
    }

    @Test
    void miniLmConfigAndPooler() throws Exception {
        assertEquals(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12f, BertConfig.Activation.GELU_EXACT),
                minilm.config());
        // the MiniLM export ends in Gather(token 0) → Gemm(transB=1) → Tanh: pooler present, stored [out, in]
        BertWeights w = minilm.weights();
        assertNotNull(w.poolerW);
        OnnxGraph g = OnnxModelReader.read(minilm.onnxFile());
        float[] stored = g.initializers().get("pooler.dense.weight").floats(); // (out, in)
        int h = 384;
        for (int[] io : new int[][]{{0, 1}, {5, 300}, {383, 7}, {100, 100}}) {
            assertEquals(stored[io[1] * h + io[0]], w.poolerW[io[0] * h + io[1]], "pooler [in=" + io[0] + ", out=" + io[1] + "]");
        }
        assertArrayEquals(g.initializers().get("pooler.dense.bias").floats(), w.poolerB);
    }

    @Test
    void aliasesResolveToTheSameModel() {
        PretrainedModel m = ModelRegistry.load("BGE-small");
        assertEquals("bge-small-en-v1.5", m.name());
        assertEquals(bge.onnxFile(), m.onnxFile());
    }

    /**
     * The importer maps weights by data flow only. These exports also keep PyTorch module paths as node names
     * (e.g. "/encoder/layer.3/attention/self/key/MatMul"), an independent witness that Q, K, V, O and the FFN
     * matrices landed in the right slots.
     */
    @Test
    void dataFlowMappingAgreesWithNodeNames() {
        for (PretrainedModel m : new PretrainedModel[]{bge, minilm}) {
            OnnxGraph g = OnnxModelReader.read(m.onnxFile());
            Map<String, Node> byName = new HashMap<>();
            for (Node n : g.nodes()) byName.put(n.name(), n);
            BertWeights w = m.weights();
            for (int i = 0; i < w.layers.length; i++) {
                BertWeights.Layer l = w.layers[i];
                String p = "/encoder/layer." + i + "/";
                assertArrayEquals(matMulWeight(g, byName, p + "attention/self/query/MatMul"), l.wq, m.name() + " layer " + i + " Q");
                assertArrayEquals(matMulWeight(g, byName, p + "attention/self/key/MatMul"), l.wk, m.name() + " layer " + i + " K");
                assertArrayEquals(matMulWeight(g, byName, p + "attention/self/value/MatMul"), l.wv, m.name() + " layer " + i + " V");
                assertArrayEquals(matMulWeight(g, byName, p + "attention/output/dense/MatMul"), l.wo, m.name() + " layer " + i + " O");
                assertArrayEquals(matMulWeight(g, byName, p + "intermediate/dense/MatMul"), l.wIn, m.name() + " layer " + i + " FFN in");
                assertArrayEquals(matMulWeight(g, byName, p + "output/dense/MatMul"), l.wOut, m.name() + " layer " + i + " FFN out");
                String n = "encoder.layer." + i + ".";
                assertArrayEquals(init(g, n + "attention.self.query.bias"), l.bq);
                assertArrayEquals(init(g, n + "attention.self.key.bias"), l.bk);
                assertArrayEquals(init(g, n + "attention.self.value.bias"), l.bv);
                assertArrayEquals(init(g, n + "attention.output.dense.bias"), l.bo);
                assertArrayEquals(init(g, n + "attention.output.LayerNorm.weight"), l.ln1Gamma);
                assertArrayEquals(init(g, n + "attention.output.LayerNorm.bias"), l.ln1Beta);
                assertArrayEquals(init(g, n + "intermediate.dense.bias"), l.bIn);
                assertArrayEquals(init(g, n + "output.dense.bias"), l.bOut);
                assertArrayEquals(init(g, n + "output.LayerNorm.weight"), l.ln2Gamma);
                assertArrayEquals(init(g, n + "output.LayerNorm.bias"), l.ln2Beta);
            }
            assertArrayEquals(init(g, "embeddings.word_embeddings.weight"), w.wordEmbeddings);
            assertArrayEquals(init(g, "embeddings.position_embeddings.weight"), w.positionEmbeddings);
            assertArrayEquals(init(g, "embeddings.token_type_embeddings.weight"), w.tokenTypeEmbeddings);
            assertArrayEquals(init(g, "embeddings.LayerNorm.weight"), w.embLnGamma);
            assertArrayEquals(init(g, "embeddings.LayerNorm.bias"), w.embLnBeta);
        }
    }

    @Test
    void weightsArePlausible() {
        for (PretrainedModel m : new PretrainedModel[]{bge, minilm}) {
            BertWeights w = m.weights();
            assertFalse(allEqual(w.embLnGamma), m.name() + " embedding LayerNorm gamma is constant");
            for (int i = 0; i < w.layers.length; i++) {
                BertWeights.Layer l = w.layers[i];
                String at = m.name() + " layer " + i + " ";
                assertFalse(allEqual(l.ln1Gamma), at + "ln1 gamma constant");
                assertFalse(allEqual(l.ln2Gamma), at + "ln2 gamma constant");
                assertFalse(java.util.Arrays.equals(l.wq, l.wk), at + "Q == K");
                assertFalse(java.util.Arrays.equals(l.wk, l.wv), at + "K == V");
                for (float[] a : new float[][]{l.wq, l.wk, l.wv, l.wo, l.wIn, l.wOut}) {
                    double norm = frobenius(a);
                    // trained BERT matrices: entries ~0.02–0.1, so a 384×384 matrix has a norm of order 10
                    assertTrue(norm > 1 && norm < 1000, at + "implausible matrix norm " + norm);
                }
            }
            assertTrue(Double.isFinite(frobenius(w.wordEmbeddings)));
        }
    }

    @Test
    void cachedLoadIsFast() {
        long t0 = System.nanoTime();
        PretrainedModel m = ModelRegistry.load("bge-small");
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("cached bge-small load: %.3f s%n", seconds);
        assertEquals(12, m.config().layers());
        assertTrue(seconds < 10, "cached load took " + seconds + " s (target well under 2 s on an idle machine)");
    }

    private static float[] matMulWeight(OnnxGraph g, Map<String, Node> byName, String nodeName) {
        Node n = byName.get(nodeName);
        assertNotNull(n, "node " + nodeName);
        assertEquals("MatMul", n.opType());
        return init(g, n.input(1));
    }

    private static float[] init(OnnxGraph g, String name) {
        OnnxGraph.Tensor t = g.initializers().get(name);
        assertNotNull(t, "initializer " + name);
        return t.floats();
    }

    private static boolean allEqual(float[] a) {
        for (float v : a) if (v != a[0]) return false;
        return true;
    }

    private static double frobenius(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }
}

package dev.offramp.weights;

import dev.offramp.weights.OnnxGraph.Attribute;
import dev.offramp.weights.OnnxGraph.Node;
import dev.offramp.weights.OnnxGraph.Tensor;
import dev.offramp.weights.OnnxGraph.ValueInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The importer on small hand-built graphs in shapes the real exports do not use: no node names, fused
 * LayerNormalization and Gelu ops, V built before Q and K, biases added in the other operand order, and the
 * 1/√hd scaling split between Q and K. Checks every recovered tensor against the one that was put in.
 */
class OnnxBertImporterSyntheticTest {
    static final int V = 11, H = 8, NH = 2, HD = H / NH, I = 12, P = 6, T = 2;

    /** Builds graphs node by node; every value and initializer gets an anonymous name. */
    static final class Builder {
        final List<Node> nodes = new ArrayList<>();
        final Map<String, Tensor> inits = new LinkedHashMap<>();
        int counter;

        String fresh() {
            return "v" + counter++;
        }

        String init(float[] data, long... dims) {
            String name = "onnx::W_" + counter++;
            inits.put(name, new Tensor(name, OnnxGraph.FLOAT, dims, null, -1, 0, data, null, null));
            return name;
        }

        String constant(long[] values, long... dims) {
            Tensor t = new Tensor("", OnnxGraph.INT64, dims, null, -1, 0, null, values, null);
            return op("Constant", Map.of("value", new Attribute("value", Attribute.TENSOR, 0, 0, null, t, null, null)));
        }

        String scalar(float v) {
            Tensor t = new Tensor("", OnnxGraph.FLOAT, new long[0], null, -1, 0, new float[]{v}, null, null);
            return op("Constant", Map.of("value", new Attribute("value", Attribute.TENSOR, 0, 0, null, t, null, null)));
        }

        String op(String type, Map<String, Attribute> attrs, String... inputs) {
            String out = fresh();
            nodes.add(new Node("", type, List.of(inputs), List.of(out), attrs));
            return out;
        }

        String op(String type, String... inputs) {
            return op(type, Map.of(), inputs);
        }

        static Attribute ints(String name, long... v) {
            return new Attribute(name, Attribute.INTS, 0, 0, null, null, null, v);
        }

        static Attribute f(String name, float v) {
            return new Attribute(name, Attribute.FLOAT, v, 0, null, null, null, null);
        }

        static Attribute s(String name, String v) {
            return new Attribute(name, Attribute.STRING, 0, 0, v, null, null, null);
        }

        OnnxGraph graph() {
            List<ValueInfo> inputs = List.of(new ValueInfo("input_ids", 7, List.of()),
                    new ValueInfo("attention_mask", 7, List.of()), new ValueInfo("token_type_ids", 7, List.of()));
            return new OnnxGraph(Path.of("synthetic.onnx"), 8, "test", 17, nodes, inits, inputs, List.of());
        }
    }

    /** A one-layer BERT graph around the weights {@code w}; {@code qScale}·{@code kScale} should be 1/√hd. */
    static OnnxGraph build(BertWeights w, String gelu, double qScale, double kScale) {
        Builder b = new Builder();
        String word = b.op("Gather", b.init(w.wordEmbeddings, V, H), "input_ids");
        String type = b.op("Gather", b.init(w.tokenTypeEmbeddings, T, H), "token_type_ids");
        long[] ids = new long[P];
        for (int i = 0; i < P; i++) ids[i] = i;
        String posIds = b.op("Slice", b.constant(ids, 1, P), b.constant(new long[]{0}, 1));
        String pos = b.op("Gather", b.init(w.positionEmbeddings, P, H), posIds);
        String sum = b.op("Add", b.op("Add", word, type), pos);
        String x = b.op("LayerNormalization", Map.of("epsilon", Builder.f("epsilon", 1e-7f)), sum,
                b.init(w.embLnGamma, H), b.init(w.embLnBeta, H));
        String mask = b.op("Mul", b.op("Sub", b.scalar(1), b.op("Cast", "attention_mask")), b.scalar(-1e9f));

        BertWeights.Layer l = w.layers[0];
        String headShape = b.constant(new long[]{0, 0, NH, HD}, 4);
        // V first, bias as the first Add operand
        String v = b.op("Add", b.init(l.bv, H), b.op("MatMul", x, b.init(l.wv, H, H)));
        String vt = b.op("Transpose", Map.of("perm", Builder.ints("perm", 0, 2, 1, 3)), b.op("Reshape", v, headShape));
        String q = b.op("Add", b.op("MatMul", x, b.init(l.wq, H, H)), b.init(l.bq, H));
        String qt = b.op("Transpose", Map.of("perm", Builder.ints("perm", 0, 2, 1, 3)), b.op("Reshape", q, headShape));
        qt = b.op("Mul", qt, b.scalar((float) qScale));
        String k = b.op("Add", b.op("MatMul", x, b.init(l.wk, H, H)), b.init(l.bk, H));
        String kt = b.op("Transpose", Map.of("perm", Builder.ints("perm", 0, 2, 3, 1)), b.op("Reshape", k, headShape));
        kt = b.op("Div", kt, b.scalar((float) (1 / kScale)));
        String probs = b.op("Softmax", Map.of("axis", new Attribute("axis", Attribute.INT, 0, -1, null, null, null, null)),
                b.op("Add", b.op("MatMul", qt, kt), mask));
        String ctx = b.op("Reshape", b.op("Transpose", Map.of("perm", Builder.ints("perm", 0, 2, 1, 3)),
                b.op("MatMul", probs, vt)), b.constant(new long[]{0, 0, H}, 3));
        String o = b.op("Add", b.op("MatMul", ctx, b.init(l.wo, H, H)), b.init(l.bo, H));
        String a = b.op("LayerNormalization", Map.of("epsilon", Builder.f("epsilon", 1e-7f)), b.op("Add", o, x),
                b.init(l.ln1Gamma, H), b.init(l.ln1Beta, H));
        String up = b.op("Add", b.op("MatMul", a, b.init(l.wIn, H, I)), b.init(l.bIn, I));
        String act = gelu.equals("tanh") ? b.op("Gelu", Map.of("approximate", Builder.s("approximate", "tanh")), up)
                : b.op("Gelu", up);
        String down = b.op("Add", b.op("MatMul", act, b.init(l.wOut, I, H)), b.init(l.bOut, H));
        b.op("LayerNormalization", Map.of("epsilon", Builder.f("epsilon", 1e-7f)), b.op("Add", a, down),
                b.init(l.ln2Gamma, H), b.init(l.ln2Beta, H));
        return b.graph();
    }

    static BertWeights randomWeights() {
        return HuggingFaceFolderRoundTripTest.random(
                new BertConfig(V, H, 1, NH, I, P, T, 1e-7f, BertConfig.Activation.GELU_EXACT), false, 17);
    }

    @Test
    void fusedOpsAndReorderedProjectionsImportExactly() {
        BertWeights w = randomWeights();
        double quarter = Math.pow(HD, -0.25); // scaling split between Q and K, as some exporters do
        BertWeights back = OnnxBertImporter.fromGraph(build(w, "exact", quarter, quarter));
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, back);
        assertEquals(1e-7f, back.config.layerNormEps());
    }

    @Test
    void geluApproximationIsReadFromTheGraph() {
        BertWeights back = OnnxBertImporter.fromGraph(build(randomWeights(), "tanh", 1, 1 / Math.sqrt(HD)));
        assertEquals(BertConfig.Activation.GELU_TANH, back.config.activation());
    }

    @Test
    void wrongAttentionScaleIsRejected() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> OnnxBertImporter.fromGraph(build(randomWeights(), "exact", 1, 1)));
        assertTrue(e.getMessage().contains("synthetic.onnx") && e.getMessage().contains("scaled by 1.0"), e.getMessage());
    }
}

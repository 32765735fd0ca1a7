package dev.offramp.weights;

import dev.offramp.weights.BertConfig.Activation;
import dev.offramp.weights.OnnxGraph.Node;
import dev.offramp.weights.OnnxGraph.Tensor;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recovers {@link BertWeights} and {@link BertConfig} from a BERT encoder exported to ONNX by following the
 * graph's data flow, not its node names (weight matrices are anonymous initializers like
 * {@code onnx::MatMul_1525}; node names may be stripped by optimizers).
 *
 * <p>What one layer looks like in a PyTorch export (bge-small-en-v1.5, all-MiniLM-L6-v2):
 * <pre>
 *   x ─┬─ MatMul(x, Wq) ─ Add(bq) ─ Reshape(B,T,NH,hd) ─ Transpose(0,2,1,3) ────────┐
 *      ├─ MatMul(x, Wk) ─ Add(bk) ─ Reshape ─ Transpose(0,2,3,1) ─────────────── MatMul (Q·Kᵀ) ─ Div(√hd) ─ Add(mask) ─ Softmax ─┐
 *      ├─ MatMul(x, Wv) ─ Add(bv) ─ Reshape ─ Transpose(0,2,1,3) ─────────────────────────────────────────────── MatMul (P·V) ─┘
 *      │    ─ Transpose ─ Reshape(B,T,H) ─ MatMul(Wo) ─ Add(bo) ─ Add(x) ─ LayerNorm ─ a
 *   a ─── MatMul(Wi) ─ Add(bi) ─ GELU (Div √2, Erf, Add 1, Mul x, Mul 0.5) ─ MatMul(Wo2) ─ Add(bo2) ─ Add(a) ─ LayerNorm ─ next x
 *   LayerNorm = ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul γ, Add β   (or one LayerNormalization op)
 * </pre>
 * Q and K are told apart by their position in the score MatMul (Q is the left operand, the softmax runs over
 * the last axis), V by feeding the MatMul whose other operand comes from the Softmax.
 */
public final class OnnxBertImporter {
    private final OnnxGraph graph;
    private final Map<String, Node> producers;
    private final Map<String, List<Node>> consumers;

    private OnnxBertImporter(OnnxGraph graph) {
        this.graph = graph;
        this.producers = graph.producers();
        this.consumers = graph.consumers();
    }

    /** Reads the file and imports it. */
    public static BertWeights load(Path onnxFile) {
        return fromGraph(OnnxModelReader.read(onnxFile));
    }

    /** Imports an already parsed graph. */
    public static BertWeights fromGraph(OnnxGraph graph) {
        return new OnnxBertImporter(graph).importBert();
    }

    /** A LayerNorm found in the graph: input value, output value, parameters. */
    private record LayerNorm(String input, String output, float[] gamma, float[] beta, float eps) {}

    /** A linear layer: MatMul by a constant [in, out] then Add of a constant bias. */
    private record Linear(Node matMul, float[] w, long[] dims, float[] b, String output) {}

    private BertWeights importBert() {
        // --- embeddings: three Gathers from float tables, summed, then LayerNorm
        // Word and token-type tables are indexed by graph inputs (the larger table is the vocabulary),
        // the position table by computed position ids.
        Node wordGather = null, typeGather = null, posGather = null;
        Set<String> graphInputs = new HashSet<>();
        for (var in : graph.inputs()) graphInputs.add(in.name());
        List<Node> byInput = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (!n.opType().equals("Gather")) continue;
            Tensor table = constant(n.input(0));
            if (table == null || table.dims().length != 2 || table.dataType() != OnnxGraph.FLOAT) continue;
            if (graphInputs.contains(n.input(1))) byInput.add(n);
            else if (posGather == null) posGather = n;
            else throw fail("two embedding Gathers indexed by computed ids: " + posGather.name() + ", " + n.name());
        }
        if (byInput.size() != 2) {
            throw fail("expected 2 embedding Gathers indexed by graph inputs (input_ids, token_type_ids), found " + byInput.size());
        }
        boolean firstIsWord = constant(byInput.get(0).input(0)).dims()[0] > constant(byInput.get(1).input(0)).dims()[0];
        wordGather = byInput.get(firstIsWord ? 0 : 1);
        typeGather = byInput.get(firstIsWord ? 1 : 0);
        if (posGather == null) throw fail("no position-embedding Gather (a 2-D table indexed by position ids)");
        checkPositionIds(posGather);
        Tensor word = constant(wordGather.input(0)), pos = constant(posGather.input(0)), type = constant(typeGather.input(0));
        int vocab = (int) word.dims()[0], hidden = (int) word.dims()[1];
        if (pos.dims()[1] != hidden || type.dims()[1] != hidden) {
            throw fail("embedding widths differ: word " + hidden + ", position " + pos.dims()[1] + ", type " + type.dims()[1]);
        }
        LayerNorm embLn = layerNormAfterSum(wordGather.output(0));

        // --- layers, until the stream stops feeding a Q/K/V triple
        List<BertWeights.Layer> layers = new ArrayList<>();
        String x = embLn.output();
        float eps = embLn.eps();
        Activation activation = null;
        int heads = -1, intermediate = -1;
        while (true) {
            List<Node> projections = constantMatMuls(x);
            if (projections.isEmpty()) break;
            String where = "layer " + layers.size() + ": ";
            if (projections.size() != 3) {
                throw fail(where + "expected 3 MatMuls (Q, K, V) reading " + x + ", found " + projections.size()
                        + " (fused QKV projections are not supported)");
            }
            Linear[] qkv = new Linear[3];
            for (int i = 0; i < 3; i++) qkv[i] = linear(projections.get(i), where);
            // The score MatMul has a projection on each side: Q left, K right. V meets the Softmax output.
            Linear q = null, k = null, v = null;
            Node scores = null, context = null;
            for (Linear p : qkv) {
                Use use = forwardThroughReshapes(p.output());
                if (use == null || !use.node().opType().equals("MatMul")) {
                    throw fail(where + "projection " + p.matMul().name() + " does not flow into an attention MatMul");
                }
                Node other = producerThroughReshapes(use.node().input(1 - use.inputIndex()));
                boolean otherIsSoftmax = other != null && other.opType().equals("Softmax");
                if (otherIsSoftmax && use.inputIndex() == 1) {
                    if (v != null) throw fail(where + "two projections feed the softmax·V MatMul");
                    v = p;
                    context = use.node();
                } else if (use.inputIndex() == 0) {
                    if (q != null) throw fail(where + "two projections are left operands of attention MatMuls");
                    q = p;
                    scores = use.node();
                } else {
                    if (k != null) throw fail(where + "two projections are right operands of the score MatMul");
                    k = p;
                }
            }
            if (q == null || k == null || v == null) throw fail(where + "could not tell Q, K and V apart");
            Use kUse = forwardThroughReshapes(k.output());
            if (kUse.node() != scores) throw fail(where + "K does not meet Q in the same score MatMul");
            heads = headsFromReshape(q.output(), hidden, where, heads);
            // the engine computes softmax(q·k / √hd): whatever scalings the export spreads over Q, K and the
            // scores must multiply to exactly that
            double scale = forwardThroughReshapes(q.output()).scale() * kUse.scale() * scaleToSoftmax(scores, where);
            double expected = 1 / Math.sqrt((double) hidden / heads);
            if (Math.abs(scale / expected - 1) > 1e-5) {
                throw fail(where + "attention scores are scaled by " + scale + ", expected 1/√" + hidden / heads + " = " + expected);
            }
            for (Linear p : qkv) checkSquare(p, hidden, where);

            // attention output projection, residual, LayerNorm
            Use ctxUse = forwardThroughReshapes(context.output(0));
            if (ctxUse == null || !ctxUse.node().opType().equals("MatMul") || constant(ctxUse.node().input(1)) == null) {
                throw fail(where + "the attention context does not flow into the output projection MatMul");
            }
            Linear o = linear(ctxUse.node(), where);
            checkSquare(o, hidden, where);
            LayerNorm ln1 = layerNorm(residual(o.output(), x, where), where + "attention LayerNorm");

            // feed-forward
            List<Node> up = constantMatMuls(ln1.output());
            if (up.size() != 1) throw fail(where + "expected one FFN MatMul reading " + ln1.output() + ", found " + up.size());
            Linear in = linear(up.get(0), where);
            if (in.dims()[0] != hidden) throw fail(where + "FFN input matrix is " + Arrays.toString(in.dims()));
            if (intermediate < 0) intermediate = (int) in.dims()[1];
            if (in.dims()[1] != intermediate) throw fail(where + "intermediate width " + in.dims()[1] + " differs from " + intermediate);
            ActivationAndNext act = activationToMatMul(in.output(), where);
            if (activation == null) activation = act.activation();
            if (activation != act.activation()) throw fail(where + "activation " + act.activation() + " differs from " + activation);
            Linear out = linear(act.next(), where);
            if (out.dims()[0] != intermediate || out.dims()[1] != hidden) {
                throw fail(where + "FFN output matrix is " + Arrays.toString(out.dims()));
            }
            LayerNorm ln2 = layerNorm(residual(out.output(), ln1.output(), where), where + "output LayerNorm");
            for (LayerNorm ln : List.of(ln1, ln2)) {
                if (ln.eps() != eps) throw fail(where + "LayerNorm eps " + ln.eps() + " differs from the embeddings' " + eps);
            }
            layers.add(new BertWeights.Layer(q.w(), q.b(), k.w(), k.b(), v.w(), v.b(), o.w(), o.b(),
                    ln1.gamma(), ln1.beta(), in.w(), in.b(), out.w(), out.b(), ln2.gamma(), ln2.beta()));
            x = ln2.output();
        }
        if (layers.isEmpty()) throw fail("no transformer layer found after the embedding LayerNorm (" + x + ")");

        float[][] pooler = pooler(x, hidden);
        BertConfig config = new BertConfig(vocab, hidden, layers.size(), heads, intermediate, (int) pos.dims()[0],
                (int) type.dims()[0], eps, activation);
        return new BertWeights(config, word.floats(), pos.floats(), type.floats(), embLn.gamma(), embLn.beta(),
                layers.toArray(BertWeights.Layer[]::new), pooler == null ? null : pooler[0], pooler == null ? null : pooler[1]);
    }

    // ---------------------------------------------------------------- pieces of a layer

    /** MatMuls that read {@code value} as their left operand and a constant matrix as their right. */
    private List<Node> constantMatMuls(String value) {
        List<Node> out = new ArrayList<>();
        for (Node n : consumers(value)) {
            if (n.opType().equals("MatMul") && n.input(0).equals(value) && constant(n.input(1)) != null) out.add(n);
        }
        return out;
    }

    /** A MatMul by a constant matrix followed by Add of a constant bias (either operand order). */
    private Linear linear(Node matMul, String where) {
        Tensor w = constant(matMul.input(1));
        if (w == null || w.dims().length != 2) throw fail(where + matMul.name() + " has no constant 2-D right operand");
        Node add = single(consumers(matMul.output(0)), "Add");
        if (add == null) throw fail(where + matMul.name() + " is not followed by a bias Add");
        String other = add.input(0).equals(matMul.output(0)) ? add.input(1) : add.input(0);
        Tensor b = constant(other);
        if (b == null || b.elementCount() != w.dims()[1]) {
            throw fail(where + "bias Add after " + matMul.name() + " has no constant bias of length " + w.dims()[1]);
        }
        return new Linear(matMul, w.floats(), w.dims(), b.floats(), add.output(0));
    }

    private void checkSquare(Linear p, int hidden, String where) {
        if (p.dims()[0] != hidden || p.dims()[1] != hidden) {
            throw fail(where + p.matMul().name() + " weight is " + Arrays.toString(p.dims()) + ", expected [" + hidden + ", " + hidden + "]");
        }
    }

    /** The Add that joins {@code value} with the residual stream {@code skip}; returns its output. */
    private String residual(String value, String skip, String where) {
        for (Node n : consumers(value)) {
            if (n.opType().equals("Add") && (n.input(0).equals(skip) || n.input(1).equals(skip))) return n.output(0);
        }
        throw fail(where + "no residual Add joining " + value + " and " + skip);
    }

    /**
     * The one consumer of a value reached through ops that only move data (Reshape, Transpose, ...) or scale it
     * by a scalar constant, ignoring Shape; {@code scale} is the product of those scalings.
     */
    private record Use(Node node, int inputIndex, double scale) {}

    private static final Set<String> DATA_MOVES = Set.of("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Cast");

    private Use forwardThroughReshapes(String value) {
        double scale = 1;
        for (int hop = 0; hop < 16; hop++) {
            List<Node> uses = new ArrayList<>();
            for (Node n : consumers(value)) if (!n.opType().equals("Shape")) uses.add(n);
            if (uses.size() != 1) return null;
            Node n = uses.get(0);
            double s = scalarScale(n, value);
            if (DATA_MOVES.contains(n.opType()) && n.input(0).equals(value) || !Double.isNaN(s)) {
                if (!Double.isNaN(s)) scale *= s;
                value = n.output(0);
                continue;
            }
            return new Use(n, n.inputs().indexOf(value), scale);
        }
        return null;
    }

    /** The producer of {@code value}, looking back through data moves and elementwise score adjustments. */
    private Node producerThroughReshapes(String value) {
        for (int hop = 0; hop < 16; hop++) {
            Node p = producers.get(value);
            if (p == null || !DATA_MOVES.contains(p.opType())) return p;
            value = p.input(0);
        }
        return null;
    }

    /**
     * Walks score MatMul → Div/Mul by a scalar → Add(mask) → Softmax, checks the softmax runs over the last
     * (key) axis, and returns the product of the scalar scalings on the way.
     */
    private double scaleToSoftmax(Node scores, String where) {
        String value = scores.output(0);
        double scale = 1;
        for (int hop = 0; hop < 6; hop++) {
            Node n = single(consumers(value), null);
            if (n == null) break;
            if (n.opType().equals("Softmax")) {
                var axis = n.attributes().get("axis");
                long a = axis == null ? -1 : axis.i();
                if (a != -1 && a != 3) throw fail(where + "softmax over axis " + a + ", expected the last (key) axis");
                return scale;
            }
            double s = scalarScale(n, value);
            if (!Double.isNaN(s)) scale *= s;
            else if (!n.opType().equals("Add") && !DATA_MOVES.contains(n.opType())) {
                throw fail(where + "unexpected " + n.opType() + " " + n.name() + " between the scores and the softmax");
            }
            value = n.output(0);
        }
        throw fail(where + "no Softmax after the score MatMul " + scores.name());
    }

    /** For Mul(value, c) or Div(value, c) with a scalar constant c: the factor applied (c or 1/c); else NaN. */
    private double scalarScale(Node n, String value) {
        boolean mul = n.opType().equals("Mul"), div = n.opType().equals("Div");
        if (!mul && !div) return Double.NaN;
        String other = n.input(0).equals(value) ? n.input(1) : n.input(0);
        if (div && !n.input(0).equals(value)) return Double.NaN; // c / value is not a scaling
        Tensor c = constant(other);
        if (c == null || c.elementCount() != 1 || c.dataType() != OnnxGraph.FLOAT) return Double.NaN;
        double v = c.scalarFloat();
        return mul ? v : 1 / v;
    }

    /** Heads from the Reshape of Q to (B, T, NH, hd): a constant shape or a Concat of constants. */
    private int headsFromReshape(String qOut, int hidden, String where, int previous) {
        Node reshape = null;
        for (Node n : consumers(qOut)) if (n.opType().equals("Reshape") && n.input(0).equals(qOut)) reshape = n;
        if (reshape == null) throw fail(where + "Q is not reshaped into heads");
        long nh, hd;
        Tensor shape = constant(reshape.input(1));
        if (shape != null) {
            long[] s = shape.longs();
            if (s.length != 4) throw fail(where + "Q reshape target " + Arrays.toString(s) + " is not 4-D");
            nh = s[2];
            hd = s[3];
        } else {
            Node concat = producers.get(reshape.input(1));
            if (concat == null || !concat.opType().equals("Concat") || concat.inputs().size() != 4) {
                throw fail(where + "cannot read the number of heads from the Q reshape " + reshape.name());
            }
            Tensor a = constant(concat.input(2)), b = constant(concat.input(3));
            if (a == null || b == null) throw fail(where + "Q reshape heads/head size are not constants");
            nh = a.longs()[0];
            hd = b.longs()[0];
        }
        if (nh * hd != hidden) throw fail(where + "heads " + nh + " × head size " + hd + " != hidden " + hidden);
        if (previous > 0 && previous != nh) throw fail(where + nh + " heads, earlier layers have " + previous);
        return (int) nh;
    }

    private record ActivationAndNext(Activation activation, Node next) {}

    /** Walks the elementwise activation subgraph from the FFN-up output to the FFN-down MatMul. */
    private ActivationAndNext activationToMatMul(String start, String where) {
        Set<String> ops = new HashSet<>();
        Node next = null;
        Activation fused = null;
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(start));
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            String v = todo.poll();
            if (!seen.add(v) || seen.size() > 32) continue;
            for (Node n : consumers(v)) {
                if (n.opType().equals("MatMul") && constant(n.input(1)) != null) {
                    if (next != null && next != n) throw fail(where + "the FFN activation feeds two MatMuls");
                    next = n;
                    continue;
                }
                ops.add(n.opType());
                if (n.opType().equals("Gelu") || n.opType().equals("FastGelu")) {
                    var approx = n.attributes().get("approximate");
                    fused = n.opType().equals("FastGelu") || (approx != null && "tanh".equals(approx.s()))
                            ? Activation.GELU_TANH : Activation.GELU_EXACT;
                }
                todo.addAll(n.outputs());
            }
        }
        if (next == null) throw fail(where + "no FFN-down MatMul after the activation (ops seen: " + ops + ")");
        Activation a;
        if (fused != null) a = fused;
        else if (ops.contains("Erf")) a = Activation.GELU_EXACT;
        else if (ops.contains("Tanh")) a = Activation.GELU_TANH;
        else throw fail(where + "unsupported FFN activation made of " + ops + " (expected GELU: Erf or Tanh)");
        return new ActivationAndNext(a, next);
    }

    // ---------------------------------------------------------------- LayerNorm

    /** The LayerNorm applied to the sum that {@code gatherOut} takes part in (embeddings: word + type + position). */
    private LayerNorm layerNormAfterSum(String gatherOut) {
        String v = gatherOut;
        for (int hop = 0; hop < 4; hop++) {
            for (Node n : consumers(v)) {
                if (n.opType().equals("ReduceMean") || n.opType().equals("LayerNormalization")) {
                    return layerNorm(v, "embedding LayerNorm");
                }
            }
            Node add = single(consumers(v), "Add");
            if (add == null) break;
            v = add.output(0);
        }
        throw fail("the embedding sum is not followed by a LayerNorm");
    }

    /** Matches a LayerNorm reading {@code x}: the fused op or the decomposition PyTorch exports. */
    private LayerNorm layerNorm(String x, String what) {
        for (Node n : consumers(x)) {
            if (n.opType().equals("LayerNormalization")) {
                var epsAttr = n.attributes().get("epsilon");
                var axis = n.attributes().get("axis");
                if (axis != null && axis.i() != -1) throw fail(what + ": LayerNormalization over axis " + axis.i());
                return new LayerNorm(x, n.output(0), constFloats(n.input(1), what + " scale"),
                        constFloats(n.input(2), what + " bias"), epsAttr == null ? 1e-5f : epsAttr.f());
            }
        }
        // mean = ReduceMean(x); d = x - mean; var = ReduceMean(d^2); y = d / sqrt(var + eps) * γ + β
        Node mean = single(consumers(x), "ReduceMean");
        if (mean == null) throw fail(what + ": no ReduceMean (or LayerNormalization) reading " + x);
        checkLastAxis(mean, what);
        Node sub = null;
        for (Node n : consumers(x)) {
            if (n.opType().equals("Sub") && n.input(0).equals(x) && n.input(1).equals(mean.output(0))) sub = n;
        }
        if (sub == null) throw fail(what + ": no Sub(x, mean) after " + mean.name());
        String d = sub.output(0);
        Node square = null, div = null;
        for (Node n : consumers(d)) {
            if (n.opType().equals("Pow") && isConstant(n.input(1), 2f)) square = n;
            if (n.opType().equals("Mul") && n.input(0).equals(d) && n.input(1).equals(d)) square = n;
            if (n.opType().equals("Div") && n.input(0).equals(d)) div = n;
        }
        if (square == null || div == null) throw fail(what + ": centred value " + d + " is not squared and divided");
        Node var = single(consumers(square.output(0)), "ReduceMean");
        if (var == null) throw fail(what + ": no ReduceMean of the squares");
        checkLastAxis(var, what);
        Node addEps = single(consumers(var.output(0)), "Add");
        if (addEps == null) throw fail(what + ": no Add(eps) after the variance");
        Tensor eps = constant(addEps.input(0).equals(var.output(0)) ? addEps.input(1) : addEps.input(0));
        if (eps == null) throw fail(what + ": the variance Add has no constant epsilon");
        Node sqrt = single(consumers(addEps.output(0)), "Sqrt");
        if (sqrt == null || !div.input(1).equals(sqrt.output(0))) throw fail(what + ": d / sqrt(var + eps) not found");
        Node mul = single(consumers(div.output(0)), "Mul");
        if (mul == null) throw fail(what + ": no Mul by gamma");
        String gammaName = mul.input(0).equals(div.output(0)) ? mul.input(1) : mul.input(0);
        Node addBeta = single(consumers(mul.output(0)), "Add");
        if (addBeta == null) throw fail(what + ": no Add of beta");
        String betaName = addBeta.input(0).equals(mul.output(0)) ? addBeta.input(1) : addBeta.input(0);
        return new LayerNorm(x, addBeta.output(0), constFloats(gammaName, what + " gamma"),
                constFloats(betaName, what + " beta"), eps.scalarFloat());
    }

    private void checkLastAxis(Node reduceMean, String what) {
        var axes = reduceMean.attributes().get("axes");
        long[] a = axes != null ? axes.ints() : reduceMean.inputs().size() > 1 && constant(reduceMean.input(1)) != null
                ? constant(reduceMean.input(1)).longs() : null;
        if (a == null || a.length != 1 || (a[0] != -1 && a[0] != 2)) {
            throw fail(what + ": " + reduceMean.name() + " reduces axes " + Arrays.toString(a) + ", expected the last");
        }
    }

    // ---------------------------------------------------------------- embeddings and pooler

    /** Position ids must be 0, 1, 2, ... (BERT); RoBERTa-style offsets would silently shift every position. */
    private void checkPositionIds(Node posGather) {
        Node p = producers.get(posGather.input(1));
        String source = posGather.input(1);
        if (p != null && p.opType().equals("Slice")) source = p.input(0);
        Tensor ids = constant(source);
        if (ids == null) {
            Node q = producers.get(source);
            throw fail("position ids come from " + (q == null ? source : q.opType() + " " + q.name())
                    + ", expected a constant 0, 1, 2, ... (only BERT-style absolute positions are supported)");
        }
        long[] v = ids.longs();
        for (int i = 0; i < v.length; i++) {
            if (v[i] != i) throw fail("position id " + i + " is " + v[i] + ", expected " + i);
        }
    }

    /** Pooler: Gather(token 0) → Gemm/MatMul+Add → Tanh, when present. Returns {W [in, out], b} or null. */
    private float[][] pooler(String finalHidden, int hidden) {
        for (Node gather : consumers(finalHidden)) {
            if (!gather.opType().equals("Gather")) continue;
            Tensor index = constant(gather.input(1));
            if (index == null || index.longs().length != 1 || index.longs()[0] != 0) continue;
            for (Node dense : consumers(gather.output(0))) {
                Node tanhAfter = single(consumers(dense.output(0)), "Tanh");
                if (dense.opType().equals("Gemm")) {
                    var transB = dense.attributes().get("transB");
                    var alpha = dense.attributes().get("alpha");
                    var beta = dense.attributes().get("beta");
                    if ((alpha != null && alpha.f() != 1f) || (beta != null && beta.f() != 1f) || tanhAfter == null) continue;
                    Tensor w = constant(dense.input(1));
                    float[] b = constFloats(dense.input(2), "pooler bias");
                    float[] wt = w.floats();
                    if (transB != null && transB.i() == 1) wt = transpose(wt, (int) w.dims()[0], (int) w.dims()[1]);
                    return new float[][]{wt, b};
                }
                if (dense.opType().equals("MatMul") && constant(dense.input(1)) != null) {
                    Linear l = linear(dense, "pooler: ");
                    if (single(consumers(l.output()), "Tanh") != null) return new float[][]{l.w(), l.b()};
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- helpers

    /** An initializer or the value of a Constant node; null when {@code value} is computed. */
    private Tensor constant(String value) {
        Tensor t = graph.initializers().get(value);
        if (t != null) return t;
        Node p = producers.get(value);
        if (p != null && p.opType().equals("Constant")) {
            var a = p.attributes().get("value");
            if (a != null && a.t() != null) return a.t();
        }
        return null;
    }

    private boolean isConstant(String value, float expected) {
        Tensor t = constant(value);
        return t != null && t.elementCount() == 1 && t.dataType() == OnnxGraph.FLOAT && t.scalarFloat() == expected;
    }

    private float[] constFloats(String value, String what) {
        Tensor t = constant(value);
        if (t == null) throw fail(what + " (" + value + ") is not a constant");
        return t.floats();
    }

    private List<Node> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** The only consumer with the given op type (any op when null), or null if there is not exactly one. */
    private static Node single(List<Node> nodes, String opType) {
        Node found = null;
        for (Node n : nodes) {
            if (opType != null && !n.opType().equals(opType)) continue;
            if (opType == null && n.opType().equals("Shape")) continue;
            if (found != null) return null;
            found = n;
        }
        return found;
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private IllegalArgumentException fail(String message) {
        return new IllegalArgumentException("ONNX graph " + graph.file() + " is not a supported BERT encoder: " + message);
    }
}

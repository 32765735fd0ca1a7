package dev.offramp.decoder;

import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * The training computation of {@link DecoderTrainer} written again in double precision, plainly (loops, no
 * kernels), so finite differences of its loss are exact enough to check every gradient. Parameters are the
 * tensors in the order {@link DecoderTrainer#addParameters} lists them.
 */
final class ReferenceDecoder {
    private ReferenceDecoder() {}

    /** The tensors of w as doubles, in parameter-set order. */
    static List<double[]> tensors(DecoderWeights w) {
        List<double[]> t = new ArrayList<>();
        t.add(toDouble(w.tokenEmbeddings));
        for (DecoderWeights.Layer l : w.layers) {
            for (float[] a : new float[][]{l.attnNorm, l.wq, l.wk, l.wv, l.wo, l.mlpNorm, l.wGate, l.wUp, l.wDown}) {
                t.add(toDouble(a));
            }
        }
        t.add(toDouble(w.finalNorm));
        if (w.lmHead != null) t.add(toDouble(w.lmHead));
        return t;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /**
     * Σ_l w_l·CE_l over the exits (stride as the trainer reads them), with the given layer-dropout masks
     * (dropped[l][b], or null for none).
     */
    static double loss(DecoderConfig cfg, List<double[]> p, int[] tokens, int[] targets, int batch, int seq,
                       double[] exitWeights, int stride, boolean[][] dropped) {
        return loss(cfg, p, tokens, targets, batch, seq, exitWeights, stride, dropped, 0, null, null);
    }

    /**
     * As above, with self-distillation: an intermediate exit's target is (1 − β)·onehot + β·teacher[row] (teacher
     * given, constant). finalProbabilities, when not null, receives the last exit's softmax per row.
     */
    static double loss(DecoderConfig cfg, List<double[]> p, int[] tokens, int[] targets, int batch, int seq,
                       double[] exitWeights, int stride, boolean[][] dropped, double beta, double[][] teacher,
                       double[][] finalProbabilities) {
        int c = cfg.hidden(), nh = cfg.heads(), kvh = cfg.kvHeads(), hs = cfg.headDim(), in = cfg.intermediate();
        int v = cfg.vocabSize(), layers = cfg.layers(), n = batch * seq, group = nh / kvh;
        double eps = cfg.rmsNormEps();
        double[] invFreq = Rope.inverseFrequencies(cfg);
        double[] emb = p.get(0), finalNorm = p.get(1 + 9 * layers);
        double[] head = cfg.tiedEmbeddings() ? transpose(emb, v, c) : p.get(2 + 9 * layers);
        double[][] x = new double[n][];
        for (int r = 0; r < n; r++) x[r] = slice(emb, tokens[r] * c, c);
        double total = 0;
        for (int l = 0; l < layers; l++) {
            double[] g1 = p.get(1 + 9 * l), wq = p.get(2 + 9 * l), wk = p.get(3 + 9 * l), wv = p.get(4 + 9 * l);
            double[] wo = p.get(5 + 9 * l), g2 = p.get(6 + 9 * l), wg = p.get(7 + 9 * l), wu = p.get(8 + 9 * l);
            double[] wd = p.get(9 + 9 * l);
            double[][] q = new double[n][], k = new double[n][], val = new double[n][];
            for (int r = 0; r < n; r++) {
                double[] a = rmsNorm(x[r], g1, eps);
                q[r] = rope(matVec(a, wq, c, nh * hs), nh, hs, r % seq, invFreq);
                k[r] = rope(matVec(a, wk, c, kvh * hs), kvh, hs, r % seq, invFreq);
                val[r] = matVec(a, wv, c, kvh * hs);
            }
            double[][] mid = new double[n][];
            for (int r = 0; r < n; r++) {
                int b = r / seq, i = r % seq;
                double[] att = new double[nh * hs];
                for (int h = 0; h < nh; h++) {
                    int kh = h / group;
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j <= i; j++) {
                        double d = 0;
                        for (int m = 0; m < hs; m++) d += q[r][h * hs + m] * k[b * seq + j][kh * hs + m];
                        s[j] = d / Math.sqrt(hs);
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= i; j++) {
                        for (int m = 0; m < hs; m++) att[h * hs + m] += s[j] / sum * val[b * seq + j][kh * hs + m];
                    }
                }
                boolean skip = dropped != null && dropped[l][b];
                mid[r] = skip ? x[r] : add(x[r], matVec(att, wo, nh * hs, c));
            }
            for (int r = 0; r < n; r++) {
                boolean skip = dropped != null && dropped[l][r / seq];
                double[] bIn = rmsNorm(mid[r], g2, eps), gate = matVec(bIn, wg, c, in), up = matVec(bIn, wu, c, in);
                double[] hidden = new double[in];
                for (int j = 0; j < in; j++) hidden[j] = gate[j] / (1 + Math.exp(-gate[j])) * up[j];
                x[r] = skip ? mid[r] : add(mid[r], matVec(hidden, wd, in, c));
            }
            int exit = l + 1;
            double w = exitWeights[l];
            if (w == 0) continue;
            int k0 = exit == layers ? 1 : stride;
            double ce = 0;
            int count = 0;
            for (int r = exit == layers ? 0 : Math.floorMod(exit, k0); r < n; r += k0) {
                double[] z = matVec(rmsNorm(x[r], finalNorm, eps), head, c, v);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (double zi : z) max = Math.max(max, zi);
                for (double zi : z) sum += Math.exp(zi - max);
                double lse = Math.log(sum) + max;
                if (exit < layers && beta > 0) {
                    double qz = 0;
                    for (int j = 0; j < v; j++) qz += teacher[r][j] * z[j];
                    ce += (1 - beta) * (lse - z[targets[r]]) + beta * (lse - qz);
                } else {
                    ce += lse - z[targets[r]];
                }
                if (exit == layers && finalProbabilities != null) {
                    finalProbabilities[r] = new double[v];
                    for (int j = 0; j < v; j++) finalProbabilities[r][j] = Math.exp(z[j] - lse);
                }
                count++;
            }
            total += w * ce / count;
        }
        return total;
    }

    /** RMSNorm of one row. */
    static double[] rmsNorm(double[] x, double[] g, double eps) {
        double ms = 0;
        for (double xi : x) ms += xi * xi;
        double rs = 1 / Math.sqrt(ms / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * rs * g[i];
        return y;
    }

    /** y = x · W for W stored (in, out) row-major. */
    static double[] matVec(double[] x, double[] w, int in, int out) {
        double[] y = new double[out];
        for (int i = 0; i < in; i++) for (int j = 0; j < out; j++) y[j] += x[i] * w[i * out + j];
        return y;
    }

    /** Rotate-half rotary embedding of each head of x at position pos. */
    static double[] rope(double[] x, int heads, int hs, int pos, double[] invFreq) {
        double[] y = x.clone();
        int half = hs / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double a = x[h * hs + i], b = x[h * hs + half + i], ang = pos * invFreq[i];
                y[h * hs + i] = a * Math.cos(ang) - b * Math.sin(ang);
                y[h * hs + half + i] = b * Math.cos(ang) + a * Math.sin(ang);
            }
        }
        return y;
    }

    static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    static double[] slice(double[] a, int off, int n) {
        double[] y = new double[n];
        System.arraycopy(a, off, y, 0, n);
        return y;
    }

    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int r = 0; r < rows; r++) for (int j = 0; j < cols; j++) t[j * rows + r] = a[r * cols + j];
        return t;
    }
}

package dev.offramp.model;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;

import java.util.List;

/**
 * An independent double-precision BERT encoder forward: plain loops, exact erf, no vector code, no GEMM.
 * Parameters are double copies (in the order of {@link TinyModels#tensors}) that the finite-difference
 * tests perturb. Dropout, when given, uses the same mask function as the trainer (so masks line up) but is
 * otherwise computed here from scratch.
 */
final class ReferenceEncoder {
    /** Dropout as the trainer applied it in one step; null means none. */
    record DropoutSpec(double hidden, double attention, long seed, long step) {}

    final BertConfig c;
    final double[][] p; // parameter tensors, order of TinyModels.tensors

    ReferenceEncoder(BertWeights w) {
        this.c = w.config;
        List<float[]> t = TinyModels.tensors(w);
        p = new double[t.size()][];
        for (int i = 0; i < t.size(); i++) {
            p[i] = new double[t.get(i).length];
            for (int j = 0; j < p[i].length; j++) p[i][j] = t.get(i)[j];
        }
    }

    private double[] layerTensor(int l, int k) {
        return p[5 + 16 * l + k];
    }

    /** Outputs in the trainer's ragged layout: [l] (N·H), l = 0 embeddings, l = 1..L layers. */
    double[][] forward(List<Encoding> batch, DropoutSpec drop) {
        int h = c.hidden(), n = 0;
        for (Encoding e : batch) n += e.length();
        double[][] out = new double[c.layers() + 1][n * h];
        int off = 0, attOff = 0;
        for (Encoding e : batch) {
            forwardSample(e, off, attOff, drop, out);
            off += e.length();
            attOff += c.heads() * e.length() * e.length();
        }
        return out;
    }

    /** Σ_l Σ weights[l] ⊙ output[l] (weights[l] may be null). */
    double loss(List<Encoding> batch, DropoutSpec drop, float[][] weights) {
        double[][] out = forward(batch, drop);
        double s = 0;
        for (int l = 0; l < out.length; l++) {
            if (weights[l] == null) continue;
            for (int i = 0; i < out[l].length; i++) s += weights[l][i] * out[l][i];
        }
        return s;
    }

    private double mask(DropoutSpec drop, int site, long index, boolean attention) {
        if (drop == null) return 1;
        double q = attention ? drop.attention() : drop.hidden();
        if (q == 0) return 1;
        return Dropout.scale(Dropout.key(drop.seed(), drop.step(), site), index, (float) q);
    }

    private void forwardSample(Encoding e, int off, int attOff, DropoutSpec drop, double[][] out) {
        int h = c.hidden(), t = e.length(), in = c.intermediate(), nh = c.heads(), d = h / nh;
        double[] x = new double[t * h];
        for (int i = 0; i < t; i++) {
            for (int k = 0; k < h; k++) {
                x[i * h + k] = p[0][e.ids()[i] * h + k] + p[1][i * h + k] + p[2][e.typeIds()[i] * h + k];
            }
        }
        x = layerNorm(x, t, p[3], p[4]);
        for (int i = 0; i < t * h; i++) x[i] *= mask(drop, 0, (long) off * h + i, false);
        System.arraycopy(x, 0, out[0], off * h, t * h);
        for (int l = 0; l < c.layers(); l++) {
            double[] q = linear(x, t, h, h, layerTensor(l, 0), layerTensor(l, 1));
            double[] k = linear(x, t, h, h, layerTensor(l, 2), layerTensor(l, 3));
            double[] v = linear(x, t, h, h, layerTensor(l, 4), layerTensor(l, 5));
            double[] ctx = new double[t * h];
            int attSite = EncoderTrainer.site(l, EncoderTrainer.SITE_ATTENTION);
            for (int hd = 0; hd < nh; hd++) {
                for (int i = 0; i < t; i++) {
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int m = 0; m < d; m++) dot += q[i * h + hd * d + m] * k[j * h + hd * d + m];
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                    for (int j = 0; j < t; j++) {
                        double pr = s[j] / sum * mask(drop, attSite, (long) attOff + (long) hd * t * t + i * t + j, true);
                        for (int m = 0; m < d; m++) ctx[i * h + hd * d + m] += pr * v[j * h + hd * d + m];
                    }
                }
            }
            double[] proj = linear(ctx, t, h, h, layerTensor(l, 6), layerTensor(l, 7));
            int s1 = EncoderTrainer.site(l, EncoderTrainer.SITE_ATTENTION_OUTPUT);
            for (int i = 0; i < t * h; i++) proj[i] = proj[i] * mask(drop, s1, (long) off * h + i, false) + x[i];
            double[] h1 = layerNorm(proj, t, layerTensor(l, 8), layerTensor(l, 9));
            double[] f = linear(h1, t, h, in, layerTensor(l, 10), layerTensor(l, 11));
            for (int i = 0; i < f.length; i++) f[i] = gelu(f[i], c.activation());
            double[] down = linear(f, t, in, h, layerTensor(l, 12), layerTensor(l, 13));
            int s2 = EncoderTrainer.site(l, EncoderTrainer.SITE_FFN_OUTPUT);
            for (int i = 0; i < t * h; i++) down[i] = down[i] * mask(drop, s2, (long) off * h + i, false) + h1[i];
            x = layerNorm(down, t, layerTensor(l, 14), layerTensor(l, 15));
            System.arraycopy(x, 0, out[l + 1], off * h, t * h);
        }
    }

    /** y (t, out) = x (t, in) · w (in, out) + b. */
    static double[] linear(double[] x, int t, int in, int outW, double[] w, double[] b) {
        double[] y = new double[t * outW];
        for (int i = 0; i < t; i++) {
            for (int o = 0; o < outW; o++) {
                double s = b[o];
                for (int k = 0; k < in; k++) s += x[i * in + k] * w[k * outW + o];
                y[i * outW + o] = s;
            }
        }
        return y;
    }

    double[] layerNorm(double[] x, int t, double[] g, double[] b) {
        int h = c.hidden();
        return layerNorm(x, t, h, g, b, c.layerNormEps());
    }

    static double[] layerNorm(double[] x, int t, int h, double[] g, double[] b, double eps) {
        double[] y = new double[t * h];
        for (int i = 0; i < t; i++) {
            double m = 0, v = 0;
            for (int k = 0; k < h; k++) m += x[i * h + k];
            m /= h;
            for (int k = 0; k < h; k++) v += (x[i * h + k] - m) * (x[i * h + k] - m);
            v /= h;
            double rs = 1 / Math.sqrt(v + eps);
            for (int k = 0; k < h; k++) y[i * h + k] = (x[i * h + k] - m) * rs * g[k] + b[k];
        }
        return y;
    }

    static double gelu(double x, BertConfig.Activation act) {
        if (act == BertConfig.Activation.GELU_EXACT) return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** erf to ~1e-15: Maclaurin series for |x| < 3, the erfc continued fraction beyond. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = ax;
            for (int n = 80; n >= 1; n--) f = ax + (n / 2.0) / f;
            r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
        }
        return x < 0 ? -r : r;
    }
}

package dev.offramp.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API bodies of {@link VectorOps}; only loaded when {@link KernelConfig#VECTOR} is true. Loops over the
 * preferred species, a scalar loop for the tail. Reductions keep several accumulators so the FMA latency
 * (4 cycles) does not serialise the loop.
 */
final class PanamaOps {
    private PanamaOps() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
            s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
        }
        for (; i <= n - L; i += L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    static void scale(float alpha, float[] x, int off, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(S, x, off + i).mul(va).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= alpha;
    }

    static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, y, yOff + i).add(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    static void mul(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, y, yOff + i).mul(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] *= x[xOff + i];
    }

    static float sum(float[] x, int off, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            s0 = s0.add(FloatVector.fromArray(S, x, off + i));
            s1 = s1.add(FloatVector.fromArray(S, x, off + i + L));
        }
        for (; i <= n - L; i += L) s0 = s0.add(FloatVector.fromArray(S, x, off + i));
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static float max(float[] x, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) m0 = m0.max(FloatVector.fromArray(S, x, off + i));
        float m = m0.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    static float sumSqDiff(float[] x, int off, int n, float mean) {
        FloatVector vm = FloatVector.broadcast(S, mean);
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(S, x, off + i).sub(vm);
            FloatVector d1 = FloatVector.fromArray(S, x, off + i + L).sub(vm);
            s0 = d0.fma(d0, s0);
            s1 = d1.fma(d1, s1);
        }
        for (; i <= n - L; i += L) {
            FloatVector d0 = FloatVector.fromArray(S, x, off + i).sub(vm);
            s0 = d0.fma(d0, s0);
        }
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float d = x[off + i] - mean;
            s += d * d;
        }
        return s;
    }

    static float expSub(float[] x, int off, int n, float shift) {
        FloatVector vs = FloatVector.broadcast(S, shift);
        FloatVector s0 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(vs).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            s0 = s0.add(e);
        }
        float s = s0.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            s += e;
        }
        return s;
    }

    static void scaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] out, int oOff, int n) {
        FloatVector vs = FloatVector.broadcast(S, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(vs).mul(FloatVector.fromArray(S, w, wOff + i)).intoArray(out, oOff + i);
        }
        for (; i < n; i++) out[oOff + i] = s * x[xOff + i] * w[wOff + i];
    }

    static void swiglu(float[] gate, int gOff, float[] up, int uOff, float[] out, int oOff, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, gOff + i);
            FloatVector sig = one.add(g.neg().lanewise(VectorOperators.EXP));
            g.div(sig).mul(FloatVector.fromArray(S, up, uOff + i)).intoArray(out, oOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            out[oOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    static void rotateHalf(float[] x, int off, float[] cos, float[] sin, int csOff, int half) {
        int i = 0;
        for (; i <= half - L; i += L) {
            FloatVector a = FloatVector.fromArray(S, x, off + i), b = FloatVector.fromArray(S, x, off + half + i);
            FloatVector c = FloatVector.fromArray(S, cos, csOff + i), s = FloatVector.fromArray(S, sin, csOff + i);
            a.mul(c).sub(b.mul(s)).intoArray(x, off + i);
            b.mul(c).add(a.mul(s)).intoArray(x, off + half + i);
        }
        for (; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], c = cos[csOff + i], s = sin[csOff + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    static void addScaledProduct(float s, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int n) {
        FloatVector vs = FloatVector.broadcast(S, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(vs).fma(FloatVector.fromArray(S, w, wOff + i),
                    FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += s * x[xOff + i] * w[wOff + i];
    }

    static void swigluBackward(float[] gate, int gOff, float[] up, int uOff, float[] dOut, int dOff,
                               float[] dGate, int dgOff, float[] dUp, int duOff, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, gOff + i), d = FloatVector.fromArray(S, dOut, dOff + i);
            FloatVector sig = one.div(one.add(g.neg().lanewise(VectorOperators.EXP)));
            FloatVector dsilu = sig.mul(g.mul(one.sub(sig)).add(one));
            d.mul(FloatVector.fromArray(S, up, uOff + i)).mul(dsilu).intoArray(dGate, dgOff + i);
            d.mul(g).mul(sig).intoArray(dUp, duOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i], sig = 1f / (1f + (float) Math.exp(-g)), d = dOut[dOff + i];
            dGate[dgOff + i] = d * up[uOff + i] * sig * (1f + g * (1f - sig));
            dUp[duOff + i] = d * g * sig;
        }
    }
}

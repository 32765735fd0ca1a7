package dev.offramp.model;

import dev.offramp.weights.BertConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU activation, exact (x·Φ(x) with erf) or the tanh approximation, as the checkpoint's config says.
 * Java has no erf, so erf uses Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7, i.e. float precision).
 */
public final class Gelu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float P = 0.3275911f;
    private static final float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f;
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float INV_SQRT_2PI = 0.3989422804014327f;

    private Gelu() {}

    /** x[i] = gelu(x[i] + bias[i % c]) for i in [from, to); from must be a multiple of c. In place. */
    public static void biasForward(float[] x, float[] bias, int from, int to, int c, BertConfig.Activation act) {
        int bound = S.loopBound(c);
        for (int r = from; r < to; r += c) {
            int i = 0;
            if (act == BertConfig.Activation.GELU_EXACT) {
                for (; i < bound; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, x, r + i).add(FloatVector.fromArray(S, bias, i));
                    geluExact(v).intoArray(x, r + i);
                }
                for (; i < c; i++) x[r + i] = geluExact(x[r + i] + bias[i]);
            } else {
                for (; i < bound; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, x, r + i).add(FloatVector.fromArray(S, bias, i));
                    FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(SQRT_2_OVER_PI);
                    v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(x, r + i);
                }
                for (; i < c; i++) x[r + i] = geluTanh(x[r + i] + bias[i]);
            }
        }
    }

    /** out[i] = gelu(in[i]) for i in [from, to): the training forward keeps the pre-activation for backward. */
    public static void forward(float[] out, float[] in, int from, int to, BertConfig.Activation act) {
        int bound = from + S.loopBound(to - from);
        int i = from;
        if (act == BertConfig.Activation.GELU_EXACT) {
            for (; i < bound; i += S.length()) geluExact(FloatVector.fromArray(S, in, i)).intoArray(out, i);
            for (; i < to; i++) out[i] = geluExact(in[i]);
        } else {
            for (; i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, in, i);
                FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(SQRT_2_OVER_PI);
                v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(out, i);
            }
            for (; i < to; i++) out[i] = geluTanh(in[i]);
        }
    }

    /** Backward of {@link #forward}: dIn[i] += dOut[i]·gelu'(in[i]) for i in [from, to). dIn must not alias dOut. */
    public static void backward(float[] dIn, float[] dOut, float[] in, int from, int to, BertConfig.Activation act) {
        int bound = from + S.loopBound(to - from);
        int i = from;
        if (act == BertConfig.Activation.GELU_EXACT) {
            for (; i < bound; i += S.length()) {
                // d/dx x·Φ(x) = Φ(x) + x·φ(x); φ(x) = exp(−x²/2)/√(2π) is the exp the erf approximation needs anyway
                FloatVector v = FloatVector.fromArray(S, in, i);
                FloatVector z = v.mul(INV_SQRT2);
                FloatVector az = z.abs();
                FloatVector t = FloatVector.broadcast(S, 1f).div(az.mul(P).add(1f));
                FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
                FloatVector e = az.mul(az).neg().lanewise(VectorOperators.EXP);
                FloatVector erfAbs = poly.mul(e).neg().add(1f);
                FloatVector erf = erfAbs.blend(erfAbs.neg(), z.compare(VectorOperators.LT, 0f));
                FloatVector grad = erf.add(1f).mul(0.5f).add(v.mul(e).mul(INV_SQRT_2PI));
                grad.fma(FloatVector.fromArray(S, dOut, i), FloatVector.fromArray(S, dIn, i)).intoArray(dIn, i);
            }
            for (; i < to; i++) dIn[i] += dOut[i] * geluExactDerivative(in[i]);
        } else {
            for (; i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, in, i);
                FloatVector v2 = v.mul(v);
                FloatVector th = v2.mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI).lanewise(VectorOperators.TANH);
                FloatVector dInner = v2.mul(3f * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
                FloatVector sech2 = th.mul(th).neg().add(1f);
                FloatVector grad = th.add(1f).mul(0.5f).add(v.mul(0.5f).mul(sech2).mul(dInner));
                grad.fma(FloatVector.fromArray(S, dOut, i), FloatVector.fromArray(S, dIn, i)).intoArray(dIn, i);
            }
            for (; i < to; i++) dIn[i] += dOut[i] * geluTanhDerivative(in[i]);
        }
    }

    /** Scalar twin of the exact backward: Φ(x) + x·φ(x). */
    public static float geluExactDerivative(float x) {
        return 0.5f * (1f + erf(x * INV_SQRT2)) + x * (float) Math.exp(-0.5f * x * x) * INV_SQRT_2PI;
    }

    /** Scalar twin of the tanh backward: 0.5(1 + tanh u) + 0.5x(1 − tanh²u)·u', u = √(2/π)(x + 0.044715x³). */
    public static float geluTanhDerivative(float x) {
        float th = (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
        return 0.5f * (1f + th) + 0.5f * x * (1f - th * th) * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * x * x);
    }

    private static FloatVector geluExact(FloatVector v) {
        FloatVector z = v.mul(INV_SQRT2);
        FloatVector az = z.abs();
        FloatVector t = az.mul(P).add(1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector e = az.mul(az).neg().lanewise(VectorOperators.EXP);
        FloatVector erfAbs = poly.mul(e).neg().add(1f);
        FloatVector erf = erfAbs.blend(erfAbs.neg(), z.compare(VectorOperators.LT, 0f));
        return v.mul(0.5f).mul(erf.add(1f));
    }

    /** Scalar erf, same approximation as the vector path. */
    public static float erf(float z) {
        float az = Math.abs(z);
        float t = 1f / (1f + P * az);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float r = 1f - poly * (float) Math.exp(-az * az);
        return z < 0 ? -r : r;
    }

    public static float geluExact(float x) {
        return 0.5f * x * (1f + erf(x * INV_SQRT2));
    }

    public static float geluTanh(float x) {
        return 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
    }
}

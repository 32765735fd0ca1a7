package dev.offramp.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every VectorOps primitive against its ScalarOps twin: length 1021 (prime, so tails run) and 0..33, at odd offsets. */
class VectorOpsTest {
    static IntStream lengths() {
        return IntStream.concat(IntStream.rangeClosed(0, 33), IntStream.of(64, 1021));
    }

    private static float[] random(int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-2, 2);
        return x;
    }

    /** Tolerance for a reduction of n terms summed in another order: relative to the sum of magnitudes. */
    private static void assertReduction(String what, float want, float got, float magnitude) {
        assertEquals(want, got, 1e-6f * magnitude + 1e-30f, what);
    }

    @ParameterizedTest
    @MethodSource("lengths")
    void reductionsMatchScalar(int n) {
        assertTrue(VectorOps.vectorized() || !Boolean.parseBoolean(System.getProperty("offramp.vector", "true")),
                "the Vector API should be in use under surefire (--add-modules jdk.incubator.vector)");
        int off = 3;
        float[] a = random(n + off, n), b = random(n + off + 1, n + 100L);
        float absDot = 0, absSum = 0;
        for (int i = 0; i < n; i++) {
            absDot += Math.abs(a[off + i] * b[off + 1 + i]);
            absSum += Math.abs(a[off + i]);
        }
        assertReduction("dot n=" + n, ScalarOps.dot(a, off, b, off + 1, n), VectorOps.dot(a, off, b, off + 1, n), absDot);
        assertReduction("sum n=" + n, ScalarOps.sum(a, off, n), VectorOps.sum(a, off, n), absSum);
        assertEquals(ScalarOps.max(a, off, n), VectorOps.max(a, off, n), "max n=" + n);
        float mean = 0.25f, sq = 0;
        for (int i = 0; i < n; i++) sq += (a[off + i] - mean) * (a[off + i] - mean);
        assertReduction("sumSqDiff n=" + n, ScalarOps.sumSqDiff(a, off, n, mean), VectorOps.sumSqDiff(a, off, n, mean), sq);
    }

    @ParameterizedTest
    @MethodSource("lengths")
    void elementwiseOpsMatchScalar(int n) {
        int xOff = 1, yOff = 2;
        float[] x = random(n + xOff, 7L * n + 1), y0 = random(n + yOff + 3, 7L * n + 2);

        float[] want = y0.clone(), got = y0.clone();
        ScalarOps.axpy(0.75f, x, xOff, want, yOff, n);
        VectorOps.axpy(0.75f, x, xOff, got, yOff, n);
        assertArrayEquals(want, got, 1e-6f, "axpy n=" + n);   // fma vs mul+add: one rounding apart

        want = y0.clone(); got = y0.clone();
        ScalarOps.scale(-1.5f, want, yOff, n);
        VectorOps.scale(-1.5f, got, yOff, n);
        assertArrayEquals(want, got, "scale n=" + n);

        want = y0.clone(); got = y0.clone();
        ScalarOps.add(x, xOff, want, yOff, n);
        VectorOps.add(x, xOff, got, yOff, n);
        assertArrayEquals(want, got, "add n=" + n);

        want = y0.clone(); got = y0.clone();
        ScalarOps.mul(x, xOff, want, yOff, n);
        VectorOps.mul(x, xOff, got, yOff, n);
        assertArrayEquals(want, got, "mul n=" + n);

        want = y0.clone(); got = y0.clone();
        float shift = ScalarOps.max(y0, yOff, n);
        float sumWant = ScalarOps.expSub(want, yOff, n, shift), sumGot = VectorOps.expSub(got, yOff, n, shift);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 2e-6f * Math.abs(want[i]) + 1e-30f, "expSub n=" + n + " at " + i);
        }
        assertEquals(sumWant, sumGot, 4e-6f * sumWant + 1e-30f, "expSub sum n=" + n);
        if (n > 0) assertEquals(ScalarOps.max(want, yOff, n), 1f, "exp(max − max) = 1");
    }

    @ParameterizedTest
    @MethodSource("lengths")
    void decoderOpsMatchScalar(int n) {
        int xOff = 2, wOff = 5, oOff = 1;
        float[] x = random(n + xOff, 11L * n + 1), w = random(n + wOff, 11L * n + 2), out0 = random(n + oOff + 2, 11L * n + 3);

        float[] want = out0.clone(), got = out0.clone();
        ScalarOps.scaledProduct(0.37f, x, xOff, w, wOff, want, oOff, n);
        VectorOps.scaledProduct(0.37f, x, xOff, w, wOff, got, oOff, n);
        assertArrayEquals(want, got, "scaledProduct n=" + n);
        for (int i = 0; i < n; i++) assertEquals(0.37f * x[xOff + i] * w[wOff + i], want[oOff + i], "definition at " + i);

        // gates over a wide range, so both tails of the sigmoid run
        float[] gate = random(n + xOff, 11L * n + 4);
        for (int i = 0; i < gate.length; i++) gate[i] *= 6f;
        want = out0.clone();
        got = out0.clone();
        ScalarOps.swiglu(gate, xOff, w, wOff, want, oOff, n);
        VectorOps.swiglu(gate, xOff, w, wOff, got, oOff, n);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 4e-6f * Math.abs(want[i]) + 1e-30f, "swiglu n=" + n + " at " + i);
        }
        for (int i = 0; i < n; i++) {
            double g = gate[xOff + i], silu = g / (1 + Math.exp(-g));
            assertEquals(silu * w[wOff + i], want[oOff + i], 1e-5 * Math.abs(silu * w[wOff + i]) + 1e-7, "silu·up at " + i);
        }
        got = gate.clone();  // in place: out is the gate array
        VectorOps.swiglu(got, xOff, w, wOff, got, xOff, n);
        for (int i = 0; i < n; i++) assertEquals(want[oOff + i], got[xOff + i], 4e-6f * Math.abs(want[oOff + i]) + 1e-30f);

        // rotate-half on one head of 2n values, angles from position 7
        int half = n, csOff = 3;
        float[] head = random(2 * half + xOff, 11L * n + 5), cos = new float[half + csOff], sin = new float[half + csOff];
        for (int i = 0; i < half; i++) {
            double angle = 7 * Math.pow(10000, -(double) i / Math.max(1, half));
            cos[csOff + i] = (float) Math.cos(angle);
            sin[csOff + i] = (float) Math.sin(angle);
        }
        want = head.clone();
        got = head.clone();
        ScalarOps.rotateHalf(want, xOff, cos, sin, csOff, half);
        VectorOps.rotateHalf(got, xOff, cos, sin, csOff, half);
        assertArrayEquals(want, got, "rotateHalf n=" + n);
        for (int i = 0; i < half; i++) {
            double a = head[xOff + i], b = head[xOff + half + i];
            // a rotation keeps the length of each pair
            double before = a * a + b * b, after = (double) want[xOff + i] * want[xOff + i]
                    + (double) want[xOff + half + i] * want[xOff + half + i];
            assertEquals(before, after, 1e-5 * before + 1e-7, "rotation keeps the norm at " + i);
            assertEquals(a * cos[csOff + i] - b * sin[csOff + i], want[xOff + i], 1e-6);
        }
    }

    @ParameterizedTest
    @MethodSource("lengths")
    void trainingOpsMatchScalar(int n) {
        int xOff = 3, wOff = 1, oOff = 2;
        float[] x = random(n + xOff, 13L * n + 1), w = random(n + wOff, 13L * n + 2), y0 = random(n + oOff + 1, 13L * n + 3);
        float[] want = y0.clone(), got = y0.clone();
        ScalarOps.addScaledProduct(-0.61f, x, xOff, w, wOff, want, oOff, n);
        VectorOps.addScaledProduct(-0.61f, x, xOff, w, wOff, got, oOff, n);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 2e-6f * (Math.abs(want[i]) + Math.abs(y0[i])) + 1e-30f, "addScaledProduct n=" + n + " at " + i);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(y0[oOff + i] - 0.61 * x[xOff + i] * w[wOff + i], want[oOff + i], 1e-5, "definition at " + i);
        }

        // swiglu' against its scalar twin and against central differences of silu(g)·u in double
        float[] gate = random(n + xOff, 13L * n + 4), up = random(n + wOff, 13L * n + 5), dOut = random(n, 13L * n + 6);
        for (int i = 0; i < gate.length; i++) gate[i] *= 6f;
        float[] dgWant = new float[n + oOff], duWant = new float[n + 1], dgGot = new float[n + oOff], duGot = new float[n + 1];
        ScalarOps.swigluBackward(gate, xOff, up, wOff, dOut, 0, dgWant, oOff, duWant, 1, n);
        VectorOps.swigluBackward(gate, xOff, up, wOff, dOut, 0, dgGot, oOff, duGot, 1, n);
        for (int i = 0; i < n; i++) {
            assertEquals(dgWant[oOff + i], dgGot[oOff + i], 4e-6f * Math.abs(dgWant[oOff + i]) + 1e-7f, "dGate n=" + n + " at " + i);
            assertEquals(duWant[1 + i], duGot[1 + i], 4e-6f * Math.abs(duWant[1 + i]) + 1e-7f, "dUp n=" + n + " at " + i);
            double g = gate[xOff + i], u = up[wOff + i], e = 1e-6;
            double fdGate = dOut[i] * (silu(g + e) - silu(g - e)) / (2 * e) * u, fdUp = dOut[i] * silu(g);
            assertEquals(fdGate, dgWant[oOff + i], 1e-5 * (1 + Math.abs(fdGate)), "dGate vs finite differences at " + g);
            assertEquals(fdUp, duWant[1 + i], 1e-5 * (1 + Math.abs(fdUp)), "dUp at " + g);
        }
    }

    private static double silu(double g) {
        return g / (1 + Math.exp(-g));
    }
}

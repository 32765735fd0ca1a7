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
}

package dev.offramp.jmh;

import dev.offramp.kernels.ScalarOps;
import dev.offramp.kernels.VectorOps;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The vector primitives against their scalar twins at the model's row lengths (hidden 384/768, intermediate
 * 1536, a 128-token softmax row). Run like {@link GemmBenchmark}: {@code org.openjdk.jmh.Main VectorOpsBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class VectorOpsBenchmark {
    @Param({"128", "384", "1536"})
    public int n;

    private float[] x, y;

    @Setup
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(2);
        x = new float[n];
        y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
            y[i] = (float) rnd.nextDouble(-1, 1);
        }
    }

    @Benchmark public float dotVector() { return VectorOps.dot(x, 0, y, 0, n); }
    @Benchmark public float dotScalar() { return ScalarOps.dot(x, 0, y, 0, n); }

    @Benchmark public float[] axpyVector() { VectorOps.axpy(1e-3f, x, 0, y, 0, n); return y; }
    @Benchmark public float[] axpyScalar() { ScalarOps.axpy(1e-3f, x, 0, y, 0, n); return y; }

    @Benchmark public float sumSqDiffVector() { return VectorOps.sumSqDiff(x, 0, n, 0.1f); }
    @Benchmark public float sumSqDiffScalar() { return ScalarOps.sumSqDiff(x, 0, n, 0.1f); }

    /** exp(x − max) of a softmax row; x stays in [-1, 1] because the row is refilled from y each time. */
    @Benchmark public float expSubVector() {
        System.arraycopy(y, 0, x, 0, n);
        return VectorOps.expSub(x, 0, n, 1f);
    }

    @Benchmark public float expSubScalar() {
        System.arraycopy(y, 0, x, 0, n);
        return ScalarOps.expSub(x, 0, n, 1f);
    }
}

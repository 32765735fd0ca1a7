package dev.offramp.jmh;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
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
 * GEMM throughput on the model's shapes. Reports µs per call; GFLOP/s = 2·M·K·N / (µs · 1000), e.g.
 * 64×384×1536 at 160 µs = 472 GFLOP/s.
 *
 * <pre>
 * ./mvnw -B -q -ntp -pl offramp-jmh -am -DskipTests package
 * java --add-modules jdk.incubator.vector -cp offramp-jmh/target/classes:$(cat offramp-jmh/target/classpath.txt) \
 *      org.openjdk.jmh.Main GemmBenchmark [-p shape=64x384x1536] [-jvmArgsAppend -Dofframp.threads=1]
 * </pre>
 * Shapes are M×K×N; a suffix :NT, :TN, :TT or :NN runs the general {@code Gemm.gemm} with those transposes
 * (backward passes), plain shapes run {@code Gemm.matmul} with B packed once (inference). On a shared machine
 * compare against {@code -Dofframp.threads=1} runs, which are less disturbed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class GemmBenchmark {
    @Param({"64x384x384", "64x384x1152", "64x384x1536", "64x1536x384", "2048x384x1536", "2048x1536x384",
            "64x768x768", "64x768x3072", "64x3072x768", "8x384x1536", "16x384x384",
            "2048x384x1536:NT", "384x2048x1536:TN", "2048x1536x384:NT", "1536x2048x384:TN"})
    public String shape;

    private int m, k, n;
    private boolean general, transA, transB;
    private float[] a, b, c;
    private PackedMatrix packed;

    @Setup
    public void setup() {
        String[] parts = shape.split(":");
        String[] dims = parts[0].split("x");
        m = Integer.parseInt(dims[0]);
        k = Integer.parseInt(dims[1]);
        n = Integer.parseInt(dims[2]);
        general = parts.length > 1;
        transA = general && parts[1].charAt(0) == 'T';
        transB = general && parts[1].charAt(1) == 'T';
        SplittableRandom rnd = new SplittableRandom(1);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        packed = PackedMatrix.pack(b, 0, k, n);
    }

    @Benchmark
    public float[] gemm() {
        if (general) {
            Gemm.gemm(transA, transB, m, n, k, a, 0, transA ? m : k, b, 0, transB ? k : n, c, 0, n, false);
        } else {
            Gemm.matmul(a, 0, k, packed, c, 0, n, m, false);
        }
        return c;
    }
}

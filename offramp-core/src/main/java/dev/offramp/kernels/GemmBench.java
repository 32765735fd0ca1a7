package dev.offramp.kernels;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Quick GEMM throughput check for tuning (the JMH suite in offramp-jmh is the careful one). Prints the median
 * GFLOP/s of {@link Gemm#matmul} on the model's shapes and of {@link Gemm#gemm} on backward shapes.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector [-Dofframp.threads=1] -cp offramp-core/target/classes \
 *      dev.offramp.kernels.GemmBench [seconds-per-shape] [MxKxN[:tA tB] ...]
 * </pre>
 * A shape suffix {@code :TN}, {@code :NT}, {@code :TT} or {@code :NN} times {@code gemm} with those transposes;
 * plain {@code MxKxN} times {@code matmul} with B packed once. Besides wall-clock GFLOP/s it prints GFLOP per
 * CPU-second received (divided by the thread count), which stays meaningful when other processes share the cores.
 */
public final class GemmBench {
    private GemmBench() {}

    static final String[] DEFAULT_SHAPES = {
            "64x384x384", "64x384x1152", "64x384x1536", "64x1536x384", "2048x384x1536", "2048x1536x384",
            "64x768x768", "64x768x3072", "64x3072x768", "8x384x1536", "16x384x384", "16x1536x384",
            "2048x384x1536:NT", "384x2048x1536:TN", "1536x2048x384:TN", "2048x1536x384:NT", "64x64x64:NT",
    };

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 0.6;
        String[] shapes = args.length > 1 ? Arrays.copyOfRange(args, 1, args.length) : DEFAULT_SHAPES;
        System.out.printf("threads=%d vector=%s NR=%d%n", Parallel.threads(), KernelConfig.VECTOR, Gemm.NR);
        // warm every shape first: under load C2 needs ~1 s to compile the micro-kernel
        Runnable[] ops = new Runnable[shapes.length];
        for (int i = 0; i < shapes.length; i++) ops[i] = op(shapes[i]);
        long warmEnd = System.nanoTime() + (long) (Math.max(1.5, seconds * 2) * 1e9);
        while (System.nanoTime() < warmEnd) for (Runnable op : ops) op.run();
        for (int s = 0; s < shapes.length; s++) {
            String shape = shapes[s];
            Runnable op = ops[s];
            String[] dims = shape.split(":")[0].split("x");
            double flop = 2.0 * Long.parseLong(dims[0]) * Long.parseLong(dims[1]) * Long.parseLong(dims[2]);
            long warmShapeEnd = System.nanoTime() + (long) (seconds * 0.25e9);
            while (System.nanoTime() < warmShapeEnd) op.run();
            // timed: batches of ~5 ms, median over batches
            long t0 = System.nanoTime(); op.run(); long one = Math.max(1, System.nanoTime() - t0);
            int batch = (int) Math.max(1, 5_000_000L / one);
            double[] rates = new double[Math.max(5, (int) (seconds * 0.75e9 / (batch * (double) one)))];
            double[] cpuRates = new double[rates.length];
            for (int r = 0; r < rates.length; r++) {
                long cpu = cpuNanos(), t = System.nanoTime();
                for (int i = 0; i < batch; i++) op.run();
                long wall = System.nanoTime() - t;
                rates[r] = flop * batch / wall;
                cpuRates[r] = flop * batch / Math.max(1.0, (cpuNanos() - cpu) / (double) Parallel.threads());
            }
            Arrays.sort(rates);
            Arrays.sort(cpuRates);
            System.out.printf("%-18s %7.1f GFLOP/s  (p25 %.1f, p75 %.1f, %.1f µs/op)   per CPU-second: %.1f%n", shape,
                    rates[rates.length / 2], rates[rates.length / 4], rates[rates.length * 3 / 4],
                    flop / rates[rates.length / 2] / 1e3, cpuRates[cpuRates.length / 2]);
        }
    }

    private static final java.lang.management.ThreadMXBean THREAD_MX = java.lang.management.ManagementFactory.getThreadMXBean();
    private static long[] engineThreads;

    /**
     * CPU time actually received by this thread and the pool's workers (their spinning included). On a shared
     * machine, flop per CPU-second estimates the undisturbed rate.
     */
    private static long cpuNanos() {
        if (engineThreads == null) {
            engineThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t == Thread.currentThread() || t.getName().startsWith("offramp-worker-"))
                    .mapToLong(Thread::threadId).toArray();
        }
        long sum = 0;
        for (long id : engineThreads) sum += Math.max(0, THREAD_MX.getThreadCpuTime(id));
        return sum;
    }

    /** The operation a shape names, on fresh random operands. */
    static Runnable op(String shape) {
        String[] parts = shape.split(":");
        String[] dims = parts[0].split("x");
        int m = Integer.parseInt(dims[0]), k = Integer.parseInt(dims[1]), n = Integer.parseInt(dims[2]);
        boolean general = parts.length > 1;
        boolean tA = general && parts[1].charAt(0) == 'T', tB = general && parts[1].charAt(1) == 'T';
        SplittableRandom rnd = new SplittableRandom(42);
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        PackedMatrix pb = PackedMatrix.pack(b, 0, k, n);
        Runnable op = general
                ? () -> Gemm.gemm(tA, tB, m, n, k, a, 0, tA ? m : k, b, 0, tB ? k : n, c, 0, n, false)
                : () -> Gemm.matmul(a, 0, k, pb, c, 0, n, m, false);
        return op;
    }
}

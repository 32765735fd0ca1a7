package dev.offramp.testing;

import java.util.function.DoubleSupplier;

/** The reference every gradient check compares against: central differences in double precision. */
public final class FiniteDifferences {
    private FiniteDifferences() {}

    /** ∂loss/∂x[i] by central differences, x perturbed in place (and restored). */
    public static double[] of(double[] x, DoubleSupplier loss) {
        double eps = 1e-6;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double s = x[i];
            x[i] = s + eps;
            double lp = loss.getAsDouble();
            x[i] = s - eps;
            double lm = loss.getAsDouble();
            x[i] = s;
            g[i] = (lp - lm) / (2 * eps);
        }
        return g;
    }

    /** ∂loss/∂x[i] by central differences with step eps, for float parameters; x[i] is restored. */
    public static double at(float[] x, int i, float eps, DoubleSupplier loss) {
        float s = x[i];
        x[i] = s + eps;
        double lp = loss.getAsDouble();
        x[i] = s - eps;
        double lm = loss.getAsDouble();
        x[i] = s;
        return (lp - lm) / (2 * eps);
    }
}

package dev.offramp.kernels;

/**
 * A right-hand GEMM operand B (k×n, row-major) packed once into the panel layout the micro-kernel streams,
 * so that the weights of a linear layer are rearranged at load time instead of on every call.
 * PLACEHOLDER layout (plain copy) until the vector kernel lands.
 */
public final class PackedMatrix {
    final int k, n;
    final float[] data;

    private PackedMatrix(int k, int n, float[] data) {
        this.k = k;
        this.n = n;
        this.data = data;
    }

    /** Packs the row-major k×n matrix starting at {@code off} (leading dimension n). */
    public static PackedMatrix pack(float[] b, int off, int k, int n) {
        PackedMatrix p = new PackedMatrix(k, n, new float[k * n]);
        p.repack(b, off);
        return p;
    }

    /** Re-reads the source after its values changed (an optimizer step); same shape. */
    public void repack(float[] b, int off) {
        System.arraycopy(b, off, data, 0, k * n);
    }

    public int rows() { return k; }

    public int cols() { return n; }
}

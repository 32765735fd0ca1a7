package dev.offramp.kernels;

/**
 * A right-hand GEMM operand B (k×n, row-major) packed once into the panel layout the micro-kernel streams,
 * so that the weights of a linear layer are rearranged at load time instead of on every call.
 *
 * <p>Layout: ⌈n / NR⌉ column panels of NR = {@link Gemm#NR} columns (two vectors), one after the other; panel
 * j holds rows 0..k-1 of columns [j·NR, j·NR + NR), row by row, i.e. {@code data[j·k·NR + p·NR + c]}. The last
 * panel is zero-padded. A k-block [p0, p0 + kc) of a panel is then one contiguous run the kernel reads
 * front to back.
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
        if (k < 0 || n < 0) throw new IllegalArgumentException("PackedMatrix.pack: negative shape k=" + k + ", n=" + n);
        long size = (long) panels(n) * Gemm.NR * k;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("PackedMatrix.pack: " + k + "×" + n + " is too large for one array");
        }
        PackedMatrix p = new PackedMatrix(k, n, new float[(int) size]);
        p.repack(b, off);
        return p;
    }

    /** Re-reads the source after its values changed (an optimizer step); same shape. */
    public void repack(float[] b, int off) {
        if (off < 0 || (long) off + (long) k * n > b.length) {
            throw new IllegalArgumentException("PackedMatrix: source of " + b.length + " floats is too short for "
                    + k + "×" + n + " at offset " + off);
        }
        Gemm.packB(false, b, off, n, 0, k, 0, n, data);
    }

    public int rows() { return k; }

    public int cols() { return n; }

    static int panels(int n) {
        return (n + Gemm.NR - 1) / Gemm.NR;
    }
}

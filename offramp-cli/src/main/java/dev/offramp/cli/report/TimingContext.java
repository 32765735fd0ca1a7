package dev.offramp.cli.report;

/**
 * How the wall-clock numbers were measured, printed next to them.
 *
 * @param curveBatchSize batch size of the wall-clock points on the trade-off curves
 * @param smallBatch     batch size of the first timing column of the table (1 in the standard report)
 * @param largeBatch     batch size of the second timing column (32 in the standard report)
 * @param machineNote    CPU, cores/threads, JDK, load; free text
 */
public record TimingContext(int curveBatchSize, int smallBatch, int largeBatch, String machineNote) {
    public TimingContext {
        if (curveBatchSize < 1 || smallBatch < 1 || largeBatch < 1) {
            throw new IllegalArgumentException("batch sizes must be >= 1, got curve " + curveBatchSize + ", small "
                    + smallBatch + ", large " + largeBatch);
        }
        machineNote = machineNote == null ? "" : machineNote;
    }

    /** Table columns at batch 1 and batch 32. */
    public static TimingContext standard(int curveBatchSize, String machineNote) {
        return new TimingContext(curveBatchSize, 1, 32, machineNote);
    }
}

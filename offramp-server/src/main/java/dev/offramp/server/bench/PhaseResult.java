package dev.offramp.server.bench;

import java.util.Locale;

/**
 * What one load phase measured. Every request the phase sent ends in exactly one of three bins:
 * {@code sent = ok + errors + lost}, where {@code ok + errors = answered}.
 *
 * @param phase        the phase's name, e.g. "closed c=4" or "open 50%"
 * @param concurrency  clients of a closed-loop phase, 0 for open loop
 * @param offeredRps   an open-loop phase's arrival rate, NaN for closed loop
 * @param seconds      the phase's measured length (the sending window)
 * @param sent         requests sent
 * @param ok           answered 200 with a readable answer carrying this request's id
 * @param errors       answered with anything else: a non-200 status, an unreadable body, another request's id
 * @param lost         sent and never answered by the end of the phase plus the grace period (or the connection
 *                     failed, so no answer can come)
 * @param duplicates   answers that named a request id already answered (the server's id echo); 0 when correct
 * @param inconsistent ok answers whose label or exit layer differ from the first answer this generator got for the
 *                     same input (batching must not change answers; a rare flip of a borderline exit is possible
 *                     from float rounding between batch compositions, so this is reported, not counted as an error)
 * @param rps          ok answers per second: for closed loop those completed inside the window, for open loop all
 *                     ok answers over the window length
 * @param p50Ms        median latency of the ok answers in ms (open loop: from the scheduled send time)
 * @param p95Ms        95th percentile
 * @param p99Ms        99th percentile
 * @param meanExit     mean exit layer over the ok answers (from the answer's exit_layer)
 * @param firstError   the first error or loss seen, for the report, or null
 */
public record PhaseResult(String phase, int concurrency, double offeredRps, double seconds, long sent, long ok,
                          long errors, long lost, long duplicates, long inconsistent, double rps, double p50Ms,
                          double p95Ms, double p99Ms, double meanExit, String firstError) {

    /** Requests that got an HTTP answer, whatever its status. */
    public long answered() {
        return ok + errors;
    }

    /** The table header matching {@link #row()}. */
    public static String header() {
        return String.format(Locale.ROOT, "  %-12s %5s %8s %8s %8s %8s %8s %9s %7s %7s %6s %5s",
                "phase", "conc", "offered", "rps", "p50_ms", "p95_ms", "p99_ms", "mean_exit", "sent", "ok", "errors", "lost");
    }

    /** One table row. */
    public String row() {
        return String.format(Locale.ROOT, "  %-12s %5s %8s %8.1f %8.1f %8.1f %8.1f %9.2f %7d %7d %6d %5d",
                phase, concurrency > 0 ? Integer.toString(concurrency) : "-",
                Double.isNaN(offeredRps) ? "-" : String.format(Locale.ROOT, "%.1f", offeredRps),
                rps, p50Ms, p95Ms, p99Ms, meanExit, sent, ok, errors, lost);
    }

    /**
     * The q-quantile (0 &lt; q &le; 1) of sorted values by the nearest-rank method: the smallest value with at
     * least q of the values at or below it. NaN when there are none.
     */
    static double quantile(long[] sorted, int n, double q) {
        if (n == 0) return Double.NaN;
        int rank = (int) Math.ceil(q * n);
        return sorted[Math.max(0, Math.min(n, rank) - 1)];
    }
}

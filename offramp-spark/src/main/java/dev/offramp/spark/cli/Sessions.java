package dev.offramp.spark.cli;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session a command runs in: the one spark-submit configured (its master and settings win), else a local
 * one ({@code --master}, default {@code local[2]}) set up for a laptop or this machine: no UI, loopback only.
 * The JVM flags Spark needs on JDK 17+ cannot be set from here; the {@code ./offramp} launcher and the tests pass them.
 */
final class Sessions {
    static final String DEFAULT_MASTER = "local[2]";

    private Sessions() {}

    /** A session and whether this command made it (and so stops it at the end). */
    record Session(SparkSession spark, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) spark.stop();
        }
    }

    static Session open(String master, String appName) {
        SparkSession existing = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        if (existing != null) return new Session(existing, false);  // a test's, or a notebook's
        SparkConf conf = new SparkConf(true);  // reads spark.* system properties (spark-submit sets them)
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        if (master != null) b.master(master);
        else if (!conf.contains("spark.master")) b.master(DEFAULT_MASTER);
        String chosen = master != null ? master : conf.get("spark.master", DEFAULT_MASTER);
        if (chosen.startsWith("local")) {
            b.config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.showConsoleProgress", "false");  // our own bar draws progress
        }
        return new Session(b.getOrCreate(), true);
    }

    /** True when the session's tasks run in this JVM (the model a task loads is the driver's too). */
    static boolean local(SparkSession spark) {
        return spark.sparkContext().isLocal();
    }
}

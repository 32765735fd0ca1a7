package dev.offramp.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One local[2] session for every Spark test class of the module (they run in one JVM): starting Spark takes
 * seconds, a test takes less. Stopped by Spark's own shutdown hook when the JVM ends.
 */
public final class SharedSpark {
    private static SparkSession spark;

    private SharedSpark() {}

    public static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("offramp-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.sql.warehouse.dir", System.getProperty("java.io.tmpdir") + "/offramp-spark-warehouse")
                    .getOrCreate();
        }
        return spark;
    }
}

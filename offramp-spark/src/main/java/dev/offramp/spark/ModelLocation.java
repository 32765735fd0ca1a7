package dev.offramp.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a stage's model folder is on this machine. Three ways to get it to the executors:
 * <ul>
 *   <li>shared storage (NFS, a mounted bucket) or the same path on every node: the path as given;</li>
 *   <li>{@code SparkContext.addFile(dir, true)} (what {@link EarlyExitClassifier#shipModel} does):
 *       {@code sparkfiles:NAME}, found with {@link SparkFiles#get};</li>
 *   <li>{@code spark-submit --archives model.tgz#NAME}: the relative path {@code NAME}, unpacked in each executor's
 *       working directory.</li>
 * </ul>
 * A plain path that does not exist here is also looked up among the job's SparkFiles by its last name.
 */
final class ModelLocation {
    static final String SPARK_FILES = "sparkfiles:";

    private ModelLocation() {}

    static Path resolve(String modelPath) {
        List<String> tried = new ArrayList<>();
        if (modelPath.startsWith(SPARK_FILES)) {
            String name = modelPath.substring(SPARK_FILES.length());
            Path p = sparkFile(name, tried);
            if (p != null) return p;
        } else {
            Path p = Path.of(modelPath);
            if (Files.isDirectory(p)) return p.toAbsolutePath().normalize();
            tried.add(p.toAbsolutePath().toString());
            Path name = p.getFileName();
            if (name != null) {
                Path shipped = sparkFile(name.toString(), tried);
                if (shipped != null) return shipped;
            }
        }
        throw new IllegalArgumentException("model folder " + modelPath + " is not on this machine (tried " + String.join(", ", tried)
                + "): put it on storage every executor reads, or ship it with EarlyExitClassifier.shipModel"
                + " (SparkContext.addFile(dir, true)) or spark-submit --archives");
    }

    private static Path sparkFile(String name, List<String> tried) {
        if (SparkEnv.get() == null) {
            tried.add("SparkFiles " + name + " (no Spark here)");
            return null;
        }
        Path p = Path.of(SparkFiles.get(name));
        if (Files.isDirectory(p)) return p.toAbsolutePath().normalize();
        tried.add("SparkFiles " + p);
        return null;
    }
}

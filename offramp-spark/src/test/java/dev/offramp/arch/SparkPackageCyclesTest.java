package dev.offramp.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The Spark module's packages form no cycle, and the stage's package does not reach up into its commands. */
class SparkPackageCyclesTest {
    @Test
    void sparkPackagesHaveNoCycles() throws IOException {
        Map<String, Set<String>> uses = PackageCyclesTest.dependencies(Path.of("src/main/java"));
        assertEquals(Set.of("dev.offramp.spark", "dev.offramp.spark.cli"), uses.keySet());
        for (String from : uses.keySet()) {
            List<String> path = PackageCyclesTest.pathBack(uses, from);
            assertNull(path, () -> "package cycle: " + String.join(" -> ", path));
        }
        assertFalse(uses.get("dev.offramp.spark").contains("dev.offramp.spark.cli"), "the stage must not depend on the CLI");
    }
}

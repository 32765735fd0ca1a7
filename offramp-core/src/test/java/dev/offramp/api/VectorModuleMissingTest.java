package dev.offramp.api;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JVM started without the Vector API module gets a message naming the flag, not a bare NoClassDefFoundError. */
class VectorModuleMissingTest {
    /** Run in the child JVM: loads a model and prints what went wrong. */
    public static void main(String[] args) {
        try {
            Offramp.load(Path.of(args[0])).close();
            System.out.println("loaded");
        } catch (Throwable t) {
            System.out.println(t.getClass().getName() + ": " + t.getMessage());
        }
    }

    @Test
    void loadNamesTheMissingFlag() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                VectorModuleMissingTest.class.getName(), "no-such-model-folder").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("java.lang.IllegalStateException: Offramp needs the Vector API module: start java with "
                + "--add-modules jdk.incubator.vector"), out);
    }
}

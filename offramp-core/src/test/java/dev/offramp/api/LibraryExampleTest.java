package dev.offramp.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Builds and runs examples/library-example, a separate Maven project whose only dependency is
 * dev.offramp:offramp-core:0.1.0-SNAPSHOT, the way an application uses the library.
 *
 * <p>A real nested Maven build, offline, against a throw-away local repository: this build's offramp-core (its
 * classes, jarred here, so the test also works before the package phase) and the parent pom are installed into
 * it, and every other artifact (Jackson, the plugins) is a symbolic link into ~/.m2/repository. So ~/.m2 never
 * sees an offramp artifact, and nothing is downloaded.
 */
class LibraryExampleTest {
    private static final String VERSION = "0.1.0-SNAPSHOT";

    @TempDir
    Path tmp;

    @Test
    void separateMavenProjectBuildsAgainstTheLibraryAndClassifies() throws Exception {
        Path root = projectRoot();
        Path model = TinyModelFolder.write(tmp.resolve("fixture"));
        Path repo = seedRepository(Files.createTempDirectory("offramp-example-repo"), root);
        try {
            buildAndRun(root, model, repo);
        } finally {
            deleteWithoutFollowingLinks(repo);
        }
    }

    private void buildAndRun(Path root, Path model, Path repo) throws Exception {
        Path example = tmp.resolve("library-example");
        copyTree(root.resolve("examples/library-example"), example);

        String build = run(List.of(root.resolve("mvnw").toString(), "-o", "-B", "-q", "-Dmaven.repo.local=" + repo,
                "-f", example.resolve("pom.xml").toString(), "compile"), example);
        String classpath = example.resolve("target/classes") + java.io.File.pathSeparator
                + Files.readString(example.resolve("target/classpath.txt")).strip();
        assertTrue(classpath.contains(repo.resolve("dev/offramp/offramp-core").toString()),
                "the example must use the offramp-core installed here: " + classpath + "\n" + build);
        String text = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "-cp", classpath, "example.Main", model.toString()), example);

        assertTrue(text.contains("model model (colours, 6 layers, max-prob(tau=0.6))"), text);
        List<String> predictions = text.lines().filter(l -> l.contains("\texit ")).toList();
        assertEquals(3, predictions.size(), text);
        for (String line : predictions) {
            String label = line.substring(0, line.indexOf('\t'));
            assertTrue(TinyModelFolder.LABELS.contains(label), line);
            assertTrue(line.matches(".*\\texit [1-6]/6\\t.*"), line);
        }
        try (Offramp direct = Offramp.load(model)) {
            Prediction want = direct.classify("a gorgeous, witty, seductive movie");
            assertTrue(predictions.getFirst().startsWith(want.label() + "\t"), "the example's answer differs from the facade's: "
                    + predictions.getFirst() + " vs " + want);
        }
    }

    @Test
    void readmeExampleCompiles() throws IOException {
        String readme = Files.readString(projectRoot().resolve("README.md"));
        int at = readme.indexOf("## Library API");
        assertTrue(at >= 0, "README has no Library API section");
        int start = readme.indexOf("```java\n", at) + "```java\n".length();
        String source = readme.substring(start, readme.indexOf("```", start));
        Path src = Files.createDirectories(tmp.resolve("readme")).resolve("Classify.java");
        Files.writeString(src, source);
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int rc = javac.run(null, null, err, "-d", tmp.resolve("readme-classes").toString(),
                "-cp", System.getProperty("java.class.path"), src.toString());
        assertEquals(0, rc, "the README's Library API example does not compile:\n" + err.toString(StandardCharsets.UTF_8));
        assertTrue(Files.isRegularFile(tmp.resolve("readme-classes/Classify.class")));
    }

    /** Runs a command in dir; its output, or a failure with the output. */
    private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MAVEN_ARGS");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();  // until the process closes its output
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("took over 2 minutes: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + text);
        return text;
    }

    /** Deletes a tree; links are deleted, never what they point to (~/.m2). */
    private static void deleteWithoutFollowingLinks(Path dir) throws IOException {
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a) throws IOException {
                Files.delete(file);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    /** The repository root: the folder above the working directory holding mvnw and the example. */
    private static Path projectRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isRegularFile(d.resolve("examples/library-example/pom.xml"))) return d;
        }
        throw new IllegalStateException("no project root (mvnw + examples/library-example) above " + Path.of("").toAbsolutePath());
    }

    /** A local repository: links to everything in ~/.m2/repository except dev/offramp, which gets this build. */
    private static Path seedRepository(Path repo, Path root) throws IOException, java.net.URISyntaxException {
        Path m2 = Path.of(System.getProperty("user.home"), ".m2", "repository");
        assertTrue(Files.isDirectory(m2), "no local Maven repository at " + m2 + " to take the dependencies from");
        Files.createDirectories(repo.resolve("dev"));  // real folder: dev/offramp must not be the link into ~/.m2
        try (Stream<Path> top = Files.list(m2)) {
            for (Path p : top.toList()) if (!p.getFileName().toString().equals("dev")) Files.createSymbolicLink(repo.resolve(p.getFileName().toString()), p);
        }
        if (Files.isDirectory(m2.resolve("dev"))) {
            try (Stream<Path> dev = Files.list(m2.resolve("dev"))) {
                for (Path p : dev.toList()) {
                    if (!p.getFileName().toString().equals("offramp")) Files.createSymbolicLink(repo.resolve("dev").resolve(p.getFileName().toString()), p);
                }
            }
        }
        Path parent = Files.createDirectories(repo.resolve("dev/offramp/offramp-parent/" + VERSION));
        Files.copy(root.resolve("pom.xml"), parent.resolve("offramp-parent-" + VERSION + ".pom"));
        Path core = Files.createDirectories(repo.resolve("dev/offramp/offramp-core/" + VERSION));
        Files.copy(root.resolve("offramp-core/pom.xml"), core.resolve("offramp-core-" + VERSION + ".pom"));
        Path classes = Path.of(Offramp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = core.resolve("offramp-core-" + VERSION + ".jar");
        if (Files.isRegularFile(classes)) Files.copy(classes, jar);
        else jar(classes, jar);
        return repo;
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    /** Copies the example's sources (not a target/ folder a manual build may have left). */
    private static void copyTree(Path from, Path to) throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(from)) {
            s.filter(p -> !from.relativize(p).startsWith("target")).forEach(all::add);
        }
        for (Path p : all) {
            Path t = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(t);
            else Files.copy(p, t);
        }
    }
}

package dev.offramp.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the shared, read-only data folder lives. Nothing is hard-coded; the candidates, in order, are:
 * <ol>
 *   <li>system property {@code offramp.shared}</li>
 *   <li>environment variable {@code OFFRAMP_SHARED}</li>
 *   <li>{@code <offramp.root>/../shared}, when system property {@code offramp.root} (the repository root) is set</li>
 *   <li>{@code ../shared} relative to the working directory, then {@code shared} beside each further
 *       ancestor of the working directory (so a module directory or a git worktree one level deeper
 *       than the main checkout still finds it)</li>
 * </ol>
 * The first candidate that is an existing directory wins. A configured candidate that does not exist is
 * skipped rather than fatal, because the Maven build sets {@code offramp.shared} relative to the checkout,
 * which is wrong for worktrees; when nothing exists, the error lists every candidate that was tried.
 */
public final class DataPaths {

    public static final String SHARED_PROPERTY = "offramp.shared";
    public static final String SHARED_ENV = "OFFRAMP_SHARED";
    public static final String ROOT_PROPERTY = "offramp.root";

    private DataPaths() {
    }

    /** The shared folder (the one holding {@code data/} and {@code spec/}). */
    public static Path shared() {
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates()) {
            if (Files.isDirectory(c.path)) {
                return c.path.toAbsolutePath().normalize();
            }
            tried.add(c.path + " (" + c.source + ")");
        }
        throw new IllegalStateException("shared data folder not found; set -D" + SHARED_PROPERTY
                + "=<dir> or " + SHARED_ENV + "=<dir>. Tried: " + String.join(", ", tried));
    }

    /** {@code <shared>/data}: one folder per data set. */
    public static Path data() {
        return shared().resolve("data");
    }

    /** {@code <shared>/data/glue}: one folder per GLUE task (SST-2, CoLA, ...). */
    public static Path glue() {
        return data().resolve("glue");
    }

    private record Candidate(Path path, String source) {
    }

    private static List<Candidate> candidates() {
        List<Candidate> out = new ArrayList<>();
        String prop = System.getProperty(SHARED_PROPERTY);
        if (prop != null && !prop.isBlank()) {
            out.add(new Candidate(Path.of(prop), "system property " + SHARED_PROPERTY));
        }
        String env = System.getenv(SHARED_ENV);
        if (env != null && !env.isBlank()) {
            out.add(new Candidate(Path.of(env), "environment " + SHARED_ENV));
        }
        String root = System.getProperty(ROOT_PROPERTY);
        if (root != null && !root.isBlank()) {
            out.add(new Candidate(Path.of(root).resolve("..").resolve("shared").normalize(),
                    "system property " + ROOT_PROPERTY + "/../shared"));
        }
        Path parent = Path.of("").toAbsolutePath().getParent();
        if (parent != null) {
            out.add(new Candidate(parent.resolve("shared"), "working directory/../shared"));
            // further up, only accept a folder that really looks like ours (has data/)
            for (Path dir = parent.getParent(); dir != null; dir = dir.getParent()) {
                if (Files.isDirectory(dir.resolve("shared").resolve("data"))) {
                    out.add(new Candidate(dir.resolve("shared"), "working directory ancestor"));
                    break;
                }
            }
        }
        return out;
    }
}

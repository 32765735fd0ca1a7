package dev.offramp.spark;

import dev.offramp.api.Offramp;
import dev.offramp.data.TsvTaskSpec;
import dev.offramp.exits.MultiExitModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A Spark ML stage that classifies a text column with an early-exit model: it adds a label, a probability vector, the
 * exit layer, the criterion's confidence and an error column (named {@code <outputCol>_label}, ...), and fits in a
 * {@code Pipeline} like any other transformer (saved and loaded with {@code MLWritable} / {@code MLReadable}).
 *
 * <pre>{@code
 * EarlyExitClassifier stage = new EarlyExitClassifier()
 *         .setModelPath(EarlyExitClassifier.shipModel(spark, Path.of("imdb-frozen")))   // or a shared path
 *         .setInputCol("text").setOutputCol("pred").setPolicy("max-prob").setTruncate(true);
 * Dataset<Row> scored = stage.transform(reviews);   // + pred_label, pred_probability, pred_exit_layer, ...
 * }</pre>
 *
 * <p>Each executor JVM loads the model once ({@link ExecutorModels}) and its tasks share it; a partition is read in
 * windows of rows, which are encoded, sorted by length and run in batches through the early-exit runner (samples
 * leave the batch as they exit: compaction). A row whose text is null, empty or over the model's token limit
 * (unless {@link #setTruncate truncate}) gets null outputs and its problem in {@code <outputCol>_error}; the job goes on.
 *
 * <p>Executors need {@code --add-modules jdk.incubator.vector} (Spark 4.2's launcher adds it, with its
 * {@code --add-opens}, to drivers and executors; see docs/spark.md) or the engine falls back to its scalar kernels.
 */
public final class EarlyExitClassifier extends Transformer implements DefaultParamsWritable {
    /** The output columns' names after the prefix, in the order they are appended. */
    public static final List<String> OUTPUTS = List.of("label", "probability", "exit_layer", "confidence", "error");

    private final String uid;
    private final Param<String> inputCol, pairCol, outputCol, modelPath, policy, engine, textCleaning;
    private final DoubleParam maxDrop;
    private final IntParam batchSize;
    private final BooleanParam truncate;

    public EarlyExitClassifier() {
        this(Identifiable.randomUID("offramp"));
    }

    /** The constructor {@code MLReader} and {@code copy} use. */
    public EarlyExitClassifier(String uid) {
        this.uid = uid;
        // created here, not in field initializers: a Param takes its parent's uid, which must be set first
        inputCol = new Param<>(this, "inputCol", "the text column");
        pairCol = new Param<>(this, "pairCol", "the second text's column for a sentence-pair model (MRPC, RTE), or empty");
        outputCol = new Param<>(this, "outputCol", "prefix of the output columns <prefix>_label, _probability, _exit_layer,"
                + " _confidence, _error");
        modelPath = new Param<>(this, "modelPath", "the model folder (./offramp train + eval): a path every executor reads,"
                + " or sparkfiles:NAME for one shipped with SparkContext.addFile(dir, true)");
        policy = new Param<>(this, "policy", "the calibrated exit criterion (beem-a, max-prob, entropy, ...), or full");
        maxDrop = new DoubleParam(this, "maxDrop", "the calibration target, in metric points, the criterion was calibrated for");
        batchSize = new IntParam(this, "batchSize", "rows per engine batch");
        truncate = new BooleanParam(this, "truncate", "cut texts over the model's token limit instead of flagging them");
        engine = new Param<>(this, "engine", "offramp (early exit) or onnxruntime (ONNX Runtime at full depth, to compare)");
        textCleaning = new Param<>(this, "textCleaning", "none, or html (<br /> line breaks become spaces), as the model was trained");
        Offramp.Options d = Offramp.Options.defaults();
        setDefault(inputCol, "text");
        setDefault(pairCol, "");
        setDefault(outputCol, "offramp");
        setDefault(policy, d.policy());
        setDefault(maxDrop, d.maxDrop());
        setDefault(batchSize, 32);
        setDefault(truncate, false);
        setDefault(engine, Engine.OFFRAMP.optionName);
        setDefault(textCleaning, "none");
    }

    @Override
    public String uid() {
        return uid;
    }

    // ----------------------------------------------------------------------------------------------------
    // params (Spark finds them by their public no-argument accessors)

    public Param<String> inputCol() { return inputCol; }

    public Param<String> pairCol() { return pairCol; }

    public Param<String> outputCol() { return outputCol; }

    public Param<String> modelPath() { return modelPath; }

    public Param<String> policy() { return policy; }

    public DoubleParam maxDrop() { return maxDrop; }

    public IntParam batchSize() { return batchSize; }

    public BooleanParam truncate() { return truncate; }

    public Param<String> engine() { return engine; }

    public Param<String> textCleaning() { return textCleaning; }

    public EarlyExitClassifier setInputCol(String v) { return put(inputCol, v); }

    public EarlyExitClassifier setPairCol(String v) { return put(pairCol, v == null ? "" : v); }

    /** The output columns' prefix: {@code <v>_label}, {@code <v>_probability}, ... */
    public EarlyExitClassifier setOutputCol(String v) { return put(outputCol, v); }

    public EarlyExitClassifier setModelPath(String v) { return put(modelPath, v); }

    public EarlyExitClassifier setPolicy(String v) { return put(policy, v); }

    public EarlyExitClassifier setMaxDrop(double v) { return put(maxDrop, v); }

    public EarlyExitClassifier setBatchSize(int v) { return put(batchSize, v); }

    public EarlyExitClassifier setTruncate(boolean v) { return put(truncate, v); }

    public EarlyExitClassifier setEngine(String v) { return put(engine, Engine.fromName(v).optionName); }

    public EarlyExitClassifier setTextCleaning(String v) {
        TsvTaskSpec.cleaner(v);
        return put(textCleaning, v);
    }

    public String getInputCol() { return $(inputCol); }

    public String getPairCol() { return $(pairCol); }

    public String getOutputCol() { return $(outputCol); }

    public String getModelPath() { return isDefined(modelPath) ? $(modelPath) : null; }

    public String getPolicy() { return $(policy); }

    public double getMaxDrop() { return (Double) $(maxDrop); }

    public int getBatchSize() { return (Integer) $(batchSize); }

    public boolean getTruncate() { return (Boolean) $(truncate); }

    public String getEngine() { return $(engine); }

    public String getTextCleaning() { return $(textCleaning); }

    /** The name of one output column: {@code <outputCol>_<what>}, what one of {@link #OUTPUTS}. */
    public String outputColumn(String what) {
        if (!OUTPUTS.contains(what)) throw new IllegalArgumentException("no output '" + what + "'; outputs: " + OUTPUTS);
        return getOutputCol() + "_" + what;
    }

    private <T> EarlyExitClassifier put(Param<T> p, T v) {
        set(p, v);
        return this;
    }

    /** The settings as the executors get them; checks them. */
    public ScoringConfig config() {
        return new ScoringConfig(getModelPath(), getPolicy(), getMaxDrop(), Engine.fromName(getEngine()), getTruncate(),
                getBatchSize(), getTextCleaning());
    }

    // ----------------------------------------------------------------------------------------------------
    // the transformation

    @Override
    public StructType transformSchema(StructType schema) {
        requireString(schema, getInputCol(), "inputCol");
        if (!getPairCol().isEmpty()) requireString(schema, getPairCol(), "pairCol");
        StructType out = schema;
        DataType[] types = {DataTypes.StringType, SQLDataTypes.VectorType(), DataTypes.IntegerType, DataTypes.DoubleType,
                DataTypes.StringType};
        for (int i = 0; i < OUTPUTS.size(); i++) {
            String name = outputColumn(OUTPUTS.get(i));
            if (Arrays.asList(schema.fieldNames()).contains(name)) {
                throw new IllegalArgumentException("output column " + name + " already exists; choose another prefix with setOutputCol");
            }
            out = out.add(new StructField(name, types[i], true, org.apache.spark.sql.types.Metadata.empty()));
        }
        return out;
    }

    private static void requireString(StructType schema, String column, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(param + " " + column + " is not a column; columns: " + Arrays.toString(schema.fieldNames()));
        }
        DataType t = schema.apply(column).dataType();
        if (!t.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(param + " " + column + " has type " + t.simpleString() + "; a text column must be string");
        }
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        ScoringConfig c = config();
        checkOnDriver(c);
        int text = dataset.schema().fieldIndex(getInputCol());
        int pair = getPairCol().isEmpty() ? -1 : dataset.schema().fieldIndex(getPairCol());
        return dataset.toDF().mapPartitions(new PartitionScorer(c, text, pair), Encoders.row(out));
    }

    /**
     * Fails at once, on the driver, for a mistake every task would hit: a model folder the driver can read that is
     * not a model, or lacks the policy's calibration. A folder only the executors see is checked there.
     */
    private static void checkOnDriver(ScoringConfig c) {
        if (c.modelPath().startsWith(ModelLocation.SPARK_FILES)) return;
        Path dir = Path.of(c.modelPath());
        if (!Files.isDirectory(dir)) return;
        if (!Files.isRegularFile(dir.resolve(MultiExitModel.CONFIG_FILE))) {
            throw new IllegalArgumentException("model folder " + dir + " has no " + MultiExitModel.CONFIG_FILE + ": is it a folder from ./offramp train?");
        }
        if (c.engine() == Engine.OFFRAMP && !c.policy().equals(Offramp.FULL_DEPTH)) {
            Path cal = Offramp.calibrationFile(dir, c.policy(), c.maxDrop());
            if (!Files.isRegularFile(cal)) {
                throw new IllegalArgumentException("no calibration for policy '" + c.policy() + "' at max drop " + c.maxDrop()
                        + ": " + cal + " does not exist; write it with ./offramp eval --model " + dir + " --policy " + c.policy()
                        + " --max-drop " + c.maxDrop() + " (or use policy full)");
            }
        }
    }

    /**
     * Ships a model folder with the job ({@code SparkContext.addFile(dir, true)}: every executor fetches a copy once)
     * and returns the {@code modelPath} that finds it there. A session knows a shipped folder by its name for as
     * long as it lives: ship two models under different names, and keep the source folder until the session ends.
     */
    public static String shipModel(SparkSession spark, Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isRegularFile(abs.resolve(MultiExitModel.CONFIG_FILE))) {
            throw new IllegalArgumentException(abs + " is not a model folder (no " + MultiExitModel.CONFIG_FILE + ")");
        }
        spark.sparkContext().addFile(abs.toString(), true);
        return ModelLocation.SPARK_FILES + abs.getFileName();
    }

    @Override
    public EarlyExitClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    // ----------------------------------------------------------------------------------------------------
    // MLReadable: Pipeline.load finds these static methods by reflection

    public static MLReader<EarlyExitClassifier> read() {
        return new DefaultParamsReadable<EarlyExitClassifier>() {}.read();
    }

    public static EarlyExitClassifier load(String path) {
        return read().load(path);
    }
}

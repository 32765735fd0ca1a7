package dev.offramp.spark;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stage on a local[2] session with the core tests' tiny model (6 layers; its calibrated max-prob criterion lets
 * inputs leave at every layer from 2 to 6): the library's answers, partition-independent, a model loaded once per
 * JVM, bad rows as an error column, save and load inside a Pipeline.
 */
class EarlyExitClassifierTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Offramp library;
    static SparkSession spark;
    static List<String> corpus;
    static Dataset<Row> texts;

    static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);

    @BeforeAll
    static void setUp() throws IOException {
        model = TinyModelFolder.write(tmp.resolve("tiny"));
        library = Offramp.load(model);
        spark = SharedSpark.session();
        corpus = TinyModelFolder.texts(300, 11);
        texts = frame(corpus);
    }

    @AfterAll
    static void tearDown() {
        library.close();
    }

    static Dataset<Row> frame(List<String> strings) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < strings.size(); i++) rows.add(RowFactory.create(i, strings.get(i)));
        return spark.createDataFrame(rows, SCHEMA);
    }

    EarlyExitClassifier stage() {
        return new EarlyExitClassifier().setModelPath(model.toString()).setBatchSize(16);
    }

    /** id → the row's outputs. */
    static Map<Integer, Row> byId(Dataset<Row> scored) {
        Map<Integer, Row> m = new HashMap<>();
        for (Row r : scored.collectAsList()) m.put(r.getInt(0), r);
        return m;
    }

    /** The five outputs (the row's last columns) are the library's prediction. */
    static void assertLibraryAnswer(Prediction want, Row got, String text) {
        int o = got.length() - EarlyExitClassifier.OUTPUTS.size();
        assertNull(got.get(o + 4), text);
        assertEquals(want.label(), got.getString(o), text);
        Vector p = (Vector) got.get(o + 1);
        assertEquals(want.probabilities().length, p.size());
        for (int k = 0; k < p.size(); k++) assertEquals(want.probabilities()[k], p.apply(k), 1e-5, text);
        assertEquals(want.exitLayer(), got.getInt(o + 2), text);
        assertEquals(want.confidence(), got.getDouble(o + 3), 1e-5, text);
    }

    /**
     * Two runs' rows agree: same columns, label, exit layer and error; probabilities to float rounding (a batch of
     * other rows may round the last bit differently).
     */
    static void assertSameOutputs(Row a, Row b, String text) {
        assertEquals(a.length(), b.length());
        int o = a.length() - EarlyExitClassifier.OUTPUTS.size();
        for (int c = 0; c < a.length(); c++) {
            if (c == o + 1 || c == o + 3) continue;
            assertEquals(a.get(c), b.get(c), text + ", column " + c);
        }
        if (!a.isNullAt(o + 1)) {
            Vector p = (Vector) a.get(o + 1), q = (Vector) b.get(o + 1);
            for (int k = 0; k < p.size(); k++) assertEquals(p.apply(k), q.apply(k), 1e-6, text);
            assertEquals(a.getDouble(o + 3), b.getDouble(o + 3), 1e-6, text);
        }
    }

    @Test
    void outputsAreTheLibrarysAnswersForTheSameRows() {
        EarlyExitClassifier stage = stage();
        Dataset<Row> scored = stage.transform(texts.repartition(3));
        assertEquals(List.of("id", "text", "offramp_label", "offramp_probability", "offramp_exit_layer", "offramp_confidence",
                "offramp_error"), List.of(scored.columns()));
        Map<Integer, Row> out = byId(scored);
        assertEquals(corpus.size(), out.size());
        TreeSet<Integer> exits = new TreeSet<>();
        for (int i = 0; i < corpus.size(); i++) {
            assertLibraryAnswer(library.classify(corpus.get(i)), out.get(i), corpus.get(i));
            exits.add(out.get(i).getInt(4));
        }
        assertTrue(exits.size() >= 3 && exits.first() < TinyModelFolder.LAYERS, "inputs leave at several layers: " + exits);
    }

    @Test
    void manyPartitionsGiveWhatOnePartitionGives() {
        EarlyExitClassifier stage = stage().setBatchSize(7);
        Map<Integer, Row> one = byId(stage.transform(texts.coalesce(1)));
        Dataset<Row> split = texts.repartition(9);
        assertEquals(9, split.rdd().getNumPartitions());
        Map<Integer, Row> many = byId(stage.transform(split));
        assertEquals(one.keySet(), many.keySet());
        for (int id : one.keySet()) assertSameOutputs(one.get(id), many.get(id), corpus.get(id));
    }

    @Test
    void eachJvmLoadsAModelOnceAndItsTasksShareIt() {
        EarlyExitClassifier stage = stage().setPolicy("max-prob");  // a key no other test loads
        int before = ExecutorModels.loads();
        assertEquals(corpus.size(), stage.transform(texts.repartition(8)).count());
        assertEquals(corpus.size(), stage.transform(texts.repartition(5)).count());
        assertEquals(1, ExecutorModels.loads() - before, "8 + 5 tasks on 2 threads, one load");
    }

    @Test
    void badRowsGetAnErrorAndTheJobGoesOn() throws IOException {
        String tooLong = String.join(" ", java.util.Collections.nCopies(40, "film"));  // 42 tokens, the model takes 24
        List<String> rows = new ArrayList<>(List.of("a good film", "", "   ", tooLong, "the plot was dull"));
        rows.add(null);
        Dataset<Row> df = frame(rows);
        Map<Integer, Row> strict = byId(stage().transform(df));
        assertEquals(rows.size(), strict.size(), "every row comes out");
        assertLibraryAnswer(library.classify("a good film"), strict.get(0), "good row");
        assertLibraryAnswer(library.classify("the plot was dull"), strict.get(4), "good row");
        assertEquals("the text is empty", strict.get(1).getString(6));
        assertEquals("the text is empty", strict.get(2).getString(6));
        assertTrue(strict.get(3).getString(6).contains("42 tokens") && strict.get(3).getString(6).contains("truncate"),
                strict.get(3).getString(6));
        assertEquals("no text (null or an empty field)", strict.get(5).getString(6));
        for (int bad : new int[]{1, 2, 3, 5}) {
            for (int c = 2; c <= 5; c++) assertTrue(strict.get(bad).isNullAt(c), "no outputs for an error row");
        }
        long errors = stage().transform(df).where("offramp_error IS NOT NULL").count();
        assertEquals(4, errors, "the job counts them");

        Row cut = byId(stage().setTruncate(true).transform(df)).get(3);
        try (Offramp truncating = Offramp.load(model, Offramp.Options.defaults().withTruncate(true))) {
            assertLibraryAnswer(truncating.classify(tooLong), cut, "truncated");
        }
    }

    @Test
    void textCleaningAndPairColumns() {
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(0, "a good<br /><br />film", "the plot was dull")),
                SCHEMA.add("other", DataTypes.StringType));
        Row cleaned = byId(stage().setTextCleaning("html").transform(df)).get(0);
        assertLibraryAnswer(library.classify("a good film"), cleaned, "cleaned");
        Row pair = byId(stage().setPairCol("other").transform(df)).get(0);
        assertNull(pair.get(7));
        assertEquals(library.classify("a good<br /><br />film", "the plot was dull").exitLayer(), pair.getInt(5));
    }

    @Test
    void savedAndLoadedInAPipeline() throws IOException {
        EarlyExitClassifier stage = stage().setOutputCol("pred").setPolicy("max-prob").setMaxDrop(0.5).setBatchSize(5)
                .setTruncate(true).setTextCleaning("html");
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[]{stage}).fit(texts);
        String path = tmp.resolve("pipeline").toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        EarlyExitClassifier back = (EarlyExitClassifier) loaded.stages()[0];
        assertEquals(stage.uid(), back.uid());
        assertEquals(stage.getModelPath(), back.getModelPath());
        assertEquals("pred", back.getOutputCol());
        assertEquals("max-prob", back.getPolicy());
        assertEquals(5, back.getBatchSize());
        assertTrue(back.getTruncate());
        assertEquals("html", back.getTextCleaning());
        Map<Integer, Row> before = byId(fitted.transform(texts)), after = byId(loaded.transform(texts));
        assertEquals(before.keySet(), after.keySet());
        for (int id : before.keySet()) assertSameOutputs(before.get(id), after.get(id), corpus.get(id));

        stage.write().overwrite().save(tmp.resolve("stage").toString());
        assertEquals("pred_label", EarlyExitClassifier.load(tmp.resolve("stage").toString()).outputColumn("label"));
    }

    @Test
    void aModelShippedWithTheJobIsFoundThroughSparkFiles() throws IOException {
        // not in the class's temp folder: a shipped file stays part of the shared session, and every later task of
        // any test class checks it against its source
        Path copy = TinyModelFolder.write(Path.of("target", "shipped-" + ProcessHandle.current().pid()).toAbsolutePath());
        String path = EarlyExitClassifier.shipModel(spark, copy);
        assertEquals("sparkfiles:model", path);
        EarlyExitClassifier stage = new EarlyExitClassifier().setModelPath(path);
        Row r = byId(stage.transform(frame(List.of("a good film")))).get(0);
        assertLibraryAnswer(library.classify("a good film"), r, "shipped");
    }

    @Test
    void mistakesFailOnTheDriverNamingTheProblem() {
        var noCal = assertThrows(IllegalArgumentException.class, () -> stage().setPolicy("entropy").transform(texts));
        assertTrue(noCal.getMessage().contains("entropy-max-drop-0.5.json") && noCal.getMessage().contains("./offramp eval"), noCal.getMessage());
        var noCol = assertThrows(IllegalArgumentException.class, () -> stage().setInputCol("body").transform(texts));
        assertTrue(noCol.getMessage().contains("body"), noCol.getMessage());
        var taken = assertThrows(IllegalArgumentException.class, () -> stage().transform(stage().transform(texts)));
        assertTrue(taken.getMessage().contains("offramp_label already exists"), taken.getMessage());
        var notString = assertThrows(IllegalArgumentException.class, () -> stage().setInputCol("id").transform(texts));
        assertTrue(notString.getMessage().contains("must be string"), notString.getMessage());
        assertThrows(IllegalArgumentException.class, () -> stage().setEngine("tensorrt"));
        assertThrows(IllegalArgumentException.class, () -> new EarlyExitClassifier().transform(texts), "no model path");
    }

    @Test
    void anUnreadableModelFailsTheTaskWithItsPath() {
        EarlyExitClassifier stage = new EarlyExitClassifier().setModelPath(tmp.resolve("nowhere").toString());
        Exception e = assertThrows(Exception.class, () -> stage.transform(texts).count());
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) messages.append(t.getMessage()).append('\n');
        assertTrue(messages.toString().contains("nowhere") && messages.toString().contains("is not on this machine"), messages.toString());
    }
}

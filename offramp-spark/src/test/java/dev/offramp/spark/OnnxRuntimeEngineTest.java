package dev.offramp.spark;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX Runtime as the stage's engine: the model's full-depth answers (frozen backbone), whatever the policy says. */
class OnnxRuntimeEngineTest {

    @Test
    void onnxRuntimeGivesTheModelsFullDepthAnswers(@TempDir Path tmp) throws Exception {
        Path dir = MiniLmModel.write(tmp.resolve("minilm"));
        SparkSession spark = SharedSpark.session();
        List<String> texts = List.of("a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés",
                "it's a charming and often affecting journey.", "unflinchingly bleak and desperate", "",
                "the acting, costumes, music, cinematography and sound are all astounding given the production's austere locales.");
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        EarlyExitClassifier stage = new EarlyExitClassifier().setModelPath(dir.toString()).setEngine("onnxruntime")
                .setPolicy("max-prob").setBatchSize(4);
        Map<Integer, Row> out = EarlyExitClassifierTest.byId(stage.transform(
                spark.createDataFrame(rows, EarlyExitClassifierTest.SCHEMA).repartition(2)));
        try (Offramp full = Offramp.load(dir, Offramp.Options.defaults().withPolicy("full"))) {
            for (int i = 0; i < texts.size(); i++) {
                Row r = out.get(i);
                if (texts.get(i).isEmpty()) {
                    assertEquals("the text is empty", r.getString(6));
                    continue;
                }
                Prediction want = full.classify(texts.get(i));
                assertNull(r.get(6), texts.get(i));
                assertEquals(MiniLmModel.LAYERS, r.getInt(4), "ONNX Runtime runs every layer");
                assertEquals(want.label(), r.getString(2), texts.get(i));
                Vector p = (Vector) r.get(3);
                for (int k = 0; k < 2; k++) assertEquals(want.probabilities()[k], p.apply(k), 1e-3, texts.get(i));
                assertTrue(Double.isNaN(r.getDouble(5)), "no criterion at full depth: confidence NaN");
            }
        }
    }
}

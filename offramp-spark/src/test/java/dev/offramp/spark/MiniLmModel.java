package dev.offramp.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.api.Offramp;
import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.eval.calibration.CalibratedSettings;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TrainingRecord;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A model folder whose exits (random, 2 classes) sit on the frozen, published all-MiniLM-L6-v2: ONNX Runtime can run
 * its backbone (the published ONNX file is the model's backbone), so the ONNX Runtime engine's answers are the
 * model's full-depth answers. Calibrated for max-prob at max drop 0.5 with tau 0.55.
 */
public final class MiniLmModel {
    public static final int LAYERS = 6;
    public static final List<String> LABELS = List.of("negative", "positive");

    private MiniLmModel() {}

    public static Path write(Path dir) throws IOException {
        ExitHeads heads = ExitHeads.create(384, LAYERS, 2, new ExitLayout(Pooling.MEAN, false, true), null, 3);
        ObjectNode opts = new ObjectMapper().createObjectNode().put("max_length", 64);
        new MultiExitModel("all-minilm-l6-v2", ExitTask.classification("sst2", LABELS), heads, null,
                new TrainingRecord("frozen", 0, 0, 0, 0, "accuracy", new double[LAYERS], opts), null).save(dir);
        java.nio.file.Files.createDirectories(dir.resolve("calibration"));
        new CalibratedSettings(new MaxProbCriterion(0.55).settings(), "validation", "accuracy", 0.9, 0.9, 3, 2)
                .write(Offramp.calibrationFile(dir, "max-prob", 0.5));
        return dir;
    }
}

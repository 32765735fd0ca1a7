package dev.offramp.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.exits.MultiExitModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the driver reads from a model folder's config.json for its report, without loading the model. */
record ModelFacts(String task, int layers, List<String> labels) {

    static ModelFacts read(Path dir) throws IOException {
        Path file = dir.resolve(MultiExitModel.CONFIG_FILE);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(dir + " is not a model folder: no " + MultiExitModel.CONFIG_FILE);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        int layers = root.path("exits").path("layers").asInt(0);
        if (layers < 1) throw new IllegalArgumentException(file + ": exits.layers is missing");
        List<String> labels = new ArrayList<>();
        root.path("task").path("labels").forEach(l -> labels.add(l.asText()));
        return new ModelFacts(root.path("task").path("name").asText("?"), layers, labels);
    }
}

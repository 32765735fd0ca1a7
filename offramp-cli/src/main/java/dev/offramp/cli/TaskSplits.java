package dev.offramp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offramp.data.Datasets;
import dev.offramp.data.Example;
import dev.offramp.data.Splits;
import dev.offramp.data.Task;
import dev.offramp.data.TaskData;
import dev.offramp.data.Tasks;
import dev.offramp.data.TsvTaskSpec;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The three splits every command agrees on: train (minus the carved validation), validation (carved from train
 * with a fixed seed; the criteria are calibrated on it) and dev (the evaluation set, never trained or calibrated on).
 */
record TaskSplits(Task task, List<Example> train, List<Example> validation, List<Example> dev) {
    static final long SPLIT_SEED = 42;
    static final double VALIDATION_FRACTION = 0.1;
    static final int VALIDATION_MAX = 5000;

    /** Where a model trained on a TSV folder ({@code train --data}) keeps its {@link TsvTaskSpec}: its training options. */
    static final String DATA_OPTION = "data";

    static TaskSplits load(String taskName, int maxExamples) {
        return of(Datasets.load(taskName), maxExamples);
    }

    /**
     * The splits a model was trained on: its recorded TSV folder when it has one, else the named data set.
     *
     * @param taskOverride a task the caller named (null: the model's); it must be the model's task
     */
    static TaskSplits forModel(MultiExitModel m, String taskOverride, int maxExamples) {
        String trained = m.task().name();
        if (taskOverride != null && !taskOverride.equalsIgnoreCase(trained) && !glueName(taskOverride).equals(trained)) {
            throw new IllegalArgumentException("the model was trained for task '" + trained + "', not '" + taskOverride + "'");
        }
        JsonNode spec = m.training() == null || m.training().options() == null ? null : m.training().options().get(DATA_OPTION);
        return of(spec != null ? TsvTaskSpec.fromJson(spec).load() : Datasets.load(trained), maxExamples);
    }

    private static String glueName(String name) {
        try {
            return Tasks.byName(name).name();
        } catch (IllegalArgumentException notGlue) {
            return name;
        }
    }

    static TaskSplits of(TaskData data, int maxExamples) {
        List<Example> train = data.requireTrain();
        int count = (int) Math.min(VALIDATION_MAX, Math.max(1, Math.round(VALIDATION_FRACTION * train.size())));
        Splits.Carved carved = Splits.carveValidation(train, count, SPLIT_SEED);
        List<Example> tr = carved.train();
        if (maxExamples > 0 && maxExamples < tr.size()) tr = Splits.subsample(tr, maxExamples, SPLIT_SEED);
        return new TaskSplits(data.task(), tr, carved.validation(), data.dev());
    }

    static List<Encoding> encode(WordPieceTokenizer tok, List<Example> examples, int maxLength) {
        List<Encoding> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(e.textB() == null ? tok.encode(e.textA(), maxLength) : tok.encodePair(e.textA(), e.textB(), maxLength));
        }
        return out;
    }

    static int[] labels(List<Example> examples) {
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) y[i] = examples.get(i).label();
        return y;
    }

    static float[] scores(List<Example> examples) {
        float[] y = new float[examples.size()];
        for (int i = 0; i < y.length; i++) y[i] = examples.get(i).score();
        return y;
    }
}

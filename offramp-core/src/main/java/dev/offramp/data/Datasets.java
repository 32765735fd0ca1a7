package dev.offramp.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Every labelled data set in the shared folder by one name, for command lines and experiment configs:
 * the GLUE tasks ({@link Tasks}) plus the others. Carved dev splits use {@link TsvTaskLoader#DEFAULT_SEED}.
 */
public final class Datasets {

    /** Fraction of the data carved as dev for the sets without an official split. */
    public static final double CARVED_DEV_FRACTION = 0.1;

    private static final List<String> OTHERS = List.of("imdb", "sms-spam", "sick", "sick-r", "fine-foods",
            "mr", "subj", "cr", "mpqa", "trec", "trec-fine", "ag-news");

    private Datasets() {
    }

    /** All names {@link #load} accepts. */
    public static List<String> names() {
        return Stream.concat(Tasks.glue().stream().map(Task::name), OTHERS.stream()).toList();
    }

    /** Loads from {@link DataPaths#data()}. */
    public static TaskData load(String name) {
        return load(name, DataPaths.data());
    }

    /**
     * Loads a data set by name (case-insensitive; GLUE names also without '-'). QNLI comes with an empty
     * train list since only its dev file is here; {@link TaskData#requireTrain()} explains that.
     */
    public static TaskData load(String name, Path dataDir) {
        String key = name.toLowerCase(Locale.ROOT).strip();
        long seed = TsvTaskLoader.DEFAULT_SEED;
        double f = CARVED_DEV_FRACTION;
        return switch (key) {
            case "imdb" -> TsvTaskLoader.imdb(dataDir).load();
            case "sms-spam", "sms" -> TsvTaskLoader.smsSpam(dataDir).load();
            case "sick" -> TsvTaskLoader.sick(dataDir).load();
            case "sick-r" -> TsvTaskLoader.sickRelatedness(dataDir).load();
            case "fine-foods" -> TsvTaskLoader.fineFoods(dataDir).load();
            case "mr" -> SentenceSets.mr(dataDir, f, seed);
            case "subj" -> SentenceSets.subj(dataDir, f, seed);
            case "cr" -> SentenceSets.cr(dataDir, f, seed);
            case "mpqa" -> SentenceSets.mpqa(dataDir, f, seed);
            case "trec" -> SentenceSets.trec(dataDir, false);
            case "trec-fine" -> SentenceSets.trec(dataDir, true);
            case "ag-news" -> SentenceSets.agNews(dataDir, f, seed);
            default -> glue(key, name, dataDir);
        };
    }

    private static TaskData glue(String key, String name, Path dataDir) {
        Task task;
        try {
            task = Tasks.byName(key);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown data set '" + name + "'; known: " + String.join(", ", names()));
        }
        GlueLoader loader = new GlueLoader(dataDir.resolve("glue"));
        if (task == Tasks.QNLI) {
            return new TaskData(task, List.of(), loader.dev(task), "QNLI dev only; train.tsv could not be obtained");
        }
        return new TaskData(task, loader.train(task), loader.dev(task), "GLUE train.tsv / dev.tsv");
    }
}

package dev.offramp.cli;

import dev.offramp.eval.TaskMetric;
import dev.offramp.exits.LayerwiseOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp exits: each exit's metric on dev, as a table. */
@Command(name = "exits", mixinStandardHelpOptions = true, description = "Per-exit metric of a trained model on dev.")
final class ExitsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--task", description = "task (default: the model's)")
    String task;

    @Override
    public Integer call() throws Exception {
        TrainedModel tm = TrainedModel.load(modelDir, task);
        LayerwiseOutputs dev = tm.layerwise(tm.splits().dev(), "dev");
        int l = dev.layers();
        StringBuilder per = new StringBuilder();
        System.out.printf("%-6s %s%n", "exit", tm.splits().task().headline());
        TaskMetric.Result full = null;
        for (int exit = 1; exit <= l; exit++) {
            TaskMetric.Result r = tm.metricAtExit(dev, exit, tm.splits().dev());
            System.out.printf(Locale.ROOT, "%-6d %.4f   %s%n", exit, r.headline(), r.format());
            per.append(exit == 1 ? "" : ",").append(String.format(Locale.ROOT, "%.4f", r.headline()));
            full = r;
        }
        System.out.printf(Locale.ROOT, "summary: task=%s final_metric=%.4f per_exit=%s%n", tm.splits().task().name(),
                full.headline(), per);
        return 0;
    }
}

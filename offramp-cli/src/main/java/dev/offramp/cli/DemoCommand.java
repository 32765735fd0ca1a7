package dev.offramp.cli;

import dev.offramp.weights.ModelRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * ./offramp demo: the whole product in one command. Trains frozen-mode exits (cached for the next run),
 * calibrates every criterion on validation, evaluates and times them on dev, and writes the report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train exits (frozen backbone, cached), calibrate every criterion, evaluate, and write the report.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--task", defaultValue = "sst2", description = "task (default: ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--model", defaultValue = "bge-small-en-v1.5", description = "backbone (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--trained", description = "use this trained model folder instead of training one")
    Path trained;

    @Option(names = "--pooling", defaultValue = "mean", description = "exit pooling for the trained exits: cls | mean (default: ${DEFAULT-VALUE})")
    String pooling;

    @Option(names = "--no-length-match", description = "calibrate on validation as carved, not resampled to dev's input lengths")
    void noLengthMatch(boolean off) { Evaluation.lengthMatch = !off; }

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibration target in points (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--max-examples", defaultValue = "0", description = "train on at most this many examples (0 = all)")
    int maxExamples;

    @Option(names = "--out", description = "report folder (default: <model folder>/report)")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = trained;
        if (dir == null) {
            String name = model.replaceAll("[^A-Za-z0-9._-]+", "_") + "-" + task + "-frozen-" + pooling
                    + (maxExamples > 0 ? "-n" + maxExamples : "");
            dir = ModelRegistry.cacheRoot().resolve("demo").resolve(name);
            if (Files.isRegularFile(dir.resolve("config.json"))) {
                System.err.println("demo: using the exits trained earlier in " + dir + " (delete it to retrain)");
            } else {
                System.err.println("demo: step 1/2, training exits on a frozen " + model + " for " + task);
                int rc = new CommandLine(new TrainCommand()).execute("--task", task, "--model", model, "--out",
                        dir.toString(), "--mode", "frozen", "--pooling", pooling, "--max-examples", String.valueOf(maxExamples));
                if (rc != 0) return rc;
            }
        }
        System.err.println("demo: step 2/2, calibrating every criterion on validation, evaluating and timing on dev");
        TrainedModel tm = TrainedModel.load(dir, null);
        ReportCommand.run(tm, maxDrop, 400, 3, true, out != null ? out : dir.resolve("report"));
        return 0;
    }
}

package dev.offramp.cli;

import dev.offramp.cli.report.ReportData;
import dev.offramp.cli.report.ReportWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp report: every criterion calibrated, evaluated on dev and timed; an HTML page with plots. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Calibrate every exit criterion, evaluate on dev, time them, and write an HTML report with plots.")
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--task", description = "task (default: the model's)")
    String task;

    @Option(names = "--out", description = "report folder (default: <model>/report)")
    Path out;

    @Option(names = "--no-length-match", description = "calibrate on validation as carved, not resampled to dev's input lengths")
    void noLengthMatch(boolean off) { Evaluation.lengthMatch = !off; }

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibration: fastest within D points of the full model (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--timing-examples", defaultValue = "400", description = "dev inputs per timed pass (0 = all; default: ${DEFAULT-VALUE})")
    int timingExamples;

    @Option(names = "--repeats", defaultValue = "3", description = "timed passes per measurement (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--no-onnxruntime", description = "skip the ONNX Runtime peer")
    boolean noOrt;

    @Override
    public Integer call() throws Exception {
        TrainedModel tm = TrainedModel.load(modelDir, task);
        Path dir = out != null ? out : modelDir.resolve("report");
        run(tm, maxDrop, timingExamples, repeats, !noOrt, dir);
        return 0;
    }

    static Path run(TrainedModel tm, double maxDrop, int timingExamples, int repeats, boolean ort, Path dir) throws Exception {
        List<ReportBuilder.Row> rows = new ArrayList<>();
        ReportData data = ReportBuilder.build(tm, maxDrop, timingExamples, repeats, ort, rows);
        Path html = ReportWriter.write(data, dir);
        System.out.println(ReportWriter.textSummary(data));
        for (ReportBuilder.Row r : rows) {
            System.out.printf(Locale.ROOT, "summary: task=%s policy=%s metric=%.4f full_metric=%.4f layer_speedup=%.3f "
                            + "wall_speedup=%.3f vs_onnxruntime=%.3f wall_speedup_b32=%.3f vs_onnxruntime_b32=%.3f setting=%s%n",
                    tm.splits().task().name(), r.policy(), r.metric(), data.fullModelMetric(), r.layerSpeedup(), r.wall1(),
                    r.ort1(), r.wall32(), r.ort32(), r.setting());
        }
        System.out.println("report: " + html.toAbsolutePath());
        return html;
    }
}

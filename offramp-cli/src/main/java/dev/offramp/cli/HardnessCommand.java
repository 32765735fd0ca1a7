package dev.offramp.cli;

import dev.offramp.consistentee.MemorizedLayer;
import dev.offramp.data.Example;
import dev.offramp.exits.MultiExitModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp hardness: the memorized-layer distribution of a ConsistentEE model's training set, with examples. */
@Command(name = "hardness", mixinStandardHelpOptions = true,
        description = "Instance hardness (ConsistentEE's memorized layer m(x)) over the training set: histogram and examples.")
final class HardnessCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a model folder trained with --mode consistentee")
    Path modelDir;

    @Option(names = "--examples", defaultValue = "5", description = "easy and hard examples to print (default: ${DEFAULT-VALUE})")
    int examples;

    @Override
    public Integer call() throws Exception {
        MultiExitModel m = MultiExitModel.load(modelDir);
        int[] mem = m.memorizedLayers();
        if (mem == null) {
            throw new IllegalArgumentException("model " + modelDir + " has no memorized layers: train it with"
                    + " ./offramp train --mode consistentee --from <model>");
        }
        int trainSamples = m.training() != null && m.training().options() != null && m.training().options().has("train_samples")
                ? m.training().options().get("train_samples").asInt() : 0;
        TaskSplits splits = TaskSplits.forModel(m, null, trainSamples);
        List<Example> train = splits.train();
        if (train.size() != mem.length) {
            throw new IllegalStateException("model " + modelDir + " stores " + mem.length + " memorized layers but the "
                    + m.task().name() + " training split has " + train.size() + " examples (data changed?)");
        }
        int layers = m.heads().layers;
        MemorizedLayer.Distribution d = MemorizedLayer.distribution(mem, layers, examples);
        System.out.print(d.table());
        print("easy (smallest m)", d.easy(), train, mem, m);
        print("hard (m = L: the last exit is wrong, or only it is right)", d.hard(), train, mem, m);
        System.out.printf(Locale.ROOT, "summary: task=%s samples=%d mean_memorized_layer=%.3f m1=%.3f mL=%.3f%n",
                m.task().name(), mem.length, d.mean(), (double) d.counts()[0] / mem.length,
                (double) d.counts()[layers - 1] / mem.length);
        return 0;
    }

    private static void print(String title, int[] idx, List<Example> train, int[] mem, MultiExitModel m) {
        System.out.println(title + ":");
        for (int i : idx) {
            Example e = train.get(i);
            String text = (e.textB() == null ? e.textA() : e.textA() + " || " + e.textB()).strip();
            if (text.length() > 110) text = text.substring(0, 107) + "...";
            String gold = m.task().regression() ? String.format(Locale.ROOT, "%.2f", e.score()) : m.task().labels().get(e.label());
            System.out.printf(Locale.ROOT, "  m=%-3d %-9s %s%n", mem[i], gold, text);
        }
    }
}

package example;

import dev.offramp.api.ModelInfo;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;

import java.nio.file.Path;
import java.util.List;

/** Loads a trained Offramp model folder and prints a prediction for a few texts. */
public final class Main {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Main MODEL_DIR");
            System.exit(2);
        }
        try (Offramp model = Offramp.load(Path.of(args[0]))) {
            ModelInfo info = model.info();
            System.out.println("model " + info.name() + " (" + info.task() + ", " + info.layers() + " layers, "
                    + info.criterion() + ")");
            Prediction one = model.classify("a gorgeous, witty, seductive movie");
            print("a gorgeous, witty, seductive movie", one);
            List<String> texts = List.of("the plot is a mess", "I liked it more than I expected");
            List<Prediction> many = model.classifyAll(texts);
            for (int i = 0; i < texts.size(); i++) print(texts.get(i), many.get(i));
        }
    }

    private static void print(String text, Prediction p) {
        System.out.printf("%s\t%.4f\texit %d/%d\t%s%n", p.label(), p.score(), p.exitLayer(), p.layers(), text);
    }
}

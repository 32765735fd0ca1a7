package dev.offramp.cli;

import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp encode: run a pretrained backbone on texts and print each one's tokens and sentence embedding. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Run a pretrained encoder on texts; prints the token count and the mean-pooled embedding (first values and norm).")
final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "bge-small-en-v1.5", description = "model name or folder (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--input", description = "a UTF-8 file with one text per line (a tab separates a pair with --pair)")
    Path input;

    @Option(names = "--pair", description = "texts come in pairs")
    boolean pair;

    @Option(names = "--truncate", description = "cut inputs longer than the model accepts instead of refusing them")
    boolean truncate;

    @Option(names = "--layer", defaultValue = "0", description = "hidden state after this layer (0 = last)")
    int layer;

    @Parameters(description = "texts")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        List<InputTexts.Text> in = InputTexts.collect(texts, input, pair);
        LoadedBackbone bb = LoadedBackbone.load(model);
        int layers = bb.model().config().layers();
        if (layer < 0 || layer > layers) throw new IllegalArgumentException("--layer must be in 0.." + layers + ", got " + layer);
        List<Encoding> enc = InputTexts.encode(bb.tokenizer(), in, bb.model().config().maxPositions(), truncate);
        EncoderBatch batch = bb.encoder().newBatch();
        bb.encoder().start(batch, enc);
        int stop = layer == 0 ? layers : layer;
        for (int l = 0; l < stop; l++) bb.encoder().layer(batch);
        int h = bb.model().config().hidden();
        for (int b = 0; b < batch.size(); b++) {
            float[] x = batch.copyHidden(b);
            int t = batch.length(b);
            double[] mean = new double[h];
            for (int r = 0; r < t; r++) for (int c = 0; c < h; c++) mean[c] += x[r * h + c] / t;
            double norm = 0;
            for (double v : mean) norm += v * v;
            System.out.printf(Locale.ROOT, "%s: tokens=%d layer=%d norm=%.4f first=[%.4f, %.4f, %.4f, %.4f]%n",
                    in.get(batch.sampleId(b)).where(), t, stop, Math.sqrt(norm), mean[0], mean[1], mean[2], mean[3]);
        }
        System.out.printf(Locale.ROOT, "summary: inputs=%d model=%s layers_run=%d%n", enc.size(), bb.model().name(), stop);
        return 0;
    }
}

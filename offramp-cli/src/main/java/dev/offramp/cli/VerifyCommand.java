package dev.offramp.cli;

import dev.offramp.data.Example;
import dev.offramp.data.GlueLoader;
import dev.offramp.data.Tasks;
import dev.offramp.model.EncoderBatch;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.tokenizer.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * ./offramp verify: real GLUE sentences through Offramp and through ONNX Runtime; the relative error of the
 * last hidden state per sentence, max over sentences.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Compare Offramp's last hidden state with ONNX Runtime's on real GLUE sentences.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "bge-small-en-v1.5", description = "model name or folder (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--sentences", defaultValue = "64", description = "how many inputs (default: ${DEFAULT-VALUE})")
    int sentences;

    @Option(names = "--batch", defaultValue = "16", description = "batch size for both engines (default: ${DEFAULT-VALUE})")
    int batch;

    @Override
    public Integer call() {
        LoadedBackbone bb = LoadedBackbone.load(model);
        List<Encoding> inputs = verificationInputs(bb, sentences);
        double maxErr = 0;
        int worst = -1;
        try (OnnxRuntimeEncoder ort = new OnnxRuntimeEncoder(bb.model().onnxFile())) {
            EncoderBatch eb = bb.encoder().newBatch();
            for (int from = 0; from < inputs.size(); from += batch) {
                List<Encoding> chunk = inputs.subList(from, Math.min(inputs.size(), from + batch));
                float[][] ref = ort.lastHidden(chunk);
                bb.encoder().start(eb, chunk);
                bb.encoder().runToEnd(eb);
                for (int b = 0; b < chunk.size(); b++) {
                    double err = relativeError(eb.copyHidden(b), ref[b]);
                    if (err > maxErr) { maxErr = err; worst = from + b; }
                }
            }
        }
        System.out.printf("model=%s layers=%d hidden=%d worst_input=%d%n", bb.model().name(),
                bb.model().config().layers(), bb.model().config().hidden(), worst);
        System.out.printf(java.util.Locale.ROOT, "summary: max_rel_err=%.3e sentences=%d%n", maxErr, inputs.size());
        return maxErr <= 1e-4 ? 0 : 1;
    }

    /** Half single sentences from SST-2 dev, half pairs from MRPC and RTE dev. */
    static List<Encoding> verificationInputs(LoadedBackbone bb, int n) {
        GlueLoader glue = new GlueLoader();
        List<Encoding> out = new ArrayList<>();
        int maxLen = bb.model().config().maxPositions();
        List<Example> sst = glue.dev(Tasks.SST2);
        for (int i = 0; i < n / 2 && i < sst.size(); i++) out.add(bb.tokenizer().encode(sst.get(i).textA(), maxLen));
        List<Example> pairs = new ArrayList<>(glue.dev(Tasks.MRPC).subList(0, (n - out.size() + 1) / 2));
        pairs.addAll(glue.dev(Tasks.RTE).subList(0, n - out.size() - pairs.size()));
        for (Example e : pairs) out.add(bb.tokenizer().encodePair(e.textA(), e.textB(), maxLen));
        return out;
    }

    static double relativeError(float[] a, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}

package dev.offramp.server;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.ModelInfo;
import dev.offramp.api.Offramp;
import dev.offramp.onnxruntime.OnnxRuntimeBatchRunner;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.serving.InferenceScheduler;
import dev.offramp.tokenizer.Encoding;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds what a server serves from a model folder: the facade, the engine's runner, the batcher, the metrics. */
final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    /** A served model with the metrics its scheduler reports to and what to close after the scheduler stopped. */
    record Loaded(ServedModel model, ServerMetrics metrics, Runnable onClose) {}

    private ModelLoader() {}

    static Loaded load(ServerConfig c) throws IOException {
        boolean ort = c.engine() == ServerConfig.Engine.ONNXRUNTIME;
        Offramp offramp = Offramp.load(c.modelDir(), Offramp.Options.defaults().withPolicy(c.policy()).withMaxDrop(c.maxDrop()));
        AutoCloseable runnerToClose = null;
        try {
            ModelInfo info = offramp.info();
            String note;
            BatchRunner runner;
            if (ort) {
                // no spinning: behind a server, ONNX Runtime's idle threads would take the cores the HTTP front needs
                OnnxRuntimeBatchRunner r = new OnnxRuntimeBatchRunner(new OnnxRuntimeEncoder(offramp.backboneOnnxFile(),
                        Runtime.getRuntime().availableProcessors(), false), offramp.model(), info.labels());
                runnerToClose = r;
                runner = r;
                note = OnnxRuntimeBatchRunner.describe(offramp.model());
                if (!OnnxRuntimeBatchRunner.exact(offramp.model())) LOG.warn("offramp: " + note);
            } else {
                runner = offramp.earlyExitRunner();
                note = "Offramp, criterion " + info.criterion() + " (policy " + info.policy() + ")";
            }
            ServerConfig.Batcher batcher = c.batcher();
            if (ort && batcher == ServerConfig.Batcher.CONTINUOUS) {
                // ONNX Runtime runs the whole graph in one call: there are no layer stations to schedule
                LOG.info("offramp: ONNX Runtime runs whole graphs, so it is served by the dynamic batcher");
                batcher = ServerConfig.Batcher.DYNAMIC;
            }
            AtomicReference<InferenceScheduler> ref = new AtomicReference<>();
            ServerMetrics metrics = new ServerMetrics(info.layers(), () -> {
                InferenceScheduler s = ref.get();
                return s == null ? 0 : s.pending();
            });
            InferenceScheduler scheduler = Schedulers.create(batcher, offramp, runner, c, metrics);
            ref.set(scheduler);
            note += "; " + batcher.optionName() + " batching";
            int maxTokens = info.maxTokens();
            ServedModel.TextEncoder encoder = (text, pair, truncate) -> encode(offramp, text, pair, truncate);
            ServedModel served = new ServedModel(info.name(), "1", ort ? "onnxruntime" : "offramp", info.labels(), info.layers(),
                    maxTokens, note, encoder, scheduler);
            AutoCloseable closeRunner = runnerToClose;
            return new Loaded(served, metrics, () -> {
                try {
                    if (closeRunner != null) closeRunner.close();
                } catch (Exception e) {
                    LOG.warn("offramp: closing the runner failed: " + e);
                }
                offramp.close();
            });
        } catch (RuntimeException | Error e) {
            try {
                if (runnerToClose != null) runnerToClose.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            offramp.close();
            throw e;
        }
    }

    /** The facade's encoding (its checks and messages); a request that asks to truncate gets a cut encoding. */
    static Encoding encode(Offramp offramp, String text, String pair, boolean truncate) {
        return offramp.encode(text, pair, truncate);
    }
}

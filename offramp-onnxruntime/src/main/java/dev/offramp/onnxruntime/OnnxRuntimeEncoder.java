package dev.offramp.onnxruntime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.offramp.tokenizer.Encoding;

import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Runtime running the same ONNX file at full depth: the reference for the engine's numbers and the peer
 * in benchmarks. Inputs are padded to the batch's longest sequence with an attention mask, as ORT needs.
 *
 * All sessions share one global thread pool (intra-op = threads, inter-op = 1): per-session pools spin
 * against each other and against Offramp's workers on a 2-core machine (performance-notes.md).
 */
public final class OnnxRuntimeEncoder implements AutoCloseable {
    private static OrtEnvironment env;
    private static boolean envSpins;

    private final OrtSession session;
    private final Set<String> inputNames;
    private final String outputName;
    private final int hidden;

    private static synchronized OrtEnvironment environment(int threads, boolean spin) throws OrtException {
        if (env == null) {
            OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions();
            t.setGlobalIntraOpNumThreads(threads);
            t.setGlobalInterOpNumThreads(1);
            t.setGlobalSpinControl(spin);
            env = OrtEnvironment.getEnvironment(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "offramp", t);
            envSpins = spin;
        } else if (envSpins != spin) {
            throw new IllegalStateException("ONNX Runtime's global thread pool already exists with spinning "
                    + (envSpins ? "on" : "off") + "; a process has one pool, so every session must ask for the same");
        }
        return env;
    }

    /** Opens the model with the machine's cores as intra-op threads. */
    public OnnxRuntimeEncoder(Path onnxFile) {
        this(onnxFile, Runtime.getRuntime().availableProcessors());
    }

    public OnnxRuntimeEncoder(Path onnxFile, int threads) {
        this(onnxFile, threads, true);
    }

    /**
     * Opens the model on the process's one ONNX Runtime thread pool (created by the first session).
     *
     * @param spin whether idle pool threads spin before they sleep: faster when ONNX Runtime has the cores to
     *             itself (a benchmark loop), slower in a server, where spinning threads take the cores the HTTP
     *             threads need between batches (one run of ./offramp bench serve on a busy 2-core machine: 56 requests/s
     *             with spinning, 72 without)
     */
    public OnnxRuntimeEncoder(Path onnxFile, int threads, boolean spin) {
        if (onnxFile == null) throw new IllegalArgumentException("this model has no ONNX file for ONNX Runtime to run");
        try {
            OrtEnvironment e = environment(threads, spin);
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.disablePerSessionThreads();
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = e.createSession(onnxFile.toString(), o);
            inputNames = session.getInputNames();
            outputName = session.getOutputNames().iterator().next();
            var info = (ai.onnxruntime.TensorInfo) session.getOutputInfo().get(outputName).getInfo();
            long[] shape = info.getShape();
            hidden = (int) shape[shape.length - 1];
        } catch (OrtException ex) {
            throw new IllegalStateException("ONNX Runtime could not open " + onnxFile + ": " + ex.getMessage(), ex);
        }
    }

    /** Last hidden state, one (T_b, H) array per input, padding rows removed. */
    public float[][] lastHidden(List<Encoding> inputs) {
        int b = inputs.size(), t = 0;
        for (Encoding e : inputs) t = Math.max(t, e.length());
        long[] ids = new long[b * t], mask = new long[b * t], types = new long[b * t];
        for (int i = 0; i < b; i++) {
            Encoding e = inputs.get(i);
            for (int j = 0; j < e.length(); j++) {
                ids[i * t + j] = e.ids()[j];
                types[i * t + j] = e.typeIds()[j];
                mask[i * t + j] = 1;
            }
        }
        long[] shape = {b, t};
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feed.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            if (inputNames.contains("attention_mask")) feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (inputNames.contains("token_type_ids")) feed.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            try (OrtSession.Result r = session.run(feed, Set.of(outputName))) {
                var out = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[][] result = new float[b][];
                for (int i = 0; i < b; i++) {
                    int len = inputs.get(i).length();
                    result[i] = new float[len * hidden];
                    out.position(i * t * hidden);
                    out.get(result[i], 0, len * hidden);
                }
                return result;
            }
        } catch (OrtException ex) {
            throw new IllegalStateException("ONNX Runtime failed: " + ex.getMessage(), ex);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    public int hidden() {
        return hidden;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ex) {
            throw new IllegalStateException(ex);
        }
    }
}

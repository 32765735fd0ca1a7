package dev.offramp.lm;

import dev.offramp.data.DataPaths;
import dev.offramp.decoder.DecoderState;
import dev.offramp.decoder.ExitWeighting;
import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.tokenizer.bpe.BpeTokenizer;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.DecoderWeights;
import dev.offramp.weights.PretrainedDecoder;
import dev.offramp.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** train-lm end to end on a small slice of the shared corpus: it learns, it saves what it trained, it resumes. */
class LmTrainerTest {

    /** 2 layers, C 64, 4 heads over 2 KV heads, I 128, V 512, T 64, B 8, on 300 k chars of Alpaca. */
    static LmTrainer.Options tiny(int steps, int checkpointEvery, double lr, SafetensorsWriter.Dtype dtype) {
        return new LmTrainer.Options(2, 64, 4, 2, 128, 512, 64, 8, steps, lr, 0.1, Math.min(20, steps), 0.1, 1.0,
                ExitWeighting.LINEAR, 2, 0f, true, 7, 1000, 32, checkpointEvery, dtype, List.of("alpaca"), 300_000, 0.05,
                300_000);
    }

    /** Collects logged lines; optionally throws when the step counter reaches a value (an interruption). */
    static final class Recorder implements TrainingProgress {
        final List<String> lines = new ArrayList<>();
        final int interruptAt;

        Recorder(int interruptAt) {
            this.interruptAt = interruptAt;
        }

        @Override
        public void advance(long done) {
            if (done == interruptAt) throw new IllegalStateException("interrupted at step " + done);
        }

        @Override
        public void log(String line) {
            lines.add(line);
        }
    }

    @Test
    void aTinyModelLearnsWellBelowTheUnigramEntropy(@TempDir Path out) throws Exception {
        Recorder log = new Recorder(-1);
        LmTrainer.Result r = LmTrainer.train(out, DataPaths.data(), tiny(300, 1000, 3e-3, SafetensorsWriter.Dtype.F32), log);
        double last = r.heldOutLoss()[r.heldOutLoss().length - 1];
        assertTrue(r.unigramLoss() > 4.5, "a 512-token unigram model is not that good: " + r.unigramLoss());
        // well below: at most half the unigram model's perplexity (measured: 65 against 196)
        assertTrue(last < r.unigramLoss() - Math.log(2), "held-out loss " + last + " should be well below the unigram "
                + r.unigramLoss() + "; log: " + log.lines);
        // the early-exit loss trains the first layer's exit too, and it is worse than the last
        assertTrue(r.heldOutLoss()[0] < r.unigramLoss() && r.heldOutLoss()[0] > last, "exit losses " + java.util.Arrays.toString(r.heldOutLoss()));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "generation_config.json",
                "train/heldout.jsonl", "train/lm-checkpoint.bin", "train/options.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"model_type\" : \"llama\""));
        // reloads with the same logits, bit for bit in F32
        PretrainedDecoder loaded = DecoderFolderLoader.load(out);
        BpeTokenizer tok = loaded.newTokenizer();
        int[] prompt = tok.encode("### Instruction:\nGive three tips for staying healthy.", true);
        assertEquals(tok.id("<|begin_of_text|>"), prompt[0]);
        assertArrayEquals(logits(r.weights(), prompt), logits(loaded.weights(), prompt));
        // a second run with nothing left to train evaluates what the checkpoint holds and says where it resumed
        Recorder again = new Recorder(-1);
        LmTrainer.Result r2 = LmTrainer.train(out, DataPaths.data(), tiny(300, 1000, 3e-3, SafetensorsWriter.Dtype.F32), again);
        assertEquals(0, r2.stepsThisRun());
        assertArrayEquals(r.heldOutLoss(), r2.heldOutLoss());
        assertTrue(again.lines.stream().anyMatch(l -> l.contains("resuming after step 300")), again.lines.toString());
    }

    static float[] logits(DecoderWeights w, int[] prompt) {
        LlamaDecoder d = new LlamaDecoder(w);
        DecoderState s = d.newState(prompt.length, prompt.length);
        return d.forwardAll(s, prompt);
    }

    @Test
    void f16FolderReloadsAsTheWeightsRoundedToHalf(@TempDir Path out) throws Exception {
        LmTrainer.Result r = LmTrainer.train(out, DataPaths.data(), tiny(3, 1000, 1e-3, SafetensorsWriter.Dtype.F16), new Recorder(-1));
        DecoderWeights rounded = r.weights().deepCopy();
        roundToHalf(rounded);
        PretrainedDecoder loaded = DecoderFolderLoader.load(out);
        int[] prompt = {loaded.config().bosTokenId(), 300, 301, 302, 17};
        assertArrayEquals(logits(rounded, prompt), logits(loaded.weights(), prompt));
        long bytes = Files.size(out.resolve("model.safetensors"));
        assertTrue(bytes < 2 * r.parameters() + 100_000, "F16: two bytes per parameter, " + bytes);
    }

    static void roundToHalf(DecoderWeights w) {
        List<float[]> all = new ArrayList<>(List.of(w.tokenEmbeddings, w.finalNorm));
        for (DecoderWeights.Layer l : w.layers) {
            all.addAll(List.of(l.attnNorm, l.wq, l.wk, l.wv, l.wo, l.mlpNorm, l.wGate, l.wUp, l.wDown));
        }
        if (w.lmHead != null) all.add(w.lmHead);
        for (float[] a : all) for (int i = 0; i < a.length; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
    }

    @Test
    void resumingAfterAnInterruptionGivesTheWeightsOfAnUninterruptedRun(@TempDir Path dir) throws Exception {
        LmTrainer.Options o = tiny(14, 5, 2e-3, SafetensorsWriter.Dtype.F32);
        LmTrainer.Result straight = LmTrainer.train(dir.resolve("a"), DataPaths.data(), o, new Recorder(-1));
        // interrupted after step 8: the last checkpoint is at step 5, so steps 6..8 are redone on resume
        Path b = dir.resolve("b");
        IllegalStateException stop = assertThrows(IllegalStateException.class,
                () -> LmTrainer.train(b, DataPaths.data(), o, new Recorder(8)));
        assertEquals("interrupted at step 8", stop.getMessage());
        Recorder log = new Recorder(-1);
        LmTrainer.Result resumed = LmTrainer.train(b, DataPaths.data(), o, log);
        assertEquals(9, resumed.stepsThisRun());
        assertTrue(log.lines.stream().anyMatch(l -> l.contains("resuming after step 5")), log.lines.toString());
        assertTrue(log.lines.stream().noneMatch(l -> l.startsWith("tokenized")), "the token caches are reused: " + log.lines);
        float[] want = straight.weights().layers[1].wDown, got = resumed.weights().layers[1].wDown;
        double maxDiff = 0;
        for (int i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
        assertTrue(maxDiff <= 1e-6, "resumed weights differ by " + maxDiff);
        assertArrayEquals(straight.heldOutLoss(), resumed.heldOutLoss(), 1e-6);
        // and the interrupted run did change them: the comparison is not vacuous
        DecoderWeights fresh = LmTrainer.initialWeights(straight.weights().config, o.seed());
        assertNotEquals(fresh.layers[1].wDown[0], got[0]);
    }

    /** tiny with self-distillation β and starting weights from a model folder (null: random). */
    static LmTrainer.Options tiny(int steps, double lr, float exitDistill, Path init) {
        return tiny(steps, lr, exitDistill, false, init);
    }

    static LmTrainer.Options tiny(int steps, double lr, float exitDistill, boolean top1, Path init) {
        LmTrainer.Options t = tiny(steps, 1000, lr, SafetensorsWriter.Dtype.F32);
        return new LmTrainer.Options(t.layers(), t.hidden(), t.heads(), t.kvHeads(), t.ffn(), t.vocab(), t.seq(), t.batch(),
                t.steps(), t.lr(), t.minLrFraction(), t.warmupSteps(), t.weightDecay(), t.clipNorm(), t.exitWeighting(),
                t.exitRowStride(), t.layerDropout(), t.tiedEmbeddings(), t.seed(), t.evalEvery(), t.evalWindows(),
                t.checkpointEvery(), t.dtype(), t.sources(), t.maxChars(), t.heldOutFraction(), t.bpeSampleChars(),
                exitDistill, top1, init);
    }

    @Test
    void initContinuesFromAModelFolderWithItsTokenizerWeightsAndMoments(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base");
        LmTrainer.Result a = LmTrainer.train(base, DataPaths.data(), tiny(200, 3e-3, 0f, null), new Recorder(-1));
        assertEquals(1.0, a.heldOutAgreement()[1], "the last exit agrees with itself");
        assertTrue(a.heldOutAgreement()[0] > 0 && a.heldOutAgreement()[0] < 1, "agreement " + a.heldOutAgreement()[0]);
        // one step at a negligible learning rate: the weights are the base's, so are the held-out losses
        Recorder sameLog = new Recorder(-1);
        LmTrainer.Result same = LmTrainer.train(dir.resolve("same"), DataPaths.data(), tiny(1, 1e-9, 0f, base), sameLog);
        assertArrayEquals(a.heldOutLoss(), same.heldOutLoss(), 1e-4);
        assertTrue(sameLog.lines.stream().anyMatch(l -> l.contains("from --init's weights and AdamW moments")), sameLog.lines.toString());
        assertArrayEquals(Files.readAllBytes(base.resolve("tokenizer.json")),
                Files.readAllBytes(dir.resolve("same/train/tokenizer.json")), "the base's tokenizer is used");
        // the distillation options reach the trainer and are part of what defines the run
        LmTrainer.Result distilled = LmTrainer.train(dir.resolve("top1"), DataPaths.data(), tiny(2, 3e-4, 0.5f, true, base), new Recorder(-1));
        assertEquals(2, distilled.stepsThisRun());
        String saved = Files.readString(dir.resolve("top1/train/options.json"));
        assertTrue(saved.contains("\"exit_distill\" : 0.5") && saved.contains("\"distill_target\" : \"top1\""), saved);
        // a folder of another shape is refused, naming both shapes
        LmTrainer.Options t = tiny(1, 1e-3, 0f, base);
        LmTrainer.Options wider = new LmTrainer.Options(t.layers(), 128, t.heads(), t.kvHeads(), t.ffn(), t.vocab(), t.seq(),
                t.batch(), t.steps(), t.lr(), t.minLrFraction(), t.warmupSteps(), t.weightDecay(), t.clipNorm(),
                t.exitWeighting(), t.exitRowStride(), t.layerDropout(), t.tiedEmbeddings(), t.seed(), t.evalEvery(),
                t.evalWindows(), t.checkpointEvery(), t.dtype(), t.sources(), t.maxChars(), t.heldOutFraction(),
                t.bpeSampleChars(), 0f, false, base);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmTrainer.train(dir.resolve("wider"), DataPaths.data(), wider, new Recorder(-1)));
        assertTrue(e.getMessage().contains("C 64") && e.getMessage().contains("C 128"), e.getMessage());
    }

    @Test
    void anotherRunInTheSameFolderIsRefusedNamingWhatDiffers(@TempDir Path out) throws Exception {
        LmTrainer.train(out, DataPaths.data(), tiny(2, 1000, 1e-3, SafetensorsWriter.Dtype.F32), new Recorder(-1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmTrainer.train(out, DataPaths.data(), tiny(2, 1000, 5e-4, SafetensorsWriter.Dtype.F32), new Recorder(-1)));
        assertTrue(e.getMessage().contains("lr 0.001 -> 5.0E-4"), e.getMessage());
        assertTrue(e.getMessage().contains("delete"), e.getMessage());
    }
}

package dev.offramp.generation;

import dev.offramp.data.DataPaths;
import dev.offramp.decoder.ExitWeighting;
import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.lm.LmCorpus;
import dev.offramp.lm.LmTrainer;
import dev.offramp.tokenizer.bpe.BpeTokenizer;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.PretrainedDecoder;
import dev.offramp.weights.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A 4-layer decoder (C 64, V 512) trained by train-lm for a few hundred steps on a slice of Alpaca with the
 * early-exit loss, once per test JVM: its exits are good enough that confidence varies from token to token.
 */
final class TinyLm {
    private TinyLm() {}

    static final int LAYERS = 4;
    private static Path folder;

    static synchronized Path folder() {
        if (folder != null) return folder;
        try {
            Path dir = Files.createTempDirectory("offramp-tinylm");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            LmTrainer.Options o = new LmTrainer.Options(LAYERS, 64, 4, 2, 128, 512, 64, 8, 250, 3e-3, 0.1, 20, 0.1, 1.0,
                    ExitWeighting.LINEAR, 1, 0f, true, 7, 1000, 16, 1000, SafetensorsWriter.Dtype.F32, List.of("alpaca"),
                    300_000, 0.05, 300_000);
            LmTrainer.train(dir, DataPaths.data(), o, new TrainingProgress() {
                @Override
                public void advance(long done) {}

                @Override
                public void log(String line) {}
            });
            folder = dir;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }

    static PretrainedDecoder load() {
        return DecoderFolderLoader.load(folder());
    }

    static EarlyExitDecoder decoder() {
        return new EarlyExitDecoder(new LlamaDecoder(load().weights()));
    }

    /** The held-out documents, tokenized with BOS. */
    static List<int[]> heldOut(int count) {
        BpeTokenizer tok = load().newTokenizer();
        List<int[]> docs = new ArrayList<>();
        for (LmCorpus.Document d : LmCorpus.readJsonLines(folder().resolve("train/heldout.jsonl"))) {
            if (docs.size() == count) break;
            docs.add(tok.encode(d.text(), true));
        }
        return docs;
    }
}

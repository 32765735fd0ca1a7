package dev.offramp.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.eval.calibration.CalibratedSettings;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TinyBert;
import dev.offramp.exits.TrainingRecord;
import dev.offramp.model.BertConfig;
import dev.offramp.weights.HuggingFaceFolderWriter;
import dev.offramp.weights.PretrainedModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A complete model folder as {@code ./offramp train} and {@code ./offramp eval} leave it, made in seconds: a random
 * 6-layer BERT with a 61-word WordPiece tokenizer saved as a Hugging Face folder (the backbone, referenced by path),
 * 3-class exits whose classifier weights are scaled up so that confidences spread and a max-prob criterion lets
 * samples leave at every layer from 2 to 6 (seed and scale picked by a scan for that), a training record with max_length 24, and a calibration file for policy
 * beem-a (holding max-prob τ = 0.6) and for max-prob at max drop 0.5.
 */
public final class TinyModelFolder {
    public static final int LAYERS = 6, MAX_TOKENS = 24;
    public static final List<String> LABELS = List.of("red", "green", "blue");
    /** Words the tokenizer knows (ids 5..); anything else becomes [UNK]. */
    public static final List<String> WORDS = List.of("the", "a", "movie", "film", "is", "was", "good", "bad", "great",
            "awful", "plot", "acting", "story", "very", "not", "and", "but", "funny", "dull", "long", "short", "i",
            "liked", "hated", "it", "this", "that", "best", "worst", "ever", "fun", "boring", "slow", "fast", "cast",
            "music", "ending", "start", "of", "to", "with", "for", "so", "too", "much", "little", "more", "less",
            "quite", "really", "scene", "scenes", "actor", "actors", "script", "work", "works", "made", "make", "time",
            "day");

    private TinyModelFolder() {}

    public static BertConfig config() {
        return new BertConfig(5 + WORDS.size(), 16, LAYERS, 2, 32, 32, 2, 1e-12f, BertConfig.Activation.GELU_EXACT);
    }

    /** Writes the backbone to {@code <root>/backbone} and the model to {@code <root>/model}; returns the model folder. */
    public static Path write(Path root) throws IOException {
        return write(root, false);
    }

    /** As {@link #write(Path)}; with random ConsistentEE exit policies when {@code policies}. */
    public static Path write(Path root, boolean policies) throws IOException {
        BertConfig c = config();
        Path backbone = root.resolve("backbone"), model = root.resolve("model");
        Files.createDirectories(backbone);
        Path tokenizer = Files.writeString(root.resolve("tokenizer.json"), tokenizerJson());
        HuggingFaceFolderWriter.write(new PretrainedModel("tiny", TinyBert.weights(c, 7, false), tokenizer, null), backbone);

        ExitHeads heads = ExitHeads.create(c.hidden(), c.layers(), LABELS.size(), new ExitLayout(Pooling.MEAN, false, true), null, 6);
        float[] p = heads.params();
        for (ExitHeads.Tensor t : heads.tensors()) {
            if (t.name().contains("classifier")) for (int i = t.offset(); i < t.offset() + t.size(); i++) p[i] *= 200f;
        }
        ObjectNode options = new ObjectMapper().createObjectNode().put("max_length", MAX_TOKENS);
        TrainingRecord training = new TrainingRecord("test", 0, 0, 0, 0, "accuracy", new double[LAYERS], options);
        MultiExitModel m = new MultiExitModel(backbone.toAbsolutePath().toString(), ExitTask.classification("colours", LABELS),
                heads, null, training, null);
        if (policies) m.setPolicies(dev.offramp.consistentee.PolicyNetworks.create(c.hidden(), c.layers(), 8, 11), null);
        m.save(model);
        Files.createDirectories(model.resolve("calibration"));
        CalibratedSettings cal = new CalibratedSettings(new MaxProbCriterion(0.6).settings(), "validation", "accuracy",
                0.9, 0.9, 3, 2);
        cal.write(Offramp.calibrationFile(model, "beem-a", 0.5));
        cal.write(Offramp.calibrationFile(model, "max-prob", 0.5));
        return model;
    }

    /** Texts of 1..10 known words, some with unknown ones, in a fixed pseudo-random order. */
    public static List<String> texts(int n, long seed) {
        return texts(n, seed, 10);
    }

    /** Texts of 1..maxWords words. */
    public static List<String> texts(int n, long seed, int maxWords) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int words = 1 + r.nextInt(maxWords);
            for (int w = 0; w < words; w++) {
                if (w > 0) sb.append(' ');
                sb.append(r.nextInt(12) == 0 ? "zebra" : WORDS.get(r.nextInt(WORDS.size())));
            }
            out.add(sb.toString());
        }
        return out;
    }

    static String tokenizerJson() {
        StringBuilder vocab = new StringBuilder("\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"[MASK]\":4");
        for (int i = 0; i < WORDS.size(); i++) vocab.append(",\"").append(WORDS.get(i)).append("\":").append(5 + i);
        return """
                {"version":"1.0","added_tokens":[],
                 "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
                 "pre_tokenizer":{"type":"BertPreTokenizer"},
                 "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
                 "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
                          "vocab":{%s}}}
                """.formatted(vocab);
    }
}

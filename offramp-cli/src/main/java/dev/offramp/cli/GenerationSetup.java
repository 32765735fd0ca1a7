package dev.offramp.cli;

import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.generation.DraftAdapter;
import dev.offramp.generation.EarlyExitDecoder;
import dev.offramp.generation.ExitPolicies;
import dev.offramp.generation.KvMode;
import dev.offramp.generation.ThresholdCalibration;
import dev.offramp.generation.TokenCriteria;
import dev.offramp.generation.TokenExitCriterion;
import dev.offramp.lm.LmCorpus;
import dev.offramp.tokenizer.bpe.BpeTokenizer;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.PretrainedDecoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What generate and eval-gen share: a decoder folder (Hugging Face llama / qwen2, e.g. from train-lm) loaded by
 * {@link DecoderFolderLoader}, its tokenizer, its exit policies when trained, its held-out documents, and the
 * criterion named by --policy with its knob given or calibrated on held-out text.
 */
final class GenerationSetup {
    /** A shipped decoder's sample of its held-out split: the front and the back of train/heldout.jsonl, gzipped. */
    static final String HELD_OUT_SAMPLE = "heldout.jsonl.gz";
    final Path dir;
    final PretrainedDecoder pretrained;
    final EarlyExitDecoder decoder;
    final BpeTokenizer tokenizer;

    GenerationSetup(Path dir) {
        this.dir = dir;
        this.pretrained = DecoderFolderLoader.load(dir);
        this.decoder = new EarlyExitDecoder(new LlamaDecoder(pretrained.weights()));
        this.tokenizer = pretrained.newTokenizer();
    }

    int layers() {
        return pretrained.config().layers();
    }

    /** The draft adapter train-lm-draft saved in the folder, or null. */
    DraftAdapter draftAdapter() {
        Path f = dir.resolve(DraftAdapter.FILE);
        return Files.isRegularFile(f) ? DraftAdapter.load(f, layers(), pretrained.config().hidden()) : null;
    }

    /** Speculative decoding drafting at layer, with the folder's draft adapter when it was trained for that layer. */
    TokenCriteria.Speculative speculative(int layer, int rows, DraftAdapter adapter) {
        return new TokenCriteria.Speculative(layer, rows, adapter != null && adapter.layer() == layer ? adapter : null);
    }

    ExitPolicies policies(Path file) {
        Path f = file != null ? file : dir.resolve(ExitPolicies.FILE);
        if (!Files.isRegularFile(f)) return null;
        return ExitPolicies.load(f, layers(), pretrained.config().hidden());
    }

    /**
     * The held-out documents train-lm kept aside (train/heldout.jsonl; the repository's demo-lm keeps a sample of them
     * as heldout.jsonl.gz beside its weights), tokenized with BOS.
     */
    List<int[]> heldOut(int max) {
        Path file = dir.resolve("train/heldout.jsonl");
        if (!Files.isRegularFile(file) && Files.isRegularFile(dir.resolve(HELD_OUT_SAMPLE))) file = dir.resolve(HELD_OUT_SAMPLE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir.resolve("train/heldout.jsonl") + " is missing: eval-gen and calibration"
                    + " need the held-out split of a train-lm folder (or give --threshold to generate)");
        }
        List<int[]> docs = new ArrayList<>();
        for (LmCorpus.Document d : LmCorpus.readJsonLines(file)) {
            if (docs.size() == max) break;
            docs.add(tokenizer.encode(d.text(), true));
        }
        return docs;
    }

    /**
     * The criterion: with a knob when given (NaN: none), else calibrated on the calibration prompts (the loosest knob
     * with agreement ≥ target, measured as the options say; for consistentee the policy threshold τ, the paper's 0.5 being one point of the sweep).
     */
    TokenExitCriterion criterion(String name, double knob, Path policyFile, List<int[]> calibrationPrompts, int calibTokens,
                                 GenerationCalibrationOptions calibration, KvMode mode) {
        double target = calibration.target;
        ThresholdCalibration.Agreement measure = calibration.measure();
        TokenCriteria.requireKnown(name);
        ExitPolicies policies = name.equals(TokenCriteria.CONSISTENTEE) ? policies(policyFile) : null;
        if (name.equals(TokenCriteria.CONSISTENTEE) && policies == null) {
            throw new IllegalArgumentException("no exit policies at " + (policyFile != null ? policyFile : dir.resolve(ExitPolicies.FILE))
                    + ": train them with ./offramp train-lm-policy --model " + dir);
        }
        if (name.equals(TokenCriteria.SPECULATIVE)) {
            int rows = calibration.draftRows;
            DraftAdapter adapter = draftAdapter();
            if (!Double.isNaN(knob)) {
                if (knob != Math.rint(knob) || knob >= layers()) {
                    throw new IllegalArgumentException("speculative: the draft exit layer must be a whole layer below the model's "
                            + layers() + " layers, got " + fmtKnob(knob));
                }
                return speculative((int) knob, rows, adapter);
            }
            if (adapter != null) {
                // timing each layer is noisy here (±10 %); the adapter's layer is the one it was trained to draft from
                System.out.printf(Locale.ROOT, "speculative: draft layer %d, the layer of %s%n", adapter.layer(),
                        dir.resolve(DraftAdapter.FILE));
                return speculative(adapter.layer(), rows, adapter);
            }
            return fastestDraftLayer(calibrationPrompts, calibTokens, rows, mode);
        }
        if (!Double.isNaN(knob) || name.equals(TokenCriteria.ORACLE) || name.equals(TokenCriteria.FULL)) {
            return TokenCriteria.of(name, knob, policies);
        }
        List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(decoder, calibrationPrompts, calibTokens);
        ThresholdCalibration.Result r = ThresholdCalibration.calibrate(decoder, refs, name, policies, target, mode, measure);
        for (ThresholdCalibration.Point p : r.points()) {
            System.out.printf(Locale.ROOT, "  calibration %s %-6s %s agreement %.4f  mean exit layer %.2f%n", name,
                    fmtKnob(p.knob()), measure.id(), p.agreement(), p.meanExitLayer());
        }
        if (r.chosen() == null) {
            ThresholdCalibration.Point best = r.mostFaithful();
            System.out.printf(Locale.ROOT, "calibration: no %s knob reaches %s agreement %.3f; using the most faithful, %s"
                    + " (agreement %.4f, mean exit layer %.2f)%n", name, measure.id(), target, fmtKnob(best.knob()), best.agreement(),
                    best.meanExitLayer());
            return TokenCriteria.of(name, best.knob(), policies);
        }
        System.out.printf(Locale.ROOT, "calibrated %s: %s (%s agreement %.4f >= %.3f, mean exit layer %.2f of %d on %d held-out prompts)%n",
                name, fmtKnob(r.chosen().knob()), measure.id(), r.chosen().agreement(), target, r.chosen().meanExitLayer(), layers(),
                calibrationPrompts.size());
        return TokenCriteria.of(name, r.chosen().knob(), policies);
    }

    /**
     * Without a draft adapter: speculative decoding's output is full depth's at every draft layer, so its knob is chosen for speed: the draft
     * layer with the highest speed-up over full depth on the calibration prompts. Each prompt runs at full depth and
     * then speculatively, back to back, so a slow spell of the machine slows both; after a warm-up pass, two passes, the
     * better kept.
     */
    TokenExitCriterion fastestDraftLayer(List<int[]> prompts, int tokens, int rows, KvMode mode) {
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(1);
        EarlyExitDecoder.Session s = decoder.newSession(longest + tokens, longest);
        TokenExitCriterion full = TokenCriteria.full();
        for (int[] p : prompts) {                 // warm-up: the first timed knob would otherwise pay for the JIT
            decoder.generate(s, p, tokens, full, mode, null);
            decoder.generate(s, p, tokens, new TokenCriteria.Speculative(Math.max(1, layers() / 2), rows), mode, null);
        }
        TokenCriteria.Speculative best = null;
        double bestSpeedup = 0;
        for (double knob : TokenCriteria.sweep(TokenCriteria.SPECULATIVE, layers())) {
            TokenCriteria.Speculative c = new TokenCriteria.Speculative((int) knob, rows);
            double speedup = 0, perVerification = 0;
            for (int pass = 0; pass < 2; pass++) {
                long fullNanos = 0, nanos = 0, emitted = 0, verifications = 0;
                for (int[] p : prompts) {
                    fullNanos += decoder.generate(s, p, tokens, full, mode, null).decodeNanos();
                    EarlyExitDecoder.Generated g = decoder.generate(s, p, tokens, c, mode, null);
                    nanos += g.decodeNanos();
                    emitted += g.tokens().length - 1;
                    verifications += g.verifications();
                }
                speedup = Math.max(speedup, (double) fullNanos / nanos);
                perVerification = (double) emitted / Math.max(1, verifications);
            }
            System.out.printf(Locale.ROOT, "  calibration speculative %-2d speed-up %.2fx, %.2f tokens per verification%n",
                    c.draftLayer(), speedup, perVerification);
            if (speedup > bestSpeedup) {
                bestSpeedup = speedup;
                best = c;
            }
        }
        System.out.printf(Locale.ROOT, "calibrated speculative: draft layer %d, %d rows (the fastest on %d held-out prompts;"
                + " every draft layer emits full depth's tokens)%n", best.draftLayer(), rows, prompts.size());
        return best;
    }

    /** A knob as typed: 4 for a layer, 0.95 for a threshold. */
    static String fmtKnob(double k) {
        return k == Math.rint(k) && k >= 1 ? String.valueOf((int) k) : String.valueOf(k);
    }
}

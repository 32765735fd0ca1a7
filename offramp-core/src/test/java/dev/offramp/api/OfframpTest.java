package dev.offramp.api;

import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The library facade on a small model folder made here: loading, the three ways to classify, errors, threads. */
class OfframpTest {
    @TempDir
    static Path tmp;
    static Path dir;
    static Offramp model;

    @BeforeAll
    static void load() throws IOException {
        dir = TinyModelFolder.write(tmp);
        model = Offramp.load(dir);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void infoDescribesTheFolder() {
        ModelInfo i = model.info();
        assertEquals("model", i.name());
        assertEquals("colours", i.task());
        assertEquals(TinyModelFolder.LABELS, i.labels());
        assertFalse(i.regression());
        assertEquals(TinyModelFolder.LAYERS, i.layers());
        assertEquals(TinyModelFolder.MAX_TOKENS, i.maxTokens());
        assertEquals("beem-a", i.policy());
        assertEquals(new MaxProbCriterion(0.6).describe(), i.criterion());
        assertTrue(i.backbone().endsWith("backbone"), i.backbone());
    }

    @Test
    void singleTextMatchesTheRunnerAndCarriesItsExit() {
        String text = "the movie was good but the plot was dull";
        Prediction p = model.classify(text);
        EarlyExitRunner.Result r = new EarlyExitRunner(model.encoder(), model.model(), new MaxProbCriterion(0.6), null)
                .run(List.of(model.encode(text)))[0];
        assertEquals(r.exitLayer(), p.exitLayer());
        assertEquals(TinyModelFolder.LABELS.get(r.label()), p.label());
        assertEquals(r.label(), p.labelIndex());
        assertArrayEquals(r.output(), p.probabilities(), 1e-6f);
        assertEquals(1f, p.probabilities()[0] + p.probabilities()[1] + p.probabilities()[2], 1e-5f);
        assertEquals(p.probabilities()[p.labelIndex()], p.score());
        assertEquals(TinyModelFolder.LAYERS, p.layers());
        // max-prob compares the top probability: that is the confidence it reports
        assertEquals(p.score(), p.confidence(), 1e-6f);
        assertTrue(p.exitLayer() < p.layers() || p.confidence() < 0.6f, "exited early only when confident");
    }

    @Test
    void pairAndListsEqualSingleCalls() {
        List<String> texts = TinyModelFolder.texts(40, 3, 8), seconds = TinyModelFolder.texts(40, 4, 8);
        List<Prediction> all = model.classifyAll(texts);
        List<Prediction> pairs = model.classifyPairs(texts, seconds);
        int[] exits = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            assertSame(model.classify(texts.get(i)), all.get(i), "text " + i);
            assertSame(model.classify(texts.get(i), seconds.get(i)), pairs.get(i), "pair " + i);
            exits[i] = all.get(i).exitLayer();
        }
        assertTrue(Arrays.stream(exits).distinct().count() >= 2, "the fixture must exit at several layers: " + Arrays.toString(exits));
        Encoding pair = model.encode("good movie", "bad plot");
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1}, pair.typeIds());
    }

    @Test
    void fullDepthPolicyRunsEveryLayer() throws IOException {
        try (Offramp full = Offramp.load(dir, Offramp.Options.defaults().withPolicy(Offramp.FULL_DEPTH))) {
            assertTrue(full.fullDepth());
            assertEquals("full depth", full.info().criterion());
            for (Prediction p : full.classifyAll(TinyModelFolder.texts(10, 5))) {
                assertEquals(TinyModelFolder.LAYERS, p.exitLayer());
                assertTrue(Float.isNaN(p.confidence()));
            }
        }
    }

    @Test
    void explicitCriterionOverridesTheCalibration() throws IOException {
        // tau above any probability: nothing is confident enough, everything runs to the end
        try (Offramp m = Offramp.load(dir, Offramp.Options.defaults().withPolicy("no-such-policy")
                .withCriterion(new MaxProbCriterion(0.9999999)))) {
            assertEquals("max-prob", m.info().policy());
            for (Prediction p : m.classifyAll(TinyModelFolder.texts(10, 6))) {
                assertTrue(p.exitLayer() == TinyModelFolder.LAYERS || p.confidence() >= 0.9999999f, "exit " + p.exitLayer());
            }
        }
    }

    @Test
    void badInputsAreNamed() {
        InvalidInputException empty = assertThrows(InvalidInputException.class, () -> model.classify("   "));
        assertEquals(InvalidInputException.Reason.EMPTY, empty.reason());
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        InvalidInputException emptyPair = assertThrows(InvalidInputException.class, () -> model.classify("good", ""));
        assertTrue(emptyPair.getMessage().contains("second text"), emptyPair.getMessage());
        InvalidInputException inList = assertThrows(InvalidInputException.class,
                () -> model.classifyAll(List.of("good", "\t")));
        assertTrue(inList.getMessage().startsWith("input 1:"), inList.getMessage());

        String longText = String.join(" ", java.util.Collections.nCopies(30, "movie"));  // 32 tokens with [CLS], [SEP]
        InvalidInputException tooLong = assertThrows(InvalidInputException.class, () -> model.classify(longText));
        assertEquals(InvalidInputException.Reason.TOO_LONG, tooLong.reason());
        assertTrue(tooLong.getMessage().contains("32 tokens") && tooLong.getMessage().contains("at most 24"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.classifyPairs(List.of("a"), List.of()));
    }

    @Test
    void truncationCutsToTheLimit() throws IOException {
        String longText = String.join(" ", java.util.Collections.nCopies(30, "movie"));
        try (Offramp m = Offramp.load(dir, Offramp.Options.defaults().withTruncate(true))) {
            assertEquals(TinyModelFolder.MAX_TOKENS, m.encode(longText).length());
            assertEquals(TinyModelFolder.MAX_TOKENS, m.encode(longText, longText).length());
            assertNotNull(m.classify(longText).label());
            assertThrows(InvalidInputException.class, () -> m.classify(""), "truncation never accepts an empty text");
        }
    }

    @Test
    void missingCalibrationNamesTheFileAndTheCommand() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Offramp.load(dir, Offramp.Options.defaults().withPolicy("entropy").withMaxDrop(1.0)));
        String m = e.getMessage();
        assertTrue(m.contains(Offramp.calibrationFile(dir, "entropy", 1.0).toString()), m);
        assertTrue(m.contains("./offramp eval --model " + dir + " --policy entropy --max-drop 1.0"), m);
    }

    @Test
    void consistentEeNeedsPolicies() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Offramp.load(dir,
                Offramp.Options.defaults().withCriterion(new dev.offramp.criteria.ConsistentEeCriterion(0.5))));
        assertTrue(e.getMessage().contains("no exit policies") && e.getMessage().contains("--mode consistentee"), e.getMessage());
    }

    @Test
    void closedModelRefusesEveryCall() throws IOException {
        Offramp m = Offramp.load(dir);
        assertNotNull(m.classify("good"));
        var runner = m.earlyExitRunner();
        m.close();
        m.close();  // idempotent
        assertThrows(IllegalStateException.class, () -> m.classify("good"));
        assertThrows(IllegalStateException.class, () -> m.encode("good"));
        assertThrows(IllegalStateException.class, m::info);
        assertThrows(IllegalStateException.class, m::encoder);
        assertThrows(IllegalStateException.class, () -> runner.run(List.of()));
    }

    @Test
    void batchRunnersAnswerLikeClassify() {
        List<String> texts = TinyModelFolder.texts(20, 8);
        List<Encoding> enc = texts.stream().map(model::encode).toList();
        Prediction[] early = model.earlyExitRunner().run(enc);
        Prediction[] full = model.fullDepthRunner().run(enc);
        for (int i = 0; i < texts.size(); i++) {
            assertSame(model.classify(texts.get(i)), early[i], "text " + i);
            assertEquals(TinyModelFolder.LAYERS, full[i].exitLayer());
        }
    }

    @Test
    void eightThreadsGetTheSingleCallAnswers() throws Exception {
        List<String> texts = TinyModelFolder.texts(200, 9);
        List<Prediction> expected = new ArrayList<>();
        for (String t : texts) expected.add(model.classify(t));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Prediction>> got = new ArrayList<>();
            for (String t : texts) got.add(pool.submit(() -> model.classify(t)));
            for (int i = 0; i < texts.size(); i++) assertSame(expected.get(i), got.get(i).get(), "text " + i);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Same answer: label, exit layer and probabilities within 1e-5. */
    static void assertSame(Prediction want, Prediction got, String what) {
        assertEquals(want.label(), got.label(), what);
        assertEquals(want.exitLayer(), got.exitLayer(), what);
        assertArrayEquals(want.probabilities(), got.probabilities(), 1e-5f, what);
    }
}

package dev.offramp.lm;

import dev.offramp.data.DataPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The corpus, its held-out split, the token cache and the data order of train-lm. */
class LmDataTest {

    @Test
    void corpusIsCleanedAndHasNoRepeats() {
        List<LmCorpus.Document> docs = LmCorpus.load(DataPaths.data(), List.of("alpaca", "fine-foods", "glue", "reuters"));
        Set<String> texts = new HashSet<>();
        for (LmCorpus.Document d : docs) {
            assertTrue(texts.add(d.text()), "repeated: " + d.text());
            // reviews carry HTML line breaks; Alpaca's answers may be HTML on purpose
            if (d.source().equals("fine-foods")) assertFalse(d.text().contains("<br"), "HTML line break left in " + d.text());
            assertEquals(d.text().strip(), d.text());
        }
        assertEquals(5175, docs.stream().filter(d -> d.source().equals("alpaca")).count(), "5,000 records + 175 seed tasks (one instance each)");
        LmCorpus.Document first = docs.get(0);
        assertTrue(first.text().startsWith("### Instruction:\nAre the two sentences below grammatically correct?"), first.text());
        assertTrue(first.text().contains("\n\n### Input:\nSentence 1: I am going to the store.\nSentence 2: I goes to the store.\n\n### Response:\nNo"), first.text());
        List<LmCorpus.Document> reuters = docs.stream().filter(d -> d.source().equals("reuters")).toList();
        assertTrue(reuters.size() > 2000 && reuters.size() <= 1554 + 604, "Reuters corn train + test: " + reuters.size());
        assertTrue(reuters.get(0).text().startsWith("BAHIA COCOA REVIEW Showers continued throughout the week in the Bahia"), reuters.get(0).text());
        // GLUE pairs repeat sentences (MRPC, RTE, STS-B): kept once, so fewer documents than texts
        long glue = docs.stream().filter(d -> d.source().equals("glue")).count();
        assertTrue(glue > 100_000, "glue sentences: " + glue);
    }

    @Test
    void heldOutMembershipDependsOnTheTextAndSeedOnly() {
        List<LmCorpus.Document> docs = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) docs.add(new LmCorpus.Document("t", "document number " + i));
        LmCorpus.Split s = LmCorpus.split(docs, 0.05, 42);
        assertEquals(0.05, s.heldOut().size() / 20_000.0, 0.006);
        assertEquals(20_000, s.train().size() + s.heldOut().size());
        // the same documents among others: each keeps its side
        List<LmCorpus.Document> fewer = new ArrayList<>(docs.subList(0, 5_000));
        fewer.add(0, new LmCorpus.Document("t", "a new document"));
        Set<String> held = new HashSet<>();
        s.heldOut().forEach(d -> held.add(d.text()));
        for (LmCorpus.Document d : LmCorpus.split(fewer, 0.05, 42).heldOut()) {
            assertTrue(held.contains(d.text()) || d.text().equals("a new document"), d.text());
        }
        // another seed, another split
        assertNotEquals(s.heldOut(), LmCorpus.split(docs, 0.05, 43).heldOut());
    }

    @Test
    void batchesAreAFunctionOfTheStepAndCoverEveryWindowOncePerEpoch() {
        int seq = 4, batch = 3;
        int[] tokens = new int[4 * 10 + 1];   // 10 windows
        for (int i = 0; i < tokens.length; i++) tokens[i] = i;
        LmBatches a = new LmBatches(tokens, batch, seq, 9), b = new LmBatches(tokens, batch, seq, 9);
        assertEquals(10, a.windows());
        int[] in = new int[batch * seq], tg = new int[batch * seq], in2 = new int[batch * seq], tg2 = new int[batch * seq];
        // b jumps straight to step 7; a walks there
        for (int s = 0; s <= 7; s++) a.fill(s, in, tg);
        b.fill(7, in2, tg2);
        assertArrayEquals(in, in2);
        assertArrayEquals(tg, tg2);
        for (int i = 0; i < in.length; i++) assertEquals(in[i] + 1, tg[i], "targets are the next tokens");
        // the first 10 windows drawn (steps 0..3 hold 12) are each window once
        Set<Integer> starts = new HashSet<>();
        for (int s = 0; s < 4; s++) {
            a.fill(s, in, tg);
            for (int k = 0; k < batch && s * batch + k < 10; k++) assertTrue(starts.add(in[k * seq]), "window repeated in epoch 0");
        }
        assertEquals(10, starts.size());
        assertThrows(IllegalArgumentException.class, () -> new LmBatches(new int[4], 1, 4, 0));
    }

    @Test
    void tokenFileRoundTripsAndRefusesAnotherFingerprint(@TempDir Path dir) throws Exception {
        int[] tokens = new int[300_001];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7919) % 4096;
        Path f = dir.resolve("t.tokens");
        TokenFile.write(f, 1234L, tokens);
        assertArrayEquals(tokens, TokenFile.readIfCurrent(f, 1234L));
        assertNull(TokenFile.readIfCurrent(f, 1235L));
        assertNull(TokenFile.readIfCurrent(dir.resolve("missing"), 1234L));
    }

    @Test
    void unigramCrossEntropyOfAUniformStreamIsLogV() {
        int v = 8;
        int[] train = new int[8000], held = new int[800];
        for (int i = 0; i < train.length; i++) train[i] = i % v;
        for (int i = 0; i < held.length; i++) held[i] = i % v;
        assertEquals(Math.log(v), LmTrainer.unigramCrossEntropy(train, held, v), 1e-9);
    }
}

package dev.offramp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SentenceSetsTest {

    private final Path data = DataPaths.data();

    private static int[] counts(TaskData d) {
        int[] c = new int[d.task().numLabels()];
        d.train().forEach(e -> c[e.label()]++);
        d.dev().forEach(e -> c[e.label()]++);
        return c;
    }

    @Test
    void perClassFilesKeepEveryNonBlankLine() {
        assertArrayEquals(new int[]{5331, 5331}, counts(SentenceSets.mr(data, 0.1, 42)));
        assertArrayEquals(new int[]{5000, 5000}, counts(SentenceSets.subj(data, 0.1, 42)));
        // README line counts include blank lines: neg 1368 - 2, pos 2407 - 2
        TaskData cr = SentenceSets.cr(data, 0.1, 42);
        assertArrayEquals(new int[]{1366, 2405}, counts(cr));
        assertTrue(cr.note().contains("4 blank lines skipped"), cr.note());
        assertArrayEquals(new int[]{7292, 3311}, counts(SentenceSets.mpqa(data, 0.1, 42)));
        TaskData mr = SentenceSets.mr(data, 0.1, 42);
        assertEquals(1066, mr.dev().size());
        assertEquals(mr.dev(), SentenceSets.mr(data, 0.1, 42).dev());
    }

    @Test
    void trecCoarseAndFine() {
        TaskData t = SentenceSets.trec(data, false);
        assertEquals(List.of("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"), t.task().labelNames());
        assertEquals(5452, t.train().size());
        assertEquals(500, t.dev().size());
        int[] c = new int[6];
        t.train().forEach(e -> c[e.label()]++);
        assertArrayEquals(new int[]{86, 1162, 1250, 1223, 835, 896}, c);
        assertEquals("How far is it from Denver to Aspen ?", t.dev().getFirst().textA());
        assertEquals(5, t.dev().getFirst().label()); // NUM
        assertEquals(Task.Metric.MACRO_F1, t.task().metrics().get(1));
        assertEquals(50, SentenceSets.trec(data, true).task().numLabels());
    }

    @Test
    void agNewsParsesQuotedCsvAndCleansEscapes() {
        TaskData d = SentenceSets.agNews(data, 0.2, 42);
        assertArrayEquals(new int[]{1900, 1900, 1900, 1900}, counts(d));
        assertEquals(1520, d.dev().size());
        Example first = d.train().getFirst();
        assertEquals("ag-news/test.csv:2", first.source());
        assertEquals(2, first.label()); // "3" = Business
        assertTrue(first.textA().startsWith("Fears for T N pension after talks Unions representing workers at Turner Newall say they are 'disappointed'"),
                first.textA());
        for (Example e : d.train()) {
            assertTrue(!e.textA().contains("#39;") && !e.textA().contains("\\"), e.source());
        }
        assertEquals("a \"Music Manifesto\" - $10 it's", SentenceSets.cleanAgNews("a \"Music Manifesto\" - #36;10 it#39;s"));
        assertEquals("x \u2014 y", SentenceSets.cleanAgNews("x #151; y"));
    }

    @Test
    void csvQuotingRules(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.csv");
        assertEquals(List.of("1", "a, \"b\"", ""), SentenceSets.parseCsvLine("1,\"a, \"\"b\"\"\",", f, 1));
        DataFormatException e = assertThrows(DataFormatException.class, () -> SentenceSets.parseCsvLine("1,\"open", f, 7));
        assertEquals(7, e.line());
        Files.writeString(dir.resolve("TREC.train"), "DESC:manner How ?\nbroken line\n");
        Files.createDirectories(dir.resolve("trec"));
        Files.move(dir.resolve("TREC.train"), dir.resolve("trec").resolve("TREC.train"));
        Files.writeString(dir.resolve("trec").resolve("TREC.test"), "DESC:manner Why ?\n");
        DataFormatException t = assertThrows(DataFormatException.class, () -> SentenceSets.trec(dir, false));
        assertEquals(2, t.line());
    }
}

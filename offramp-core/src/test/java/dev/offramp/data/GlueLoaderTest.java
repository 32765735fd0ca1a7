package dev.offramp.data;

import dev.offramp.data.GlueLoader.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlueLoaderTest {

    private final GlueLoader glue = new GlueLoader();

    /** Lines in the file, counting an unterminated last line (CoLA/dev.tsv has one). Independent of TextLines. */
    static int countLines(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int lines = 0;
        for (byte x : b) {
            if (x == '\n') {
                lines++;
            }
        }
        return b.length > 0 && b[b.length - 1] != '\n' ? lines + 1 : lines;
    }

    @Test
    void everyGlueFileLoadsEveryRow() throws IOException {
        for (Task task : Tasks.glue()) {
            for (Split split : Split.values()) {
                if (task == Tasks.QNLI && split == Split.TRAIN) {
                    continue;
                }
                Path file = glue.file(task, split);
                int header = task == Tasks.COLA ? 0 : 1;
                int expected = countLines(file) - header;
                List<Example> examples = glue.load(task, split);
                assertEquals(expected, examples.size(), file.toString());
                for (Example e : examples) {
                    assertEquals(task.isPair(), e.isPair(), e.source());
                    assertEquals(task.isRegression(), e.isRegression(), e.source());
                }
            }
        }
    }

    @Test
    void rowCountsMatchTheCanonicalGlueSizes() {
        assertEquals(67_349, glue.train(Tasks.SST2).size());
        assertEquals(872, glue.dev(Tasks.SST2).size());
        assertEquals(8_551, glue.train(Tasks.COLA).size());
        assertEquals(1_043, glue.dev(Tasks.COLA).size());
        assertEquals(3_668, glue.train(Tasks.MRPC).size());
        assertEquals(408, glue.dev(Tasks.MRPC).size());
        assertEquals(2_490, glue.train(Tasks.RTE).size());
        assertEquals(277, glue.dev(Tasks.RTE).size());
        assertEquals(5_749, glue.train(Tasks.STSB).size());
        assertEquals(1_500, glue.dev(Tasks.STSB).size());
        assertEquals(5_463, glue.dev(Tasks.QNLI).size());
        assertEquals(635, glue.train(Tasks.WNLI).size());
        assertEquals(71, glue.dev(Tasks.WNLI).size());
    }

    @Test
    void labelCountsMatchTheReadme() {
        // label id counts [0, 1] from shared/data/glue/README.md
        assertArrayEquals(new int[]{29780, 37569}, counts(glue.train(Tasks.SST2), 2));
        assertArrayEquals(new int[]{428, 444}, counts(glue.dev(Tasks.SST2), 2));
        assertArrayEquals(new int[]{2528, 6023}, counts(glue.train(Tasks.COLA), 2));
        assertArrayEquals(new int[]{322, 721}, counts(glue.dev(Tasks.COLA), 2));
        assertArrayEquals(new int[]{1194, 2474}, counts(glue.train(Tasks.MRPC), 2));
        assertArrayEquals(new int[]{129, 279}, counts(glue.dev(Tasks.MRPC), 2));
        // RTE/QNLI: 0 = entailment, 1 = not_entailment
        assertArrayEquals(new int[]{1249, 1241}, counts(glue.train(Tasks.RTE), 2));
        assertArrayEquals(new int[]{146, 131}, counts(glue.dev(Tasks.RTE), 2));
        assertArrayEquals(new int[]{2702, 2761}, counts(glue.dev(Tasks.QNLI), 2));
        assertArrayEquals(new int[]{323, 312}, counts(glue.train(Tasks.WNLI), 2));
        assertArrayEquals(new int[]{40, 31}, counts(glue.dev(Tasks.WNLI), 2));
    }

    private static void assertArrayEquals(int[] expected, int[] actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual);
    }

    private static int[] counts(List<Example> examples, int classes) {
        int[] c = new int[classes];
        for (Example e : examples) {
            c[e.label()]++;
        }
        return c;
    }

    @Test
    void spotChecksDecodeTextAndLabels() {
        Example sst = glue.dev(Tasks.SST2).getFirst();
        assertEquals("it 's a charming and often affecting journey . ", sst.textA());
        assertNull(sst.textB());
        assertEquals(1, sst.label());
        assertEquals("SST-2/dev.tsv:2", sst.source());
        assertEquals(0, glue.dev(Tasks.SST2).get(1).label()); // "unflinchingly bleak and desperate"

        Example cola = glue.dev(Tasks.COLA).getFirst(); // no header: line 1 is data
        assertEquals("The sailors rode the breeze clear of the rocks.", cola.textA());
        assertEquals(1, cola.label());
        assertEquals("CoLA/dev.tsv:1", cola.source());
        Example colaLast = glue.dev(Tasks.COLA).getLast(); // the unterminated last line
        assertEquals("CoLA/dev.tsv:1043", colaLast.source());

        List<Example> mrpc = glue.dev(Tasks.MRPC);
        assertEquals(1, mrpc.get(0).label());
        assertTrue(mrpc.get(0).textB().startsWith("\" The foodservice pie business"), mrpc.get(0).textB());
        assertEquals(0, mrpc.get(1).label());
        // the regenerated row 93 of MRPC train (pair 2750203/2750153) is present
        assertEquals(3_668, glue.train(Tasks.MRPC).size());

        List<Example> rte = glue.dev(Tasks.RTE);
        assertEquals(1, rte.get(0).label()); // not_entailment
        assertEquals(0, rte.get(1).label()); // entailment
        assertEquals("Christopher Reeve had an accident.", rte.get(0).textB());
        assertEquals("entailment", Tasks.RTE.labelNames().get(rte.get(1).label()));

        List<Example> qnli = glue.dev(Tasks.QNLI);
        assertEquals("What came into force after the new constitution was herald?", qnli.get(0).textA());
        assertEquals(0, qnli.get(0).label());
        assertEquals(1, qnli.get(1).label());

        List<Example> wnli = glue.dev(Tasks.WNLI);
        assertEquals(0, wnli.get(0).label());
        assertEquals(1, wnli.get(1).label());
        assertEquals("entailment", Tasks.WNLI.labelNames().get(wnli.get(1).label()));

        List<Example> sts = glue.dev(Tasks.STSB);
        assertEquals("A man with a hard hat is dancing.", sts.get(0).textA());
        assertEquals("A man wearing a hard hat is dancing.", sts.get(0).textB());
        assertEquals(5.0f, sts.get(0).score());
        assertEquals(4.75f, sts.get(1).score());
        assertEquals(Example.NO_LABEL, sts.get(0).label());
        for (Example e : glue.train(Tasks.STSB)) {
            assertTrue(e.score() >= 0 && e.score() <= 5, e.source());
        }
    }

    @Test
    void qnliTrainIsMissingWithAClearMessage() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> glue.train(Tasks.QNLI));
        assertTrue(e.getMessage().contains("QNLI has no train.tsv here; only dev"), e.getMessage());
        assertTrue(e.getMessage().contains(glue.file(Tasks.QNLI, Split.TRAIN).toString()), e.getMessage());
    }

    @Test
    void missingFolderNamesWhatWasExpected(@TempDir Path dir) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> new GlueLoader(dir).dev(Tasks.RTE));
        assertTrue(e.getMessage().contains("no RTE folder in " + dir), e.getMessage());
    }

    @Test
    void wrongColumnCountNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path file = write(dir, "SST-2", "dev.tsv", "sentence\tlabel\ngood film \t1\nbad film\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> new GlueLoader(dir).dev(Tasks.SST2));
        assertEquals(3, e.line());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file + ":3: expected 2 tab-separated columns"), e.getMessage());
    }

    @Test
    void unknownLabelNamesFileLineAndValue(@TempDir Path dir) throws IOException {
        Path file = write(dir, "RTE", "train.tsv",
                "index\tsentence1\tsentence2\tlabel\n0\tA dog.\tAn animal.\tentailment\n1\tA cat.\tA dog.\tcontradiction\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> new GlueLoader(dir).train(Tasks.RTE));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains(file + ":3") && e.getMessage().contains("'contradiction'"), e.getMessage());
    }

    @Test
    void unparsableScoreAndWrongHeaderAreReported(@TempDir Path dir) throws IOException {
        String header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
        write(dir, "STS-B", "dev.tsv", header + "0\tg\tf\ty\t0\tn\tn\tA.\tB.\tfive\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> new GlueLoader(dir).dev(Tasks.STSB));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("'five'"), e.getMessage());

        write(dir, "WNLI", "dev.tsv", "idx\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n");
        DataFormatException h = assertThrows(DataFormatException.class, () -> new GlueLoader(dir).dev(Tasks.WNLI));
        assertEquals(1, h.line());
    }

    @Test
    void malformedUtf8NamesTheLine(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("SST-2"));
        byte[] good = "sentence\tlabel\nfine \t1\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {'c', 'a', 'f', (byte) 0xE9, '\t', '0', '\n'}; // Latin-1 é
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(folder.resolve("train.tsv"), all);
        DataFormatException e = assertThrows(DataFormatException.class, () -> new GlueLoader(dir).train(Tasks.SST2));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("byte 4") && e.getMessage().contains("0xE9"), e.getMessage());
    }

    @Test
    void quotesAreOrdinaryCharacters(@TempDir Path dir) throws IOException {
        write(dir, "MRPC", "dev.tsv", "\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                + "1\t1\t2\tHe said \" hi\t\" Hi \" , he said .\n");
        List<Example> ex = new GlueLoader(dir).dev(Tasks.MRPC);
        assertEquals(1, ex.size());
        assertEquals("He said \" hi", ex.getFirst().textA());
        assertEquals("\" Hi \" , he said .", ex.getFirst().textB());
    }

    @Test
    void tasksByNameIsForgivingAndListsKnownNames() {
        assertEquals(Tasks.SST2, Tasks.byName("SST-2"));
        assertEquals(Tasks.STSB, Tasks.byName("sts_b"));
        assertEquals(Tasks.COLA, Tasks.byName("CoLA"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tasks.byName("mnli"));
        assertTrue(e.getMessage().contains("sst2, cola, mrpc, rte, stsb, qnli, wnli"), e.getMessage());
        assertTrue(e.getMessage().contains("SICK"), e.getMessage());
        assertEquals(1, Tasks.STSB.numLabels());
        assertEquals(Task.Metric.PEARSON, Tasks.STSB.headline());
        assertEquals(Task.Metric.F1, Tasks.MRPC.headline());
        assertEquals(Task.Metric.MATTHEWS, Tasks.COLA.headline());
        assertFalse(Tasks.SST2.isPair());
    }

    private static Path write(Path dir, String task, String name, String content) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(task));
        return Files.writeString(folder.resolve(name), content, StandardCharsets.UTF_8);
    }
}

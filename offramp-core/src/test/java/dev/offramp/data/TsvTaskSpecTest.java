package dev.offramp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A labelled TSV folder as a task: carved or named dev, label names, cleaning, and the JSON a model keeps. */
class TsvTaskSpecTest {

    /** 40 rows, labels "1"/"0", some with {@code <br />} markup; a column before the text as in IMDB's layout. */
    static Path folder(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("id\tlabel\ttext\n");
        for (int i = 0; i < 40; i++) {
            sb.append("r").append(i).append('\t').append(i % 4 == 0 ? 1 : 0).append('\t')
                    .append("review ").append(i).append(i % 3 == 0 ? "<br /><br />second line" : " plain").append('\n');
        }
        Files.writeString(dir.resolve("train.tsv"), sb);
        Files.writeString(dir.resolve("held.tsv"), "id\tlabel\ttext\nh0\t1\tgood<br/>film\nh1\t0\tbad film\n");
        return dir;
    }

    @Test
    void carvesAStratifiedDevWithTheFixedSeedAndNamesTheLabels(@TempDir Path dir) throws IOException {
        TsvTaskSpec spec = new TsvTaskSpec("reviews", folder(dir), "text", null, "label", List.of("negative", "positive"),
                null, null, 0.25, 42, "html");
        TaskData d = spec.load();
        assertEquals("reviews", d.task().name());
        assertEquals(List.of("negative", "positive"), d.task().labelNames(), "names follow the sorted values 0, 1");
        assertEquals(30, d.train().size());
        assertEquals(10, d.dev().size());
        assertEquals(10 * 10 / 40.0, d.dev().stream().filter(e -> e.label() == 1).count(), 0.5, "stratified: a quarter of the 10 positives");
        assertEquals(d.dev(), spec.load().dev(), "same seed, same dev");
        for (Example e : d.train()) assertFalse(e.textA().contains("<br"), e.textA());
        Example r0 = d.train().stream().filter(e -> e.source().endsWith(":2")).findFirst().orElseGet(() -> d.dev().stream()
                .filter(e -> e.source().endsWith(":2")).findFirst().orElseThrow());
        assertEquals("review 0 second line", r0.textA());
        assertEquals(1, r0.label(), "value '1' is label 1 = positive");
    }

    @Test
    void aNamedDevFileIsTheDevSplit(@TempDir Path dir) throws IOException {
        TsvTaskSpec spec = new TsvTaskSpec("reviews", folder(dir), "text", null, "label", List.of(), "train.tsv", "held.tsv",
                0, 42, "none");
        TaskData d = spec.load();
        assertEquals(40, d.train().size());
        assertEquals(2, d.dev().size());
        assertEquals(List.of("0", "1"), d.task().labelNames(), "without names the values are the names");
        assertEquals("good<br/>film", d.dev().getFirst().textA(), "no cleaning asked");
    }

    @Test
    void jsonRoundTripGivesTheSameSplits(@TempDir Path dir) throws IOException {
        TsvTaskSpec spec = new TsvTaskSpec("reviews", folder(dir), "text", null, "label", List.of("neg", "pos"), null, null,
                0.2, 7, "html");
        TsvTaskSpec back = TsvTaskSpec.fromJson(spec.toJson());
        assertEquals(spec.toJson(), back.toJson());
        assertEquals(spec.load().dev(), back.load().dev());
        assertEquals(spec.load().train(), back.load().train());
    }

    @Test
    void mistakesNameTheProblem(@TempDir Path dir) throws IOException {
        folder(dir);
        var e = assertThrows(IllegalArgumentException.class, () -> new TsvTaskSpec("r", dir, "text", null, "label",
                List.of("a", "b", "c"), null, null, 0.1, 42, "none").load());
        assertTrue(e.getMessage().contains("3 label names") && e.getMessage().contains("[0, 1]"), e.getMessage());
        var col = assertThrows(DataFormatException.class, () -> new TsvTaskSpec("r", dir, "body", null, "label", List.of(),
                null, null, 0.1, 42, "none").load());
        assertTrue(col.getMessage().contains("no column 'body'"), col.getMessage());
        var clean = assertThrows(IllegalArgumentException.class, () -> new TsvTaskSpec("r", dir, "text", null, "label",
                List.of(), null, null, 0.1, 42, "markdown"));
        assertTrue(clean.getMessage().contains("markdown"), clean.getMessage());
        var json = assertThrows(IllegalArgumentException.class, () -> TsvTaskSpec.fromJson(
                new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("name", "x")));
        assertTrue(json.getMessage().contains("'folder'"), json.getMessage());
    }

    /** The long-document case: IMDB's train file as a generic TSV task, dev carved, markup cleaned. */
    @Test
    void imdbTrainFileAsAGenericTask() {
        TsvTaskSpec spec = new TsvTaskSpec("imdb", DataPaths.data().resolve("imdb"), "text", null, "label",
                List.of("negative", "positive"), null, null, 0.1, 42, "html");
        TaskData d = spec.load();
        assertEquals(22_500, d.train().size());
        assertEquals(2_500, d.dev().size());
        assertEquals(1_250, d.dev().stream().filter(e -> e.label() == 1).count());
        assertTrue(d.dev().stream().noneMatch(e -> e.textA().contains("<br")));
    }
}

package dev.offramp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TsvTaskLoaderTest {

    private final Path data = DataPaths.data();

    @Test
    void imdbLoadsAllReviewsWithoutLineBreakMarkup() {
        TaskData imdb = TsvTaskLoader.imdb(data).load();
        assertEquals(25_000, imdb.train().size());
        assertEquals(25_000, imdb.dev().size());
        assertEquals(List.of("negative", "positive"), imdb.task().labelNames());
        assertEquals(Task.Metric.ACCURACY, imdb.task().headline());
        int positive = 0;
        for (Example e : imdb.train()) {
            positive += e.label();
            assertFalse(e.textA().contains("<br"), e.source());
        }
        assertEquals(12_500, positive);
        // README spot checks: train pos_0 and test neg_0 (rows sorted by label, then id)
        Example pos0 = imdb.train().stream().filter(e -> e.textA().startsWith("Bromwell High is a cartoon comedy."))
                .findFirst().orElseThrow();
        assertEquals(1, pos0.label());
        Example neg0 = imdb.dev().getFirst();
        assertTrue(neg0.textA().startsWith("Once again Mr. Costner has dragged out a movie"), neg0.textA());
        assertEquals(0, neg0.label());
    }

    @Test
    void smsSpamCarvesAStratifiedDeterministicDev() {
        TaskData a = TsvTaskLoader.smsSpam(data).load();
        TaskData b = TsvTaskLoader.smsSpam(data).load();
        assertEquals(5_574, a.train().size() + a.dev().size());
        assertEquals(Math.round(0.2 * 5_574), a.dev().size());
        assertEquals(a.dev(), b.dev());
        int spamTrain = (int) a.train().stream().filter(e -> e.label() == 1).count();
        int spamDev = (int) a.dev().stream().filter(e -> e.label() == 1).count();
        assertEquals(747, spamTrain + spamDev);
        assertEquals(Math.round(747 * 0.2), spamDev, 1.0); // stratified: 20% of the spam
        assertTrue(a.note().contains("seed 42"), a.note());
    }

    @Test
    void sickHasThreeClassesAndARegressionVariant() {
        TsvTaskLoader sick = TsvTaskLoader.sick(data);
        TaskData d = sick.load();
        assertEquals(4_500, d.train().size());
        assertEquals(500, d.dev().size());
        assertEquals(3, d.task().numLabels());
        assertTrue(d.task().isPair());
        assertEquals(List.of(Task.Metric.ACCURACY, Task.Metric.MACRO_F1), d.task().metrics());
        int[] counts = new int[3];
        d.train().forEach(e -> counts[e.label()]++);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[]{1299, 2536, 665}, counts);
        // the test file uses CRLF line ends
        assertEquals(4_927, sick.loadFile("SICK_test_annotated.txt").size());

        TaskData r = TsvTaskLoader.sickRelatedness(data).load();
        assertTrue(r.task().isRegression());
        assertEquals(4.5f, r.train().getFirst().score());
        for (Example e : r.dev()) {
            assertTrue(e.score() >= 1 && e.score() <= 5, e.source());
        }
    }

    @Test
    void fineFoodsLoads() {
        TaskData d = TsvTaskLoader.fineFoods(data).load();
        assertEquals(4_000, d.train().size());
        assertEquals(1_000, d.dev().size());
        assertEquals(2_600, d.train().stream().filter(e -> e.label() == 1).count());
    }

    @Test
    void labelsAreCollectedSortedNumericallyWhenNumbers(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("train.tsv"), "id\ttext\tstars\n1\tgreat\t10\n2\tbad\t2\n3\tok\t5\n4\tfine\t10\n");
        Files.writeString(dir.resolve("dev.tsv"), "id\ttext\tstars\n9\tmeh\t5\n");
        TaskData d = TsvTaskLoader.builder("stars", dir).text("text").label("stars").devFile("dev.tsv").build().load();
        assertEquals(List.of("2", "5", "10"), d.task().labelNames());
        assertEquals(List.of(2, 0, 1, 2), d.train().stream().map(Example::label).toList());
        assertEquals(1, d.dev().getFirst().label());
        assertEquals("stars/train.tsv:2", d.train().getFirst().source());
    }

    @Test
    void unseenDevLabelAndBadRowsAreErrors(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("train.tsv"), "text\tlabel\na\tx\nb\ty\n");
        Files.writeString(dir.resolve("dev.tsv"), "text\tlabel\nc\tx\nd\tz\n");
        TsvTaskLoader loader = TsvTaskLoader.builder("t", dir).text("text").label("label").devFile("dev.tsv").build();
        DataFormatException e = assertThrows(DataFormatException.class, loader::load);
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("dev.tsv:3") && e.getMessage().contains("'z'"), e.getMessage());

        Files.writeString(dir.resolve("train.tsv"), "text\tlabel\na\tx\nb\ty\textra\n");
        DataFormatException c = assertThrows(DataFormatException.class,
                () -> TsvTaskLoader.builder("t", dir).text("text").label("label").devFile("dev.tsv").build().load());
        assertEquals(3, c.line());

        DataFormatException col = assertThrows(DataFormatException.class,
                () -> TsvTaskLoader.builder("t", dir).text("review").label("label").devFile("dev.tsv").build().load());
        assertTrue(col.getMessage().contains("no column 'review'"), col.getMessage());
    }

    @Test
    void htmlLineBreakCleaner() {
        assertEquals("One. Two. Three", TextCleaner.replaceHtmlLineBreaks("One.<br /><br />Two.<BR>Three"));
        assertEquals("no markup", TextCleaner.replaceHtmlLineBreaks("no markup"));
    }

    @Test
    void datasetsDoNotShareExamplesBetweenTrainAndCarvedDev() {
        TaskData d = TsvTaskLoader.smsSpam(data).load();
        Set<String> trainSources = new HashSet<>();
        d.train().forEach(e -> trainSources.add(e.source()));
        for (Example e : d.dev()) {
            assertFalse(trainSources.contains(e.source()), e.source());
        }
    }
}

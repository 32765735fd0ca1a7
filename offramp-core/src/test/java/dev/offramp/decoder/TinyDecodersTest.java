package dev.offramp.decoder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The committed tiny checkpoints and tokenizers are exactly what {@link TinyDecoders} writes (golden.json aside,
 * which the Python reference writes from them), so the generator in the repository is the one that made them.
 */
class TinyDecodersTest {
    @Test
    void committedFilesAreWhatTheGeneratorWrites(@TempDir Path tmp) throws IOException {
        TinyDecoders.writeAll(tmp);
        int compared = 0;
        for (String name : List.of("tiny-llama", "tiny-qwen2", "bpe-gpt2")) {
            Path committed = DecoderGoldenTest.folder(name.equals("bpe-gpt2") ? "tiny-llama" : name).resolveSibling(name);
            List<Path> written;
            try (Stream<Path> files = Files.list(tmp.resolve(name))) {
                written = files.sorted().toList();
            }
            try (Stream<Path> files = Files.list(committed)) {
                assertEquals(written.size() + 1, files.count(), name + ": the generated files and golden.json");
            }
            for (Path f : written) {
                Path c = committed.resolve(f.getFileName());
                assertTrue(Files.exists(c), c + " is committed");
                assertEquals(-1L, Files.mismatch(f, c), c + " differs from what TinyDecoders writes");
                compared++;
            }
        }
        assertEquals(9, compared, "3 tokenizers, 2 configs, 2 shards + their index, 1 single file");
    }

    @Test
    void theVocabularyIsLearnedAndIncludesUnmergedEntries() {
        TinyDecoders.Vocabulary v = TinyDecoders.learnVocabulary();
        assertEquals(TinyDecoders.MERGES, v.merges().size());
        assertEquals(256 + TinyDecoders.MERGES + TinyDecoders.UNMERGED.size(), v.tokens().size());
        assertEquals(List.of("Ġ", "t"), List.of(v.merges().get(0)), "the most frequent pair in the corpus is ' t'");
        assertTrue(v.tokens().contains("Ġthe"));
        assertTrue(v.tokens().contains("Ã©"), "é's two bytes were merged");
        assertTrue(v.tokens().size() + TinyDecoders.SPECIALS.size() <= TinyDecoders.VOCAB_SIZE);
    }
}

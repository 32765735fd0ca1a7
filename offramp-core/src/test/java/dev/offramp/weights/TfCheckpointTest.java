package dev.offramp.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The tensor-bundle reader against bundles {@link TfCheckpointWriter} writes, whole and damaged. */
class TfCheckpointTest {
    @TempDir
    Path tmp;

    /** Sixty tensors with shared name prefixes, so blocks use prefix compression, restarts and several index entries. */
    static Map<String, float[]> tensors(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> m = new LinkedHashMap<>();
        for (int layer = 0; layer < 12; layer++) {
            for (String part : new String[]{"query/kernel", "query/bias", "key/kernel", "value/bias", "output/LayerNorm/gamma"}) {
                float[] v = new float[1 + r.nextInt(40)];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                m.put("bert/encoder/layer_" + layer + "/" + part, v);
            }
        }
        return m;
    }

    private Path write(TfCheckpointWriter w, Map<String, float[]> tensors, String name) throws IOException {
        for (var e : tensors.entrySet()) w.add(e.getKey(), e.getValue(), 1, e.getValue().length);
        Path prefix = tmp.resolve(name);
        w.write(prefix);
        return prefix;
    }

    @Test
    void roundTripAcrossBlocksAndShards() throws IOException {
        Map<String, float[]> t = tensors(1);
        TfCheckpointWriter w = new TfCheckpointWriter();
        w.blockSize = 256;      // many data blocks, so the index block has many entries
        w.restartInterval = 3;  // restarts inside every block
        w.shards = 3;
        w.addInt64("global_step", 1234);
        Path prefix = write(w, t, "model.ckpt");
        assertTrue(Files.size(Path.of(prefix + ".index")) > 5 * 256, "the table spans several blocks");

        TfCheckpoint ckpt = TfCheckpoint.open(prefix);
        assertEquals(t.size() + 1, ckpt.entries().size());
        for (var e : t.entrySet()) {
            assertArrayEquals(e.getValue(), ckpt.floats(e.getKey()), e.getKey());
            assertArrayEquals(new long[]{1, e.getValue().length}, ckpt.entry(e.getKey()).shape());
        }
        assertEquals(3, ckpt.entries().values().stream().mapToInt(TfCheckpoint.Entry::shard).distinct().count());
        assertEquals(Path.of(prefix + ".index"), ckpt.indexFile());
        // the same bundle opened through its .index file
        assertArrayEquals(t.get("bert/encoder/layer_7/key/kernel"),
                TfCheckpoint.open(Path.of(prefix + ".index")).floats("bert/encoder/layer_7/key/kernel"));
        var e = assertThrows(IllegalArgumentException.class, () -> ckpt.floats("global_step"));
        assertTrue(e.getMessage().contains("global_step") && e.getMessage().contains("int64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ckpt.floats("bert/nope"));
        assertTrue(e.getMessage().contains("no tensor 'bert/nope'"), e.getMessage());
    }

    @Test
    void corruptTensorBytesFailTheCrcWhenRead() throws IOException {
        Map<String, float[]> t = tensors(2);
        Path prefix = write(new TfCheckpointWriter(), t, "ckpt");
        Path data = Path.of(prefix + ".data-00000-of-00001");
        TfCheckpoint.Entry victim = TfCheckpoint.open(prefix).entry("bert/encoder/layer_3/query/kernel");
        byte[] bytes = Files.readAllBytes(data);
        bytes[(int) victim.offset() + 2] ^= 0x10;
        Files.write(data, bytes);
        TfCheckpoint ckpt = TfCheckpoint.open(prefix);
        assertArrayEquals(t.get("bert/encoder/layer_3/query/bias"), ckpt.floats("bert/encoder/layer_3/query/bias"));
        var e = assertThrows(IllegalArgumentException.class, () -> ckpt.floats("bert/encoder/layer_3/query/kernel"));
        assertTrue(e.getMessage().contains("CRC32C") && e.getMessage().contains("layer_3/query/kernel")
                && e.getMessage().contains(data.toString()), e.getMessage());
    }

    @Test
    void corruptIndexBlockFailsItsCrc() throws IOException {
        Path prefix = write(new TfCheckpointWriter(), tensors(3), "ckpt");
        Path index = Path.of(prefix + ".index");
        byte[] bytes = Files.readAllBytes(index);
        bytes[30] ^= 0x01; // inside the first data block
        Files.write(index, bytes);
        var e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("CRC32C mismatch") && e.getMessage().contains(index.toString()), e.getMessage());
    }

    @Test
    void truncatedIndexOrWrongMagicIsNamed() throws IOException {
        Path prefix = write(new TfCheckpointWriter(), tensors(4), "ckpt");
        Path index = Path.of(prefix + ".index");
        byte[] whole = Files.readAllBytes(index);

        Files.write(index, Arrays.copyOf(whole, whole.length - 100));
        var e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("magic") && e.getMessage().contains(index.toString()), e.getMessage());

        Files.write(index, Arrays.copyOf(whole, 20));
        e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("20 bytes"), e.getMessage());

        byte[] foreign = whole.clone();
        foreign[foreign.length - 1] = 0x42;
        Files.write(index, foreign);
        e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("not a checkpoint index") && e.getMessage().contains("magic"), e.getMessage());

        Files.writeString(index, "{\"this\": \"is json, not a LevelDB table, and long enough to have a footer\"}");
        e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("not a checkpoint index"), e.getMessage());
    }

    @Test
    void truncatedOrMissingDataShardIsNamed() throws IOException {
        Path prefix = write(new TfCheckpointWriter(), tensors(5), "ckpt");
        Path data = Path.of(prefix + ".data-00000-of-00001");
        byte[] whole = Files.readAllBytes(data);
        Files.write(data, Arrays.copyOf(whole, whole.length - 1));
        var e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().startsWith("truncated: " + data), e.getMessage());

        Files.delete(data);
        e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("file not found: " + data), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(tmp.resolve("absent")));
        assertTrue(e.getMessage().contains("file not found") && e.getMessage().contains("absent.index"), e.getMessage());
    }

    @Test
    void compressedBlocksAreRefusedByName() throws IOException {
        TfCheckpointWriter w = new TfCheckpointWriter();
        w.compressionType = LevelDbTable.SNAPPY; // CRCs are right, the type is what the reader must refuse
        Path prefix = write(w, tensors(6), "ckpt");
        var e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(prefix));
        assertTrue(e.getMessage().contains("Snappy"), e.getMessage());
    }

    /** A LevelDB table that is not a bundle (no header under the empty key). */
    @Test
    void aTableWithoutBundleHeaderIsNotACheckpoint() throws IOException {
        TfCheckpointWriter w = new TfCheckpointWriter();
        byte[] table = w.table(java.util.List.of("a".getBytes(), "b".getBytes()), java.util.List.of(new byte[]{1}, new byte[]{2}));
        Files.write(tmp.resolve("x.index"), table);
        var e = assertThrows(IllegalArgumentException.class, () -> TfCheckpoint.open(tmp.resolve("x")));
        assertTrue(e.getMessage().contains("without the bundle header"), e.getMessage());
    }

    @Test
    void maskIsLevelDbs() {
        // crc32c("123456789") = 0xe3069283, a published check value; mask/unmask are inverses
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update("123456789".getBytes());
        assertEquals(0xe3069283, (int) crc.getValue());
        for (int v : new int[]{0, 1, 0xe3069283, -1, 0x12345678}) assertEquals(v, LevelDbTable.unmask(LevelDbTable.mask(v)));
        assertNotEquals(0xe3069283, LevelDbTable.mask(0xe3069283));
    }
}

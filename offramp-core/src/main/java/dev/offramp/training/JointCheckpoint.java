package dev.offramp.training;

import dev.offramp.io.AtomicFiles;
import dev.offramp.model.ParameterSet;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The resume point of a training run, written after every epoch (and, for long epochs, every so many batches):
 * every trainable tensor of each optimizer group with its AdamW moments and step count, the epoch, the batches done
 * in the next one and the global step. Joint training has two groups (encoder,
 * exits), ConsistentEE's stage 3 three (encoder, exits, policies); each writes its own file. Written to a temporary
 * file and renamed, so an interruption while saving leaves the previous checkpoint intact.
 *
 * @param epoch       the last completed epoch
 * @param batchesDone batches of epoch {@code epoch + 1} already trained (0 at an epoch boundary); batches are a
 *                    function of (seed, epoch), so a resumed run skips exactly these
 * @param step        optimizer steps taken (the learning-rate schedule's position)
 */
public record JointCheckpoint(int epoch, int batchesDone, int step) {
    private static final int MAGIC_V1 = 0x4F464A43; // "OFJC": epoch boundaries only
    private static final int MAGIC = 0x4F464A32;    // "OFJ2": adds batchesDone
    /** Joint training's checkpoint file. */
    public static final String FILE = "joint-checkpoint.bin";

    /** One optimizer group: its tensors (with names, checked on load) and their optimizer. */
    public record Group(ParameterSet params, AdamW adam) {}

    /** An end-of-epoch checkpoint. */
    public static void save(Path dir, String fileName, int epoch, int step, List<Group> groups) throws IOException {
        save(dir, fileName, epoch, 0, step, groups);
    }

    /** A checkpoint {@code batchesDone} batches into epoch {@code epoch + 1}. */
    public static void save(Path dir, String fileName, int epoch, int batchesDone, int step, List<Group> groups)
            throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve(fileName), tmp -> {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
                out.writeInt(MAGIC);
                out.writeInt(epoch);
                out.writeInt(batchesDone);
                out.writeInt(step);
                out.writeInt(groups.size());
                for (Group g : groups) write(out, g.params(), g.adam());
            }
        });
    }

    /**
     * Restores every group's tensors and optimizer state in place; null when there is no checkpoint. A run owns its
     * checkpoint folder, so the half-written checkpoints of a run killed while saving are deleted here.
     */
    public static JointCheckpoint loadIfPresent(Path dir, String fileName, List<Group> groups) throws IOException {
        Path file = dir.resolve(fileName);
        AtomicFiles.deleteLeftovers(file);
        if (!Files.isRegularFile(file)) return null;
        return read(file, groups);
    }

    /** Restores every group's tensors and optimizer state from file in place (another run's, read only). */
    public static JointCheckpoint read(Path file, List<Group> groups) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            int magic = in.readInt();
            if (magic != MAGIC && magic != MAGIC_V1) throw new IOException("not a training checkpoint: " + file);
            int epoch = in.readInt(), batchesDone = magic == MAGIC ? in.readInt() : 0;
            int step = in.readInt(), count = in.readInt();
            if (count != groups.size()) {
                throw new IOException(file + " holds " + count + " parameter groups, this run trains " + groups.size()
                        + "; delete it to start over");
            }
            for (Group g : groups) read(in, g.params(), g.adam(), file);
            return new JointCheckpoint(epoch, batchesDone, step);
        } catch (java.io.EOFException e) {
            throw new IOException("truncated checkpoint " + file + "; delete it to start over", e);
        }
    }

    private static void write(DataOutputStream out, ParameterSet set, AdamW adam) throws IOException {
        List<ParameterSet.Entry> es = set.entries();
        out.writeInt(adam.steps());
        out.writeInt(es.size());
        for (int i = 0; i < es.size(); i++) {
            out.writeUTF(es.get(i).name());
            floats(out, es.get(i).param());
            floats(out, adam.firstMoment(i));
            floats(out, adam.secondMoment(i));
        }
    }

    private static void read(DataInputStream in, ParameterSet set, AdamW adam, Path file) throws IOException {
        int t = in.readInt(), count = in.readInt();
        List<ParameterSet.Entry> es = set.entries();
        if (count != es.size()) throw new IOException(file + " holds " + count + " tensors, this run trains " + es.size());
        for (int i = 0; i < count; i++) {
            String name = in.readUTF();
            if (!name.equals(es.get(i).name())) throw new IOException(file + ": tensor " + i + " is " + name + ", expected " + es.get(i).name());
            floats(in, es.get(i).param(), name, file);
            floats(in, adam.firstMoment(i), name, file);
            floats(in, adam.secondMoment(i), name, file);
        }
        adam.restoreSteps(t);
    }

    private static void floats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        out.write(b.array());
    }

    private static void floats(DataInputStream in, float[] a, String name, Path file) throws IOException {
        int n = in.readInt();
        if (n != a.length) throw new IOException(file + ": tensor " + name + " has " + n + " values, expected " + a.length);
        byte[] bytes = in.readNBytes(n * 4);
        if (bytes.length != n * 4) throw new java.io.EOFException();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
    }
}

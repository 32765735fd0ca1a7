package dev.offramp.training;

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
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The resume point of a joint run, written after every epoch: every trainable tensor, both optimizers' moments
 * and step counts, the epoch and the global step. Written to a temporary file and renamed, so an interruption
 * while saving leaves the previous checkpoint intact.
 *
 * @param epoch the last completed epoch
 * @param step  optimizer steps taken (the learning-rate schedule's position)
 */
public record JointCheckpoint(int epoch, int step) {
    private static final int MAGIC = 0x4F464A43; // "OFJC"
    static final String FILE = "joint-checkpoint.bin";

    static void save(Path dir, int epoch, int step, ParameterSet enc, ParameterSet heads, AdamW encAdam,
                     AdamW headAdam) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE), tmp = dir.resolve(FILE + ".part");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            out.writeInt(MAGIC);
            out.writeInt(epoch);
            out.writeInt(step);
            write(out, enc, encAdam);
            write(out, heads, headAdam);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Restores tensors and optimizer state in place; null when there is no checkpoint. */
    static JointCheckpoint loadIfPresent(Path dir, ParameterSet enc, ParameterSet heads, AdamW encAdam,
                                         AdamW headAdam) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return null;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            if (in.readInt() != MAGIC) throw new IOException("not a joint-training checkpoint: " + file);
            int epoch = in.readInt(), step = in.readInt();
            read(in, enc, encAdam, file);
            read(in, heads, headAdam, file);
            return new JointCheckpoint(epoch, step);
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

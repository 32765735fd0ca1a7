package dev.offramp.exits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal safetensors reader/writer, F32 only: 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}}, plus "__metadata__" of strings), space-padded to a multiple of 8,
 * then the raw little-endian data. Written here because dev.offramp.weights' general reader had not landed;
 * the exits only ever write F32.
 */
final class SafetensorsF32 {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private SafetensorsF32() {}

    /** One tensor: its shape and values (row-major, in the shape given). */
    record Tensor(int[] shape, float[] data) {
        Tensor {
            long n = 1;
            for (int d : shape) n *= d;
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data has " + data.length);
            }
        }
    }

    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long bytes = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors.values()) {
                for (float v : t.data()) {
                    if (!buf.hasRemaining()) { buf.flip(); while (buf.hasRemaining()) ch.write(buf); buf.clear(); }
                    buf.putFloat(v);
                }
            }
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
        }
    }

    /** Reads every tensor; the errors name the file and the tensor. */
    static Map<String, Tensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": " + size + " bytes is too short for a safetensors file");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new IOException(file + ": header length " + headerLen + " does not fit the file size " + size);
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8).trim());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IOException(file + ": the safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (header == null || !header.isObject()) throw new IOException(file + ": the safetensors header is not a JSON object");
            long dataStart = 8 + headerLen, dataLen = size - dataStart;
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                String name = e.getKey();
                JsonNode t = e.getValue();
                String dtype = t.path("dtype").asText("");
                if (!dtype.equals("F32")) throw new IOException(file + ": tensor " + name + " has dtype '" + dtype + "'; only F32 is supported here");
                JsonNode shapeNode = t.path("shape"), offs = t.path("data_offsets");
                if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                    throw new IOException(file + ": tensor " + name + " lacks a shape or data_offsets");
                }
                int[] shape = new int[shapeNode.size()];
                long count = 1;
                for (int i = 0; i < shape.length; i++) { shape[i] = shapeNode.get(i).asInt(-1); count *= shape[i]; }
                long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
                if (count < 0 || begin < 0 || end > dataLen || end - begin != 4 * count || count > Integer.MAX_VALUE) {
                    throw new IOException(file + ": tensor " + name + " with shape " + Arrays.toString(shape)
                            + " has data_offsets [" + begin + ", " + end + "] that do not fit (data section " + dataLen + " bytes)");
                }
                ByteBuffer db = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, db, dataStart + begin, file);
                float[] data = new float[(int) count];
                db.flip().asFloatBuffer().get(data);
                out.put(name, new Tensor(shape, data));
            }
            return out;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new IOException(file + ": unexpected end of file at byte " + pos);
            pos += r;
        }
    }
}

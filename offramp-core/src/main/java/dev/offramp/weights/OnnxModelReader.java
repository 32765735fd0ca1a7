package dev.offramp.weights;

import dev.offramp.weights.OnnxGraph.Attribute;
import dev.offramp.weights.OnnxGraph.Node;
import dev.offramp.weights.OnnxGraph.Tensor;
import dev.offramp.weights.OnnxGraph.ValueInfo;
import dev.offramp.weights.ProtoReader.LongList;
import dev.offramp.weights.ProtoReader.MalformedProtoException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an ONNX model (a protobuf ModelProto) without a protobuf library: the file is memory-mapped and
 * decoded field by field; tensor payloads are left in the mapping (see {@link OnnxGraph.Tensor#floats()}).
 * Only the fields weight import needs are decoded; everything else is skipped by wire type.
 *
 * <pre>
 * ModelProto  1 ir_version, 2 producer_name, 3 producer_version, 7 graph, 8 opset_import
 * GraphProto  1 node, 2 name, 5 initializer, 11 input, 12 output
 * NodeProto   1 input, 2 output, 3 name, 4 op_type, 5 attribute
 * TensorProto 1 dims, 2 data_type, 4 float_data, 5 int32_data, 7 int64_data, 8 name, 9 raw_data, 14 data_location
 * </pre>
 */
public final class OnnxModelReader {
    private OnnxModelReader() {}

    /** Maps and parses {@code file}; throws {@link IllegalArgumentException} naming the file if it is not ONNX. */
    public static OnnxGraph read(Path file) {
        ByteBuffer buf = map(file);
        try {
            return parseModel(file, buf);
        } catch (MalformedProtoException e) {
            throw new IllegalArgumentException("not an ONNX model: " + file + " (" + e.getMessage() + ")", e);
        }
    }

    /** Reads a BERT encoder's weights and config from an ONNX file (see {@link OnnxBertImporter}). */
    public static BertWeights readBert(Path file) {
        return OnnxBertImporter.fromGraph(read(file));
    }

    /** Memory-maps a whole file read-only, little-endian. ONNX protobufs are limited to 2 GB, as is one mapping. */
    static MappedByteBuffer map(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(file + " is " + size + " bytes; files over 2 GB (ONNX external "
                        + "data) are not supported");
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            m.order(ByteOrder.LITTLE_ENDIAN);
            return m;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static OnnxGraph parseModel(Path file, ByteBuffer buf) {
        if (buf.limit() == 0) throw new IllegalArgumentException("not an ONNX model: " + file + " (empty file)");
        ProtoReader r = new ProtoReader(buf, 0, buf.limit());
        long irVersion = -1, opset = -1;
        String producerName = "", producerVersion = "";
        ProtoReader graph = null;
        while (r.hasMore()) {
            int field = r.nextField();
            switch (field) {
                case 1 -> irVersion = expectVarint(r, "ModelProto.ir_version");
                case 2 -> producerName = expectString(r, "ModelProto.producer_name");
                case 3 -> producerVersion = expectString(r, "ModelProto.producer_version");
                case 7 -> graph = expectMessage(r, "ModelProto.graph");
                case 8 -> {
                    ProtoReader os = expectMessage(r, "ModelProto.opset_import");
                    String domain = "";
                    long version = -1;
                    while (os.hasMore()) {
                        int f = os.nextField();
                        if (f == 1) domain = expectString(os, "OperatorSetId.domain");
                        else if (f == 2) version = expectVarint(os, "OperatorSetId.version");
                        else os.skip();
                    }
                    if (domain.isEmpty() || domain.equals("ai.onnx")) opset = version;
                }
                default -> r.skip();
            }
        }
        if (graph == null || irVersion < 1) {
            throw new IllegalArgumentException("not an ONNX model: " + file + " ("
                    + (graph == null ? "no graph" : "no ir_version") + " in the ModelProto)");
        }
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        while (graph.hasMore()) {
            int field = graph.nextField();
            switch (field) {
                case 1 -> nodes.add(parseNode(expectMessage(graph, "GraphProto.node")));
                case 5 -> {
                    Tensor t = parseTensor(expectMessage(graph, "GraphProto.initializer"));
                    initializers.put(t.name(), t);
                }
                case 11 -> inputs.add(parseValueInfo(expectMessage(graph, "GraphProto.input")));
                case 12 -> outputs.add(parseValueInfo(expectMessage(graph, "GraphProto.output")));
                default -> graph.skip();
            }
        }
        inputs.removeIf(v -> initializers.containsKey(v.name())); // old exporters list initializers as inputs too
        String producer = (producerName + " " + producerVersion).trim();
        return new OnnxGraph(file, irVersion, producer, opset, List.copyOf(nodes), initializers, inputs, outputs);
    }

    private static Node parseNode(ProtoReader r) {
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        String name = "", opType = "";
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> inputs.add(expectString(r, "NodeProto.input"));
                case 2 -> outputs.add(expectString(r, "NodeProto.output"));
                case 3 -> name = expectString(r, "NodeProto.name");
                case 4 -> opType = expectString(r, "NodeProto.op_type");
                case 5 -> {
                    Attribute a = parseAttribute(expectMessage(r, "NodeProto.attribute"));
                    attributes.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        return new Node(name, opType, List.copyOf(inputs), List.copyOf(outputs), attributes);
    }

    private static Attribute parseAttribute(ProtoReader r) {
        String name = "", s = null;
        int type = 0;
        float f = 0;
        long i = 0;
        Tensor t = null;
        List<Float> floats = new ArrayList<>();
        LongList ints = new LongList();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> name = expectString(r, "AttributeProto.name");
                case 2 -> f = Float.intBitsToFloat(expectFixed32(r, "AttributeProto.f"));
                case 3 -> i = expectVarint(r, "AttributeProto.i");
                case 4 -> s = expectString(r, "AttributeProto.s");
                case 5 -> t = parseTensor(expectMessage(r, "AttributeProto.t"));
                case 7 -> {
                    if (r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                        ProtoReader p = r.readMessage();
                        while (p.hasMore()) floats.add(Float.intBitsToFloat(p.readFixed32()));
                    } else {
                        floats.add(Float.intBitsToFloat(expectFixed32(r, "AttributeProto.floats")));
                    }
                }
                case 8 -> r.readInt64s(ints);
                case 20 -> type = (int) expectVarint(r, "AttributeProto.type");
                default -> r.skip();
            }
        }
        float[] fl = new float[floats.size()];
        for (int k = 0; k < fl.length; k++) fl[k] = floats.get(k);
        return new Attribute(name, type, f, i, s, t, fl, ints.toArray());
    }

    private static Tensor parseTensor(ProtoReader r) {
        LongList dims = new LongList(), int64 = new LongList(), int32 = new LongList();
        int dataType = 0, rawOffset = -1, rawLength = 0;
        String name = "";
        float[] floatData = null;
        int floatCount = 0;
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> r.readInt64s(dims);
                case 2 -> dataType = (int) expectVarint(r, "TensorProto.data_type");
                case 4 -> { // float_data: packed fixed32 normally, one-per-tag tolerated
                    if (r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                        ProtoReader p = r.readMessage();
                        while (p.hasMore()) {
                            if (floatData == null) floatData = new float[16];
                            if (floatCount == floatData.length) floatData = java.util.Arrays.copyOf(floatData, floatCount * 2);
                            floatData[floatCount++] = Float.intBitsToFloat(p.readFixed32());
                        }
                    } else {
                        if (floatData == null) floatData = new float[16];
                        if (floatCount == floatData.length) floatData = java.util.Arrays.copyOf(floatData, floatCount * 2);
                        floatData[floatCount++] = Float.intBitsToFloat(expectFixed32(r, "TensorProto.float_data"));
                    }
                }
                case 5 -> r.readInt64s(int32);
                case 7 -> r.readInt64s(int64);
                case 8 -> name = expectString(r, "TensorProto.name");
                case 9 -> {
                    expectWire(r, ProtoReader.LENGTH_DELIMITED, "TensorProto.raw_data");
                    long range = r.readBytesRange();
                    rawOffset = (int) (range >>> 32);
                    rawLength = (int) range;
                }
                case 14 -> {
                    if (expectVarint(r, "TensorProto.data_location") == 1) {
                        throw new MalformedProtoException("tensor '" + name + "' uses external data, not supported");
                    }
                }
                default -> r.skip();
            }
        }
        if (floatData != null) floatData = java.util.Arrays.copyOf(floatData, floatCount);
        return new Tensor(name, dataType, dims.toArray(), r.buf, rawOffset, rawLength, floatData,
                int64.size > 0 ? int64.toArray() : null, int32.size > 0 ? int32.toArray() : null);
    }

    private static ValueInfo parseValueInfo(ProtoReader r) {
        String name = "";
        int elemType = 0;
        List<Object> dims = new ArrayList<>();
        while (r.hasMore()) {
            int field = r.nextField();
            if (field == 1) {
                name = expectString(r, "ValueInfoProto.name");
            } else if (field == 2) { // TypeProto
                ProtoReader type = expectMessage(r, "ValueInfoProto.type");
                while (type.hasMore()) {
                    if (type.nextField() != 1) { type.skip(); continue; } // tensor_type
                    ProtoReader tt = expectMessage(type, "TypeProto.tensor_type");
                    while (tt.hasMore()) {
                        int f = tt.nextField();
                        if (f == 1) {
                            elemType = (int) expectVarint(tt, "TypeProto.Tensor.elem_type");
                        } else if (f == 2) {
                            ProtoReader shape = expectMessage(tt, "TypeProto.Tensor.shape");
                            while (shape.hasMore()) {
                                if (shape.nextField() != 1) { shape.skip(); continue; }
                                ProtoReader dim = expectMessage(shape, "TensorShapeProto.dim");
                                Object d = "?";
                                while (dim.hasMore()) {
                                    int df = dim.nextField();
                                    if (df == 1) d = expectVarint(dim, "Dimension.dim_value");
                                    else if (df == 2) d = expectString(dim, "Dimension.dim_param");
                                    else dim.skip();
                                }
                                dims.add(d);
                            }
                        } else {
                            tt.skip();
                        }
                    }
                }
            } else {
                r.skip();
            }
        }
        return new ValueInfo(name, elemType, List.copyOf(dims));
    }

    // Wire-type checks: a field with the right number but the wrong wire type means this is not ONNX.

    private static void expectWire(ProtoReader r, int wire, String what) {
        if (r.wireType() != wire) {
            throw new MalformedProtoException(what + " has wire type " + r.wireType() + ", expected " + wire
                    + " (before byte " + r.position() + ")");
        }
    }

    private static long expectVarint(ProtoReader r, String what) {
        expectWire(r, ProtoReader.VARINT, what);
        return r.readVarint();
    }

    private static int expectFixed32(ProtoReader r, String what) {
        expectWire(r, ProtoReader.FIXED32, what);
        return r.readFixed32();
    }

    private static String expectString(ProtoReader r, String what) {
        expectWire(r, ProtoReader.LENGTH_DELIMITED, what);
        return r.readString();
    }

    private static ProtoReader expectMessage(ProtoReader r, String what) {
        expectWire(r, ProtoReader.LENGTH_DELIMITED, what);
        return r.readMessage();
    }
}

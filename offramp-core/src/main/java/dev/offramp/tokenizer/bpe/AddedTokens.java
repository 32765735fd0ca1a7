package dev.offramp.tokenizer.bpe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The added tokens of a tokenizer.json ({@code <|endoftext|>}, {@code <|begin_of_text|>}, ...), cut out of the text
 * before anything else sees it, as Hugging Face's AddedVocabulary does: leftmost match first, the longest token
 * on a tie; a {@code single_word} token only when no letter or digit touches it; {@code lstrip}/{@code rstrip}
 * swallow the white space to the left/right. Tokens with {@code normalized: false} are matched in the raw text, the
 * others in the normalized text; the rest goes on to the pre-tokenizer.
 */
final class AddedTokens {
    record Token(String content, int id, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                 boolean normalized) {}

    /** A piece of the input: plain text to tokenize, or an added token's id (text is then null). */
    record Segment(String text, int id) {}

    private final List<Token> all;
    /** First char → the raw-text tokens starting with it, longest first; likewise for normalized ones. */
    private final Map<Character, List<Token>> raw = new HashMap<>(), normalized = new HashMap<>();

    AddedTokens(List<Token> tokens) {
        this.all = List.copyOf(tokens);
        for (Token t : tokens) {
            if (t.content.isEmpty()) continue;
            (t.normalized ? normalized : raw).computeIfAbsent(t.content.charAt(0), c -> new ArrayList<>()).add(t);
        }
        Comparator<Token> longestFirst = Comparator.comparingInt((Token t) -> t.content.length()).reversed();
        raw.values().forEach(l -> l.sort(longestFirst));
        normalized.values().forEach(l -> l.sort(longestFirst));
    }

    List<Token> all() {
        return all;
    }

    /** Cuts added tokens out of text; the text in between is normalized with {@code normalizer}. */
    List<Segment> split(String text, java.util.function.UnaryOperator<String> normalizer) {
        List<Segment> out = new ArrayList<>();
        find(text, raw, s -> {
            if (s.text == null) {
                out.add(s);
                return;
            }
            String norm = normalizer.apply(s.text);
            find(norm, normalized, out::add);
        });
        return out;
    }

    /** Emits text segments and token segments in order; empty text segments are left out. */
    private static void find(String text, Map<Character, List<Token>> byFirst, Consumer<Segment> out) {
        if (byFirst.isEmpty()) {
            if (!text.isEmpty()) out.accept(new Segment(text, -1));
            return;
        }
        int emitted = 0, i = 0;
        while (i < text.length()) {
            List<Token> candidates = byFirst.get(text.charAt(i));
            Token hit = null;
            if (candidates != null) {
                for (Token t : candidates) {
                    if (text.startsWith(t.content, i)) {
                        hit = t;
                        break;
                    }
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            int start = i, stop = i + hit.content.length();
            // like an Aho-Corasick scan, a refused match is skipped over, not retried inside
            i = stop;
            if (hit.singleWord && (endsWithWordChar(text, start) || startsWithWordChar(text, stop))) continue;
            if (hit.lstrip) {
                while (start > emitted) {
                    int cp = text.codePointBefore(start);
                    if (!isWhiteSpace(cp)) break;
                    start -= Character.charCount(cp);
                }
            }
            if (hit.rstrip) {
                while (stop < text.length()) {
                    int cp = text.codePointAt(stop);
                    if (!isWhiteSpace(cp)) break;
                    stop += Character.charCount(cp);
                }
                i = stop;
            }
            if (start > emitted) out.accept(new Segment(text.substring(emitted, start), -1));
            out.accept(new Segment(null, hit.id));
            emitted = stop;
        }
        if (emitted < text.length()) out.accept(new Segment(text.substring(emitted), -1));
    }

    private static boolean endsWithWordChar(String text, int at) {
        return at > 0 && isWordChar(text.codePointBefore(at));
    }

    private static boolean startsWithWordChar(String text, int at) {
        return at < text.length() && isWordChar(text.codePointAt(at));
    }

    /** Rust's char::is_alphanumeric: Alphabetic or Numeric. */
    private static boolean isWordChar(int cp) {
        return Character.isAlphabetic(cp) || PreTokenizer.isNumeric(cp);
    }

    /** The Unicode White_Space property (Rust's char::is_whitespace); Java's isWhitespace differs from it. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}

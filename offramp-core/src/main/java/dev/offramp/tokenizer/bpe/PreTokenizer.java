package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A tokenizer.json pre-tokenizer: turns pieces of text into smaller pieces, each of which the BPE model encodes
 * on its own. Supported: {@code ByteLevel} (optional prefix space, GPT-2's split regex when {@code use_regex}, then
 * every piece to byte-level characters), {@code Split} (a regex or literal with any of the five delimiter
 * behaviours, optionally inverted), {@code Digits} and {@code Sequence}.
 *
 * <p>Patterns are Oniguruma regexes in the file; java.util.regex reads the ones these tokenizers use the same way
 * once {@code \s}, {@code \w} and case-insensitive matching are Unicode-aware ({@link Pattern#UNICODE_CHARACTER_CLASS}):
 * {@code \p{L}}, {@code \p{N}}, {@code (?i:...)}, look-ahead, possessive quantifiers.
 */
sealed interface PreTokenizer {
    /** GPT-2's split, which ByteLevel uses when use_regex is true. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Appends the pieces of {@code piece} to out (no empty pieces). */
    void split(String piece, List<String> out);

    /** Whether this step (or one inside it) maps text to byte-level characters. */
    boolean byteLevel();

    /** How a Split treats the matched delimiters (Hugging Face's SplitDelimiterBehavior). */
    enum Behavior {
        /** drop the matches */
        REMOVED,
        /** matches are pieces of their own */
        ISOLATED,
        /** a match joins the piece before it (unless that piece is a match) */
        MERGED_WITH_PREVIOUS,
        /** a match joins the piece after it (unless that piece is a match) */
        MERGED_WITH_NEXT,
        /** runs of adjacent matches become one piece */
        CONTIGUOUS;

        static Behavior fromJson(String name, String source) {
            return switch (name) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw new IllegalArgumentException(source + ": unsupported Split behavior '" + name + "'");
            };
        }
    }

    /** Splits at the matches of a pattern. */
    record RegexSplit(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            // segments in order: [start, end) with whether each is a match
            List<int[]> segs = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            int prev = 0;
            while (m.find()) {
                if (m.start() == m.end()) continue;   // an empty match splits nothing
                if (prev != m.start()) segs.add(new int[]{prev, m.start(), invert ? 1 : 0});
                segs.add(new int[]{m.start(), m.end(), invert ? 0 : 1});
                prev = m.end();
            }
            if (prev != text.length()) segs.add(new int[]{prev, text.length(), invert ? 1 : 0});
            emit(text, segs, behavior, out);
        }

        @Override
        public boolean byteLevel() {
            return false;
        }
    }

    /** Digits apart from the rest: each digit alone, or runs of digits (Unicode Nd, Nl, No). */
    record Digits(boolean individual) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            List<int[]> segs = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i), end = i + Character.charCount(cp);
                segs.add(new int[]{i, end, isNumeric(cp) ? 1 : 0});
                i = end;
            }
            // runs of non-digits are one piece either way; digits are isolated or contiguous
            List<int[]> merged = new ArrayList<>();
            for (int[] s : segs) {
                int[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
                if (last != null && last[2] == s[2] && (s[2] == 0 || !individual)) last[1] = s[1];
                else merged.add(s);
            }
            emit(text, merged, Behavior.ISOLATED, out);
        }

        @Override
        public boolean byteLevel() {
            return false;
        }
    }

    /** GPT-2's byte-level step: prefix space, GPT-2 split, then UTF-8 bytes as characters. */
    record ByteLevelStep(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        private static final Pattern GPT2 = Pattern.compile(GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

        @Override
        public void split(String text, List<String> out) {
            if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
            if (!useRegex) {
                if (!text.isEmpty()) out.add(ByteLevel.encode(text));
                return;
            }
            List<String> parts = new ArrayList<>();
            new RegexSplit(GPT2, Behavior.ISOLATED, false).split(text, parts);
            for (String p : parts) out.add(ByteLevel.encode(p));
        }

        @Override
        public boolean byteLevel() {
            return true;
        }
    }

    /** Steps applied one after the other, each to every piece the previous one produced. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            List<String> pieces = List.of(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                for (String p : pieces) step.split(p, next);
                pieces = next;
            }
            out.addAll(pieces);
        }

        @Override
        public boolean byteLevel() {
            return steps.stream().anyMatch(PreTokenizer::byteLevel);
        }
    }

    /** Rust's char::is_numeric: general categories Nd, Nl, No. */
    static boolean isNumeric(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Applies a delimiter behaviour to segments {start, end, isMatch} and appends the non-empty pieces. */
    private static void emit(String text, List<int[]> segs, Behavior behavior, List<String> out) {
        List<int[]> pieces = new ArrayList<>();
        switch (behavior) {
            case ISOLATED -> pieces.addAll(segs);
            case REMOVED -> { for (int[] s : segs) if (s[2] == 0) pieces.add(s); }
            case MERGED_WITH_PREVIOUS -> {
                boolean previousMatch = false;
                for (int[] s : segs) {
                    if (s[2] == 1 && !previousMatch && !pieces.isEmpty()) pieces.get(pieces.size() - 1)[1] = s[1];
                    else pieces.add(new int[]{s[0], s[1]});
                    previousMatch = s[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean nextMatch = false;
                for (int i = segs.size() - 1; i >= 0; i--) {
                    int[] s = segs.get(i);
                    if (s[2] == 1 && !nextMatch && !pieces.isEmpty()) pieces.get(pieces.size() - 1)[0] = s[0];
                    else pieces.add(new int[]{s[0], s[1]});
                    nextMatch = s[2] == 1;
                }
                java.util.Collections.reverse(pieces);
            }
            case CONTIGUOUS -> {
                boolean previousMatch = false;
                for (int[] s : segs) {
                    boolean match = s[2] == 1;
                    if (match == previousMatch && !pieces.isEmpty()) pieces.get(pieces.size() - 1)[1] = s[1];
                    else pieces.add(new int[]{s[0], s[1]});
                    previousMatch = match;
                }
            }
        }
        for (int[] p : pieces) if (p[1] > p[0]) out.add(text.substring(p[0], p[1]));
    }

    /** Builds the pre-tokenizer of a tokenizer.json; null stays null (the whole text is one piece). */
    static PreTokenizer fromJson(JsonNode node, String source) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        String type = node.path("type").asText("");
        switch (type) {
            case "ByteLevel":
                return new ByteLevelStep(node.path("add_prefix_space").asBoolean(true), node.path("use_regex").asBoolean(true));
            case "Split": {
                JsonNode p = node.path("pattern");
                String regex;
                if (p.has("Regex")) regex = p.get("Regex").asText();
                else if (p.has("String")) regex = Pattern.quote(p.get("String").asText());
                else throw new IllegalArgumentException(source + ": Split pre-tokenizer without a Regex or String pattern");
                Pattern compiled;
                try {
                    compiled = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException(source + ": the Split pattern " + regex
                            + " is not a regex java.util.regex can read: " + e.getDescription(), e);
                }
                return new RegexSplit(compiled, Behavior.fromJson(node.path("behavior").asText("Isolated"), source),
                        node.path("invert").asBoolean(false));
            }
            case "Digits":
                return new Digits(node.path("individual_digits").asBoolean(false));
            case "Sequence": {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode s : node.path("pretokenizers")) steps.add(fromJson(s, source));
                if (steps.isEmpty() || steps.contains(null)) {
                    throw new IllegalArgumentException(source + ": a Sequence pre-tokenizer needs its steps");
                }
                return new Sequence(List.copyOf(steps));
            }
            default:
                throw new IllegalArgumentException(source + ": unsupported pre-tokenizer type '" + type
                        + "' (supported: ByteLevel, Split, Digits, Sequence)");
        }
    }
}

package dev.offramp.tokenizer;

import java.text.Normalizer;

/**
 * Hugging Face's BertNormalizer and BertPreTokenizer character classes: what is removed, what becomes a space,
 * where words split, which characters stand alone. The rules are per code point, so they are precomputed into a
 * 64 KiB table for the Basic Multilingual Plane; supplementary code points are classified on the fly.
 *
 * <p>Normalization order is HF's: clean text (drop NUL, U+FFFD and control/format/private-use characters, map
 * whitespace to ' '), space out CJK ideographs, strip accents (NFD, then drop non-spacing marks), lowercase.
 */
final class BasicTokenizer {
    static final int REMOVE = 1;       // clean_text drops it: NUL, U+FFFD, Cc (except \t \n \r), Cf, Co, lone surrogates
    static final int CLEAN_SPACE = 2;  // clean_text maps it to ' ': \t \n \r and White_Space
    static final int SPLIT_SPACE = 4;  // the pre-tokenizer splits on it and drops it: White_Space (Rust char::is_whitespace)
    static final int PUNCT = 8;        // the pre-tokenizer isolates it: ASCII punctuation or a Unicode P* category
    static final int CJK = 16;         // handle_chinese_chars puts spaces around it
    static final int NONSPACING = 32;  // strip_accents drops it after NFD: category Mn

    /**
     * Where HF's categories differ from the JDK's. HF takes Cc/Cf/Co, Mn and P* from the Rust crate
     * unicode_categories 0.1.1, frozen at about Unicode 9, while JDK 25 knows Unicode 16: characters assigned since
     * are plain letters to HF (no removal, no split, no accent stripping), and four changed category. Triples
     * {first, last, HF's flags among REMOVE|PUNCT|NONSPACING}; ranges span gaps whose characters are plain in both.
     * Found by comparing every code point with HF's tokenizer (WordPieceUnicodeSweepTest keeps it true).
     */
    private static final int[] UNICODE9_OVERRIDES = {
            0x061D, 0x061D, 0, 0x07FD, 0x07FD, 0, 0x0890, 0x08E2, 0, 0x09FD, 0x09FE, 0,
            0x0A76, 0x0A76, 0, 0x0AFA, 0x0AFF, 0, 0x0B55, 0x0B55, 0, 0x0C04, 0x0C3C, 0,
            0x0C77, 0x0C77, 0, 0x0C84, 0x0C84, 0, 0x0D00, 0x0D00, 0, 0x0D3B, 0x0D3C, 0,
            0x0D81, 0x0D81, 0, 0x0EBA, 0x0EBA, 0, 0x0ECE, 0x0ECE, 0, 0x166D, 0x166D, PUNCT,
            0x1734, 0x1734, NONSPACING, 0x180F, 0x1886, 0, 0x1ABF, 0x1ACE, 0, 0x1B4E, 0x1B4F, 0,
            0x1B7D, 0x1B7F, 0, 0x1DF6, 0x1DFB, 0, 0x2E43, 0x2E5D, 0, 0xA82C, 0xA82C, 0,
            0xA8C5, 0xA8C5, 0, 0xA8FF, 0xA8FF, 0, 0xA9BD, 0xA9BD, 0, 0x10D24, 0x10F89, 0,
            0x11070, 0x11074, 0, 0x110C2, 0x110CD, 0, 0x111C9, 0x111C9, PUNCT, 0x111CF, 0x111CF, 0,
            0x1123E, 0x11241, 0, 0x1133B, 0x1133B, 0, 0x113BB, 0x1145E, 0, 0x11660, 0x1166C, 0,
            0x116B9, 0x116B9, 0, 0x1171E, 0x1171E, NONSPACING, 0x1182F, 0x11FFF, 0, 0x12FF1, 0x13455, 0,
            0x1611E, 0x1612F, 0, 0x16D6D, 0x16F4F, 0, 0x16FE2, 0x16FE4, 0, 0x1CF00, 0x1CF46, 0,
            0x1E000, 0x1E5FF, 0, 0x1E944, 0x1E95F, 0,
    };

    private static final byte[] BMP_FLAGS = bmpFlags();

    final boolean cleanText;
    final boolean handleChineseChars;
    final boolean stripAccents;
    final boolean lowercase;

    BasicTokenizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.handleChineseChars = handleChineseChars;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
    }

    static int flags(int cp) {
        return cp < 0x10000 ? BMP_FLAGS[cp] : computeFlags(cp);
    }

    /** Normalizes text[from, to) (a piece with no added tokens in it). */
    StringBuilder normalize(String text, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from + 16);
        boolean ascii = true;
        for (int i = from; i < to; ) {
            int cp = Character.codePointAt(text, i);
            i += Character.charCount(cp);
            int f = flags(cp);
            if (cleanText) {
                if ((f & REMOVE) != 0) {
                    continue;
                }
                if ((f & CLEAN_SPACE) != 0) {
                    sb.append(' ');
                    continue;
                }
            }
            if (cp >= 0x80) {
                ascii = false;
            }
            if (handleChineseChars && (f & CJK) != 0) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        }
        if (ascii) {
            // NFD and Mn removal do nothing to ASCII; lowercase in place.
            if (lowercase) {
                for (int i = 0; i < sb.length(); i++) {
                    char c = sb.charAt(i);
                    if (c >= 'A' && c <= 'Z') {
                        sb.setCharAt(i, (char) (c + ('a' - 'A')));
                    }
                }
            }
            return sb;
        }
        CharSequence s = sb;
        if (stripAccents) {
            String nfd = Normalizer.normalize(sb, Normalizer.Form.NFD);
            StringBuilder kept = new StringBuilder(nfd.length());
            for (int i = 0; i < nfd.length(); ) {
                int cp = nfd.codePointAt(i);
                i += Character.charCount(cp);
                if ((flags(cp) & NONSPACING) == 0) {
                    kept.appendCodePoint(cp);
                }
            }
            s = kept;
        }
        if (lowercase) {
            StringBuilder lower = new StringBuilder(s.length() + 4);
            for (int i = 0; i < s.length(); ) {
                int cp = Character.codePointAt(s, i);
                i += Character.charCount(cp);
                if (cp == 0x130) {
                    // the one unconditional multi-char lowercase mapping (SpecialCasing.txt): İ -> i + combining dot
                    lower.append('i').append('\u0307');
                } else {
                    // per character like Rust's char::to_lowercase: no final-sigma rule, unlike String.toLowerCase
                    lower.appendCodePoint(Character.toLowerCase(cp));
                }
            }
            return lower;
        }
        return s instanceof StringBuilder b ? b : new StringBuilder(s);
    }

    private static byte[] bmpFlags() {
        byte[] table = new byte[0x10000];
        for (int cp = 0; cp < 0x10000; cp++) {
            table[cp] = (byte) computeFlags(cp);
        }
        return table;
    }

    static int computeFlags(int cp) {
        int type = Character.getType(cp);
        int f = 0;
        boolean tabOrNewline = cp == '\t' || cp == '\n' || cp == '\r';
        if (cp == 0 || cp == 0xFFFD || (!tabOrNewline && isOther(type))) {
            f |= REMOVE;
        }
        if (tabOrNewline || isWhiteSpace(cp)) {
            f |= CLEAN_SPACE;
        }
        if (isWhiteSpace(cp)) {
            f |= SPLIT_SPACE;
        }
        if (isAsciiPunctuation(cp) || isPunctuation(type)) {
            f |= PUNCT;
        }
        if (isCjkIdeograph(cp)) {
            f |= CJK;
        }
        if (type == Character.NON_SPACING_MARK) {
            f |= NONSPACING;
        }
        int override = unicode9Override(cp);
        if (override >= 0) {
            f = (f & ~(REMOVE | PUNCT | NONSPACING)) | override;
        }
        return f;
    }

    /** HF's REMOVE|PUNCT|NONSPACING flags for a code point in UNICODE9_OVERRIDES, or -1 if it is not in a range. */
    private static int unicode9Override(int cp) {
        int lo = 0;
        int hi = UNICODE9_OVERRIDES.length / 3 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < UNICODE9_OVERRIDES[3 * mid]) {
                hi = mid - 1;
            } else if (cp > UNICODE9_OVERRIDES[3 * mid + 1]) {
                lo = mid + 1;
            } else {
                return UNICODE9_OVERRIDES[3 * mid + 2];
            }
        }
        return -1;
    }

    /** Cc, Cf, Co and (only possible in Java strings) Cs; unassigned code points (Cn) are kept, as in HF. */
    private static boolean isOther(int type) {
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE;
    }

    private static boolean isPunctuation(int type) {
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    /** BERT counts all non-alphanumeric printable ASCII as punctuation, e.g. $ + < = > ^ ` | ~. */
    static boolean isAsciiPunctuation(int cp) {
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    }

    /** The Unicode White_Space property, which Rust's char::is_whitespace implements (Java's isWhitespace differs). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    /** The CJK blocks of BERT's _is_chinese_char (Korean and Japanese kana are not in them). */
    static boolean isCjkIdeograph(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}

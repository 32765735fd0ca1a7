package dev.offramp.data;

import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/** Small text normalisations applied by loaders before tokenisation. */
public final class TextCleaner {

    private static final Pattern BR = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);
    private static final Pattern SPACES = Pattern.compile("[ \\t]{2,}");

    private TextCleaner() {
    }

    /** Leaves the text unchanged. */
    public static final UnaryOperator<String> NONE = s -> s;

    /**
     * Replaces HTML line breaks ({@code <br />}, {@code <br/>}, {@code <br>}, any case) with a space, then
     * collapses runs of spaces and trims. IMDB and Amazon reviews keep their {@code <br /><br />} markup,
     * which a WordPiece tokenizer would otherwise spend ~6 tokens on per break.
     */
    public static final UnaryOperator<String> HTML_LINE_BREAKS = TextCleaner::replaceHtmlLineBreaks;

    public static String replaceHtmlLineBreaks(String text) {
        if (text.indexOf('<') < 0) {
            return text;
        }
        String replaced = BR.matcher(text).replaceAll(" ");
        return SPACES.matcher(replaced).replaceAll(" ").strip();
    }
}

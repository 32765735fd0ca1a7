package dev.offramp.cli.report;

import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Colour, marker shape and line of each criterion, the same in every chart of a report. Known criteria get fixed
 * styles (Okabe–Ito colours, readable by colour-blind people, each with its own marker so a grey-scale print
 * still tells them apart); bounds are grey and dashed.
 */
record SeriesStyle(Color color, Marker marker, BasicStroke line) {

    static final BasicStroke SOLID = new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    static final BasicStroke DASHED = new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
            new float[] {10f, 6f}, 0f);
    static final BasicStroke DOTTED = new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 10f,
            new float[] {2f, 6f}, 0f);

    private static final Color BLUE = new Color(0x0072B2);
    private static final Color VERMILLION = new Color(0xD55E00);
    private static final Color GREEN = new Color(0x009E73);
    private static final Color PURPLE = new Color(0xCC79A7);
    private static final Color ORANGE = new Color(0xE69F00);
    private static final Color SKY = new Color(0x56B4E9);
    private static final Color BLACK = new Color(0x222222);
    private static final Color BROWN = new Color(0x8C564B);
    static final Color BOUND_LIGHT = new Color(0x8A8A8A);
    static final Color BOUND_DARK = new Color(0x4D4D4D);

    /** Name prefix (lower case) → style, for the criteria the project knows. */
    private static final Map<String, SeriesStyle> KNOWN = new LinkedHashMap<>();

    static {
        KNOWN.put("max-prob", new SeriesStyle(BLUE, SeriesMarkers.CIRCLE, SOLID));
        KNOWN.put("maxprob", new SeriesStyle(BLUE, SeriesMarkers.CIRCLE, SOLID));
        KNOWN.put("entropy", new SeriesStyle(VERMILLION, SeriesMarkers.TRIANGLE_UP, SOLID));
        KNOWN.put("patience", new SeriesStyle(GREEN, SeriesMarkers.DIAMOND, SOLID));
        KNOWN.put("pabee", new SeriesStyle(GREEN, SeriesMarkers.DIAMOND, SOLID));
        KNOWN.put("beem-c", new SeriesStyle(PURPLE, SeriesMarkers.TRIANGLE_DOWN, SOLID));
        KNOWN.put("beem-a", new SeriesStyle(ORANGE, SeriesMarkers.SQUARE, SOLID));
        KNOWN.put("consistentee", new SeriesStyle(SKY, SeriesMarkers.TRAPEZOID, SOLID));
        KNOWN.put("static", new SeriesStyle(BOUND_LIGHT, SeriesMarkers.CROSS, DASHED));
        KNOWN.put("oracle", new SeriesStyle(BOUND_DARK, SeriesMarkers.PLUS, DOTTED));
    }

    /** For criteria the table does not know, in order. */
    private static final SeriesStyle[] SPARE = {
            new SeriesStyle(BLACK, SeriesMarkers.OVAL, SOLID),
            new SeriesStyle(BROWN, SeriesMarkers.RECTANGLE, SOLID),
            new SeriesStyle(BLUE, SeriesMarkers.SQUARE, DASHED),
            new SeriesStyle(VERMILLION, SeriesMarkers.DIAMOND, DASHED),
            new SeriesStyle(GREEN, SeriesMarkers.CIRCLE, DASHED),
            new SeriesStyle(PURPLE, SeriesMarkers.TRIANGLE_UP, DASHED),
    };
    private static final SeriesStyle[] SPARE_BOUND = {
            new SeriesStyle(BOUND_LIGHT, SeriesMarkers.OVAL, DASHED),
            new SeriesStyle(BOUND_DARK, SeriesMarkers.RECTANGLE, DOTTED),
    };

    /** One style per curve, index-aligned with {@code curves}; known names keep their style in every report. */
    static List<SeriesStyle> assign(List<CriterionCurve> curves) {
        List<SeriesStyle> out = new ArrayList<>(curves.size());
        List<SeriesStyle> used = new ArrayList<>();
        int spare = 0;
        int spareBound = 0;
        for (CriterionCurve c : curves) {
            SeriesStyle s = known(c.name());
            if (s != null && c.bound() != (s.line() != SOLID)) s = null; // a bound styled as a criterion, or back
            if (s != null && used.contains(s)) s = null;
            if (s == null) {
                s = c.bound() ? SPARE_BOUND[spareBound++ % SPARE_BOUND.length] : SPARE[spare++ % SPARE.length];
            }
            used.add(s);
            out.add(s);
        }
        return out;
    }

    private static SeriesStyle known(String name) {
        String n = name.toLowerCase(Locale.ROOT).strip();
        for (Map.Entry<String, SeriesStyle> e : KNOWN.entrySet()) {
            if (n.startsWith(e.getKey())) return e.getValue();
        }
        return null;
    }
}

package dev.offramp.cli.report;

import org.knowm.xchart.style.markers.Marker;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;

/**
 * The criterion's own marker drawn twice as large inside a black ring: the calibrated setting on a curve. XChart
 * has one marker size per chart, so the size lives in the marker.
 */
final class CalibratedMarker extends Marker {
    private static final BasicStroke RING = new BasicStroke(2.5f);
    private final Marker base;

    CalibratedMarker(Marker base) {
        this.base = base;
    }

    @Override
    public void paint(Graphics2D g, double x, double y, int markerSize) {
        int big = markerSize * 8 / 5;
        base.paint(g, x, y, big);
        ring(g, x, y, big * 0.85);
    }

    /** A black ring on its own, for the legend entry that explains the calibrated markers. */
    static final Marker LEGEND_RING = new Marker() {
        @Override
        public void paint(Graphics2D g, double x, double y, int markerSize) {
            ring(g, x, y, markerSize * 0.8);
        }
    };

    private static void ring(Graphics2D g, double x, double y, double r) {
        Color seriesColor = g.getColor();
        java.awt.Stroke seriesStroke = g.getStroke();
        g.setColor(Color.BLACK);
        g.setStroke(RING);
        g.draw(new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
        g.setColor(seriesColor);
        g.setStroke(seriesStroke);
    }
}

package dev.offramp.cli;

import dev.offramp.generation.ThresholdCalibration;
import picocli.CommandLine.Option;

/**
 * How generate, eval-gen and report-gen calibrate a token-level criterion's knob on held-out prompts, and the one
 * setting that is not calibrated: speculative decoding's rows per verification.
 */
final class GenerationCalibrationOptions {
    @Option(names = "--target-agreement", defaultValue = "0.9", description = "calibration: the loosest knob whose"
            + " agreement with full depth is at least this (default: ${DEFAULT-VALUE})")
    double target;

    @Option(names = "--agreement", defaultValue = "rouge-l", description = "what agreement means: rouge-l (free-running"
            + " ROUGE-L against full-depth greedy output, what eval-gen reports) | tokens (teacher-forced per-token match;"
            + " cheaper, but overstates free-running agreement) (default: ${DEFAULT-VALUE})")
    String agreement;

    @Option(names = "--draft-rows", defaultValue = "4", description = "speculative: tokens per verification, the last"
            + " accepted one and its drafts (2.." + "16; default: ${DEFAULT-VALUE})")
    int draftRows;

    ThresholdCalibration.Agreement measure() {
        return ThresholdCalibration.Agreement.fromId(agreement);
    }
}

package dev.offramp.cli.report;

/**
 * One criterion of the generation page at its calibrated setting, measured on the evaluation prompts: what eval-gen
 * prints for it. Speeds are generated tokens per second at batch 1, early exit and full depth in the same run.
 *
 * @param criterion      display name, as in the report's curves
 * @param setting        the knob in words, e.g. "τ=0.9"; "none reaches the target" when calibration found none
 * @param calibrated     false when no knob reached the calibration target (the most faithful knob is shown)
 */
public record GenerationRow(String criterion, String setting, boolean calibrated, double rougeL, double tokenMatch,
                            double meanExitLayer, double layerSpeedup, double tokensPerSecond,
                            double fullTokensPerSecond, double ppl, double fullPpl) {
    public GenerationRow {
        ReportData.requireText(criterion, "criterion name");
        ReportData.requireText(setting, "setting of " + criterion);
    }

    public double speedup() {
        return tokensPerSecond / fullTokensPerSecond;
    }
}

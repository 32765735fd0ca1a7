package dev.offramp.cli;

import picocli.CommandLine.Command;

/** ./offramp bench ...: benchmark commands that print their figures (medians of repeats). */
@Command(name = "bench", description = "Benchmarks that print medians of repeats and ratios measured in one run.",
        mixinStandardHelpOptions = true, subcommands = {BenchEngineCommand.class, BenchTrainCommand.class, BenchServeCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}

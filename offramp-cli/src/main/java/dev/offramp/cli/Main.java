package dev.offramp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of ./offramp. */
@Command(name = "offramp", mixinStandardHelpOptions = true, version = "offramp 0.1.0",
        description = "Early-exit inference for transformer language models on the JVM.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}

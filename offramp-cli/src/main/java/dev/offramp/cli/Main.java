package dev.offramp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of ./offramp. */
@Command(name = "offramp", mixinStandardHelpOptions = true, version = "offramp 0.1.0",
        description = "Early-exit inference for transformer language models on the JVM.",
        footer = {"", "On Apache Spark (module offramp-spark, run by the same launcher; docs/spark.md):",
                "  spark-score   score a corpus with early exit on Spark, write Parquet",
                "  bench spark   Spark early exit vs full depth, ONNX Runtime and a single JVM"},
        subcommands = {CommandLine.HelpCommand.class, VerifyCommand.class, BenchCommand.class, TrainCommand.class,
                ExitsCommand.class, EvalCommand.class, ReportCommand.class, DemoCommand.class, EncodeCommand.class,
                ClassifyCommand.class, HardnessCommand.class, ServeCommand.class, FillMaskCommand.class,
                TrainLmCommand.class, TrainLmPolicyCommand.class, TrainLmDraftCommand.class, GenerateCommand.class, EvalGenCommand.class, ReportGenCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also what the tests drive). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // a user error (bad file, unknown model, malformed row) prints one clear line, not a stack trace
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("offramp: " + describe(ex));
            if (System.getenv("OFFRAMP_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl;
    }

    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        return msg == null || msg.isBlank() ? ex.getClass().getSimpleName() : msg;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
